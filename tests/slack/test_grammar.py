"""The command grammar: every verb parses to what the service needs, or says how to write it."""

from __future__ import annotations

import pytest

from bot.playbook.gate import GateItem
from bot.playbook.sequence import Play
from bot.slack.grammar import UsageError
from handlers.verbs import parse


@pytest.mark.parametrize(
    ("text", "verb", "args"),
    [
        (
            "sprint watercolor | flat vector | film photo — a courier at dawn",
            "sprint",
            {
                "styles": ["watercolor", "flat vector", "film photo"],
                "subject": "a courier at dawn",
                "count": 15,
                "ar": None,
                "size": None,
            },
        ),
        (
            "sprint a|b|c -- x y x20",
            "sprint",
            {"styles": ["a", "b", "c"], "subject": "x y", "count": 20, "ar": None, "size": None},
        ),
        (
            "sprint a|b|c — x y --ar 16:9 x20",
            "sprint",
            {"styles": ["a", "b", "c"], "subject": "x y", "count": 20, "ar": "16:9", "size": None},
        ),
        (
            "sprint a|b|c — x y ar 16:9",
            "sprint",
            {"styles": ["a", "b", "c"], "subject": "x y", "count": 15, "ar": "16:9", "size": None},
        ),
        (
            "sprint a|b|c — x y size 640x384 x20",
            "sprint",
            {
                "styles": ["a", "b", "c"],
                "subject": "x y",
                "count": 20,
                "ar": None,
                "size": "640x384",
            },
        ),
        (
            "lock 7 slot red bike --ar 16:9 cfg 7",
            "lock",
            {"number": 7, "slot": "red bike", "ar": "16:9", "guidance": 7.0},
        ),
        (
            "volume croissant --ar 16:9",
            "volume",
            {"values": ["croissant"], "per_value": 1, "overrides": {"ar": "16:9"}},
        ),
        (
            "volume croissant; baguette steps 30 x4",
            "volume",
            {"values": ["croissant", "baguette"], "per_value": 4, "overrides": {"steps": "30"}},
        ),
        (
            "lock 7 ar 4:5 size 640x384",
            "lock",
            {"number": 7, "ar": "4:5", "size": (640, 384)},
        ),
        (
            "lock #7 template a {subject} at dawn negative blurry, text seed 5",
            "lock",
            {"number": 7, "template": "a {subject} at dawn", "negative": "blurry, text", "seed": 5},
        ),
        (
            "volume red bike; blue bike x4",
            "volume",
            {"values": ["red bike", "blue bike"], "per_value": 4, "overrides": {}},
        ),
        (
            "volume red bike steps=30",
            "volume",
            {"values": ["red bike"], "per_value": 1, "overrides": {"steps": "30"}},
        ),
        (
            "fix 12 a1 b1 remove the stray text",
            "fix",
            {
                "number": 12,
                "mode": "inpaint",
                "cells": [0, 1],
                "strength": None,
                "mask": False,
                "force": False,
                "instruction": "remove the stray text",
            },
        ),
        (
            "fix 12 refine strength 0.2 sharper",
            "fix",
            {
                "number": 12,
                "mode": "refine",
                "cells": [],
                "strength": 0.2,
                "mask": False,
                "force": False,
                "instruction": "sharper",
            },
        ),
        (
            "send back 12 license: looks like a real brand",
            "sendback",
            {
                "number": 12,
                "item": GateItem.LICENSE,
                "cells": [],
                "note": "looks like a real brand",
            },
        ),
        (
            "sendback 3 alt text missing",
            "sendback",
            {"number": 3, "item": GateItem.ALT_TEXT, "cells": [], "note": "missing"},
        ),
        (
            # A channel's own item (the use case knows which), pinning cells b2 and c3.
            "sendback 12 brand b2 C3, logo too big",
            "sendback",
            {"number": 12, "item": "brand", "cells": [4, 8], "note": "logo too big"},
        ),
        (
            "fix 12 keep the sky",  # no cells: the open pins of a send-back
            "fix",
            {
                "number": 12,
                "mode": "inpaint",
                "cells": [],
                "strength": None,
                "mask": False,
                "force": False,
                "instruction": "keep the sky",
            },
        ),
        ("skip fix no flaws to repair", "skip", {"play": Play.FIX, "reason": "no flaws to repair"}),
        ("handoff 12 <@U123|bob>", "handoff", {"number": 12, "editor": "U123"}),
        ("roles director <@UA> reviewer <@UB>", "roles", {"director": "UA", "reviewer": "UB"}),
        ("metrics channel --days 7", "metrics", {"scope": "channel", "days": 7}),
        (
            "settings digest 09:00 Europe/Berlin budget 5",
            "settings",
            {
                "changes": {
                    "digest_time": "09:00",
                    "digest_tz": "Europe/Berlin",
                    "iteration_budget": 5,
                }
            },
        ),
        ("rank 3, 1, 2", "rank", {"numbers": [3, 1, 2]}),
        ("", "help", {}),
    ],
)
def test_commands_parse(text: str, verb: str, args: dict[str, object]) -> None:
    command = parse(text)
    assert (command.verb, command.args) == (verb, args)


def test_a_leading_project_number_selects_the_project() -> None:
    command = parse("p3 status")
    assert (command.verb, command.project) == ("status", 3)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("sprint watercolor", "Separate the styles"),
        ("lock seven", "not part of a lock"),
        ("frobnicate", "I don't know"),
        ("budget 1", "Usage: `budget"),
        ("skip nothing why", "is not a play"),
        ("status now", "takes nothing after it but a project"),
        ("settings digest 9am", "not a time like 09:00"),
        ("settings digest 09:00 Mars/Base", "not a time zone"),
        ("sendback 4", "Usage: `sendback"),
    ],
)
def test_malformed_commands_say_how_to_write_them(text: str, says: str) -> None:
    with pytest.raises(UsageError, match=says):
        parse(text)


def test_an_image_then_words_needs_both() -> None:
    from bot.slack.parsing.common import number_and_text

    parse = number_and_text("text")
    assert parse("#12  the logo is  off ") == {"number": 12, "text": "the logo is  off"}
    for wrong in ("", "12", "12   ", "logo 12"):
        with pytest.raises(UsageError):
            parse(wrong)
