"""A project and its channel: `new`, `roles`, `skip`, `reopen`, `budget`, `metrics`, `cancel`, `settings`."""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.playbook.sequence import ORDER, Play
from bot.slack.grammar import UsageError, number, user
from bot.slack.parsing.common import text_as

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


def _blocklist(rest: str) -> tuple[str, str] | None:
    """`blocklist` lists; `blocklist add|remove <word or phrase>` changes (quotes optional)."""
    verb, _, phrase = rest.strip().partition(" ")
    phrase = phrase.strip().strip("\"'“”")
    if not verb:
        return None
    if verb.lower() not in ("add", "remove") or not phrase:
        raise UsageError(
            "`settings blocklist add <word or phrase>`, `… remove <…>`, or `settings blocklist` to list."
        )
    return verb.lower(), phrase


def _checklist(rest: str) -> tuple[str, ...] | None:
    """`checklist` lists; `checklist add <name> "<line>"` / `checklist remove <name>` change."""
    try:
        tokens = shlex.split(rest.replace("“", '"').replace("”", '"'))
    except ValueError as error:
        raise UsageError("") from error
    if not tokens:
        return None
    verb = tokens[0].lower()
    if verb == "add" and len(tokens) >= 3:
        return ("add", tokens[1], " ".join(tokens[2:]))
    if verb == "remove" and len(tokens) == 2:
        return ("remove", tokens[1])
    raise UsageError(
        '`settings checklist add brand "On brand: palette, type, logo use"`, '
        "`settings checklist remove brand`, or `settings checklist` to list."
    )


def _minutes_or_off(value: str) -> int | None:
    return None if value.lower() == "off" else int(value)


_SETTING_KEYS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "budget": ("iteration_budget", int),
    "cooloff": ("review_cooloff_minutes", int),
    "model": ("model", str),
    "gate-wait": ("gate_wait_hours", int),
    "queue-limit": ("queue_limit_per_user", int),
    "gpu-minutes": ("gpu_minutes_weekly", _minutes_or_off),
}


# The channel's lists, each changed with `settings <list> add|remove …` and listed bare.
_LISTS: dict[str, Callable[[str], Any]] = {"blocklist": _blocklist, "checklist": _checklist}


def settings(rest: str) -> dict[str, Any]:
    head, _, phrase = rest.strip().partition(" ")
    listed = _LISTS.get(head.lower())
    if listed is not None:
        return {"changes": {}, head.lower(): listed(phrase)}
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
