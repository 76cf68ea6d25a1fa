"""Play 1, the concept sprint: `sprint`, `rank`, `approve`."""

from __future__ import annotations

import re
from typing import Any

from bot.slack import options
from bot.slack.grammar import UsageError, numbers_of
from bot.slack.parsing.common import count_at_end

_SEPARATOR = re.compile(r"\s+(?:—|–|--|-)\s+")


def sprint(rest: str) -> dict[str, Any]:
    """`sprint a | b | c — subject [--ar 16:9 | size 640x384] [x20]`."""
    parts = _SEPARATOR.split(rest, maxsplit=1)
    if len(parts) != 2:
        raise UsageError("Separate the styles from the subject with ` — `.")
    styles_text, subject = parts
    subject, count = count_at_end(subject, 15)
    subject, found = options.take(subject, ("ar", "size"), "sprint", count_last=True)
    styles = []
    for style in styles_text.split("|"):
        text, more = options.take(style, ("ar", "size"), "sprint", count_last=True)
        found.update(more)
        if text:
            styles.append(text)
    if not subject.strip():
        raise UsageError("Name the subject after the styles.")
    return {"styles": styles, "subject": subject.strip(), "count": count, **_shape(found)}


def _shape(found: dict[str, str]) -> dict[str, Any]:
    """`ar` and `size` as typed (both at once is refused by the use case, as for `lock`)."""
    return {"ar": found.get("ar"), "size": found.get("size")}


def rank(rest: str) -> dict[str, Any]:
    return {"numbers": numbers_of(rest.replace(",", " ").split())}


def approve(rest: str) -> dict[str, Any]:
    what = rest.lower()
    if what not in ("", "direction", "hero"):
        raise UsageError("")
    return {"what": what or None}
