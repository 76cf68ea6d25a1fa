"""Any text at all becomes a command or a usage message, never an exception."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.slack.grammar import Command, UsageError
from handlers.verbs import VERBS as REGISTRY
from handlers.verbs import parse

VERBS = sorted(REGISTRY)
WORDS = st.sampled_from(
    [
        "#7",
        "7",
        "x4",
        "—",
        "|",
        ";",
        "a1",
        "b3",
        "refine",
        "mask",
        "strength",
        "0.3",
        "<@U123>",
        "template",
        "{subject}",
        "negative",
        "--days",
        "p2",
        "license",
        "alt text",
        "digest",
        "09:00",
        "Europe/Berlin",
        "",
        "🎨",
        "\u00a0",
    ]
)


def check(text: str) -> None:
    try:
        result = parse(text)
    except UsageError as error:
        assert str(error)  # a message the person can read
        return
    assert isinstance(result, Command) and result.verb in REGISTRY


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=200))
def test_any_text(text: str) -> None:
    check(text)


@settings(max_examples=600, deadline=None)
@given(st.sampled_from(VERBS), st.lists(st.one_of(WORDS, st.text(max_size=12)), max_size=8))
def test_any_arguments_to_any_verb(verb: str, words: list[str]) -> None:
    check(" ".join([verb, *words]))
