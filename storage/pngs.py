"""The prompt log's PNG format: an A1111 `parameters` chunk plus a JSON recipe chunk."""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np
from PIL import Image, PngImagePlugin

RECIPE_CHUNK = "atelier"


def a1111_parameters(params: dict[str, Any]) -> str:
    """The `parameters` text that A1111-compatible readers show."""
    lines = [str(params.get("prompt", ""))]
    if params.get("negative_prompt"):
        lines.append(f"Negative prompt: {params['negative_prompt']}")
    fields = [
        ("Steps", params.get("steps")),
        ("Sampler", params.get("scheduler")),
        ("CFG scale", params.get("guidance")),
        ("Seed", params.get("seed")),
        ("Size", f"{params.get('width')}x{params.get('height')}"),
        ("Model hash", (params.get("model_hash") or "")[:10]),
        ("Model", params.get("model_id")),
        ("Denoising strength", params.get("strength")),
    ]
    lines.append(", ".join(f"{name}: {value}" for name, value in fields if value not in (None, "")))
    return "\n".join(lines)


def to_png(image: Image.Image, params: dict[str, Any]) -> bytes:
    """PNG bytes carrying the recipe twice: A1111 `parameters` text and a JSON chunk."""
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", a1111_parameters(params))
    info.add_text(RECIPE_CHUNK, json.dumps(params, sort_keys=True))
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


def read_png(data: bytes) -> tuple[Image.Image, dict[str, Any]]:
    image = Image.open(io.BytesIO(data))
    image.load()
    text = getattr(image, "text", {})
    return image, json.loads(text[RECIPE_CHUNK]) if RECIPE_CHUNK in text else {}


def mask_coverage(mask: Image.Image) -> float:
    """Share of the image the mask repairs (0–1)."""
    pixels = np.asarray(mask.convert("L")) > 127
    return float(pixels.mean())
