"""Play 4, fix-and-finish: `fix` and `handoff`."""

from __future__ import annotations

import re
from typing import Any

from bot.slack.grammar import UsageError, number, user

_FIX_FLAGS: dict[str, tuple[str, Any]] = {
    "refine": ("mode", "refine"),
    "img2img": ("mode", "refine"),
    "inpaint": ("mode", "inpaint"),
    "mask": ("mask", True),
    "force": ("force", True),
}


def fix(rest: str) -> dict[str, Any]:
    tokens = rest.split()
    if not tokens:
        raise UsageError("")
    args: dict[str, Any] = {
        "number": number(tokens[0]),
        "mode": "inpaint",
        "cells": [],
        "strength": None,
        "mask": False,
        "force": False,
    }
    words: list[str] = []
    index = 1
    while index < len(tokens):
        token = tokens[index].lower().rstrip(",")
        flag = _FIX_FLAGS.get(token)
        if flag and (token != "force" or not words):  # "the force field" is an instruction
            args[flag[0]] = flag[1]
        elif token == "strength" and index + 1 < len(tokens):
            try:
                args["strength"] = float(tokens[index + 1])
            except ValueError as error:
                raise UsageError(
                    f"strength needs a number like 0.3, not `{tokens[index + 1]}`."
                ) from error
            index += 1
        elif re.fullmatch(r"[abc][123]", token) and not words:
            args["cells"].append((int(token[1]) - 1) * 3 + "abc".index(token[0]))
        else:
            words.append(tokens[index])
        index += 1
    args["instruction"] = " ".join(words)
    return args  # no cells, no mask: the open pins of a send-back (the use case looks)


def handoff(rest: str) -> dict[str, Any]:
    tokens = rest.split()
    if len(tokens) != 2:
        raise UsageError("")
    return {"number": number(tokens[0]), "editor": user(tokens[1])}
