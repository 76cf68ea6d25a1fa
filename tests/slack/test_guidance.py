"""Help that leads, over HTTP in the stand-in: the next step, did-you-mean, status, the play rules."""

from __future__ import annotations

import json
from typing import Any

from bot.workbench.local import LocalSlack
from tests.workbench import CHANNEL, DIRECTOR, OPERATOR, REVIEWER, to_volume


def _root_next(local: LocalSlack) -> str:
    """The `Next:` line of the project's root message as it stands now."""
    root = local.standin.history(CHANNEL)[0]
    return next(b["text"]["text"] for b in root["blocks"] if "*Next:*" in json.dumps(b))


def _whispers(local: LocalSlack, user: str) -> list[str]:
    return [e["text"] for e in local.standin.ephemerals_for(user)]


def _set_roles(local: LocalSlack) -> None:
    local.standin.command(
        DIRECTOR,
        CHANNEL,
        f"roles director <@{DIRECTOR}> operator <@{OPERATOR}> reviewer <@{REVIEWER}>",
    )
    local.ephemeral(DIRECTOR, "roles saved")


def test_a_two_sentence_intent_gets_its_thread_and_resumes_when_restated(
    local: LocalSlack,
) -> None:
    slack = local.standin
    _set_roles(local)
    slack.command(DIRECTOR, CHANNEL, "new Posters for spring. Also some banners.")
    thread = str(local.root(CHANNEL)["ts"])
    local.message(CHANNEL, thread, "Paused: the intent is not one sentence")
    local.settle()
    assert _root_next(local).startswith(f"*Next:* the Director (<@{DIRECTOR}>): restate the intent")
    said = [m["text"] for m in slack.thread(CHANNEL, thread) if m.get("bot_id")]
    assert sum("aused" in text for text in said) == 1  # one notice for one pause
    slack.say(
        DIRECTOR, CHANNEL, "intent Posters and banners for the spring launch.", thread_ts=thread
    )
    local.message(CHANNEL, thread, "Resumed")
    local.settle()
    assert _root_next(local).startswith(
        f"*Next:* the Operator (<@{OPERATOR}>): run the concept sprint"
    )


def test_typos_get_the_verb_they_resemble_and_chat_is_left_alone(local: LocalSlack) -> None:
    slack = local.standin
    _set_roles(local)
    slack.command(DIRECTOR, CHANNEL, "new Posters for the spring launch.")
    thread = str(local.root(CHANNEL)["ts"])
    slack.command(OPERATOR, CHANNEL, "sprnt ink | clay | neon — a cat")
    typo = local.ephemeral(OPERATOR, "Did you mean `sprint`?")["text"]
    assert "Usage: `sprint" in typo and "Atelier commands" not in typo
    slack.command(OPERATOR, CHANNEL, "help sprnt")
    local.wait(
        lambda: len([t for t in _whispers(local, OPERATOR) if "Did you mean `sprint`" in t]) == 2,
        what="`help sprnt` to suggest `sprint` too",
    )
    slack.say(DIRECTOR, CHANNEL, "looks great everyone", thread_ts=thread)
    slack.say(DIRECTOR, CHANNEL, "aprove", thread_ts=thread)
    local.ephemeral(DIRECTOR, "Did you mean `approve`?")
    local.settle()
    assert not any("looks great" in t or "don't know" in t for t in _whispers(local, DIRECTOR))
    assert not any("Did you mean" in t for t in _whispers(local, REVIEWER))
    slack.say(DIRECTOR, CHANNEL, "help", thread_ts=thread)
    helped = local.ephemeral(DIRECTOR, "Atelier commands")["text"]
    assert "*Project 1* — 1. Concept sprint" in helped and "`p3`" in helped
    assert f"*Next:* the Operator (<@{OPERATOR}>): run the concept sprint" in helped


def test_status_lists_every_project_in_the_channel(local: LocalSlack) -> None:
    slack = local.standin
    _set_roles(local)
    for n, intent in enumerate(("Posters for the spring launch.", "Banners for the autumn sale.")):
        slack.command(DIRECTOR, CHANNEL, f"new {intent}")
        local.ephemeral(DIRECTOR, f"Project {n + 1} started")
    slack.command(REVIEWER, CHANNEL, "status")
    listed = local.ephemeral(REVIEWER, "project(s) in this channel")
    text = json.dumps(listed["blocks"])
    assert (
        "`p1` Posters for the spring launch." in text
        and "`p2` Banners for the autumn sale." in text
    )
    slack.command(REVIEWER, CHANNEL, "status p1")
    one: dict[str, Any] = local.ephemeral(REVIEWER, "Project 1")
    assert "Posters for the spring launch." in json.dumps(one["blocks"])


def test_the_play_rules_in_the_thread(local: LocalSlack) -> None:
    slack = local.standin
    thread, numbers = to_volume(local)
    # Ranking belongs to the sprint.
    slack.say(DIRECTOR, CHANNEL, "rank 1 2 3", thread_ts=thread)
    local.ephemeral(DIRECTOR, "belongs to the concept sprint, which is done")
    # Keeping 2 of 4 is allowed, with the playbook's words.
    slack.say(OPERATOR, CHANNEL, f"keep {numbers[0]} {numbers[1]}", thread_ts=thread)
    local.message(CHANNEL, thread, f"<@{OPERATOR}> kept 2 of 4 in this batch")
    # A new recipe version needs its own approval before a volume run.
    slack.say(OPERATOR, CHANNEL, f"lock {numbers[0]}", thread_ts=thread)
    local.message(
        CHANNEL, thread, "Hero #", after=local.message(CHANNEL, thread, "kept 2 of 4")["ts"]
    )
    slack.say(OPERATOR, CHANNEL, "volume green tram", thread_ts=thread)
    local.ephemeral(OPERATOR, "hero of recipe v2")
