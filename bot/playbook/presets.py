"""Model presets as data: what draft and quality settings mean for each model family."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelPreset:
    name: str
    family: str
    scheduler: str
    draft_steps: int
    quality_steps: int
    size: int
    guidance: float
    max_size: int
    max_steps: int = 150


PRESETS: dict[str, ModelPreset] = {
    "tiny": ModelPreset("tiny", "sd15", "EulerDiscreteScheduler", 2, 4, 64, 5.0, 512, 50),
    "sd15": ModelPreset("sd15", "sd15", "DPMSolverMultistepScheduler", 12, 30, 512, 7.0, 1024),
    "sdxl": ModelPreset("sdxl", "sdxl", "DPMSolverMultistepScheduler", 15, 30, 1024, 6.0, 2048),
    "sd-turbo": ModelPreset(
        "sd-turbo", "turbo", "EulerAncestralDiscreteScheduler", 1, 4, 512, 0.0, 1024, 10
    ),
}


def preset_for(model: str) -> ModelPreset:
    """A preset by name; a local folder path gets SD-1.5 defaults unless its name says otherwise."""
    if model in PRESETS:
        return PRESETS[model]
    lowered = model.lower()
    if "xl" in lowered:
        return PRESETS["sdxl"]
    if "turbo" in lowered:
        return PRESETS["sd-turbo"]
    return PRESETS["sd15"]
