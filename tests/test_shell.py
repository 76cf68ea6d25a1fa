"""`atelier shell` driven as a person would, through standard input."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bot.playbook.gate import REVIEWER_ITEMS, SHORT, GateItem
from bot.workbench.shell import mentions, ticked_values

SCRIPT = """\
/atelier roles director @dana operator @omar reviewer @ria
/atelier new Posters for the spring launch.
as omar
sprint ink | clay | neon — a rocket
as dana
press 1
fill rank_0=3 rank_1=1 rank_2=2
press 2
/atelier bogus
quit
"""


def test_a_scripted_session_runs_a_sprint_and_ranks(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "shell"],
        input=SCRIPT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    out = result.stdout
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Moodboard" in out and "[1] Rank candidates" in out
    assert "[modal: Rank the moodboard]" in out
    assert "ranked #3, #1, #2" in out
    assert "approved the direction: #3" in out
    assert "I don't know `bogus`" in out
    assert "Traceback" not in out + result.stderr


def test_people_are_named_as_typed_and_boxes_ticked_by_their_labels() -> None:
    assert mentions("roles director @dana operator @Omar cc @bob <@UX>") == (
        "roles director <@UDANA> operator <@UOMAR> cc @bob <@UX>"
    )
    boxes = [
        {"text": {"type": "plain_text", "text": SHORT[item].capitalize()}, "value": item.value}
        for item in REVIEWER_ITEMS
    ]
    assert ticked_values(boxes, "LICENSE alt text people/logos/artists") == [
        GateItem.PEOPLE_LOGOS_ARTISTS.value,
        GateItem.LICENSE.value,
        GateItem.ALT_TEXT.value,
    ]
    assert ticked_values(boxes, "licence content") == [
        GateItem.LICENSE.value,
        GateItem.CONTENT.value,
    ]
    keepers = [{"text": {"type": "plain_text", "text": f"#{n}"}, "value": str(n)} for n in (7, 8)]
    assert ticked_values(keepers, "#8") == ["8"]
