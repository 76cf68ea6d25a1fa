"""The shipped `shapes` model draws what it is asked (#21): judged by a plain pixel classifier.

Prompts and seeds the training never used (train.py draws its seeds below EVAL_SEED_BASE), through
the runner's own backend: the same code path every diffusers model takes.
"""

from __future__ import annotations

import random
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image, ImageDraw

from bot.playbook.instructions import repair_prompts
from bot.runner.backend import GenTask
from bot.runner.diffusion import DiffusersBackend
from bot.runner.shapes import scenes
from bot.runner.shapes.evaluation import EVAL_SEED_BASE, held_out_prompts
from bot.runner.shapes.judge import judge, nearest_colour

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def shapes() -> DiffusersBackend:
    return DiffusersBackend("shapes", "cpu")


def task(prompt: str, seed: int, negative: str = "") -> GenTask:
    return GenTask(prompt, negative, seed, 20, 5.0, 64, 64, "")


def render(backend: DiffusersBackend, prompts: list[tuple[str, int]]) -> list[Image.Image]:
    images: list[Image.Image] = []
    for start in range(0, len(prompts), 16):
        images += backend.text_to_image([task(p, s) for p, s in prompts[start : start + 16]])
    return images


def test_it_draws_the_colour_background_and_shape_it_is_asked(shapes: DiffusersBackend) -> None:
    asked = held_out_prompts(48)
    seen = [judge(image) for image in render(shapes, [(p, s) for p, s, _, _ in asked])]
    colour = np.mean(
        [s.colour == thing.colour for s, (_, _, thing, _) in zip(seen, asked, strict=True)]
    )
    background = np.mean([s.background == bg for s, (_, _, _, bg) in zip(seen, asked, strict=True)])
    shape = np.mean(
        [s.shape == thing.shape for s, (_, _, thing, _) in zip(seen, asked, strict=True)]
    )
    assert colour >= 0.9 and background >= 0.9 and shape >= 0.75, (colour, background, shape)


def _region_mask(box: tuple[int, int, int, int], grow: int = 2) -> Image.Image:
    mask = Image.new("L", (64, 64), 0)
    x0, y0, x1, y1 = box
    ImageDraw.Draw(mask).rectangle((x0 - grow, y0 - grow, x1 + grow - 1, y1 + grow - 1), fill=255)
    return mask


def test_an_inpaint_recolours_its_region_and_nothing_else(shapes: DiffusersBackend) -> None:
    rng = random.Random(EVAL_SEED_BASE + 1)
    cases, matched = 0, 0
    while cases < 12:
        shape = rng.choice(scenes.SHAPES)
        colour, background, wanted = rng.sample(list(scenes.COLOURS), 3)
        prompt = f"a large {colour} {shape} on a {background} background"
        seed = EVAL_SEED_BASE + 100 + cases
        original = shapes.text_to_image([task(prompt, seed)])[0]
        box = judge(original).box
        if box is None:
            continue
        cases += 1
        mask = _region_mask(box)
        asked = repair_prompts(f"make it {wanted}", prompt, "", region=True)
        repaired = shapes.inpaint(
            task(asked.prompt, seed, asked.negative_prompt), original, mask, 1.0
        )
        before, after = (np.asarray(i, dtype=np.int16) for i in (original, repaired))
        outside = np.asarray(mask) == 0
        changed = (np.abs(before - after).max(axis=2) > 8) & outside
        assert changed.sum() <= 0.02 * outside.sum()
        inside = np.asarray(mask) > 127
        far = np.abs(after - np.median(before[~inside], axis=0)).sum(axis=2) > 60
        region = after[inside & far]
        matched += len(region) > 0 and nearest_colour(np.median(region, axis=0)) == wanted
    assert matched / cases >= 0.75, matched


def test_vary_subtle_stays_closer_than_vary_strong(shapes: DiffusersBackend) -> None:
    closer = 0
    for case in range(10):
        parent_task = task(
            f"a {scenes.SHAPES[case % 3]} on a white background, flat", EVAL_SEED_BASE + 200 + case
        )
        parent = shapes.text_to_image([parent_task])[0]
        variant = replace(parent_task, seed=EVAL_SEED_BASE + 300 + case)
        subtle = shapes.image_to_image(variant, parent, 0.35)
        strong = shapes.image_to_image(variant, parent, 0.65)
        base = np.asarray(parent, dtype=np.float32)
        closer += (
            np.abs(np.asarray(subtle) - base).mean() < np.abs(np.asarray(strong) - base).mean()
        )
    assert closer >= 9


def test_the_hero_reproduces_exactly_on_cpu(shapes: DiffusersBackend) -> None:
    hero = task("a red circle on a blue background, watercolor", EVAL_SEED_BASE + 400)
    first, again = shapes.text_to_image([hero])[0], shapes.text_to_image([hero])[0]
    assert np.array_equal(np.asarray(first), np.asarray(again))
