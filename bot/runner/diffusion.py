"""The diffusers backend: one base pipeline per model, img2img and inpaint share its weights."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import torch
from diffusers import (
    AutoPipelineForImage2Image,
    AutoPipelineForInpainting,
    AutoPipelineForText2Image,
)
from diffusers.utils import logging as diffusers_logging
from PIL import Image, ImageChops, ImageFilter
from safetensors import SafetensorError
from safetensors.torch import load as safetensors_load
from transformers.utils import logging as transformers_logging

from bot.lora_files import LoraFolder
from bot.playbook.errors import InvalidInput
from bot.runner import checkpoints, models
from bot.runner.backend import GenTask, OutOfMemory
from bot.runner.jobs import JobError
from bot.runner.safety import SafetyCheck

log = logging.getLogger("atelier.runner")
UPSCALE_STRENGTH = 0.25


def pick_device(setting: str = "auto") -> torch.device:
    if setting != "auto":
        return torch.device(setting)
    if torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")


def pick_dtype(device: torch.device) -> torch.dtype:
    """fp16 on CUDA (bf16 where fp16 is unsupported), fp32 on CPU."""
    if device.type == "cuda":
        return torch.float16
    return torch.float32


class DiffusersBackend:
    """Loaded once per model; thread-safe by a lock around the GPU."""

    def __init__(self, model: str, device: str = "auto", loras: LoraFolder | None = None) -> None:
        diffusers_logging.disable_progress_bar()
        transformers_logging.disable_progress_bar()
        ref = models.resolve(model)
        self.model_id = ref.model_id
        self.model_hash = models.weights_hash(ref.path)
        self.device = pick_device(device)
        self.device_name = (
            torch.cuda.get_device_name(self.device) if self.device.type == "cuda" else "cpu"
        )
        self.dtype = pick_dtype(self.device)
        self.base: Any = (
            models.load_single_file(ref.path, ref.family or "sd15", self.dtype)
            if ref.single_file
            else AutoPipelineForText2Image.from_pretrained(ref.path, dtype=self.dtype)
        )
        self.base.set_progress_bar_config(disable=True)
        self.base.to(self.device)
        # Before the other pipelines share the base's parts: none of them blacks anything out.
        self.safety = SafetyCheck.take(self.base, self.device, self.dtype)
        self.img2img = AutoPipelineForImage2Image.from_pipe(self.base)
        self.inpainting = AutoPipelineForInpainting.from_pipe(self.base)
        for pipe in (self.img2img, self.inpainting):
            pipe.set_progress_bar_config(disable=True)
        self._schedulers: dict[str, Any] = {}
        self._lock = threading.Lock()
        self.loras = loras or LoraFolder(None)
        log.info(
            "model loaded",
            extra={
                "model": self.model_id,
                "device": str(self.device),
                "hash": self.model_hash[:12],
            },
        )

    def wait_idle(self) -> None:
        """Return once no batch is running on this pipeline."""
        with self._lock:
            pass

    def _use_scheduler(self, name: str) -> None:
        current = type(self.base.scheduler).__name__
        if not name or name == current:
            return
        if name not in self._schedulers:
            import diffusers

            cls = getattr(diffusers, name, None)
            if cls is None:
                raise ValueError(f"unknown scheduler {name!r}")
            self._schedulers[name] = cls.from_config(self.base.scheduler.config)
        scheduler = self._schedulers[name]
        for pipe in (self.base, self.img2img, self.inpainting):
            pipe.scheduler = scheduler

    @staticmethod
    def _generators(tasks: Sequence[GenTask]) -> list[torch.Generator]:
        """One CPU generator per image: pixels depend on the seed, not the batch."""
        return [torch.Generator("cpu").manual_seed(task.seed) for task in tasks]

    def _run(
        self, pipe: Any, loras: tuple[tuple[str, float, str], ...], **kwargs: Any
    ) -> list[Image.Image]:
        """One pipeline call with exactly these LoRAs, unloaded after: none leaks into a next job."""
        try:
            with self._lock:
                try:
                    self._apply_loras(pipe, loras)  # a refusal halfway unloads what it loaded
                    with torch.inference_mode():
                        return list(pipe(**kwargs).images)
                finally:
                    if loras:
                        pipe.unload_lora_weights()
        except torch.cuda.OutOfMemoryError as error:
            torch.cuda.empty_cache()
            raise OutOfMemory(str(error)) from error

    def _screened(
        self, pipe: Any, loras: tuple[tuple[str, float, str], ...], **kwargs: Any
    ) -> list[Image.Image]:
        return self._screen(self._run(pipe, loras, **kwargs))

    def _screen(self, pictures: list[Image.Image]) -> list[Image.Image]:
        """Mark what the model folder's safety checker flags (the worker holds it back)."""
        return self.safety.screen(pictures) if self.safety else pictures

    def _apply_loras(self, pipe: Any, loras: tuple[tuple[str, float, str], ...]) -> None:
        """Load each LoRA from the very bytes whose sha256 matched the card.

        Read once, hashed, then loaded from memory: a file swapped after the check (or between a
        cached hash and the load) can't slip new weights in. Adapters get positional names,
        since a LoRA's own name may hold dots, which an adapter name cannot.
        """
        for index, (name, _, sha256) in enumerate(loras):
            data = self._lora_bytes(name)
            if hashlib.sha256(data).hexdigest() != sha256:
                raise JobError(
                    f"the LoRA `{name}` changed since the recipe was locked (its sha256 differs); "
                    "lock a new recipe version to use the new file"
                )
            try:
                pipe.load_lora_weights(safetensors_load(data), adapter_name=f"lora{index}")
            except (ValueError, KeyError, RuntimeError, SafetensorError) as error:
                raise JobError(
                    f"the LoRA `{name}` could not be loaded onto `{self.model_id}` "
                    f"({type(error).__name__}: {_first_line(error)}); check that it was trained "
                    "for this model's family and is a LoRA file"
                ) from error
        if loras:
            pipe.set_adapters(
                [f"lora{index}" for index in range(len(loras))],
                adapter_weights=[weight for _, weight, _ in loras],
            )

    def _lora_bytes(self, name: str) -> bytes:
        try:
            return self.loras.path(name).read_bytes()
        except InvalidInput as error:
            raise JobError(f"the LoRA `{name}` is not on this runner ({error})") from error

    def text_to_image(self, tasks: Sequence[GenTask]) -> list[Image.Image]:
        if len({task.same_batch() for task in tasks}) > 1:
            raise ValueError("a batch must share steps, guidance, size and scheduler")
        first = tasks[0]
        self._use_scheduler(first.scheduler)
        return self._screened(
            self.base,
            first.loras,
            prompt=[task.prompt for task in tasks],
            negative_prompt=[task.negative_prompt for task in tasks],
            num_inference_steps=first.steps,
            guidance_scale=first.guidance,
            width=first.width,
            height=first.height,
            generator=self._generators(tasks),
        )

    def image_to_image(self, task: GenTask, init: Image.Image, strength: float) -> Image.Image:
        self._use_scheduler(task.scheduler)
        return self._screened(
            self.img2img,
            task.loras,
            prompt=task.prompt,
            negative_prompt=task.negative_prompt,
            image=init,
            strength=strength,
            num_inference_steps=_steps_for(task.steps, strength),
            guidance_scale=task.guidance,
            generator=self._generators([task]),
        )[0]

    def inpaint(
        self, task: GenTask, init: Image.Image, mask: Image.Image, strength: float
    ) -> Image.Image:
        """Repaint the masked region; everything outside it keeps the original's exact pixels."""
        self._use_scheduler(task.scheduler)
        repaired = self._run(
            self.inpainting,
            task.loras,
            prompt=task.prompt,
            negative_prompt=task.negative_prompt,
            image=init,
            mask_image=mask,
            strength=strength,
            width=init.width,
            height=init.height,
            num_inference_steps=_steps_for(task.steps, strength),
            guidance_scale=task.guidance,
            generator=self._generators([task]),
        )[0]
        return self._screen([composite(init, repaired, mask)])[0]

    def truncated(self, prompt: str) -> str | None:
        """The words of a prompt the text encoder never reads (past its 77 tokens), if any."""
        tokenizer = self.base.tokenizer
        room = tokenizer.model_max_length - 2  # start and end tokens

        def tokens(text: str) -> int:
            return len(tokenizer(text, truncation=False, add_special_tokens=False).input_ids)

        if tokens(prompt) <= room:
            return None
        low, high = 0, len(prompt)  # the longest prefix that fits, in the person's own text
        while low < high:
            middle = (low + high + 1) // 2
            if tokens(prompt[:middle]) <= room:
                low = middle
            else:
                high = middle - 1
        if low < len(prompt) and not prompt[low].isspace():
            low = prompt.rfind(" ", 0, low) + 1  # report the word that was cut in half, whole
        return prompt[low:].strip()

    def upscale(self, task: GenTask, init: Image.Image, scale: int) -> Image.Image:
        """Resize, then a low-strength image-to-image pass to restore detail."""
        large = init.resize((init.width * scale, init.height * scale), Image.Resampling.LANCZOS)
        return self.image_to_image(task, large, UPSCALE_STRENGTH)


def composite(original: Image.Image, repaired: Image.Image, mask: Image.Image) -> Image.Image:
    """Blend the repair in through a mask feathered inward: a soft seam, and every pixel outside
    the mask exactly as it was."""
    feather = max(1, min(original.size) // 64)
    hard = mask.convert("L").resize(original.size)
    soft = ImageChops.darker(hard, hard.filter(ImageFilter.GaussianBlur(feather)))
    soft = ImageChops.lighter(soft, hard.filter(ImageFilter.MinFilter(2 * feather + 1)))
    return Image.composite(
        repaired.convert("RGB").resize(original.size), original.convert("RGB"), soft
    )


def _steps_for(steps: int, strength: float) -> int:
    """img2img runs only `strength` of the schedule; ask for enough steps to run at least one."""
    return max(steps, int(1 / max(strength, 0.01)) + 1)


class LoadedModels:
    """The pipelines one process holds: at most `limit`, the least recently used dropped first.

    A job for a model not loaded waits for its load. Dropping a pipeline waits for the batch
    it is running (its GPU lock), so no job loses its model mid-batch; a job still holding the
    dropped one finishes with it, and its memory is freed when the job lets go.
    """

    def __init__(self, load: Callable[[str, str], DiffusersBackend]) -> None:
        self._load = load
        self._loaded: OrderedDict[tuple[str, str], DiffusersBackend] = OrderedDict()
        self._lock = threading.Lock()
        self.limit: int | None = None  # None: 1 on CUDA, 2 on CPU

    def get(self, model: str, device: str = "auto") -> DiffusersBackend:
        key = (model, device)
        with self._lock:
            if key in self._loaded:
                self._loaded.move_to_end(key)
                return self._loaded[key]
            limit = self.limit or (1 if pick_device(device).type == "cuda" else 2)
            while len(self._loaded) >= limit:
                old_key, old = self._loaded.popitem(last=False)
                old.wait_idle()
                log.info("model unloaded", extra={"model": old.model_id, "limit": limit})
                del old
                if torch.cuda.is_available():
                    torch.cuda.empty_cache()
            self._loaded[key] = self._load(model, device)
            return self._loaded[key]


_models = LoadedModels(DiffusersBackend)


def registered_backend(
    models: dict[str, str],
    device: str = "auto",
    max_loaded: int | None = None,
    loras: str | None = None,
) -> Callable[[str], DiffusersBackend]:
    """Load jobs' models by name, only the names this runner's operator registered."""
    _models.limit = max_loaded
    folder = LoraFolder(loras)

    def load(name: str) -> DiffusersBackend:
        if name not in models:
            raise JobError(
                f"the model `{name}` is not registered on this runner; its operator registers "
                f"models with ATELIER_MODELS (registered: {', '.join(sorted(models))})"
            )
        try:
            backend = backend_for(models[name], device)
        except checkpoints.CheckpointError as error:
            log.error("model not loaded", extra={"model": name, "error": str(error)})
            raise JobError(f"the model `{name}` could not be loaded: {error.reason}") from error
        backend.loras = folder  # this runner's ATELIER_LORAS
        return backend

    return load


def backend_for(model: str, device: str = "auto") -> DiffusersBackend:
    """The process's pipeline for a model, loaded on first use (see LoadedModels)."""
    return _models.get(model, device)


def _first_line(error: Exception, limit: int = 160) -> str:
    """The gist of a loader's error for the thread: one line, no traceback."""
    line = (str(error).strip().splitlines() or [""])[0]
    return line if len(line) <= limit else line[: limit - 1] + "…"
