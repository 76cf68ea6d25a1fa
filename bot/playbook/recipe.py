"""Recipe cards: a prompt template with exactly one named slot, and the drift guard."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

from bot.playbook.errors import DriftRefused, InvalidInput

_SLOT = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def slot_of(template: str) -> str:
    """The template's one slot name; a template with none or several is refused."""
    names = _SLOT.findall(template)
    stray = _SLOT.sub("", template)
    if "{" in stray or "}" in stray:
        raise InvalidInput(
            "The prompt template has a stray brace. Use exactly one slot like `{subject}`."
        )
    if len(names) != 1:
        found = ", ".join(f"`{{{name}}}`" for name in names) or "none"
        raise InvalidInput(
            "A recipe's prompt template needs exactly one named slot, e.g. "
            f"`a {{subject}} at dawn, watercolor` (found {found})."
        )
    return str(names[0])


def render(template: str, value: str) -> str:
    return _SLOT.sub(lambda _match: value, template, count=1)


def slot_in(prompt: str, words: str, number: int) -> tuple[str, str]:
    """The template that makes `words` of a prompt its slot, and the slot's value as written.

    "a courier on a red bike at dawn, film photo" + "red bike" → "a courier on a {subject} at
    dawn, film photo": the slot is the part that varies, never the whole subject.
    """
    words = " ".join(words.split())
    match = (
        re.search(r"(?<!\w)" + re.escape(words) + r"(?!\w)", prompt, re.IGNORECASE)
        if words
        else None
    )
    if match is None:
        raise InvalidInput(
            f"“{words}” is not in #{number}'s prompt, “{prompt}”. Name words from it as the slot, "
            f"e.g. `lock {number} slot {prompt.split(',')[0].split()[-1]}`."
        )
    return prompt[: match.start()] + "{subject}" + prompt[match.end() :], match.group(0)


_SMALL_WORDS = frozenset(
    ["a", "an", "the", "on", "in", "at", "of", "with", "and", "to", "for", "by", "from", "or"]
)


def repeated_phrase(template: str, value: str) -> str | None:
    """Words of the slot value that the template's fixed words say again, if any.

    "a rustic {subject} on a wooden table" with "a loaf of sourdough on a wooden table" would
    render "… on a wooden table on a wooden table": two or more words in a row (not all small
    words), or the same word on both sides of the slot's edge.
    """
    fixed = [w.lower() for w in re.findall(r"[\w'-]+", _SLOT.sub(" | ", template)) if w]
    said = [w.lower() for w in re.findall(r"[\w'-]+", value)]
    fixed_text = " " + " ".join(fixed) + " "
    for size in range(len(said), 1, -1):
        for start in range(len(said) - size + 1):
            phrase = said[start : start + size]
            if set(phrase) - _SMALL_WORDS and f" {' '.join(phrase)} " in fixed_text:
                return " ".join(phrase)
    rendered = [w.lower() for w in re.findall(r"[\w'-]+", render(template, value))]
    doubled = next(
        (
            a
            for a, b in zip(rendered, rendered[1:], strict=False)
            if a == b and a not in _SMALL_WORDS
        ),
        None,
    )
    return doubled


def check_template(template: str, value: str) -> None:
    """Refuse a template whose fixed words repeat its slot value, showing both."""
    phrase = repeated_phrase(template, value)
    if phrase is not None:
        raise InvalidInput(
            f"The template `{template}` already says “{phrase}”, and so does the slot value "
            f"“{value}”: every prompt would read “{render(template, value)}”. Name only the part "
            "that varies as the slot (`lock N slot <words>`), or drop those words from the template."
        )


@dataclass(frozen=True)
class RecipeCard:
    """Everything a teammate needs to reproduce the look."""

    model_id: str
    model_hash: str | None
    scheduler: str
    steps: int
    guidance: float
    width: int
    height: int
    seed: int
    prompt_template: str
    slot_name: str
    slot_value: str
    negative_prompt: str
    loras: tuple[tuple[str, float, str], ...] = ()  # (name, weight, sha256) each

    def prompt(self, value: str | None = None) -> str:
        return render(self.prompt_template, self.slot_value if value is None else value)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


CARD_FIELDS = tuple(field.name for field in fields(RecipeCard))
# What a volume run may vary: only the slot's value.
VARIABLE_FIELDS = ("slot_value",)


def check_drift(card: RecipeCard, overrides: dict[str, Any]) -> None:
    """Refuse any setting that differs from the locked card; the slot is the only variable."""
    drift = []
    for name, value in overrides.items():
        if name not in CARD_FIELDS:
            raise InvalidInput(
                f"`{name}` is not a recipe setting. Settings: {', '.join(CARD_FIELDS)}."
            )
        if name in VARIABLE_FIELDS:
            continue
        current = getattr(card, name)
        if _normalise(value, current) != current:
            drift.append(f"{name} {current!r} → {value!r}")
    if drift:
        raise DriftRefused(
            "That would drift from the locked recipe (" + "; ".join(drift) + "). A volume run "
            f"changes only `{{{card.slot_name}}}`. To change the look, lock a new recipe."
        )


def _normalise(value: Any, like: Any) -> Any:
    try:
        return type(like)(value) if like is not None else value
    except (TypeError, ValueError):
        return value


def lora_tuples(loras: Sequence[Any] | None) -> tuple[tuple[str, float, str], ...]:
    """A card's or image's LoRAs as (name, weight, sha256): what a render needs to apply them."""
    return tuple(
        (lora["name"], float(lora["weight"]), lora["sha256"])
        if isinstance(lora, dict)
        else (str(lora[0]), float(lora[1]), str(lora[2]))  # as a card's JSON carries them
        for lora in loras or []
    )
