"""Play 5, the review gate: `sendback`."""

from __future__ import annotations

from typing import Any

from bot.playbook.gate import SHORT, GateItem, item_named
from bot.slack.grammar import UsageError, number


def sendback(rest: str) -> dict[str, Any]:
    tokens = rest.split()
    if len(tokens) < 2:
        raise UsageError("")
    image = number(tokens[0])
    for size in (3, 2, 1):
        item = item_named(" ".join(tokens[1 : 1 + size]).rstrip(":,"))
        if item is not None and len(tokens) > size:
            return {"number": image, "item": item, "note": " ".join(tokens[1 + size :])}
        if item is not None and len(tokens) == 1 + size:
            return {"number": image, "item": item, "note": ""}
    names = ", ".join(SHORT[item] for item in GateItem)
    raise UsageError(f"Name the checklist item it fails: {names}.")
