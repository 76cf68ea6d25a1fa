"""Drawing both sides share: contact sheets, comparisons, repair masks, pixel differences.

Pillow and numpy only, no torch: the Slack adapter and the runner both stand on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps

GRID = 3


def pixel_diff(first: Image.Image, second: Image.Image) -> tuple[float, float]:
    """Mean and max absolute difference on 0–255 channels; a size mismatch is maximal."""
    if first.size != second.size:
        return 255.0, 255.0
    a = np.asarray(first.convert("RGB"), dtype=np.int16)
    b = np.asarray(second.convert("RGB"), dtype=np.int16)
    delta = np.abs(a - b)
    return float(delta.mean()), float(delta.max())


@dataclass(frozen=True)
class Tile:
    image: Image.Image
    number: int
    label: str = ""


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for name in ("DejaVuSans-Bold.ttf", "DejaVuSans.ttf", "LiberationSans-Bold.ttf"):
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)


MAX_ROW = 8


def _rows(tiles: Sequence[Tile], columns: int, by_label: bool) -> list[list[Tile]]:
    """Tiles in rows: `columns` a row, or one row per label (a moodboard's style) when asked."""
    if not by_label:
        return [list(tiles[i : i + columns]) for i in range(0, len(tiles), columns)]
    groups: dict[str, list[Tile]] = {}
    for tile in tiles:
        groups.setdefault(tile.label, []).append(tile)
    return [
        group[i : i + MAX_ROW] for group in groups.values() for i in range(0, len(group), MAX_ROW)
    ]


def contact_sheet(
    tiles: Sequence[Tile],
    *,
    tile_size: int = 192,
    columns: int | None = None,
    by_label: bool = False,
) -> Image.Image:
    """Numbered tiles with labels, in a grid: the moodboard or batch at a glance.

    Tiles keep their aspect: `tile_size` is the width of a box shaped like the first image
    (16:9 tiles are wide and low); an image of another shape is fitted inside the box.
    `by_label` lays out one row per label, so a moodboard reads one style a row.
    """
    if not tiles:
        raise ValueError("a contact sheet needs at least one tile")
    grid = _rows(tiles, columns or min(5, len(tiles)), by_label)
    columns = max(len(row) for row in grid)
    rows = len(grid)
    first = tiles[0].image
    cell = (tile_size, max(1, round(tile_size * first.height / first.width)))
    label_height = max(18, tile_size // 8)
    gap = 6
    sheet = Image.new(
        "RGB",
        (columns * (cell[0] + gap) + gap, rows * (cell[1] + label_height + gap) + gap),
        (246, 246, 244),
    )
    draw = ImageDraw.Draw(sheet)
    number_font = _font(max(12, tile_size // 9))
    label_font = _font(max(10, tile_size // 14))
    placed = [(r, c, tile) for r, row in enumerate(grid) for c, tile in enumerate(row)]
    for row_index, column, tile in placed:
        x = gap + column * (cell[0] + gap)
        y = gap + row_index * (cell[1] + label_height + gap)
        fitted = ImageOps.contain(tile.image.convert("RGB"), cell, Image.Resampling.LANCZOS)
        sheet.paste(fitted, (x + (cell[0] - fitted.width) // 2, y + (cell[1] - fitted.height) // 2))
        badge = f"{tile.number}"
        box = draw.textbbox((0, 0), badge, font=number_font)
        width, height = box[2] - box[0] + 10, box[3] - box[1] + 8
        draw.rectangle((x, y, x + width, y + height), fill=(20, 20, 20))
        draw.text((x + 5, y + 4 - box[1]), badge, fill=(255, 255, 255), font=number_font)
        if tile.label:
            label = tile.label if len(tile.label) <= 28 else tile.label[:27] + "…"
            draw.text((x + 2, y + cell[1] + 2), label, fill=(40, 40, 40), font=label_font)
    return sheet


def grid_mask(cells: Sequence[int], width: int, height: int) -> Image.Image:
    """A white-on-black inpainting mask from 3×3 grid cells (0-based, row-major)."""
    mask = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(mask)
    for cell in cells:
        draw.rectangle(cell_box(cell, width, height), fill=255)
    return mask


def cell_box(cell: int, width: int, height: int) -> tuple[int, int, int, int]:
    """The pixel box of a 3×3 grid cell (0-based, row-major), inclusive."""
    if not 0 <= cell < GRID * GRID:
        raise ValueError(f"grid cell {cell} is outside the 3×3 grid")
    column, row = cell % GRID, cell // GRID
    return (
        column * width // GRID,
        row * height // GRID,
        (column + 1) * width // GRID - 1,
        (row + 1) * height // GRID - 1,
    )


def veiled(picture: Image.Image) -> Image.Image:
    """Blurred past recognition: what a held image shows until the Reviewer releases it."""
    small = picture.convert("RGB").resize((12, 12), Image.Resampling.BILINEAR)
    return small.resize(picture.size, Image.Resampling.BILINEAR).filter(
        ImageFilter.GaussianBlur(max(2, min(picture.size) // 16))
    )


def outline_cells(picture: Image.Image, cells: Sequence[int]) -> Image.Image:
    """The picture with grid cells outlined and named: where a send-back's pins point."""
    shown = picture.convert("RGB")
    draw = ImageDraw.Draw(shown)
    line = max(2, min(shown.size) // 96)
    for cell in cells:
        box = cell_box(cell, shown.width, shown.height)
        draw.rectangle(box, outline=(255, 32, 96), width=line)
        name = "abc"[cell % GRID] + str(cell // GRID + 1)
        draw.rectangle(
            (box[0], box[1], box[0] + 8 * len(name) + 6, box[1] + 14), fill=(255, 32, 96)
        )
        draw.text((box[0] + 3, box[1] + 1), name, fill=(255, 255, 255))
    return shown


# A pixel counts as changed when a channel moved by more than this (of 255): below it is the
# noise of decoding and resampling, not an edit anyone would see.
CHANGED_ABOVE = 8


@dataclass(frozen=True)
class Comparison:
    """Two versions side by side with a heat-map of where they differ, and the share changed."""

    image: Image.Image
    changed_share: float
    mean_diff: float


def compare(
    before: Image.Image, after: Image.Image, labels: tuple[str, str], *, height: int = 320
) -> Comparison:
    """`before | after | heat-map`, each `height` px tall at its own aspect; numbers on the full size."""
    after_rgb = after.convert("RGB")
    before_rgb = before.convert("RGB").resize(after_rgb.size, Image.Resampling.LANCZOS)
    delta = np.abs(
        np.asarray(before_rgb, dtype=np.int16) - np.asarray(after_rgb, dtype=np.int16)
    ).max(axis=2)
    changed = float((delta > CHANGED_ABOVE).mean())
    heat = _heat_map(after_rgb, delta)
    width = max(1, round(after_rgb.width * height / after_rgb.height))
    label_height, gap = 22, 6
    panel = Image.new(
        "RGB", (3 * width + 4 * gap, height + label_height + 2 * gap), (246, 246, 244)
    )
    draw = ImageDraw.Draw(panel)
    font = _font(14)
    names = (*labels, f"difference: {changed:.0%} changed")
    for index, (picture, name) in enumerate(zip((before_rgb, after_rgb, heat), names, strict=True)):
        x = gap + index * (width + gap)
        panel.paste(picture.resize((width, height), Image.Resampling.LANCZOS), (x, gap))
        draw.text((x + 2, gap + height + 3), name, fill=(40, 40, 40), font=font)
    return Comparison(panel, changed, float(delta.mean()))


def _heat_map(after: Image.Image, delta: np.ndarray) -> Image.Image:
    """The newer version dimmed to grey, with changed pixels glowing red to yellow by how much."""
    grey = np.asarray(after.convert("L"), dtype=np.float32)[..., None] * 0.35
    base = np.repeat(grey, 3, axis=2)
    strength = np.clip(delta.astype(np.float32) / 96.0, 0.0, 1.0)[..., None]
    glow = np.concatenate(
        [np.full_like(strength, 255.0), 255.0 * strength, np.zeros_like(strength)], axis=2
    )
    mixed = np.where(strength > CHANGED_ABOVE / 96.0, glow * strength + base * (1 - strength), base)
    return Image.fromarray(mixed.astype(np.uint8), "RGB")
