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
    # Aspect ratios keep about ratio_side² pixels, each side a multiple of `multiple` (what the
    # UNet's downsampling needs) and at least min_side.
    ratio_side: int = 512
    multiple: int = 64
    min_side: int = 64


PRESETS: dict[str, ModelPreset] = {
    "tiny": ModelPreset(
        "tiny", "sd15", "EulerDiscreteScheduler", 2, 4, 64, 5.0, 512, 50, 64, 16, 32
    ),
    # Trained by Atelier itself (bot/runner/shapes): 64×64, a 16-px multiple (an f=4 VAE and two
    # UNet downsamplings), few steps.
    "shapes": ModelPreset(
        "shapes", "shapes", "EulerDiscreteScheduler", 12, 20, 64, 5.0, 256, 50, 64, 16, 32
    ),
    "sd15": ModelPreset(
        "sd15", "sd15", "DPMSolverMultistepScheduler", 12, 30, 512, 7.0, 1024, 150, 576
    ),
    "sdxl": ModelPreset(
        "sdxl", "sdxl", "DPMSolverMultistepScheduler", 15, 30, 1024, 6.0, 2048, 150, 1024, 64, 512
    ),
    "sd2": ModelPreset(
        "sd2", "sd2", "DPMSolverMultistepScheduler", 12, 30, 768, 7.0, 1536, 150, 768
    ),
    "sd2-base": ModelPreset(
        "sd2-base", "sd2", "DPMSolverMultistepScheduler", 12, 30, 512, 7.0, 1024, 150, 576
    ),
    "sd-turbo": ModelPreset(
        "sd-turbo", "turbo", "EulerAncestralDiscreteScheduler", 1, 4, 512, 0.0, 1024, 10, 512
    ),
    "sdxl-turbo": ModelPreset(
        "sdxl-turbo", "sdxl-turbo", "EulerAncestralDiscreteScheduler", 1, 4, 512, 0.0, 1024, 10, 512
    ),
}


# The families ATELIER_MODELS may name with `@` (`brand-xl@sdxl=…`), and their presets.
FAMILIES = {
    "tiny": "tiny",
    "shapes": "shapes",
    "sd15": "sd15",
    "sd2": "sd2",
    "sd2-base": "sd2-base",
    "sdxl": "sdxl",
    "turbo": "sd-turbo",
    "sdxl-turbo": "sdxl-turbo",
}


def preset_for(model: str, family: str | None = None) -> ModelPreset:
    """A preset by family when one is named, else by the model's name; SD-1.5 unless it says otherwise."""
    if family in FAMILIES:
        return PRESETS[FAMILIES[family]]
    if model in PRESETS:
        return PRESETS[model]
    lowered = model.lower()
    if "xl" in lowered:
        return PRESETS["sdxl"]
    if "turbo" in lowered:
        return PRESETS["sd-turbo"]
    return PRESETS["sd15"]
