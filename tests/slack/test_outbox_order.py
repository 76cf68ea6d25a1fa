"""The outbox can't jam: nothing waits behind a message that waits for it, and refusals are shown."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from bot.playbook.sequence import ORDER
from bot.workbench.local import LocalProcesses, LocalSlack
from storage import outbox
from storage.models import PlayRun, Project
from tests.workbench import CHANNEL, DIRECTOR, NAMES, OPERATOR, REVIEWER, start


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


@pytest.mark.also_postgresql
def test_a_post_cut_off_by_a_crash_lands_once_and_the_thread_goes_on_within_30s(
    tmp_path: Path,
) -> None:
    """serve dies while Slack is taking its post: the lease lapses in seconds, not two minutes,
    and the retry finds the post it made instead of making it again."""
    url = f"sqlite:///{tmp_path}/crash.db"
    with LocalProcesses(url, tmp_path / "store", NAMES, tmp_path / "logs") as stack:
        slack = stack.standin
        slack.fail("chat.postMessage", 200, delay=5, late=True)  # posted, but answered late
        assert slack.command(DIRECTOR, CHANNEL, "new Cats. Dogs. Maybe birds?").status == 200
        root = stack.root(CHANNEL)  # in the channel; serve is still waiting for the answer
        stack.restart_serve(signal.SIGKILL)
        back = time.monotonic()
        stack.message(CHANNEL, str(root["ts"]), "aused", timeout=60)
        assert time.monotonic() - back < 30
        assert len([m for m in slack.history(CHANNEL) if m.get("bot_id")]) == 1
