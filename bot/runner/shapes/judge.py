"""A plain pixel classifier for shape scenes: what a person would say the picture shows.

Background = the border's median colour; the shape = the largest region far from it; its mean
colour → the nearest named colour; its shape from how much of its box it fills and its corners.
Used by the held-out evaluation after training and by the tests of picture meaning.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from bot.runner.shapes.scenes import COLOURS

FAR = 60.0  # a pixel this far (RGB distance) from the background belongs to a shape


@dataclass(frozen=True)
class Seen:
    background: str
    colour: str | None
    shape: str | None
    box: tuple[int, int, int, int] | None  # x0, y0, x1, y1 of the shape's region


def nearest_colour(rgb: np.ndarray) -> str:
    names = list(COLOURS)
    table = np.array([COLOURS[n] for n in names], dtype=np.float32)
    return names[int(np.argmin(((table - rgb.astype(np.float32)) ** 2).sum(axis=1)))]


def background_of(pixels: np.ndarray) -> np.ndarray:
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    return np.median(border, axis=0)


def largest_region(mask: np.ndarray) -> np.ndarray:
    """The largest 4-connected region of a boolean mask (an iterative flood fill: no scipy)."""
    seen = np.zeros_like(mask, dtype=bool)
    best: list[tuple[int, int]] = []
    height, width = mask.shape
    for y0, x0 in zip(*np.nonzero(mask), strict=True):
        if seen[y0, x0]:
            continue
        region, stack = [], [(int(y0), int(x0))]
        seen[y0, x0] = True
        while stack:
            y, x = stack.pop()
            region.append((y, x))
            for ny, nx in ((y + 1, x), (y - 1, x), (y, x + 1), (y, x - 1)):
                if 0 <= ny < height and 0 <= nx < width and mask[ny, nx] and not seen[ny, nx]:
                    seen[ny, nx] = True
                    stack.append((ny, nx))
        if len(region) > len(best):
            best = region
    out = np.zeros_like(mask, dtype=bool)
    if best:
        ys, xs = zip(*best, strict=True)
        out[list(ys), list(xs)] = True
    return out


def shape_of(region: np.ndarray) -> str:
    """Circle fills ~π/4 of its box, a square ~1, a triangle ~1/2; the corners settle close calls."""
    ys, xs = np.nonzero(region)
    box = region[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    fill = box.mean()
    h, w = box.shape
    k = max(1, min(h, w) // 6)
    corners = [box[:k, :k].mean(), box[:k, -k:].mean(), box[-k:, :k].mean(), box[-k:, -k:].mean()]
    top, bottom = sum(corners[:2]) / 2, sum(corners[2:]) / 2
    if fill > 0.88 or min(corners) > 0.5:
        return "square"
    if bottom > 0.45 and top < 0.25:
        return "triangle"
    if fill < 0.66:
        return "triangle"
    return "circle"


def judge(image: Image.Image) -> Seen:
    pixels = np.asarray(image.convert("RGB")).astype(np.float32)
    back = background_of(pixels)
    distance = np.sqrt(((pixels - back) ** 2).sum(axis=2))
    region = largest_region(distance > FAR)
    background = nearest_colour(back)
    if region.sum() < 12:
        return Seen(background, None, None, None)
    ys, xs = np.nonzero(region)
    colour = nearest_colour(np.median(pixels[region], axis=0))
    box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
    return Seen(background, colour, shape_of(region), box)
