"""One grammar for recipe options, in every verb that takes them.

`--ar 16:9`, `ar 16:9` and `ar=16:9` are the same option; so are `cfg 7` and `guidance 7`,
`sampler euler` and `scheduler euler`. A verb names the options it takes; any other option-like
words in its text (`steps 30`, `--chaos 5`, `foo=bar`, an `x4` that is not the last word) are
refused with the reason, never rendered as prompt text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.slack.grammar import UsageError

# Every spelling of an option, and its one name.
ALIASES = {
    "ar": "ar",
    "aspect": "ar",
    "size": "size",
    "steps": "steps",
    "seed": "seed",
    "cfg": "guidance",
    "guidance": "guidance",
    "sampler": "sampler",
    "scheduler": "sampler",
    "strength": "strength",
}
# What a value looks like, per option: a word is an option only when its value follows it,
# so "a cat on the steps" stays text.
_VALUES = {
    "ar": re.compile(r"\d{1,2}:\d{1,2}"),
    "size": re.compile(r"\d{1,5}(?:\s*[x×]\s*\d{1,5})?"),
    "steps": re.compile(r"\d{1,4}"),
    "seed": re.compile(r"\d{1,12}"),
    "guidance": re.compile(r"\d{1,3}(?:\.\d+)?"),
    "strength": re.compile(r"0?\.\d+|[01](?:\.0+)?"),
    "sampler": re.compile(r"[A-Za-z][\w+.-]*"),
}
COUNT = re.compile(r"[xX×](\d{1,3})")
_PAIR = re.compile(r"(-{0,2})([A-Za-z][\w-]*)=(\S*)")


def shown(name: str, value: str) -> str:
    return f"`{name} {value}`"


def take(
    text: str, allowed: Iterable[str], verb: str, *, count_last: bool = False
) -> tuple[str, dict[str, str]]:
    """The text without its options, and the options by name (values as typed).

    An option the verb does not take is refused, naming what it does take; `xN` anywhere but
    the end of a `count_last` verb's text is refused too.
    """
    allowed = set(allowed)
    words, found = text.split(), {}
    kept: list[str] = []
    index = 0
    while index < len(words):
        word = words[index]
        name, value, used = _option_at(words, index)
        if name is None and COUNT.fullmatch(word):
            where = "at the very end" if count_last else "nowhere"
            raise UsageError(f"`{word}` (how many) goes {where} in `{verb}`.")
        if name is None:
            kept.append(word)
            index += 1
            continue
        if name not in allowed:
            raise UsageError(_refusal(name, value, word, allowed, verb))
        if not _VALUES[name].fullmatch(value):
            raise UsageError(f"`{name}` needs a value like {_EXAMPLES[name]}, not `{value}`.")
        found[name] = value
        index += used
    return " ".join(kept), found


_EXAMPLES = {
    "ar": "`16:9`",
    "size": "`640x384`",
    "steps": "`30`",
    "seed": "`1234`",
    "guidance": "`7`",
    "strength": "`0.3`",
    "sampler": "`euler`",
}


def _option_at(words: list[str], index: int) -> tuple[str | None, str, int]:
    """(name, value, words used) when an option starts at words[index], else (None, '', 0)."""
    word = words[index]
    pair = _PAIR.fullmatch(word)
    if pair:
        return ALIASES.get(pair.group(2).lower(), "?" + pair.group(2)), pair.group(3), 1
    following = words[index + 1] if index + 1 < len(words) else ""
    if word.startswith("--") and len(word) > 2:
        name = ALIASES.get(word[2:].lower(), "?" + word[2:])
        takes_value = following and not following.startswith("--")
        return name, following if takes_value else "", 2 if takes_value else 1
    spelled = ALIASES.get(word.lower())
    if spelled is not None and following and _VALUES[spelled].fullmatch(following):
        return spelled, following, 2
    return None, "", 0


def _refusal(name: str, value: str, word: str, allowed: set[str], verb: str) -> str:
    takes = ", ".join(f"`{n}`" for n in sorted(allowed)) or "no options"
    if name.startswith("?"):
        return f"`{word}` is not an option Atelier knows; `{verb}` takes {takes}."
    return f"{shown(name, value)} can't be set in `{verb}` (it takes {takes}); " + _WHERE.get(
        name, "a recipe setting is set when you lock."
    )


_WHERE = {
    "steps": "steps are the recipe's: set them with `lock N steps 30`.",
    "seed": "the seed is the recipe's: set it with `lock N seed 1234`.",
    "guidance": "guidance is the recipe's: set it with `lock N cfg 7`.",
    "sampler": "the sampler is the preset's, written on the recipe card.",
    "strength": "strength belongs to `fix` and `vary`.",
    "ar": "the shape is the recipe's: set it with `lock N ar 16:9`.",
    "size": "the size is the recipe's: set it with `lock N size 640x384`.",
}
