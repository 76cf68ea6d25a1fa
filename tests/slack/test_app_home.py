"""App Home over the stand-in: each role's *Your turn* through a whole project, one-click
approval, the queue and the week, a person with no role, a channel Atelier was removed from,
and Block Kit's limit with many projects."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.workbench import walk
from bot.workbench.local import LocalSlack
from bot.workbench.walk import Team
from tests.workbench import CHANNEL, DIRECTOR, OPERATOR, REVIEWER, STRANGER, TEAM

BOTH = pytest.mark.parametrize("transport", ["http", "socket"])


def home_of(local: LocalSlack, user: str, *contains: str) -> str:
    """Open Home and wait until it shows every one of `contains`; its text, links and all."""

    def shown() -> str | None:
        view = local.standin.home(user)
        text = _text(view) if view else ""
        return text if all(part in text for part in contains) else None

    local.standin.open_home(user)
    return str(local.wait(shown, 30, f"{user}'s Home showing {contains}"))


def _text(view: dict[str, Any]) -> str:
    return json.dumps(view["blocks"], ensure_ascii=False)


def turn(local: LocalSlack, user: str) -> str:
    """Only the *Your turn* part of the person's Home as published now."""
    view = local.standin.home(user)
    if view is None:
        return ""
    blocks = view["blocks"]
    ends = next(i for i, block in enumerate(blocks) if block["type"] == "divider")
    return json.dumps(blocks[1:ends], ensure_ascii=False)


@BOTH
def test_your_turn_follows_each_role_through_a_project(local: LocalSlack) -> None:
    slack = local.standin
    thread = walk.start(local, TEAM, "Hero art for the spring courier campaign.")
    home_of(local, OPERATOR, "run the concept sprint")
    home_of(local, DIRECTOR, "Nothing waits on you right now")
    board = walk.sprint(local, TEAM, thread)
    # The Director's turn to rank: Home says so, with a link to the thread, refreshed unasked.
    shown = local.wait(lambda: "rank 3–5" in turn(local, DIRECTOR) and turn(local, DIRECTOR))
    assert f"https://atelier-standin.slack.com/archives/{CHANNEL}/p" in shown
    assert "Nothing waits on you right now" in home_of(local, OPERATOR, "Your projects")
    slack.say(DIRECTOR, CHANNEL, "rank 1 2 3", thread_ts=thread)
    # Approving the direction is one click on Home.
    local.wait(lambda: "home_approve_direction" in turn(local, DIRECTOR), what="Approve button")
    slack.press_home(DIRECTOR, "home_approve_direction")
    local.message(CHANNEL, thread, "approved the direction")
    local.wait(lambda: "lock the direction" in turn(local, OPERATOR), what="the Operator's turn")
    slack.say(OPERATOR, CHANNEL, "lock 1", thread_ts=thread)
    local.message(CHANNEL, thread, "Hero #")
    local.wait(lambda: "home_approve_hero" in turn(local, DIRECTOR), what="hero approval")
    slack.press_home(DIRECTOR, "home_approve_hero")
    local.message(CHANNEL, thread, "approved the hero")
    _, numbers = walk.volume(local, TEAM, thread)
    del board
    local.wait(lambda: "cull hard" in turn(local, OPERATOR), what="the Operator's keep/cull")
    slack.say(OPERATOR, CHANNEL, f"keep {numbers[0]}", thread_ts=thread)
    local.message(CHANNEL, thread, "Kept")
    local.wait(lambda: "skips the play" in turn(local, OPERATOR), what="the fix play")
    slack.say(DIRECTOR, CHANNEL, "skip fix nothing to repair", thread_ts=thread)
    local.message(CHANNEL, thread, "skipped the Fix-and-finish")
    home_of(local, REVIEWER, "Your projects")
    slack.say(OPERATOR, CHANNEL, f"review {numbers[0]}", thread_ts=thread)
    local.message(CHANNEL, thread, f"Review gate: #{numbers[0]}")
    gate = local.wait(lambda: "at the gate" in turn(local, REVIEWER) and turn(local, REVIEWER))
    assert f"#{numbers[0]}" in gate


def test_queue_and_week_show_a_persons_jobs_and_channels(local: LocalSlack) -> None:
    slack = local.standin
    thread, _, numbers = walk.to_volume(local, TEAM, "Hero art for the spring campaign.")
    slack.say(OPERATOR, CHANNEL, f"keep {numbers[0]}", thread_ts=thread)
    local.message(CHANNEL, thread, "Kept")
    slack.say(DIRECTOR, CHANNEL, "skip fix nothing to repair", thread_ts=thread)
    local.message(CHANNEL, thread, "skipped the Fix-and-finish")
    walk.clear(local, TEAM, thread, numbers[0], "A red bike at dawn.")
    shown = home_of(local, OPERATOR, "1 final cleared")
    assert "GPU minutes" in shown and f"<#{CHANNEL}>" in shown
    assert "None of your jobs is waiting or running." in shown


def test_an_image_handed_to_an_editor_waits_on_their_home(local: LocalSlack) -> None:
    slack = local.standin
    thread, _, numbers = walk.to_volume(local, TEAM, "Hero art for the spring campaign.")
    slack.say(OPERATOR, CHANNEL, f"keep {numbers[0]}", thread_ts=thread)
    local.message(CHANNEL, thread, "Kept")
    home_of(local, STRANGER, "you hold no role on a project yet")
    slack.say(OPERATOR, CHANNEL, f"handoff {numbers[0]} <@{STRANGER}>", thread_ts=thread)
    handed = local.wait(
        lambda: "was handed to you" in turn(local, STRANGER) and turn(local, STRANGER),
        what="the hand-off on the editor's Home, unasked",
    )
    assert f"#{numbers[0]} was handed to you to edit" in handed
    assert "you hold no role" not in handed


def test_a_person_with_no_role_is_told_how_to_get_one(local: LocalSlack) -> None:
    walk.start(local, TEAM, "Hero art for the spring courier campaign.")
    shown = home_of(local, STRANGER, "you hold no role on a project yet")
    assert "/atelier roles director" in shown and "No projects yet." in shown


def test_a_channel_atelier_was_removed_from_leaves_home_quietly(local: LocalSlack) -> None:
    walk.start(local, TEAM, "Hero art for the spring courier campaign.")
    other = Team("COTHER", DIRECTOR, OPERATOR, REVIEWER)
    walk.start(local, other, "Posters for the autumn sale.")
    assert "Posters for the autumn sale" in home_of(local, DIRECTOR, "Posters", "Hero art")
    local.standin.remove_bot("COTHER")
    local.standin.ws.homes.pop(DIRECTOR)
    local.server.atelier.home._links.clear()  # as once the cached link has aged out
    shown = home_of(local, DIRECTOR, "Hero art")
    assert "Posters for the autumn sale" not in shown and "COTHER" not in shown


def test_many_projects_stay_within_block_kits_limit(local: LocalSlack) -> None:
    walk.start(local, TEAM, "Project zero for the spring campaign.")
    for n in range(1, 30):
        local.standin.command(DIRECTOR, CHANNEL, f"new Project number {n} for the campaign.")
    local.wait(lambda: len(local.server.atelier.service.projects(CHANNEL)) == 30)
    shown = home_of(local, DIRECTOR, "and 10 more")
    assert len(local.standin.home(DIRECTOR)["blocks"]) <= 100  # type: ignore[index]
    assert shown.count("Project number") <= 30
