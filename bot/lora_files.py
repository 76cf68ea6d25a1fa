"""The LoRA folder (ATELIER_LORAS): `.safetensors` LoRAs by name, their sha256 and family.

Read without torch: a safetensors header is JSON, and the width of a LoRA's cross-attention
keys tells the model family it was trained for (768 SD-1.5, 1024 SD-2, 2048 SDXL).
"""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path

from bot.playbook.errors import InvalidInput
from bot.playbook.loras import LoraChoice

WIDTHS = {768: "sd15", 1024: "sd2", 2048: "sdxl", 32: "tiny", 64: "shapes"}


class LoraFolder:
    def __init__(self, folder: str | None) -> None:
        self.folder = Path(folder).expanduser() if folder else None

    def names(self) -> list[str]:
        if self.folder is None or not self.folder.is_dir():
            return []
        return sorted(path.stem for path in self.folder.glob("*.safetensors"))

    def path(self, name: str) -> Path:
        """The file for a name; a name is never a path."""
        if self.folder is None:
            raise InvalidInput(
                "This workspace has no LoRAs: the operator sets ATELIER_LORAS to a folder of "
                "`.safetensors` LoRAs."
            )
        path = self.folder / f"{name}.safetensors"
        if "/" in name or "\\" in name or name.startswith(".") or not path.is_file():
            known = ", ".join(f"`{n}`" for n in self.names()) or "none"
            raise InvalidInput(f"There is no LoRA `{name}`. LoRAs here: {known}.")
        return path

    def choose(self, name: str, weight: float) -> LoraChoice:
        path = self.path(name)
        return LoraChoice(name, weight, sha256_of(path), family_of(path))


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def family_of(path: Path) -> str | None:
    """The family from the first cross-attention key's input width; None if it cannot tell."""
    try:
        with path.open("rb") as handle:
            (length,) = struct.unpack("<Q", handle.read(8))
            header = json.loads(handle.read(min(length, 100_000_000)))
    except (OSError, ValueError, struct.error):
        return None
    for key, meta in header.items():
        if "attn2" in key and "to_k" in key and ("lora_A" in key or "lora_down" in key):
            width = meta.get("shape", [0, 0])[-1]
            return WIDTHS.get(width)
    return None
