"""The plain-Python pieces: intent, recipe slots and drift, gate hints, import isolation."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.playbook import errors
from bot.playbook.aspect import sized
from bot.playbook.gate import GateItem, hints, item_named
from bot.playbook.intent import is_one_sentence
from bot.playbook.presets import PRESETS
from bot.playbook.recipe import RecipeCard, check_drift, render, slot_of


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hero art for the spring courier campaign.", True),
        ("Hero art, e.g. a courier at dawn, for spring", True),
        ("Banner at 2.5x scale for the launch", True),
        ("We need art. It should be warm.", False),
        ("Art for spring!\nAlso a banner", False),
        ("What is this? A courier.", False),
    ],
)
def test_one_sentence(text: str, expected: bool) -> None:
    assert is_one_sentence(text) is expected


def test_a_template_has_exactly_one_named_slot() -> None:
    assert slot_of("a {subject} at dawn") == "subject"
    assert render("a {subject} at dawn", "red bike") == "a red bike at dawn"
    for bad in ("no slot", "{a} and {b}", "a {subject} {", "{}"):
        with pytest.raises(errors.InvalidInput):
            slot_of(bad)


CARD = RecipeCard(
    "tiny", "h", "Euler", 4, 5.0, 64, 64, 7, "a {subject}", "subject", "bike", "blurry"
)


def test_drift_guard_allows_only_the_slot() -> None:
    check_drift(CARD, {"slot_value": "car", "steps": "4", "guidance": 5})
    with pytest.raises(errors.DriftRefused, match="seed 7 → 8"):
        check_drift(CARD, {"seed": 8})
    with pytest.raises(errors.InvalidInput, match="not a recipe setting"):
        check_drift(CARD, {"colour": "red"})


def test_gate_hints_flag_names_brands_and_style_mimicry() -> None:
    terms = {
        hint.term
        for hint in hints(
            "portrait of Taylor Swift drinking Coca-Cola in the style of Greg Rutkowski"
        )
    }
    assert "in the style of Greg Rutkowski" in terms
    assert "Coca-Cola" in terms
    assert "Taylor Swift" in terms
    assert hints("a courier on a bike at dawn, watercolor") == []


def test_gate_items_by_short_name() -> None:
    assert item_named("license") is GateItem.LICENSE
    assert item_named("alt text") is GateItem.ALT_TEXT
    assert item_named("people") is GateItem.PEOPLE_LOGOS_ARTISTS
    assert item_named("weather") is None


def test_the_playbook_imports_neither_torch_nor_slack() -> None:
    code = "import sys, bot.playbook.service; print(sorted(m for m in ('torch', 'slack_bolt', 'slack_sdk', 'diffusers') if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_a_sprint_size_is_a_ratio_or_a_size_never_both() -> None:
    shapes = PRESETS["shapes"]
    assert sized(shapes, None, None) == (64, 64)
    assert sized(shapes, "16:9", None) == (80, 48)
    assert sized(shapes, None, "96x64") == (96, 64)
    with pytest.raises(errors.InvalidInput, match="not both"):
        sized(shapes, "16:9", "96x64")
    with pytest.raises(errors.InvalidInput, match="multiple of 16"):
        sized(shapes, None, "90x64")
