"""The text people type, `/atelier …` or a thread reply, turned into one Command or a usage.

One parser per verb is in bot.slack.parsers; which verbs exist, and their usage lines, is handlers.verbs.VERBS.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

ALIASES = {"?": "help", "send-back": "sendback", "hand-off": "handoff", "new-project": "new"}


Parser = Callable[[str], dict[str, Any]]


class Syntax(Protocol):
    """How a verb is written: its usage line and the parser of what follows it."""

    @property
    def usage(self) -> str: ...

    @property
    def parser(self) -> Parser: ...


class UsageError(Exception):
    """The text does not parse; the message shows how to write it."""


@dataclass(frozen=True)
class Command:
    verb: str
    args: dict[str, Any] = field(default_factory=dict)
    project: int | None = None


_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
NUMBER = re.compile(r"^#?(\d{1,6})$")


def usage(table: Mapping[str, Syntax], verb: str | None = None) -> str:
    """One verb's usage line, or every verb's when none (or an unknown one) is asked for."""
    if verb is not None and verb in table:
        return "Usage: " + table[verb].usage
    return "Atelier commands:\n" + "\n".join(f"• {entry.usage}" for entry in table.values())


def number(token: str, what: str = "an image number") -> int:
    match = NUMBER.match(token.strip())
    if not match:
        raise UsageError(f"`{token}` is not {what}.")
    return int(match.group(1))


def numbers_of(tokens: list[str]) -> list[int]:
    return [number(token) for token in tokens]


def user(token: str) -> str:
    match = _USER.fullmatch(token.strip())
    if not match:
        raise UsageError(f"`{token}` is not a person; mention them like @name.")
    return match.group(1)


def parse(text: str, table: Mapping[str, Syntax]) -> Command:
    """Parse one command; raises UsageError with a message that says how to write it."""
    text = " ".join((text or "").replace("\u00a0", " ").split(" ")).strip()
    if not text:
        return Command("help")
    project = None
    head, _, rest = text.partition(" ")
    if is_project_prefix(head):
        project = int(head[1:])
        head, _, rest = rest.strip().partition(" ")
    verb = ALIASES.get(head.lower(), head.lower())
    rest = rest.strip()
    if verb == "send" and rest.lower().startswith("back"):
        verb, rest = "sendback", rest[4:].strip()
    if verb not in table:
        raise UsageError(f"I don't know `{head[:40]}`. " + usage(table))
    try:
        return Command(verb, table[verb].parser(rest), project)
    except UsageError as error:
        said = str(error).strip()
        raise UsageError(f"{said} {usage(table, verb)}".strip()) from error


def is_project_prefix(word: str) -> bool:
    """`p3 status`: the project named by number."""
    return bool(re.fullmatch(r"[pP]\d{1,6}", word))
