"""The text people type, `/atelier …` or a thread reply, turned into one Command or a usage."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.playbook.gate import SHORT, GateItem, item_named
from bot.playbook.plays import ORDER, Play

USAGE: dict[str, str] = {
    "new": "`new <the intent in one sentence>` — start a project in a new thread",
    "roles": "`roles director @who operator @who reviewer @who` — set who wears which hat",
    "intent": "`intent <one sentence>` — restate the intent (Director)",
    "sprint": "`sprint watercolor | flat vector | film photo — a courier at dawn [x20]` — 3–5 styles, 15–30 variations",
    "rank": "`rank 7 2 11` — order 3–5 moodboard candidates, best first (Director)",
    "approve": "`approve` — approve the ranked direction, or the hero (Director)",
    "lock": "`lock 7 [template a {subject} at dawn] [negative blurry, text] [seed N] [steps N]` — recipe card + hero",
    "volume": "`volume red bike; blue bike x4` — slot values only; the rest comes from the locked recipe",
    "keep": "`keep 17 18` — keep images from a batch",
    "cull": "`cull 19 20` — cull images from a batch",
    "upscale": "`upscale [17 18]` — upscale keepers separately",
    "fix": "`fix 12 a1 b1 remove the stray text` (inpaint grid cells), `fix 12 refine [strength 0.3] sharper edges`, or `fix 12 mask` with a mask file",
    "handoff": "`handoff 12 @editor` — hand an image to a human editor; their upload becomes the next version",
    "review": "`review 12` — send an image to the review gate",
    "sendback": "`sendback 12 license <note>` — send an image back for a checklist item (Reviewer)",
    "skip": "`skip lock <reason>` — skip a play deliberately (Director)",
    "budget": "`budget 12 10` — raise an image's iteration budget (Director)",
    "status": "`status` — the project's plays, pauses and queue",
    "recipe": "`recipe` — the locked recipe card",
    "metrics": "`metrics [project|channel] [--days N]` — keep rate, iterations per final, rework, brief→hero",
    "queue": "`queue` — jobs waiting and running in this channel",
    "cancel": "`cancel [job id]` — cancel this project's queued jobs",
    "settings": "`settings [budget N] [cooloff MIN] [model NAME] [queue-limit N] [gate-wait HOURS] [digest 09:00 Europe/Berlin] [director @who …]` — channel defaults",
    "help": "`help` — this list",
}
ALIASES = {"?": "help", "send-back": "sendback", "hand-off": "handoff", "new-project": "new"}


class UsageError(Exception):
    """The text does not parse; the message shows how to write it."""


@dataclass(frozen=True)
class Command:
    verb: str
    args: dict[str, Any] = field(default_factory=dict)
    project: int | None = None


_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_NUMBER = re.compile(r"^#?(\d{1,6})$")
_SEPARATOR = re.compile(r"\s+(?:—|–|--|-)\s+")


def usage(verb: str | None = None) -> str:
    if verb in USAGE:
        return "Usage: " + USAGE[verb]
    return "Atelier commands:\n" + "\n".join(f"• {line}" for line in USAGE.values())


def _number(token: str, verb: str, what: str = "an image number") -> int:
    match = _NUMBER.match(token.strip())
    if not match:
        raise UsageError(f"`{token}` is not {what}. " + usage(verb))
    return int(match.group(1))


def _numbers(tokens: list[str], verb: str) -> list[int]:
    return [_number(token, verb) for token in tokens]


def _user(token: str, verb: str) -> str:
    match = _USER.fullmatch(token.strip())
    if not match:
        raise UsageError(f"`{token}` is not a person; mention them like @name. " + usage(verb))
    return match.group(1)


def parse(text: str) -> Command:
    """Parse one command; raises UsageError with a message that says how to write it."""
    text = " ".join((text or "").replace("\u00a0", " ").split(" ")).strip()
    if not text:
        return Command("help")
    project = None
    head, _, rest = text.partition(" ")
    if re.fullmatch(r"[pP]\d{1,6}", head):
        project = int(head[1:])
        head, _, rest = rest.strip().partition(" ")
    verb = ALIASES.get(head.lower(), head.lower())
    rest = rest.strip()
    if verb == "send" and rest.lower().startswith("back"):
        verb, rest = "sendback", rest[4:].strip()
    parser = _PARSERS.get(verb)
    if parser is None:
        raise UsageError(f"I don't know `{head[:40]}`. " + usage())
    return Command(verb, parser(rest), project)


def _none(verb: str) -> Any:
    def parse_none(rest: str) -> dict[str, Any]:
        if rest:
            raise UsageError(f"`{verb}` takes nothing after it. " + usage(verb))
        return {}

    return parse_none


def _text(verb: str, name: str) -> Any:
    def parse_text(rest: str) -> dict[str, Any]:
        if not rest:
            raise UsageError(usage(verb))
        return {name: rest}

    return parse_text


def _roles(rest: str) -> dict[str, Any]:
    tokens = rest.split()
    if not tokens or len(tokens) % 2:
        raise UsageError(usage("roles"))
    roles = {}
    for role, who in zip(tokens[::2], tokens[1::2], strict=True):
        if role.lower() not in ("director", "operator", "reviewer"):
            raise UsageError(
                f"`{role}` is not a role (director, operator, reviewer). " + usage("roles")
            )
        roles[role.lower()] = _user(who, "roles")
    return roles


def _sprint(rest: str) -> dict[str, Any]:
    parts = _SEPARATOR.split(rest, maxsplit=1)
    if len(parts) != 2:
        raise UsageError("Separate the styles from the subject with ` — `. " + usage("sprint"))
    styles_text, subject = parts
    count = 15
    match = re.search(r"\s+x(\d{1,3})$", subject)
    if match:
        count, subject = int(match.group(1)), subject[: match.start()]
    styles = [style.strip() for style in styles_text.split("|") if style.strip()]
    if not subject.strip():
        raise UsageError("Name the subject after the styles. " + usage("sprint"))
    return {"styles": styles, "subject": subject.strip(), "count": count}


def _rank(rest: str) -> dict[str, Any]:
    return {"numbers": _numbers(rest.replace(",", " ").split(), "rank")}


def _approve(rest: str) -> dict[str, Any]:
    what = rest.lower()
    if what not in ("", "direction", "hero"):
        raise UsageError(usage("approve"))
    return {"what": what or None}


_LOCK_KEYS = ("template", "negative", "seed", "steps", "guidance", "size")


def _lock(rest: str) -> dict[str, Any]:
    tokens = rest.split(" ")
    args: dict[str, Any] = {}
    if tokens and tokens[0] and _NUMBER.match(tokens[0]):
        args["number"] = int(_NUMBER.match(tokens[0]).group(1))  # type: ignore[union-attr]
        tokens = tokens[1:]
    key, words = None, []  # type: ignore[var-annotated]
    pairs: list[tuple[str, str]] = []
    for token in tokens:
        if token.lower() in _LOCK_KEYS:
            if key:
                pairs.append((key, " ".join(words)))
            key, words = token.lower(), []
        elif key is None:
            if token:
                raise UsageError(f"`{token}` is not part of a lock. " + usage("lock"))
        else:
            words.append(token)
    if key:
        pairs.append((key, " ".join(words)))
    for key, value in pairs:
        value = value.strip()
        if not value and key != "negative":
            raise UsageError(f"`{key}` needs a value. " + usage("lock"))
        try:
            if key in ("seed", "steps", "size"):
                args[key] = int(value)
            elif key == "guidance":
                args[key] = float(value)
            else:
                args[key] = value
        except ValueError as error:
            raise UsageError(f"`{key}` needs a number, not `{value}`. " + usage("lock")) from error
    return args


def _volume(rest: str) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    tokens = rest.split(" ")
    while tokens and re.fullmatch(r"[a-z_]+=\S+", tokens[-1]):
        name, value = tokens.pop().split("=", 1)
        overrides[name] = value
    text = " ".join(tokens).strip()
    per_value = 1
    match = re.search(r"\s*\bx(\d{1,3})$", text)
    if match:
        per_value, text = int(match.group(1)), text[: match.start()]
    values = [value.strip() for value in text.split(";") if value.strip()]
    if not values:
        raise UsageError("Give at least one slot value. " + usage("volume"))
    return {"values": values, "per_value": per_value, "overrides": overrides}


def _some_numbers(verb: str, required: bool) -> Any:
    def parse_numbers(rest: str) -> dict[str, Any]:
        numbers = _numbers(rest.replace(",", " ").split(), verb)
        if required and not numbers:
            raise UsageError(usage(verb))
        return {"numbers": numbers}

    return parse_numbers


def _fix(rest: str) -> dict[str, Any]:
    tokens = rest.split()
    if not tokens:
        raise UsageError(usage("fix"))
    args: dict[str, Any] = {
        "number": _number(tokens[0], "fix"),
        "mode": "inpaint",
        "cells": [],
        "strength": None,
        "mask": False,
    }
    words: list[str] = []
    index = 1
    while index < len(tokens):
        token = tokens[index].lower().rstrip(",")
        if token in ("refine", "img2img"):
            args["mode"] = "refine"
        elif token == "inpaint":
            args["mode"] = "inpaint"
        elif token == "mask":
            args["mask"] = True
        elif token == "strength" and index + 1 < len(tokens):
            try:
                args["strength"] = float(tokens[index + 1])
            except ValueError as error:
                raise UsageError(
                    f"strength needs a number like 0.3, not `{tokens[index + 1]}`. " + usage("fix")
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
            + usage("fix")
        )
    return args


def _handoff(rest: str) -> dict[str, Any]:
    tokens = rest.split()
    if len(tokens) != 2:
        raise UsageError(usage("handoff"))
    return {"number": _number(tokens[0], "handoff"), "editor": _user(tokens[1], "handoff")}


def _one_number(verb: str) -> Any:
    def parse_one(rest: str) -> dict[str, Any]:
        tokens = rest.split()
        if len(tokens) != 1:
            raise UsageError(usage(verb))
        return {"number": _number(tokens[0], verb)}

    return parse_one


def _sendback(rest: str) -> dict[str, Any]:
    tokens = rest.split()
    if len(tokens) < 2:
        raise UsageError(usage("sendback"))
    number = _number(tokens[0], "sendback")
    for size in (3, 2, 1):
        item = item_named(" ".join(tokens[1 : 1 + size]).rstrip(":,"))
        if item is not None and len(tokens) > size:
            return {"number": number, "item": item, "note": " ".join(tokens[1 + size :])}
        if item is not None and len(tokens) == 1 + size:
            return {"number": number, "item": item, "note": ""}
    names = ", ".join(SHORT[item] for item in GateItem)
    raise UsageError(f"Name the checklist item it fails: {names}. " + usage("sendback"))


def _skip(rest: str) -> dict[str, Any]:
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
        raise UsageError(
            f"`{play_name}` is not a play ({', '.join(p.value for p in ORDER)}). " + usage("skip")
        )
    if not reason.strip():
        raise UsageError("Say why you skip it; the reason is recorded. " + usage("skip"))
    return {"play": play, "reason": reason.strip()}


def _budget(rest: str) -> dict[str, Any]:
    tokens = rest.split()
    if len(tokens) != 2:
        raise UsageError(usage("budget"))
    return {
        "number": _number(tokens[0], "budget"),
        "budget": _number(tokens[1], "budget", "a number of generations"),
    }


def _metrics(rest: str) -> dict[str, Any]:
    tokens = rest.split()
    scope, days = "project", 28
    index = 0
    while index < len(tokens):
        token = tokens[index].lower()
        if token in ("project", "channel", "team"):
            scope = token
        elif token in ("--days", "days") and index + 1 < len(tokens):
            days = _number(tokens[index + 1], "metrics", "a number of days")
            index += 1
        else:
            raise UsageError(usage("metrics"))
        index += 1
    if not 1 <= days <= 365:
        raise UsageError("--days must be between 1 and 365. " + usage("metrics"))
    return {"scope": scope, "days": days}


def _cancel(rest: str) -> dict[str, Any]:
    tokens = rest.split()
    if len(tokens) > 1:
        raise UsageError(usage("cancel"))
    return {"job": _number(tokens[0], "cancel", "a job id") if tokens else None}


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


def _settings(rest: str) -> dict[str, Any]:
    try:
        tokens = shlex.split(rest)
    except ValueError as error:
        raise UsageError(usage("settings")) from error
    changes: dict[str, Any] = {}
    index = 0
    while index < len(tokens):
        key = tokens[index].lower()
        if key == "digest" and index + 1 < len(tokens):
            when = tokens[index + 1]
            if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", when):
                raise UsageError(f"`{when}` is not a time like 09:00. " + usage("settings"))
            changes["digest_time"] = when
            index += 2
            if index < len(tokens) and ("/" in tokens[index] or tokens[index] == "UTC"):
                changes["digest_tz"] = _zone(tokens[index])
                index += 1
            continue
        if key in ("director", "operator", "reviewer") and index + 1 < len(tokens):
            changes[key] = _user(tokens[index + 1], "settings")
            index += 2
            continue
        if key not in _SETTING_KEYS or index + 1 >= len(tokens):
            raise UsageError(f"`{key}` is not a setting. " + usage("settings"))
        name, kind = _SETTING_KEYS[key]
        try:
            changes[name] = kind(tokens[index + 1])
        except ValueError as error:
            raise UsageError(f"`{key}` needs a number. " + usage("settings")) from error
        index += 2
    return {"changes": changes}


_PARSERS: dict[str, Any] = {
    "new": _text("new", "intent"),
    "roles": _roles,
    "intent": _text("intent", "intent"),
    "sprint": _sprint,
    "rank": _rank,
    "approve": _approve,
    "lock": _lock,
    "volume": _volume,
    "keep": _some_numbers("keep", True),
    "cull": _some_numbers("cull", True),
    "upscale": _some_numbers("upscale", False),
    "fix": _fix,
    "handoff": _handoff,
    "review": _one_number("review"),
    "sendback": _sendback,
    "skip": _skip,
    "budget": _budget,
    "status": _none("status"),
    "recipe": _none("recipe"),
    "metrics": _metrics,
    "queue": _none("queue"),
    "cancel": _cancel,
    "settings": _settings,
    "help": lambda rest: {"topic": rest.strip().lower() or None},
}
