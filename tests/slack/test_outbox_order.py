"""The outbox can't jam: nothing waits behind a message that waits for it, and refusals are shown."""

from __future__ import annotations

import pytest

from bot.playbook.sequence import ORDER
from bot.workbench.local import LocalSlack
from storage import outbox
from storage.models import PlayRun, Project
from tests.workbench import CHANNEL, DIRECTOR, OPERATOR, REVIEWER, start


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_notice_queued_before_its_projects_root_still_gets_its_thread(
    local: LocalSlack,
) -> None:
    """The order that jammed paused projects: the thread's first words before its root."""
    with local.server.atelier.service.sessions.begin() as s:
        project = Project(
            channel_id=CHANNEL,
            intent="Posters for the spring launch.",
            director=DIRECTOR,
            operator=OPERATOR,
            reviewer=REVIEWER,
            model="tiny",
            iteration_budget=8,
            review_cooloff_minutes=10,
            created_by=DIRECTOR,
        )
        s.add(project)
        s.flush()
        s.add_all(PlayRun(project_id=project.id, play=play) for play in ORDER)
        for kind, payload in (("notice", {"event": "text", "text": "first words"}), ("root", {})):
            outbox.add(s, channel_id=CHANNEL, project_id=project.id, kind=kind, payload=payload)
    thread = str(local.root(CHANNEL)["ts"])
    local.message(CHANNEL, thread, "first words", timeout=30)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_message_slack_refuses_for_good_is_shown_and_the_thread_goes_on(
    local: LocalSlack,
) -> None:
    thread = start(local)
    slack = local.standin
    local.settle()
    slack.fail("chat.postMessage", 200, error="channel_not_found", times=5)
    slack.say(DIRECTOR, CHANNEL, "skip sprint the brand look exists already", thread_ts=thread)

    def refused() -> bool:
        with local.server.atelier.service.sessions() as s:
            return bool(outbox.failed(s, CHANNEL))

    local.wait(refused, 60, "the notice to be refused for good")
    slack.failures.clear()  # Slack takes messages again
    slack.say(
        DIRECTOR,
        CHANNEL,
        "intent Posters for the spring launch, in the brand look.",
        thread_ts=thread,
    )
    local.message(CHANNEL, thread, "Intent restated")
    said = [m["text"] for m in slack.thread(CHANNEL, thread) if m.get("bot_id")]
    assert not any("skipped the Concept sprint" in text for text in said)
    slack.command(OPERATOR, CHANNEL, "queue")
    shown = local.ephemeral(OPERATOR, "could not be posted")["text"]
    assert "notice (channel_not_found)" in shown
