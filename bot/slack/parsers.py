"""One parser per verb: the words after the verb, checked and turned into the use case's arguments.

A parser raises UsageError with what is wrong; grammar.parse adds the verb's usage line.
"""

from __future__ import annotations

import re
import shlex
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.playbook.gate import SHORT, GateItem, item_named
from bot.playbook.sequence import ORDER, Play
from bot.slack import options
from bot.slack.grammar import Parser, UsageError, number, numbers_of, user

_SEPARATOR = re.compile(r"\s+(?:—|–|--|-)\s+")


def help_topic(rest: str) -> dict[str, Any]:
    return {"topic": rest.strip().lower() or None}


def optional_project(verb: str) -> Parser:
    """`status` or `status p3`."""

    def parse_project(rest: str) -> dict[str, Any]:
        if not rest:
            return {"project": None}
        if not re.fullmatch(r"[pP]\d{1,6}", rest):
            raise UsageError(f"`{verb}` takes nothing after it but a project, like `{verb} p3`.")
        return {"project": int(rest[1:])}

    return parse_project


def nothing(verb: str) -> Parser:
    def parse_none(rest: str) -> dict[str, Any]:
        if rest:
            raise UsageError(f"`{verb}` takes nothing after it.")
        return {}

    return parse_none


_FROM_RECIPE = re.compile(r"\s+from\s+recipe\s+[pP](\d{1,6})(?:\s*\[?\s*[vV](\d{1,4})\]?)?\s*$")


def new(rest: str) -> dict[str, Any]:
    """`new <intent>`, or `new <intent> from recipe P3v2` (`P3[v2]`; no version: its latest)."""
    match = _FROM_RECIPE.search(rest)
    if match is None:
        return text_as("intent")(rest)
    intent = rest[: match.start()].strip()
    if not intent:
        raise UsageError("Say the new project's intent before `from recipe`.")
    version = int(match.group(2)) if match.group(2) else None
    return {"intent": intent, "recipe": (int(match.group(1)), version)}


def text_as(name: str) -> Parser:
    def parse_text(rest: str) -> dict[str, Any]:
        if not rest:
            raise UsageError("")
        return {name: rest}

    return parse_text


def roles(rest: str) -> dict[str, Any]:
    tokens = rest.split()
    if not tokens or len(tokens) % 2:
        raise UsageError("")
    roles = {}
    for role, who in zip(tokens[::2], tokens[1::2], strict=True):
        if role.lower() not in ("director", "operator", "reviewer"):
            raise UsageError(f"`{role}` is not a role (director, operator, reviewer).")
        roles[role.lower()] = user(who)
    return roles


def sprint(rest: str) -> dict[str, Any]:
    """`sprint a | b | c — subject [--ar 16:9 | size 640x384] [x20]`."""
    parts = _SEPARATOR.split(rest, maxsplit=1)
    if len(parts) != 2:
        raise UsageError("Separate the styles from the subject with ` — `.")
    styles_text, subject = parts
    subject, count = _count_at_end(subject, 15)
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


def _count_at_end(text: str, default: int) -> tuple[str, int]:
    """`… x4`: how many, only as the last word."""
    words = text.split()
    if words and (match := options.COUNT.fullmatch(words[-1])):
        return " ".join(words[:-1]), int(match.group(1))
    return text, default


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
    text, per_value = _count_at_end(rest, 1)
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


def numbers(*, required: bool) -> Parser:
    def parse_numbers(rest: str) -> dict[str, Any]:
        numbers = numbers_of(rest.replace(",", " ").split())
        if required and not numbers:
            raise UsageError("")
        return {"numbers": numbers}

    return parse_numbers


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
    if args["mode"] == "inpaint" and not args["cells"] and not args["mask"]:
        raise UsageError(
            "Say which region to repair (grid cells a1–c3), `refine`, or `mask` with a file. "
        )
    return args


def handoff(rest: str) -> dict[str, Any]:
    tokens = rest.split()
    if len(tokens) != 2:
        raise UsageError("")
    return {"number": number(tokens[0]), "editor": user(tokens[1])}


def one_number() -> Parser:
    def parse_one(rest: str) -> dict[str, Any]:
        tokens = rest.split()
        if len(tokens) != 1:
            raise UsageError("")
        return {"number": number(tokens[0])}

    return parse_one


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


def skip(rest: str) -> dict[str, Any]:
    play_name, _, reason = rest.partition(" ")
    names = {play.value: play for play in ORDER}
    names.update(
        {
            "sprint": Play.SPRINT,
            "concept": Play.SPRINT,
            "lock-in": Play.LOCK,
            "fix-and-finish": Play.FIX,
            "review": Play.GATE,
        }
    )
    play = names.get(play_name.lower())
    if play is None:
        raise UsageError(f"`{play_name}` is not a play ({', '.join(p.value for p in ORDER)}).")
    if not reason.strip():
        raise UsageError("Say why you skip it; the reason is recorded.")
    return {"play": play, "reason": reason.strip()}


def reopen(rest: str) -> dict[str, Any]:
    play_name, _, reason = rest.partition(" ")
    if play_name.lower() not in ("sprint", "concept"):
        raise UsageError("Only the concept sprint can be re-opened.")
    if not reason.strip():
        raise UsageError("Say why you re-open it; the reason is recorded.")
    return {"reason": reason.strip()}


def budget(rest: str) -> dict[str, Any]:
    tokens = rest.split()
    if len(tokens) != 2:
        raise UsageError("")
    return {
        "number": number(tokens[0]),
        "budget": number(tokens[1], "a number of generations"),
    }


def metrics(rest: str) -> dict[str, Any]:
    tokens = rest.split()
    scope, days = "project", 28
    index = 0
    while index < len(tokens):
        token = tokens[index].lower()
        if token in ("project", "channel", "team"):
            scope = token
        elif token in ("--days", "days") and index + 1 < len(tokens):
            days = number(tokens[index + 1], "a number of days")
            index += 1
        else:
            raise UsageError("")
        index += 1
    if not 1 <= days <= 365:
        raise UsageError("--days must be between 1 and 365.")
    return {"scope": scope, "days": days}


def cancel(rest: str) -> dict[str, Any]:
    tokens = rest.split()
    if len(tokens) > 1:
        raise UsageError("")
    return {"job": number(tokens[0], "a job id") if tokens else None}


def _zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise UsageError(
            f"`{name}` is not a time zone; use a name like Europe/Berlin or America/New_York."
        ) from error
    return name


_SETTING_KEYS = {
    "budget": ("iteration_budget", int),
    "cooloff": ("review_cooloff_minutes", int),
    "model": ("model", str),
    "gate-wait": ("gate_wait_hours", int),
    "queue-limit": ("queue_limit_per_user", int),
}


def settings(rest: str) -> dict[str, Any]:
    try:
        tokens = shlex.split(rest)
    except ValueError as error:
        raise UsageError("") from error
    changes: dict[str, Any] = {}
    index = 0
    while index < len(tokens):
        key = tokens[index].lower()
        if key == "digest" and index + 1 < len(tokens):
            when = tokens[index + 1]
            if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", when):
                raise UsageError(f"`{when}` is not a time like 09:00.")
            changes["digest_time"] = when
            index += 2
            if index < len(tokens) and ("/" in tokens[index] or tokens[index] == "UTC"):
                changes["digest_tz"] = _zone(tokens[index])
                index += 1
            continue
        if key in ("director", "operator", "reviewer") and index + 1 < len(tokens):
            changes[key] = user(tokens[index + 1])
            index += 2
            continue
        if key not in _SETTING_KEYS or index + 1 >= len(tokens):
            raise UsageError(f"`{key}` is not a setting.")
        name, kind = _SETTING_KEYS[key]
        try:
            changes[name] = kind(tokens[index + 1])
        except ValueError as error:
            raise UsageError(f"`{key}` needs a number.") from error
        index += 2
    return {"changes": changes}
