"""Single-file checkpoints (`.safetensors`, as A1111 and ComfyUI keep models), loaded offline.

The family is read from the checkpoint's keys (or named: `brand-xl@sdxl=…`). Loading needs the
family's diffusers configs and tokenizer files, which Atelier must have on disk: nothing is
downloaded. `.ckpt` files unpickle (they can run code), so they load only behind an opt-in.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path

from bot.lora_files import sha256_of

# A key (and, for SD-1.x, the width of its cross-attention) that tells each family apart.
SDXL_KEY = "conditioner.embedders.1.model.transformer.resblocks.9.mlp.c_proj.bias"
SD2_KEY = "cond_stage_model.model.transformer.resblocks.0.attn.in_proj_weight"
SD1_KEY = "cond_stage_model.transformer.text_model.embeddings.position_embedding.weight"
CROSS_ATTENTION = "model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight"
SD1_WIDTHS = {768: "sd15", 32: "tiny", 64: "shapes"}


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be used; `reason` says why without its path (it reaches Slack)."""

    def __init__(self, reason: str, path: Path) -> None:
        super().__init__(f"{reason} ({path})")
        self.reason = reason


def check_suffix(path: Path) -> None:
    if path.suffix == ".ckpt" and os.environ.get("ATELIER_ALLOW_CKPT") != "1":
        raise CheckpointError(
            "it is a .ckpt file, which runs code when loaded; convert it to .safetensors, or set "
            "ATELIER_ALLOW_CKPT=1 on the runner if you trust where it came from",
            path,
        )
    if path.suffix not in (".safetensors", ".ckpt"):
        raise CheckpointError(
            "a single-file model must be a .safetensors file (or a diffusers folder)", path
        )


def family_of(path: Path) -> str:
    """`sd15`, `sd2`, `sdxl` or `tiny`, from the checkpoint's own keys."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="pt") as checkpoint:
            keys = set(checkpoint.keys())
            if SDXL_KEY in keys:
                return "sdxl"
            if SD2_KEY in keys:
                return "sd2"
            if SD1_KEY in keys and CROSS_ATTENTION in keys:
                width = checkpoint.get_slice(CROSS_ATTENTION).get_shape()[1]
                if width in SD1_WIDTHS:
                    return SD1_WIDTHS[width]
    except (SafetensorError, OSError) as error:
        raise CheckpointError(
            "the checkpoint cannot be read (truncated, or not a .safetensors file); download it again",
            path,
        ) from error
    raise CheckpointError(
        "the checkpoint is of no family Atelier knows from its keys; name it in ATELIER_MODELS, "
        "e.g. `brand@sdxl=/models/brand.safetensors` (families: sd15, sd2, sd2-base, sdxl, turbo, "
        "sdxl-turbo)",
        path,
    )


def file_hash(path: Path, cache: Path) -> str:
    """The file's sha256 (what A1111 shows as its model hash), cached by path, size and mtime."""
    stat, where = path.stat(), str(path.resolve())
    signature = [where, stat.st_size, stat.st_mtime_ns]
    stored = cache / "hashes" / f"{hashlib.sha1(where.encode()).hexdigest()}.json"
    if stored.exists():
        known = json.loads(stored.read_text())
        if known.get("signature") == signature:
            return str(known["sha256"])
    value = sha256_of(path)
    with contextlib.suppress(OSError):
        stored.parent.mkdir(parents=True, exist_ok=True)
        stored.write_text(json.dumps({"signature": signature, "sha256": value}))
    return value
