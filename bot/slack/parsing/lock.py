"""Play 2, the lock-in pass: `lock 7 template a {subject} at dawn seed 5 ar 16:9 lora brand:0.8`.

A lock has the most words: keys in any order, each followed by its words up to the next key.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from bot.slack import options
from bot.slack.grammar import NUMBER, UsageError

_LOCK_KEYS = (
    "template",
    "negative",
    "seed",
    "steps",
    "guidance",
    "size",
    "ar",
    "style",
    "value",
    "lora",
    "slot",
)
_LOCK_ALIASES = {"cfg": "guidance", "aspect": "ar"}


def _key(token: str) -> str | None:
    """The lock key a word names (`--ar`, `cfg` and `ar` alike), or None for text."""
    word = token.lower()
    bare = _LOCK_ALIASES.get(word.removeprefix("--"), word.removeprefix("--"))
    return bare if bare in _LOCK_KEYS else None


def _split_pairs(tokens: list[str]) -> list[str]:
    """`steps=30` as `steps 30`, for the keys a lock knows (others are refused later)."""
    out: list[str] = []
    for token in tokens:
        name, equals, value = token.partition("=")
        if equals and _key(name) is not None:
            out += [name, value]
        else:
            out.append(token)
    return out


def _lock_pairs(tokens: list[str]) -> list[tuple[str, str]]:
    """`template a {subject} negative blurry seed 7` as (key, words) pairs, in order."""
    key, words = None, []  # type: ignore[var-annotated]
    pairs: list[tuple[str, str]] = []
    for token in _split_pairs(tokens):
        named = _key(token)
        if named is not None:
            if key:
                pairs.append((key, " ".join(words)))
            key, words = named, []
        elif key is not None:
            words.append(token)
        elif token:
            raise UsageError(f"`{token}` is not part of a lock.")
    if key:
        pairs.append((key, " ".join(words)))
    return pairs


def _size(text: str) -> int | tuple[int, int]:
    """`size 512` (a square) or `size 640x384`."""
    if text.isdigit():
        return int(text)
    match = re.fullmatch(r"(\d{1,5})\s*[x×]\s*(\d{1,5})", text)
    if match is None:
        raise ValueError(text)
    return int(match.group(1)), int(match.group(2))


_LOCK_TYPES: dict[str, Callable[[str], Any]] = {
    "seed": int,
    "steps": int,
    "size": _size,
    "guidance": float,
}


def _lora(text: str) -> tuple[str, float]:
    """`brand-style:0.8` (a name alone weighs 1)."""
    name, _, weight = text.partition(":")
    try:
        return name.strip(), float(weight) if weight else 1.0
    except ValueError as error:
        raise UsageError(
            f"A LoRA is `name:weight`, like `brand-style:0.8` (got `{text}`)."
        ) from error


def lock(rest: str) -> dict[str, Any]:
    tokens = rest.split(" ")
    args: dict[str, Any] = {}
    first = NUMBER.match(tokens[0]) if tokens and tokens[0] else None
    if first:
        args["number"] = int(first.group(1))
        tokens = tokens[1:]
    for key, value in _lock_pairs(tokens):
        value = value.strip()
        if not value and key != "negative":
            raise UsageError(f"`{key}` needs a value.")
        if key == "lora":
            args.setdefault("loras", []).append(_lora(value))
            continue
        options.take(value, (), "lock")  # `sampler euler`, `--chaos 5`, `x4`: refused
        try:
            args[key] = _LOCK_TYPES.get(key, str)(value.strip('"“”'))
        except ValueError as error:
            wanted = "a width×height like 640x384" if key == "size" else "a number"
            raise UsageError(f"`{key}` needs {wanted}, not `{value}`.") from error
    return args
