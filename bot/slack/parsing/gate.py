"""Play 5, the review gate: `sendback`."""

from __future__ import annotations

import re
from typing import Any

from bot.playbook.gate import item_named
from bot.slack.grammar import UsageError, number

CELL = re.compile(r"[abc][123]")


def sendback(rest: str) -> dict[str, Any]:
    """`sendback 12 <item> [b2 c2 …] <note>`: the item, the cells it pins, the note.

    The item is a playbook name (several words: `alt text`) or the channel's own key; which
    keys a channel has is the use case's to know, so an unknown one is refused there, with
    the channel's names.
    """
    tokens = rest.split()
    if len(tokens) < 2:
        raise UsageError("")
    image = number(tokens[0])
    size = next(
        (
            n
            for n in (3, 2, 1)
            if len(tokens) > n and item_named(" ".join(tokens[1 : 1 + n]).rstrip(":,"))
        ),
        1,
    )
    item = " ".join(tokens[1 : 1 + size]).rstrip(":,").lower()
    found = item_named(item)
    rest_tokens = tokens[1 + size :]
    cells: list[int] = []
    while rest_tokens and CELL.fullmatch(rest_tokens[0].lower().rstrip(",")):
        cell = rest_tokens.pop(0).lower().rstrip(",")
        cells.append((int(cell[1]) - 1) * 3 + "abc".index(cell[0]))
    return {
        "number": image,
        "item": found.value if found else item,
        "cells": sorted(set(cells)),
        "note": " ".join(rest_tokens),
    }
