"""`make model`: train the `shapes` model from a fixed seed on a CPU, and save it as a diffusers
folder that loads like any other model (text to image, image to image, inpaint, upscale).

1. Draw a pool of captioned scenes (`scenes.py`): nothing is downloaded.
2. Train a small VAE (f=4: 64×64 pixels ↔ 4×16×16 latents) to reconstruct them.
3. Encode the pool once; train the UNet and the text encoder together on the latents, with
   offset noise (SD's schedule otherwise leaves every picture at the mean latent's colour) and
   min-SNR weighting, keeping an EMA of the weights.
4. Save the pipeline, then render held-out prompts with seeds training never used and print how
   often the pixel classifier (`judge.py`) sees what was asked.
"""

from __future__ import annotations

import argparse
import copy
import math
import random
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from bot.runner.models import SHAPES_DIR
from bot.runner.shapes import scenes
from bot.runner.shapes.evaluation import evaluate
from bot.runner.shapes.vocabulary import build_tokenizer

OFFSET_NOISE = 0.1


def new_models(tokenizer: Any) -> tuple[Any, Any, Any]:
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 3,
        up_block_types=("UpDecoderBlock2D",) * 3,
        block_out_channels=(16, 32, 32),
        layers_per_block=1,
        latent_channels=4,
        norm_num_groups=8,
        sample_size=scenes.SIZE,
    )
    unet = UNet2DConditionModel(
        sample_size=scenes.SIZE // 4,
        in_channels=4,
        out_channels=4,
        layers_per_block=1,
        block_out_channels=(32, 64, 64),
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=64,
        attention_head_dim=8,
        norm_num_groups=16,
    )
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=len(tokenizer),
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=2,
            num_attention_heads=4,
            max_position_embeddings=77,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        )
    )
    return vae, unet, text_encoder


def scheduler_config() -> dict[str, Any]:
    """SD's training schedule; `trailing` spacing so a few-step draft starts from pure noise."""
    return {
        "beta_start": 0.00085,
        "beta_end": 0.012,
        "beta_schedule": "scaled_linear",
        "num_train_timesteps": 1000,
        "steps_offset": 1,
        "timestep_spacing": "trailing",
        "prediction_type": "epsilon",
    }


def draw_pool(count: int, seed: int) -> tuple[list[scenes.Scene], torch.Tensor]:
    rng = random.Random(seed)
    drawn, pixels = [], []
    for _ in tqdm(range(count), desc="drawing scenes", unit="scene", mininterval=2):
        scene = scenes.random_scene(rng)
        drawn.append(scene)
        pixels.append(np.asarray(scenes.draw(scene, rng)))
    batch = torch.from_numpy(np.stack(pixels)).permute(0, 3, 1, 2).float() / 127.5 - 1
    return drawn, batch


def _lr(step: int, total: int, peak: float) -> float:
    warm = max(1, total // 50)
    if step < warm:
        return peak * (step + 1) / warm
    return peak * 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, total - warm)))


def train_vae(
    vae: Any, pixels: torch.Tensor, steps: int, batch: int, gen: torch.Generator, crop: int = 32
) -> None:
    """Reconstruction on random crops: the VAE is convolutional, and 32-px crops learn about
    twice as fast per CPU-second as whole pictures."""
    optimizer = torch.optim.AdamW(vae.parameters(), lr=2e-3, weight_decay=0.0)
    vae.train()
    bar = tqdm(range(steps), desc="VAE", unit="step", mininterval=2)
    for step in bar:
        for group in optimizer.param_groups:
            group["lr"] = _lr(step, steps, 2e-3)
        x = pixels[torch.randint(0, len(pixels), (batch,), generator=gen)]
        top, left = torch.randint(0, x.shape[-1] - crop + 1, (2,), generator=gen).tolist()
        x = x[:, :, top : top + crop, left : left + crop]
        posterior = vae.encode(x).latent_dist
        z = posterior.mean + posterior.std * torch.randn(posterior.mean.shape, generator=gen)
        rec = vae.decode(z).sample
        loss = F.l1_loss(rec, x) + F.mse_loss(rec, x) + 1e-6 * posterior.kl().mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if step % 20 == 0:
            bar.set_postfix(loss=f"{loss.item():.4f}")
    vae.eval()
    with torch.no_grad():
        x = pixels[:64]
        error = (vae.decode(vae.encode(x).latent_dist.mean).sample.clamp(-1, 1) - x).abs()
    print(f"VAE reconstruction: mean error {error.mean().item() * 127.5:.1f}/255")


@torch.no_grad()
def encode(vae: Any, pixels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    means, stds = [], []
    for chunk in pixels.split(256):
        posterior = vae.encode(chunk).latent_dist
        means.append(posterior.mean)
        stds.append(posterior.std)
    return torch.cat(means), torch.cat(stds)


def _ema(target: torch.nn.Module, source: torch.nn.Module, decay: float) -> None:
    with torch.no_grad():
        for t, s in zip(target.parameters(), source.parameters(), strict=True):
            t.lerp_(s, 1 - decay)


def train_unet(
    unet: Any,
    text_encoder: Any,
    tokenizer: Any,
    pool: list[scenes.Scene],
    latents: tuple[torch.Tensor, torch.Tensor],
    scaling: float,
    steps: int,
    batch: int,
    seed: int,
    peak_lr: float = 1e-3,
) -> tuple[Any, Any]:
    """Returns the EMA copies of the UNet and the text encoder."""
    from diffusers import DDPMScheduler

    noise_schedule: Any = DDPMScheduler(**scheduler_config())
    snr = noise_schedule.alphas_cumprod / (1 - noise_schedule.alphas_cumprod)
    gen = torch.Generator().manual_seed(seed)
    rng = random.Random(seed)
    params = [*unet.parameters(), *text_encoder.parameters()]
    optimizer = torch.optim.AdamW(params, lr=1e-3, weight_decay=0.01)
    ema_unet, ema_text = copy.deepcopy(unet).eval(), copy.deepcopy(text_encoder).eval()
    mean, std = latents
    bar = tqdm(range(steps), desc="UNet", unit="step", mininterval=2)
    for step in bar:
        for group in optimizer.param_groups:
            group["lr"] = _lr(step, steps, peak_lr)
        index = torch.randint(0, len(pool), (batch,), generator=gen)
        z = (mean[index] + std[index] * torch.randn(mean[index].shape, generator=gen)) * scaling
        captions = [
            "" if rng.random() < 0.1 else scenes.caption(pool[i], rng) for i in index.tolist()
        ]
        ids = tokenizer(
            captions, padding="max_length", max_length=77, truncation=True, return_tensors="pt"
        ).input_ids
        noise = torch.randn(z.shape, generator=gen)
        noise += OFFSET_NOISE * torch.randn((batch, z.shape[1], 1, 1), generator=gen)
        t = torch.randint(0, 1000, (batch,), generator=gen)
        noisy = noise_schedule.add_noise(z, noise, t)
        prediction = unet(noisy, t, encoder_hidden_states=text_encoder(ids)[0]).sample
        weight = (torch.clamp(snr[t], max=5.0) / snr[t]).view(-1, 1, 1, 1)
        loss = (weight * (prediction - noise) ** 2).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        decay = min(0.995, (1 + step) / (10 + step))
        _ema(ema_unet, unet, decay)
        _ema(ema_text, text_encoder, decay)
        if step % 20 == 0:
            bar.set_postfix(loss=f"{loss.item():.4f}")
    return ema_unet, ema_text


def save(out: Path, vae: Any, unet: Any, text_encoder: Any, tokenizer: Any) -> None:
    from diffusers import EulerDiscreteScheduler

    from bot.runner.models import save_sd_pipeline

    scheduler = EulerDiscreteScheduler(**scheduler_config())
    staging = out.with_name(out.name + ".new")
    shutil.rmtree(staging, ignore_errors=True)
    save_sd_pipeline(unet, vae, text_encoder, tokenizer, scheduler, staging)
    for stray in staging.rglob("atelier-hash.json"):
        stray.unlink()
    shutil.rmtree(out, ignore_errors=True)
    staging.rename(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=SHAPES_DIR)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scenes", type=int, default=24_000)
    parser.add_argument("--vae-steps", type=int, default=1500)
    parser.add_argument("--unet-steps", type=int, default=1500)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3, help="the UNet's peak learning rate")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue the UNet and text encoder of the model at --out on newly drawn scenes "
        "(the VAE is kept); `make model` runs a first stage, then this one",
    )
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: all cores)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    started = time.monotonic()
    torch.manual_seed(args.seed)
    work = args.out.with_name(args.out.name + ".work")
    if args.resume:
        tokenizer, vae, unet, text_encoder = _load(args.out)
        pool, pixels = draw_pool(args.scenes, args.seed)
    else:
        tokenizer = build_tokenizer(work / "tokenizer-src")
        vae, unet, text_encoder = new_models(tokenizer)
        _say_sizes(unet, vae, text_encoder)
        pool, pixels = draw_pool(args.scenes, args.seed)
        gen = torch.Generator().manual_seed(args.seed)
        train_vae(vae, pixels[: min(len(pixels), 8000)], args.vae_steps, 32, gen)
    latents = encode(vae, pixels)
    if not args.resume:
        vae.register_to_config(scaling_factor=float(1 / latents[0].std()))
        print(f"VAE latent scaling factor {vae.config.scaling_factor:.4f}")
    unet, text_encoder = train_unet(
        unet,
        text_encoder,
        tokenizer,
        pool,
        latents,
        vae.config.scaling_factor,
        args.unet_steps,
        args.batch,
        args.seed,
        args.lr,
    )
    save(args.out, vae, unet, text_encoder, tokenizer)
    shutil.rmtree(work, ignore_errors=True)
    print(f"trained in {(time.monotonic() - started) / 60:.1f} min; saved to {args.out}")
    print("held-out evaluation (48 prompts, seeds training never used, 20 steps, guidance 5):")
    for name, share in evaluate(args.out).items():
        print(f"  {name:<13} {share:6.1%}")
    return 0


def _load(folder: Path) -> tuple[Any, Any, Any, Any]:
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextModel, CLIPTokenizer

    return (
        CLIPTokenizer.from_pretrained(folder / "tokenizer", model_max_length=77),
        AutoencoderKL.from_pretrained(folder / "vae").eval(),
        UNet2DConditionModel.from_pretrained(folder / "unet"),
        CLIPTextModel.from_pretrained(folder / "text_encoder"),
    )


def _say_sizes(unet: Any, vae: Any, text_encoder: Any) -> None:
    print(
        "parameters: "
        + ", ".join(
            f"{name} {sum(p.numel() for p in part.parameters()):,}"
            for name, part in (("unet", unet), ("vae", vae), ("text encoder", text_encoder))
        )
    )


if __name__ == "__main__":
    raise SystemExit(main())
