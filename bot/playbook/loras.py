"""LoRAs on a recipe card: the rules (how many, what weight, which family). Files are read by
the adapter (bot.lora_files); the card keeps each LoRA's name, weight and sha256."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.playbook.errors import InvalidInput
from bot.playbook.presets import ModelPreset

MAX_LORAS = 4
WEIGHTS = (-2.0, 2.0)
# The family a model's LoRAs must be trained for, by the model's preset.
LORA_FAMILY = {
    "tiny": "tiny",
    "shapes": "shapes",
    "sd15": "sd15",
    "sd2": "sd2",
    "sd2-base": "sd2",
    "sd-turbo": "sd2",
    "sdxl": "sdxl",
    "sdxl-turbo": "sdxl",
}


@dataclass(frozen=True)
class LoraChoice:
    """A LoRA as `lock N lora name:0.8` picks it, with what its file says about itself."""

    name: str
    weight: float
    sha256: str
    family: str | None

    def on_card(self) -> dict[str, Any]:
        return {"name": self.name, "weight": self.weight, "sha256": self.sha256}


def check_loras(choices: list[LoraChoice], preset: ModelPreset) -> list[dict[str, Any]]:
    """The card's `loras`, or a refusal that says what to change."""
    if len(choices) > MAX_LORAS:
        raise InvalidInput(f"A recipe takes at most {MAX_LORAS} LoRAs (you gave {len(choices)}).")
    if len({choice.name for choice in choices}) != len(choices):
        raise InvalidInput("Name each LoRA once.")
    wanted = LORA_FAMILY.get(preset.name, preset.family)
    for choice in choices:
        if not WEIGHTS[0] <= choice.weight <= WEIGHTS[1]:
            raise InvalidInput(
                f"A LoRA's weight is between {WEIGHTS[0]:g} and {WEIGHTS[1]:g} "
                f"(`{choice.name}:{choice.weight:g}`); 0.6–1.0 is usual."
            )
        if choice.family != wanted:
            raise InvalidInput(
                f"`{choice.name}` is a LoRA for {choice.family or 'an unknown family'} models, but "
                f"this project renders with `{preset.name}` ({wanted}); pick a LoRA trained for it."
            )
    return [choice.on_card() for choice in choices]
