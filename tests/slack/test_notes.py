"""`note N <text>` (#26): any role holder notes an image for the team; `info N` shows it."""

from __future__ import annotations

from bot.workbench.local import LocalSlack
from tests.workbench import CHANNEL, DIRECTOR, OPERATOR, REVIEWER, STRANGER, card, start


def sprinted(local: LocalSlack) -> str:
    thread = start(local)
    local.standin.say(OPERATOR, CHANNEL, "sprint ink | clay | neon — a courier", thread_ts=thread)
    local.message(CHANNEL, thread, "Moodboard")
    return thread


def noted(local: LocalSlack, user: str) -> int:
    return sum("Noted on #2" in e["text"] for e in local.standin.ephemerals_for(user))


def test_role_holders_note_an_image_and_info_shows_the_notes(local: LocalSlack) -> None:
    slack = local.standin
    thread = sprinted(local)
    slack.say(REVIEWER, CHANNEL, "note 2 the logo sits <too> close to the edge", thread_ts=thread)
    assert "`info 2` shows it" in local.ephemeral(REVIEWER, "Noted on #2")["text"]
    slack.say(DIRECTOR, CHANNEL, "note #2 keep this palette", thread_ts=thread)
    local.ephemeral(DIRECTOR, "Noted on #2")
    slack.say(STRANGER, CHANNEL, "info 2", thread_ts=thread)
    shown = card(local, STRANGER, "#2: sprint")
    assert "*Notes:*" in shown
    first = shown.index(f"<@{REVIEWER}>, ")
    assert shown.index("the logo sits &lt;too&gt; close to the edge") > first
    assert shown.index(f"<@{DIRECTOR}>, ") > first and "keep this palette" in shown
    slack.say(STRANGER, CHANNEL, "info 3", thread_ts=thread)
    assert "Notes" not in card(local, STRANGER, "#3: sprint")


def test_someone_without_a_role_cannot_note(local: LocalSlack) -> None:
    slack = local.standin
    thread = sprinted(local)
    slack.say(STRANGER, CHANNEL, "note 2 looks great", thread_ts=thread)
    refused = local.ephemeral(STRANGER, "Only the project's")["text"]
    assert "Director, Operator or Reviewer can note on an image" in refused
    assert "nothing was changed" in refused
    slack.say(DIRECTOR, CHANNEL, "info 2", thread_ts=thread)
    assert "looks great" not in card(local, DIRECTOR, "#2: sprint")


def test_a_note_needs_an_image_that_is_there_and_words_that_fit(local: LocalSlack) -> None:
    slack = local.standin
    thread = sprinted(local)
    slack.say(OPERATOR, CHANNEL, "note 2", thread_ts=thread)
    assert "`note 12 <text>`" in local.ephemeral(OPERATOR, "Usage")["text"]
    slack.say(OPERATOR, CHANNEL, "note 99 nice", thread_ts=thread)
    assert "no image #99" in local.ephemeral(OPERATOR, "#99")["text"]
    slack.say(OPERATOR, CHANNEL, "note 2 " + "long " * 120, thread_ts=thread)
    assert "this one is 599" in local.ephemeral(OPERATOR, "at most 500 characters")["text"]
    for n in range(6):  # one at a time: the inbox may apply quick replies side by side
        slack.say(OPERATOR, CHANNEL, f"note 2 remark {n}", thread_ts=thread)
        local.wait(lambda n=n: noted(local, OPERATOR) > n, 30, f"note {n} taken")
    slack.say(OPERATOR, CHANNEL, "info 2", thread_ts=thread)
    shown = card(local, OPERATOR, "#2: sprint")
    assert "*Notes* (2 earlier not shown):" in shown
    assert "remark 5" in shown and "remark 2" in shown and "remark 1" not in shown
