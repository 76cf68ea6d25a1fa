"""Aspect ratios and explicit sizes, per model family: marketing work is rarely square.

A ratio keeps about the family's native pixel area, rounded to the multiple its UNet needs
(64 for SD-1.5 and SDXL: 16:9 is 768×448 and 1344×768). An explicit `640x384` is allowed inside
the family's limits; anything else is refused with the range.
"""

from __future__ import annotations

import math
import re

from bot.playbook.errors import InvalidInput
from bot.playbook.presets import ModelPreset

RATIOS = ("1:1", "3:2", "2:3", "4:3", "3:4", "4:5", "16:9", "9:16", "21:9")
_SIZE = re.compile(r"(\d{1,5})\s*[x×]\s*(\d{1,5})")


def size_for(preset: ModelPreset, ratio: str) -> tuple[int, int]:
    """Width and height for a ratio like `16:9` on this family."""
    if ratio not in RATIOS:
        raise InvalidInput(
            f"`{ratio}` is not a ratio Atelier offers. Pick one of: {', '.join(RATIOS)}."
        )
    if ratio == "1:1":
        return preset.size, preset.size
    across, down = (int(part) for part in ratio.split(":"))
    area = preset.ratio_side**2
    return (
        _round(math.sqrt(area * across / down), preset.multiple),
        _round(math.sqrt(area * down / across), preset.multiple),
    )


def parse_size(text: str) -> tuple[int, int]:
    """`640x384` (or `640×384`); a single number is a square."""
    match = _SIZE.fullmatch(text.strip())
    if match:
        return int(match.group(1)), int(match.group(2))
    if text.strip().isdigit():
        return int(text), int(text)
    raise InvalidInput(f"A size is width×height, like `640x384` (got `{text}`).")


def sized(preset: ModelPreset, ratio: str | None, size: str | None) -> tuple[int, int]:
    """A ratio, an explicit size (checked against the family), or the family's square."""
    if ratio is not None and size is not None:
        raise InvalidInput("Give a ratio (`--ar 16:9`) or a size (`size 640x384`), not both.")
    if size is not None:
        width, height = parse_size(size)
        check_size(preset, width, height)
        return width, height
    return size_for(preset, ratio or "1:1")


def check_size(preset: ModelPreset, width: int, height: int) -> None:
    low, high, step = preset.min_side, preset.max_size, preset.multiple
    if all(low <= side <= high and side % step == 0 for side in (width, height)):
        return
    raise InvalidInput(
        f"size must be between {low} and {high} px a side, each a multiple of {step}, for "
        f"`{preset.name}` (got {width}×{height}). Or pick a ratio: `ar 16:9` "
        f"({', '.join(RATIOS)})."
    )


def _round(value: float, multiple: int) -> int:
    return max(multiple, int(value / multiple + 0.5) * multiple)
