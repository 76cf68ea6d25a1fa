"""Model presets on disk: the offline `tiny` build, local SD folders, and the weights hash."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from bot.playbook.presets import ModelPreset, preset_for
from bot.runner import checkpoints, families

TINY_INIT_SEED = 1234
# Trained by `make model` (bot/runner/shapes/train.py) and shipped in the repository.
SHAPES_DIR = Path(__file__).parent / "shapes" / "model"
BUILT_IN = ("tiny", "shapes")
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".json", ".txt")


class ModelNotFound(checkpoints.CheckpointError):
    """An ATELIER_MODELS entry names no local folder or file; the message says how to fix it."""


@dataclass(frozen=True)
class ModelRef:
    model_id: str
    path: Path
    preset: ModelPreset
    family: str | None = None  # set for a single-file checkpoint (a folder says its own class)

    @property
    def single_file(self) -> bool:
        return self.path.is_file()


def cache_dir() -> Path:
    return Path(
        os.environ.get("ATELIER_MODEL_CACHE", Path.home() / ".cache" / "atelier" / "models")
    )


def resolve(model: str) -> ModelRef:
    """`tiny`, or an ATELIER_MODELS entry: `name[@family]=path`, the path a diffusers folder or a
    single `.safetensors` file (a bare path is named by its folder or file)."""
    if model == "tiny":
        path = cache_dir() / "tiny"
        if not (path / "model_index.json").exists():
            build_tiny(path)
        return ModelRef("tiny", path, preset_for("tiny"))
    if model == "shapes":
        if not (SHAPES_DIR / "model_index.json").exists():
            raise ModelNotFound(
                "the built-in `shapes` model is missing from this install; `make model` trains it",
                SHAPES_DIR,
            )
        return ModelRef("shapes", SHAPES_DIR, preset_for("shapes"))
    head, _, folder = model.partition("=")
    if not folder:
        last = Path(model).expanduser().name
        head, folder = (
            (Path(last).stem if last.endswith((".safetensors", ".ckpt")) else last),
            model,
        )
    name, _, family = head.partition("@")
    path = Path(folder).expanduser()
    if path.is_file() or path.suffix in (".safetensors", ".ckpt"):
        return _single_file(name, family or None, path)
    if not (path / "model_index.json").exists():
        raise ModelNotFound(
            "there is no diffusers folder (model_index.json) or .safetensors file there on this "
            "runner; download the model yourself and point ATELIER_MODELS at it, e.g. "
            "`sd15=/models/v1-5-pruned.safetensors`. Weights are never fetched at run time",
            path,
        )
    # The name, never the path: it goes on recipe cards, the prompt log and PNG metadata.
    return ModelRef(name, path, preset_for(name))


def _single_file(name: str, family: str | None, path: Path) -> ModelRef:
    if not path.is_file():
        raise checkpoints.CheckpointError(
            "the checkpoint file is missing on this runner; put it back, or fix ATELIER_MODELS",
            path,
        )
    checkpoints.check_suffix(path)
    family = family or checkpoints.family_of(path)
    return ModelRef(name, path, preset_for(name, family), family)


def weights_hash(path: Path) -> str:
    """sha256 over every weight and config file, cached beside them by size and mtime.

    A single file's hash is its own sha256 (A1111's model hash is its first 10 hex digits).
    """
    if path.is_file():
        return checkpoints.file_hash(path, cache_dir())
    files = sorted(
        p
        for p in path.rglob("*")
        if p.is_file() and p.suffix in WEIGHT_SUFFIXES and p.name != "atelier-hash.json"
    )
    signature = [[str(p.relative_to(path)), p.stat().st_size, p.stat().st_mtime_ns] for p in files]
    cache = path / "atelier-hash.json"
    if cache.exists():
        stored = json.loads(cache.read_text())
        if stored.get("signature") == signature:
            return str(stored["sha256"])
    digest = hashlib.sha256()
    for file in files:
        digest.update(str(file.relative_to(path)).encode())
        with file.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    value = digest.hexdigest()
    with contextlib.suppress(OSError):
        cache.write_text(json.dumps({"signature": signature, "sha256": value}))
    return value


def _byte_symbols() -> list[str]:
    """GPT-2/CLIP's printable stand-ins for the 256 byte values."""
    printable = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    symbols = {byte: chr(byte) for byte in printable}
    extra = 0
    for byte in range(256):
        if byte not in symbols:
            symbols[byte] = chr(256 + extra)
            extra += 1
    return [symbols[byte] for byte in range(256)]


def byte_tokenizer(folder: Path) -> Any:
    """A CLIP tokenizer over a byte-level vocabulary with no merges: every character is a token.

    Written as vocab.json + merges.txt and loaded with from_pretrained: with transformers 5,
    `CLIPTokenizer(vocab_file=…)` silently yields a 2-token vocabulary.
    """
    from transformers import CLIPTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    symbols = _byte_symbols()
    vocab = {symbol: index for index, symbol in enumerate(symbols)}
    for symbol in symbols:
        vocab[symbol + "</w>"] = len(vocab)
    vocab["<|startoftext|>"] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    return CLIPTokenizer.from_pretrained(folder, model_max_length=77)


def save_sd_pipeline(
    unet: Any, vae: Any, text_encoder: Any, tokenizer: Any, scheduler: Any, path: Path
) -> None:
    """Assemble an SD-1.5-style pipeline from its parts and save it like any diffusers model."""
    from diffusers import StableDiffusionPipeline

    pipe: Any = StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(path)


def build_tiny(path: Path) -> None:
    """Build the SD-1.5-shaped `tiny` model from configs with a fixed init seed, then save it."""
    from diffusers import AutoencoderKL, EulerDiscreteScheduler, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(TINY_INIT_SEED)
    unet = UNet2DConditionModel(
        sample_size=8,
        in_channels=4,
        out_channels=4,
        layers_per_block=1,
        block_out_channels=(32, 64),
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=32,
        attention_head_dim=8,
        norm_num_groups=16,
    )
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        block_out_channels=(16, 16, 32, 32),
        layers_per_block=1,
        latent_channels=4,
        norm_num_groups=8,
        sample_size=64,
    )
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=600,
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            max_position_embeddings=77,
            bos_token_id=514,
            eos_token_id=515,
            pad_token_id=515,
        )
    )
    staging = path.with_name(f"{path.name}.building-{os.getpid()}")
    tokenizer = byte_tokenizer(staging / "tokenizer-src")
    scheduler = EulerDiscreteScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        num_train_timesteps=1000,
        steps_offset=1,
        timestep_spacing="leading",
    )
    save_sd_pipeline(unet, vae, text_encoder, tokenizer, scheduler, staging)
    shutil.rmtree(staging / "tokenizer-src")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        staging.rename(path)
    except OSError:  # another process built it first
        shutil.rmtree(staging, ignore_errors=True)


def single_file_configs(family: str, path: Path) -> Path:
    """The diffusers configs and tokenizer a family's single file is loaded with, on disk."""
    if family in BUILT_IN:
        return resolve(family).path
    family = {"sdxl-turbo": "sdxl", "turbo": "sd2-base"}.get(family, family)  # same architectures
    if family not in families.FAMILIES:
        raise checkpoints.CheckpointError(
            f"Atelier has no offline configs for single-file {family} checkpoints yet; load this "
            "model as a diffusers folder (a `model_index.json` folder) instead",
            path,
        )
    try:
        return families.write_configs(family, cache_dir() / "configs" / family)
    except families.MissingTokenizer as error:
        raise checkpoints.CheckpointError(str(error), path) from error


def load_single_file(path: Path, family: str, dtype: Any) -> Any:
    """The text-to-image pipeline from a single file, with nothing downloaded."""
    from diffusers import StableDiffusionPipeline, StableDiffusionXLPipeline

    pipeline = StableDiffusionXLPipeline if family.startswith("sdxl") else StableDiffusionPipeline
    return pipeline.from_single_file(
        str(path), config=str(single_file_configs(family, path)), local_files_only=True, dtype=dtype
    )
