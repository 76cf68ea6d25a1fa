"""GPU throughput: plain diffusers vs Atelier's runner, SD-1.5 or SDXL architecture, random weights.

Random weights have the same compute as real ones. 512x512 (SDXL: 1024x1024), 25 steps, CFG 7.5, fp16.
In one run: plain diffusers at batch 1 and at its best batch, then Atelier's runner on a
64-image volume run, and a reproducibility check on the same runner setup. Needs CUDA.

    python bench/gpu_throughput.py [--sdxl] [--images 64] [--batches 1,2,4,8,16,24,32]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import torch


def build_sd15(path: Path, *, narrow: bool = False) -> None:
    """An SD-1.5-shaped pipeline (UNet 860M, ViT-L text encoder, SD VAE) with random weights.

    `narrow` (for --smoke) keeps every block and layer but makes them 10 times thinner, so the
    CPU check runs the very code the GPU run does in seconds instead of minutes.
    """
    from diffusers import AutoencoderKL, DPMSolverMultistepScheduler, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    from bot.runner.models import byte_tokenizer, save_sd_pipeline

    torch.manual_seed(0)
    text_width, unet_widths, vae_widths = (
        (64, (32, 64, 128, 128), (32, 64, 64, 64))
        if narrow
        else (768, (320, 640, 1280, 1280), (128, 256, 512, 512))
    )
    unet = UNet2DConditionModel(
        sample_size=64,
        cross_attention_dim=text_width,
        attention_head_dim=8,
        layers_per_block=2,
        block_out_channels=unet_widths,
        down_block_types=(
            "CrossAttnDownBlock2D",
            "CrossAttnDownBlock2D",
            "CrossAttnDownBlock2D",
            "DownBlock2D",
        ),
        up_block_types=(
            "UpBlock2D",
            "CrossAttnUpBlock2D",
            "CrossAttnUpBlock2D",
            "CrossAttnUpBlock2D",
        ),
    )
    vae = AutoencoderKL(
        block_out_channels=vae_widths,
        latent_channels=4,
        layers_per_block=2,
        sample_size=512,
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
    )
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=49408,
            hidden_size=text_width,
            intermediate_size=4 * text_width,
            num_hidden_layers=12,
            num_attention_heads=text_width // 64,
            max_position_embeddings=77,
            bos_token_id=514,
            eos_token_id=515,
            pad_token_id=515,
        )
    )
    tokenizer = byte_tokenizer(path / "tokenizer-src")
    scheduler = DPMSolverMultistepScheduler(
        beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012, steps_offset=1
    )
    save_sd_pipeline(unet, vae, text_encoder, tokenizer, scheduler, path / "model")


def build_sdxl(path: Path, *, narrow: bool = False) -> None:
    """An SDXL-shaped pipeline (UNet 2.6B, CLIP-L and bigG text encoders) with random weights.

    Built from the SDXL configs Atelier ships for single files; `narrow` (for --smoke) keeps
    every block and transformer layer but makes the widths about 8 times thinner.
    """
    from diffusers import (
        AutoencoderKL,
        EulerDiscreteScheduler,
        StableDiffusionXLPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    from bot.runner.families import CLIP_BIGG_TEXT, CLIP_L_TEXT, SD_VAE, SDXL_UNET
    from bot.runner.models import byte_tokenizer

    torch.manual_seed(0)
    unet_config = {k: v for k, v in SDXL_UNET.items() if not k.startswith("_")}
    vae_config = {k: v for k, v in SD_VAE.items() if not k.startswith("_")}
    text_l = {**CLIP_L_TEXT, "bos_token_id": 514, "eos_token_id": 515, "pad_token_id": 515}
    text_g = {**CLIP_BIGG_TEXT, "bos_token_id": 514, "eos_token_id": 515, "pad_token_id": 515}
    if narrow:
        text_l.update(
            hidden_size=64, intermediate_size=256, num_attention_heads=1, projection_dim=64
        )
        text_g.update(
            hidden_size=128, intermediate_size=512, num_attention_heads=2, projection_dim=128
        )
        unet_config.update(
            block_out_channels=[40, 80, 160],
            norm_num_groups=8,
            cross_attention_dim=64 + 128,
            projection_class_embeddings_input_dim=6 * 256 + 128,
        )
        vae_config.update(block_out_channels=[32, 64, 64, 64])
    for config in (text_l, text_g):
        config.pop("architectures")
        config.pop("model_type")
    pipe = StableDiffusionXLPipeline(
        vae=AutoencoderKL(**vae_config),
        text_encoder=CLIPTextModel(CLIPTextConfig(**text_l)),
        text_encoder_2=CLIPTextModelWithProjection(CLIPTextConfig(**text_g)),
        tokenizer=byte_tokenizer(path / "tokenizer-src"),
        tokenizer_2=byte_tokenizer(path / "tokenizer-src"),
        unet=UNet2DConditionModel(**unet_config),
        scheduler=EulerDiscreteScheduler(
            beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012, steps_offset=1
        ),
    )
    pipe.save_pretrained(path / "model")


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--images", type=int, default=None)
    parser.add_argument("--batches", default=None)
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--size", type=int, default=None)
    parser.add_argument(
        "--sdxl",
        action="store_true",
        help="an SDXL-shaped model at 1024² (default: SD-1.5 at 512²)",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="check the script on CPU: the same code on a narrow model, 64 px, 2 steps, 4 images",
    )
    args = parser.parse_args()
    args.images = args.images or (32 if args.sdxl else 64)
    args.batches = args.batches or ("1,2,4,8" if args.sdxl else "1,2,4,8,16,24,32")
    args.size = args.size or (1024 if args.sdxl else 512)
    if args.smoke:
        args.images, args.batches, args.steps, args.size = 4, "1,2", 2, 64
    elif not torch.cuda.is_available():
        raise SystemExit(
            "gpu_throughput needs a CUDA device (or --smoke to check the script on CPU)"
        )
    return args


def main() -> None:
    args = _args()
    device, dtype = ("cpu", torch.float32) if args.smoke else ("cuda", torch.float16)

    def sync() -> None:
        if device == "cuda":
            torch.cuda.synchronize()

    from diffusers import AutoPipelineForText2Image

    from bot.imaging import pixel_diff
    from bot.playbook.service import PlaybookService
    from bot.runner.diffusion import backend_for
    from bot.runner.worker import Worker
    from storage import queue
    from storage.db import make_engine, make_sessions, migrate
    from storage.files import ImageStore

    folder = Path(tempfile.mkdtemp(prefix="atelier-gpu-"))
    (build_sdxl if args.sdxl else build_sd15)(folder, narrow=args.smoke)
    model = folder / "model"
    print(
        f"device: {torch.cuda.get_device_name() if device == 'cuda' else 'cpu (smoke)'}  torch {torch.__version__}"
    )

    pipe = AutoPipelineForText2Image.from_pretrained(model, dtype=dtype).to(device)
    pipe.set_progress_bar_config(disable=True)

    def plain(pipe: Any, batch: int, images: int) -> float:
        prompts = [f"a courier at dawn, take {i}" for i in range(batch)]
        pipe(
            prompt=prompts,
            num_inference_steps=args.steps,
            guidance_scale=7.5,
            width=args.size,
            height=args.size,
        )  # warm-up
        sync()
        start = time.perf_counter()
        for _ in range(max(1, images // batch)):
            pipe(
                prompt=prompts,
                num_inference_steps=args.steps,
                guidance_scale=7.5,
                width=args.size,
                height=args.size,
                generator=[torch.Generator("cpu").manual_seed(i) for i in range(batch)],
            )
        sync()
        return max(1, images // batch) * batch / (time.perf_counter() - start)

    rates = {}
    for batch in [int(b) for b in args.batches.split(",")]:
        try:
            rates[batch] = plain(pipe, batch, max(batch * 2, 8))
            print(f"plain diffusers batch {batch:>2}: {rates[batch]:.2f} img/s")
        except torch.cuda.OutOfMemoryError:
            print(f"plain diffusers batch {batch:>2}: out of memory")
            break
    best = max(rates, key=lambda b: rates[b])
    del pipe
    if device == "cuda":
        torch.cuda.empty_cache()

    engine = make_engine(f"sqlite:///{folder}/bench.db")
    migrate(engine)
    sessions = make_sessions(engine)
    project = PlaybookService(sessions).start_project("CGPU", "U1", "Throughput.").project.id
    model_id = f"{'sdxl' if args.sdxl else 'sd15'}={model}"
    backend = backend_for(model_id)
    settings = {
        "model": model_id,
        "scheduler": type(backend.base.scheduler).__name__,
        "steps": args.steps,
        "guidance": 7.5,
        "width": args.size,
        "height": args.size,
    }
    images = [
        {"prompt": f"a courier at dawn, take {i}", "negative_prompt": "", "seed": i}
        for i in range(args.images)
    ]
    worker = Worker(sessions, ImageStore(str(folder / "images")), backend_for, batch_size=best)
    with sessions.begin() as s:  # warm-up job
        queue.enqueue(
            s,
            channel_id="CGPU",
            project_id=project,
            kind="volume",
            created_by="U1",
            total=best,
            params={"settings": settings, "images": images[:best]},
        )
    while worker.run_once():
        pass
    with sessions.begin() as s:
        queue.enqueue(
            s,
            channel_id="CGPU",
            project_id=project,
            kind="volume",
            created_by="U1",
            total=args.images,
            params={"settings": settings, "images": images},
        )
    sync()
    start = time.perf_counter()
    while worker.run_once():
        pass
    sync()
    runner_rate = args.images / (time.perf_counter() - start)

    from bot.runner.backend import GenTask

    task = GenTask(
        "a courier at dawn", "", 7, args.steps, 7.5, args.size, args.size, settings["scheduler"]
    )
    first, again = backend.text_to_image([task])[0], backend.text_to_image([task])[0]
    in_batch = backend.text_to_image(
        [task]
        + [
            GenTask(
                f"other {i}", "", i, args.steps, 7.5, args.size, args.size, settings["scheduler"]
            )
            for i in range(best - 1)
        ]
    )[0]

    print(
        f"plain diffusers: batch 1 {rates[1]:.2f} img/s, best batch {best} {rates[best]:.2f} img/s"
    )
    print(
        f"atelier runner, {args.images}-image volume run at batch {best}: {runner_rate:.2f} img/s"
    )
    print(
        f"runner / plain best batch: {runner_rate / rates[best]:.2f}x (target >= 1.4x); runner / plain batch 1: {runner_rate / rates[1]:.2f}x"
    )
    print(
        f"reproducibility on this setup: same task twice mean/max diff {pixel_diff(first, again)}, alone vs in batch {pixel_diff(first, in_batch)}"
    )


if __name__ == "__main__":
    main()
