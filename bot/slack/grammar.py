"""The text people type, `/atelier …` or a thread reply, turned into one Command or a usage.

The parsers, one per verb, are in bot.slack.parsing (a module per play); which verbs exist,
and their usage lines, is handlers.verbs.VERBS.
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

    @property
    def hint(self) -> str: ...


class UsageError(Exception):
    """The text does not parse; the message shows how to write it."""


@dataclass(frozen=True)
class Command:
    verb: str
    args: dict[str, Any] = field(default_factory=dict)
    project: int | None = None


_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
NUMBER = re.compile(r"^#?(\d{1,6})$")


def usage(
    table: Mapping[str, Syntax],
    verb: str | None = None,
    groups: Mapping[str, tuple[str, ...]] | None = None,
) -> str:
    """One verb's usage line, or every verb's (by group, when given) when none is asked for."""
    if verb is not None and verb in table:
        return "Usage: " + table[verb].usage
    if groups is None:
        return "Atelier commands:\n" + "\n".join(f"• {entry.usage}" for entry in table.values())
    lines = ["Atelier commands, by play:"]
    for title, verbs in groups.items():
        lines.append(f"*{title}*")
        lines += [f"• {table[name].usage}" for name in verbs]
    return "\n".join(lines)


def markdown(table: Mapping[str, Syntax], groups: Mapping[str, tuple[str, ...]]) -> str:
    """Every verb's usage line by group, as the README lists them (`atelier help --markdown`)."""
    lines = []
    for title, verbs in groups.items():
        lines += [f"**{title}**", "", *(f"- {table[name].usage}" for name in verbs), ""]
    return "\n".join(lines).rstrip() + "\n"


def usage_hint(table: Mapping[str, Syntax]) -> str:
    """The slash command's usage hint: the short forms of the verbs that declare one."""
    return " | ".join(entry.hint for entry in table.values() if entry.hint)


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


def distance(a: str, b: str) -> int:
    """Edits between two words (insert, delete, substitute, swap two neighbours)."""
    rows = [list(range(len(b) + 1))] + [[i] + [0] * len(b) for i in range(1, len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            rows[i][j] = min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                rows[i][j] = min(rows[i][j], rows[i - 2][j - 2] + 1)
    return rows[len(a)][len(b)]


def closest(word: str, table: Mapping[str, Syntax]) -> str | None:
    """The verb a typo most likely meant: within 2 edits (1 for verbs of 4 letters or fewer)."""
    word = word.lower()
    scored = sorted((distance(word, verb), verb) for verb in table)
    for edits, verb in scored:
        if 0 < edits <= (1 if len(verb) <= 4 else 2):
            return verb
    return None


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
        meant = closest(verb, table)
        if meant is not None:
            raise UsageError(f"Did you mean `{meant}`? " + usage(table, meant))
        raise UsageError(f"I don't know `{head[:40]}`. " + usage(table))
    try:
        return Command(verb, table[verb].parser(rest), project)
    except UsageError as error:
        said = str(error).strip()
        raise UsageError(f"{said} {usage(table, verb)}".strip()) from error


def is_project_prefix(word: str) -> bool:
    """`p3 status`: the project named by number."""
    return bool(re.fullmatch(r"[pP]\d{1,6}", word))
