"""Any submission of any modal, as anyone: accepted, or refused on the field at fault; never a crash."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.workbench import walk
from bot.workbench.local import LocalSlack
from tests.workbench import (
    CHANNEL,
    DIRECTOR,
    NAMES,
    OPERATOR,
    REVIEWER,
    STRANGER,
    TEAM,
    config_for,
    sprint,
    start,
)

EVERYONE = (DIRECTOR, OPERATOR, REVIEWER, STRANGER)


def _values(view: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """What Slack lets a person send: required inputs filled, options only from the list."""
    required: dict[str, st.SearchStrategy[Any]] = {}
    optional: dict[str, st.SearchStrategy[Any]] = {}
    for block in view["blocks"]:
        element = block.get("element")
        if block["type"] != "input" or element is None:
            continue
        options = [o["value"] for o in element.get("options", [])]
        if element["type"] == "plain_text_input":
            value: st.SearchStrategy[Any] = st.text(
                min_size=1, max_size=element.get("max_length", 3000)
            )
        elif element["type"] == "checkboxes":
            value = st.lists(st.sampled_from(options), unique=True, min_size=1)
        else:
            value = st.sampled_from(options)
        (optional if block.get("optional") else required)[element["action_id"]] = value
    return st.fixed_dictionaries(required, optional=optional)


def fuzz(local: LocalSlack, view: dict[str, Any], examples: int) -> None:
    inputs = {block["block_id"] for block in view["blocks"] if block["type"] == "input"}

    @settings(max_examples=examples, deadline=None, database=None)
    @given(user=st.sampled_from(EVERYONE), values=_values(view))
    def submit_anything(user: str, values: dict[str, Any]) -> None:
        local.standin.ws.views[view["id"]] = view  # the same modal, open again
        answer = local.standin.submit(user, view["id"], values)
        assert answer.status == 200, answer.body
        reply = answer.json()
        if reply:
            assert reply["response_action"] == "errors", reply
            assert reply["errors"] and set(reply["errors"]) <= inputs, reply
            assert all(0 < len(message) <= 150 for message in reply["errors"].values()), reply

    submit_anything()


def _modal(local: LocalSlack, callback: str) -> dict[str, Any]:
    views = local.standin.ws.views
    found = local.wait(
        lambda: [v for v in views.values() if v["callback_id"] == callback],
        10,
        f"the {callback} modal",
    )
    return dict(found[-1])


def test_any_modal_submission_is_accepted_or_refused_on_a_field(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    with LocalSlack(config_for(f"sqlite:///{tmp_path}/fuzz.db", tmp_path), NAMES) as local:
        slack = local.standin
        thread = start(local)
        board = sprint(local, thread)
        slack.press(DIRECTOR, CHANNEL, board, "rank_open")
        fuzz(local, _modal(local, "rank"), 40)

        slack.say(DIRECTOR, CHANNEL, "rank 1 2 3", thread_ts=thread)  # whatever the fuzz left
        local.message(CHANNEL, thread, "ranked #1, #2, #3")
        walk.hero(local, TEAM, thread, board)
        batch, numbers = walk.volume(local, TEAM, thread)
        slack.say(OPERATOR, CHANNEL, f"keep {numbers[0]} {numbers[1]}", thread_ts=thread)
        local.message(CHANNEL, thread, "Kept")
        # The gate first: a repair the fuzz starts would otherwise hold the gate shut until done.
        slack.say(DIRECTOR, CHANNEL, "skip fix nothing to repair yet", thread_ts=thread)
        local.message(CHANNEL, thread, "skipped the Fix-and-finish")
        slack.say(OPERATOR, CHANNEL, f"review {numbers[1]}", thread_ts=thread)
        gate = str(local.message(CHANNEL, thread, f"Review gate: #{numbers[1]}")["ts"])
        slack.press(REVIEWER, CHANNEL, gate, "gate_sendback")
        fuzz(local, _modal(local, "sendback"), 40)

        slack.press(OPERATOR, CHANNEL, batch, "fix_open", str(numbers[0]))
        fuzz(local, _modal(local, "fix"), 40)
        local.settle(timeout=120)
    failures = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert not failures, failures
