"""Synthetic scenes with captions: the `shapes` model's whole training set, drawn in code.

Nothing is downloaded: every picture is a few shapes drawn with Pillow from a caption's words,
so the vocabulary the model understands is exactly the one written here (and in the README).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

SIZE = 64
SHAPES = ("circle", "square", "triangle")
COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (215, 40, 40),
    "orange": (245, 135, 25),
    "yellow": (245, 215, 45),
    "green": (45, 165, 70),
    "blue": (40, 85, 215),
    "purple": (135, 55, 185),
    "black": (25, 25, 25),
    "white": (240, 240, 240),
}
POSITIONS: dict[str, tuple[float, float]] = {
    "left": (0.27, 0.5),
    "right": (0.73, 0.5),
    "top": (0.5, 0.27),
    "bottom": (0.5, 0.73),
    "centre": (0.5, 0.5),
}
POSITION_WORDS = {
    "left": ("on the left",),
    "right": ("on the right",),
    "top": ("at the top",),
    "bottom": ("at the bottom",),
    "centre": ("in the centre", "in the center"),
}
SIZES = {"small": 0.2, "large": 0.62}  # the shape's width as a share of the picture
DEFAULT_SIZE = 0.4
# Each style, with the words that ask for it (the first is the name shown in the README).
STYLES: dict[str, tuple[str, ...]] = {
    "flat": ("flat", "flat vector", "flat colour"),
    "outline": ("outline", "line art"),
    "striped": ("striped", "stripes"),
    "soft": ("watercolor", "watercolour", "soft"),
    "grain": ("film photo", "grain", "photo"),
}


@dataclass(frozen=True)
class Thing:
    shape: str
    colour: str
    position: str | None = None
    size: str | None = None


@dataclass(frozen=True)
class Scene:
    things: tuple[Thing, ...]
    background: str
    style: str = "flat"


def caption(scene: Scene, rng: random.Random) -> str:
    """A caption for the scene that sometimes leaves words out, so a short prompt ("a yellow
    circle", "yellow") still means what it says and the rest is left to chance."""
    keep_background = rng.random() < 0.85
    # A prompt without a style word means flat: other styles are always named.
    keep_style = scene.style != "flat" or rng.random() < 0.5
    if len(scene.things) == 1 and rng.random() < 0.06:
        return scene.things[0].colour  # a bare colour: "something yellow"
    parts = [
        " and ".join(_thing_words(thing, rng, len(scene.things) > 1) for thing in scene.things)
    ]
    if keep_background:
        parts.append(f"on a {scene.background} background")
    text = " ".join(parts)
    if keep_style:
        text += ", " + rng.choice(STYLES[scene.style])
    return text


def _thing_words(thing: Thing, rng: random.Random, pair: bool) -> str:
    words = [*([thing.size] if thing.size else []), thing.colour, thing.shape]
    words.insert(0, "an" if words[0][0] in "aeiou" else "a")
    if thing.position and not pair:
        words.append(rng.choice(POSITION_WORDS[thing.position]))
    return " ".join(words)


def random_scene(rng: random.Random) -> Scene:
    """One scene: mostly a single shape, sometimes two ("a red circle and a blue square")."""
    background = rng.choice(list(COLOURS))
    others = [c for c in COLOURS if c != background]
    style = rng.choice(list(STYLES))
    if rng.random() < 0.15:
        first, second = rng.sample(others, 2) if rng.random() < 0.7 else [rng.choice(others)] * 2
        things = (
            Thing(rng.choice(SHAPES), first, "left"),
            Thing(rng.choice(SHAPES), second, "right"),
        )
        return Scene(things, background, style)
    thing = Thing(
        rng.choice(SHAPES),
        rng.choice(others),
        rng.choice([None, None, *POSITIONS]),
        rng.choice([None, None, *SIZES]),
    )
    return Scene((thing,), background, style)


def draw(scene: Scene, rng: random.Random, width: int = SIZE, height: int = SIZE) -> Image.Image:
    """The scene as RGB pixels; unspecified position and size are drawn at random around the
    middle, so leaving a word out leaves it to the seed."""
    scale = 4  # draw large and shrink: smooth edges
    w, h = width * scale, height * scale
    image = Image.new("RGB", (w, h), _jitter(COLOURS[scene.background], rng))
    pen = ImageDraw.Draw(image)
    pair = len(scene.things) > 1
    for thing in scene.things:
        share = SIZES.get(thing.size or "", DEFAULT_SIZE) * (0.78 if pair else 1.0)
        side = min(w, h) * share * rng.uniform(0.88, 1.12)
        cx, cy = POSITIONS.get(thing.position or "", (0.5, 0.5))
        if thing.position is None:
            cx, cy = rng.uniform(0.38, 0.62), rng.uniform(0.38, 0.62)
        centre = (cx * w + rng.uniform(-2, 2) * scale, cy * h + rng.uniform(-2, 2) * scale)
        _draw_thing(
            pen, thing.shape, centre, side, _jitter(COLOURS[thing.colour], rng), scene.style, scale
        )
    image = image.resize((width, height), Image.Resampling.LANCZOS)
    return _finish(image, scene.style, rng)


def _draw_thing(
    pen: ImageDraw.ImageDraw,
    shape: str,
    centre: tuple[float, float],
    side: float,
    colour: tuple[int, int, int],
    style: str,
    scale: int,
) -> None:
    x, y = centre
    r = side / 2
    if shape == "circle":
        points: list[tuple[float, float]] = []
        box = (x - r, y - r, x + r, y + r)
    elif shape == "square":
        box = (x - r, y - r, x + r, y + r)
        points = [(x - r, y - r), (x + r, y - r), (x + r, y + r), (x - r, y + r)]
    else:
        box = (x - r, y - r, x + r, y + r)
        points = [(x, y - r), (x + r, y + r * 0.85), (x - r, y + r * 0.85)]
    line = 3 * scale
    if style == "outline":
        if shape == "circle":
            pen.ellipse(box, outline=colour, width=line)
        else:
            pen.polygon(points, outline=colour, width=line)
        return
    if shape == "circle":
        pen.ellipse(box, fill=colour)
    else:
        pen.polygon(points, fill=colour)
    if style == "striped":
        _stripes(pen, box, shape, points, colour, scale)


def _stripes(
    pen: ImageDraw.ImageDraw,
    box: tuple[float, float, float, float],
    shape: str,
    points: list[tuple[float, float]],
    colour: tuple[int, int, int],
    scale: int,
) -> None:
    """Light diagonal-free bands across the shape: the same hue, paler every other band."""
    pale = tuple(int(c + (255 - c) * 0.55) for c in colour)
    mask = Image.new("L", pen.im.size, 0)  # type: ignore[attr-defined]
    outline = ImageDraw.Draw(mask)
    if shape == "circle":
        outline.ellipse(box, fill=255)
    else:
        outline.polygon(points, fill=255)
    bands = Image.new("L", mask.size, 0)
    band_pen = ImageDraw.Draw(bands)
    step = 4 * scale
    top = int(box[1])
    for row in range(top, int(box[3]) + step, 2 * step):
        band_pen.rectangle((0, row, mask.size[0], row + step - 1), fill=255)
    from PIL import ImageChops

    both = ImageChops.multiply(mask, bands)
    pen.bitmap((0, 0), both, fill=pale)


def _finish(image: Image.Image, style: str, rng: random.Random) -> Image.Image:
    if style == "soft":
        image = image.filter(ImageFilter.GaussianBlur(rng.uniform(1.6, 2.4)))
        paper = np.asarray(image).astype(np.float32)
        paper += np.random.default_rng(rng.getrandbits(32)).normal(0, 3, paper.shape[:2])[..., None]
        return Image.fromarray(paper.clip(0, 255).astype(np.uint8))
    if style == "grain":
        pixels = np.asarray(image).astype(np.float32)
        noise = np.random.default_rng(rng.getrandbits(32)).normal(0, 14, pixels.shape[:2])
        grainy = pixels * 0.92 + 12 + noise[..., None]
        return Image.fromarray(grainy.clip(0, 255).astype(np.uint8))
    return image


def _jitter(colour: tuple[int, int, int], rng: random.Random) -> tuple[int, int, int]:
    return tuple(max(0, min(255, c + rng.randint(-12, 12))) for c in colour)  # type: ignore[return-value]
