"""Slack failing for a while, with the bot and runner as real processes: every message, once."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from bot.workbench.local import LocalProcesses
from storage import outbox
from storage.db import make_engine, make_sessions
from storage.models import OutboxMessage
from tests.workbench import CHANNEL, DIRECTOR, NAMES, sprint, start


def test_after_500s_429s_and_timeouts_every_message_arrives_exactly_once(
    db_url: str, tmp_path: Path
) -> None:
    sessions = make_sessions(make_engine(db_url))
    settings = {"ATELIER_SLACK_TIMEOUT": "1"}
    with LocalProcesses(
        db_url, tmp_path / "store", NAMES, tmp_path / "logs", settings=settings
    ) as stack:
        stack.start_runner("r1", "--poll-seconds", "0.2")
        thread = start(stack)
        slack = stack.standin
        # Longer than the client's own retries cover: 500s, then 429s, then posts that Slack
        # makes but answers only after the client has given up; uploads fail with 503s.
        slack.fail("chat.postMessage", 500, times=6)
        slack.fail("chat.postMessage", 429, retry_after=1, times=4)
        slack.fail("chat.postMessage", 200, delay=1.6, times=2)
        slack.fail("files.getUploadURLExternal", 503, times=4)
        board = sprint(stack, thread)
        slack.say(DIRECTOR, CHANNEL, "rank 1 2 3", thread_ts=thread)
        stack.message(CHANNEL, thread, "ranked #1")

        def drained() -> bool:
            with sessions() as s:
                return outbox.unsent(s) == 0

        stack.wait(drained, 120, "the outbox to drain")
    with sessions() as s:
        rows = list(s.scalars(select(OutboxMessage)))
    assert {row.status for row in rows} == {"sent"}
    assert sum(row.attempts for row in rows) >= 4  # the 500s, the 429s and both slow posts
    texts = [m.get("text", "") for m in slack.thread(CHANNEL, thread) if m.get("bot_id")]
    for expected in ("Concept sprint", "Moodboard", "ranked #1"):
        assert sum(expected in text for text in texts) == 1, texts
    assert slack.calls_of("conversations.replies")  # slow posts were looked for before a resend
    moodboard = next(m for m in slack.thread(CHANNEL, thread) if m["ts"] == board)
    assert slack.file_bytes(moodboard["blocks"][1]["slack_file"]["id"]).startswith(b"\x89PNG")
