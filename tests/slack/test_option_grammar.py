"""One grammar for options (#20): option-like words are used with their meaning or refused.

For every verb in the registry, its usage line's own example with option-like words appended
either parses to a command where those words became settings, or is refused with a message;
only the free-text parts a verb declares (an intent, an instruction, a note, a reason) may keep
them as words.
"""

from __future__ import annotations

import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.slack.grammar import UsageError
from handlers.verbs import VERBS, parse

OPTION_WORDS = [
    "steps 30",
    "seed 5",
    "cfg 7",
    "guidance 7.5",
    "sampler euler",
    "scheduler ddim",
    "--ar 16:9",
    "ar 4:5",
    "size 640x384",
    "size=512x512",
    "steps=30",
    "--chaos 5",
    "--seed 3",
    "foo=bar",
    "strength 0.5",
    "x4",
]


def example(verb: str) -> str:
    """The verb's first usage example, optional parts left out and placeholders filled."""
    text = re.search(r"`([^`]+)`", VERBS[verb].text).group(1)  # type: ignore[union-attr]
    text = re.sub(r"\s*\[[^\]]*\]", "", text)
    text = re.sub(r"<[^>]+>", "some words", text)
    text = re.sub(r"@\w+", "<@U123>", text)
    return re.sub(r"\b(\w+)\|\w+\b", r"\1", text)


def strings(value: Any) -> list[str]:
    """Every piece of text in a parsed argument (lists, tuples and dicts opened up)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in strings(item)]
    if isinstance(value, list | tuple):
        return [text for item in value for text in strings(item)]
    return []


def test_every_verbs_example_parses() -> None:
    for verb in VERBS:
        assert parse(example(verb)).verb == verb, example(verb)


@settings(max_examples=500, deadline=None)
@given(
    st.sampled_from(sorted(VERBS)), st.lists(st.sampled_from(OPTION_WORDS), min_size=1, max_size=3)
)
def test_option_words_are_used_or_refused(verb: str, words: list[str]) -> None:
    text = " ".join([example(verb), *words])
    try:
        command = parse(text)
    except UsageError as error:
        assert str(error)
        return
    for name, value in command.args.items():
        if name in VERBS[verb].free:
            continue
        for piece in strings(value):
            for word in words:
                assert word not in piece, f"{text!r}: {name}={value!r} swallowed {word!r}"


def test_a_count_anywhere_but_last_is_refused() -> None:
    for text in ("volume croissant x4; baguette", "sprint a | b — c x4 --ar 16:9"):
        try:
            parse(text)
        except UsageError as error:
            assert "at the very end" in str(error)
        else:
            raise AssertionError(f"{text!r} parsed")
