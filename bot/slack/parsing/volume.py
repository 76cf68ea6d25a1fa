"""Play 3, the volume run: `volume` (keep, cull and upscale take image numbers: common)."""

from __future__ import annotations

from typing import Any

from bot.slack import options
from bot.slack.grammar import UsageError
from bot.slack.parsing.common import count_at_end

# A volume value may name a recipe setting only to repeat the card: any change is drift.
_CARD_OPTIONS = {
    "ar": "ar",
    "size": "size",
    "steps": "steps",
    "seed": "seed",
    "guidance": "guidance",
    "sampler": "scheduler",
}


def volume(rest: str) -> dict[str, Any]:
    """`volume red bike; blue bike x4`: slot values, `;`-separated; how many only at the end."""
    text, per_value = count_at_end(rest, 1)
    values: list[str] = []
    overrides: dict[str, Any] = {}
    for part in text.split(";"):
        value, found = options.take(part, _CARD_OPTIONS, "volume", count_last=True)
        overrides.update({_CARD_OPTIONS[name]: setting for name, setting in found.items()})
        if value.strip():
            values.append(value.strip())
    if not values:
        raise UsageError("Give at least one slot value.")
    return {"values": values, "per_value": per_value, "overrides": overrides}
