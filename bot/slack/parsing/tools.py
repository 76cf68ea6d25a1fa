"""The everyday image tools: `reroll`, `vary`, `compare` (two image numbers)."""

from __future__ import annotations

from typing import Any

from bot.slack.grammar import UsageError, number


def _times(tokens: list[str], words: int) -> int:
    """The optional `xK` after a verb's `words` fixed words (1 when it is not given)."""
    if not words <= len(tokens) <= words + 1:
        raise UsageError("")
    if len(tokens) == words:
        return 1
    if not tokens[words].lower().startswith("x"):
        raise UsageError("")
    return number(tokens[words][1:])


def reroll(rest: str) -> dict[str, Any]:
    """`reroll 18` or `reroll 18 x3`."""
    tokens = rest.split()
    count = _times(tokens, 1)
    return {"number": number(tokens[0]), "count": count}


def vary(rest: str) -> dict[str, Any]:
    """`vary 12 subtle`, `vary 12 strong x4`."""
    tokens = rest.split()
    count = _times(tokens, 2)
    return {"number": number(tokens[0]), "how": tokens[1].lower(), "count": count}


def two_numbers(rest: str) -> dict[str, Any]:
    """`compare 12 15`."""
    tokens = rest.split()
    if len(tokens) != 2:
        raise UsageError("")
    return {"before": number(tokens[0]), "after": number(tokens[1])}
