"""The held-out evaluation: prompts and seeds training never used, judged by the pixel classifier."""

from __future__ import annotations

import random
from pathlib import Path

import torch

from bot.runner.shapes import scenes
from bot.runner.shapes.judge import judge

EVAL_SEED_BASE = 10_000_000  # training draws its seeds below this


def held_out_prompts(count: int) -> list[tuple[str, int, scenes.Thing, str]]:
    """(prompt, seed, the asked-for shape, the asked-for background) over the vocabulary."""
    rng = random.Random(EVAL_SEED_BASE)
    asked = []
    for i in range(count):
        shape = scenes.SHAPES[i % len(scenes.SHAPES)]
        colour, background = rng.sample(list(scenes.COLOURS), 2)
        thing = scenes.Thing(shape, colour)
        asked.append(
            (
                f"{'an' if colour[0] in 'aeiou' else 'a'} {colour} {shape} on a {background} background",
                EVAL_SEED_BASE + i,
                thing,
                background,
            )
        )
    return asked


def evaluate(
    folder: Path, count: int = 48, guidance: float = 5.0, steps: int = 20
) -> dict[str, float]:
    from diffusers import StableDiffusionPipeline

    pipe = StableDiffusionPipeline.from_pretrained(folder, safety_checker=None)
    pipe.set_progress_bar_config(disable=True)
    asked = held_out_prompts(count)
    right = {"shape colour": 0, "background": 0, "shape": 0}
    for start in range(0, count, 16):
        chunk = asked[start : start + 16]
        images = pipe(
            [p for p, _, _, _ in chunk],
            num_inference_steps=steps,
            guidance_scale=guidance,
            width=scenes.SIZE,
            height=scenes.SIZE,
            generator=[torch.Generator().manual_seed(s) for _, s, _, _ in chunk],
        ).images
        for image, (_, _, thing, background) in zip(images, chunk, strict=True):
            seen = judge(image)
            right["shape colour"] += seen.colour == thing.colour
            right["background"] += seen.background == background
            right["shape"] += seen.shape == thing.shape
    return {name: hits / count for name, hits in right.items()}
