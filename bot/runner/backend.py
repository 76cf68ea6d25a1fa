"""What the worker needs from an image model; diffusers is one implementation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from PIL import Image


class OutOfMemory(RuntimeError):
    """The accelerator ran out of memory for this batch."""


@dataclass(frozen=True)
class GenTask:
    """One image's settings; its pixels depend on these alone, never on batch-mates."""

    prompt: str
    negative_prompt: str
    seed: int
    steps: int
    guidance: float
    width: int
    height: int
    scheduler: str
    loras: tuple[tuple[str, float, str], ...] = ()  # (name, weight, sha256) each

    def same_batch(self) -> tuple[Any, ...]:
        return (self.steps, self.guidance, self.width, self.height, self.scheduler, self.loras)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Backend(Protocol):
    model_id: str
    model_hash: str

    def text_to_image(self, tasks: Sequence[GenTask]) -> list[Image.Image]: ...

    def image_to_image(self, task: GenTask, init: Image.Image, strength: float) -> Image.Image: ...

    def inpaint(
        self, task: GenTask, init: Image.Image, mask: Image.Image, strength: float
    ) -> Image.Image: ...

    def upscale(self, task: GenTask, init: Image.Image, scale: int) -> Image.Image: ...

    def truncated(self, prompt: str) -> str | None: ...
