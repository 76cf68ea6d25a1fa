"""A model folder's own safety checker, run by Atelier rather than inside diffusers.

Diffusers' pipelines black out an image their checker flags and post nothing about it; a team
would see a black square. Atelier takes the checker out of the pipeline and runs it on each
finished picture instead: a flagged picture keeps its pixels, is marked (in `Image.info`), and
the worker holds it back for the project's Reviewer, who alone releases or culls it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

if TYPE_CHECKING:  # torch loads only where pictures are made (serve imports the worker)
    import torch

FLAG = "atelier_held"  # the mark a flagged picture carries in PIL's Image.info, to the worker
REASON = "the model's safety checker flagged it (possible NSFW content)"


class SafetyCheck:
    """The checker and its feature extractor, as the model folder ships them."""

    def __init__(self, checker: Any, extractor: Any, device: torch.device, dtype: Any) -> None:
        self.checker, self.extractor = checker, extractor
        self.device, self.dtype = device, dtype

    @classmethod
    def take(cls, pipe: Any, device: torch.device, dtype: Any) -> SafetyCheck | None:
        """The pipeline's checker, taken out of it (so it blacks out nothing); None if it has none."""
        checker = getattr(pipe, "safety_checker", None)
        extractor = getattr(pipe, "feature_extractor", None)
        if checker is None or extractor is None:
            return None
        pipe.safety_checker = None
        return cls(checker.to(device), extractor, device, dtype)

    def screen(self, pictures: Sequence[Image.Image]) -> list[Image.Image]:
        """The pictures, each one the checker flags marked with the reason."""
        import torch

        clip = self.extractor(list(pictures), return_tensors="pt").pixel_values
        arrays = np.stack([np.asarray(p.convert("RGB"), dtype=np.float32) / 255 for p in pictures])
        with torch.inference_mode():
            _, flagged = self.checker(images=arrays, clip_input=clip.to(self.device, self.dtype))
        for picture, flag in zip(pictures, flagged, strict=True):
            if flag:
                picture.info[FLAG] = REASON
        return list(pictures)


def held_reason(picture: Image.Image) -> str | None:
    return picture.info.get(FLAG)
