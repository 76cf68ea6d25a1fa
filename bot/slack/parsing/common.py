"""Parsers many verbs share: no arguments, a project, free text, image numbers, `xK` last."""

from __future__ import annotations

import re
from typing import Any

from bot.slack import options
from bot.slack.grammar import Parser, UsageError, number, numbers_of


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


def text_as(name: str) -> Parser:
    def parse_text(rest: str) -> dict[str, Any]:
        if not rest:
            raise UsageError("")
        return {name: rest}

    return parse_text


def count_at_end(text: str, default: int) -> tuple[str, int]:
    """`… x4`: how many, only as the last word."""
    words = text.split()
    if words and (match := options.COUNT.fullmatch(words[-1])):
        return " ".join(words[:-1]), int(match.group(1))
    return text, default


def numbers(*, required: bool) -> Parser:
    def parse_numbers(rest: str) -> dict[str, Any]:
        numbers = numbers_of(rest.replace(",", " ").split())
        if required and not numbers:
            raise UsageError("")
        return {"numbers": numbers}

    return parse_numbers


def one_number() -> Parser:
    def parse_one(rest: str) -> dict[str, Any]:
        tokens = rest.split()
        if len(tokens) != 1:
            raise UsageError("")
        return {"number": number(tokens[0])}

    return parse_one


def number_and_text(name: str) -> Parser:
    """`12 <the person's words>`: an image, then free text about it (both required)."""

    def parse_number_and_text(rest: str) -> dict[str, Any]:
        first, _, text = rest.strip().partition(" ")
        if not first or not text.strip():
            raise UsageError("")
        return {"number": number(first), name: text.strip()}

    return parse_number_and_text
