"""The ship pack as a delivery (#22): posted once whatever fails, streamed, in a lane of its own,
and a message that cannot be posted gives up, says so, and lets its thread go on.

Each test fails with its fix switched off (see docs/RELIABILITY.md).
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.workbench import walk
from bot.workbench.local import LocalProcesses, LocalSlack, SlackWatch
from storage.models import OutboxMessage
from storage.states import OutboxStatus
from tests.workbench import (
    CHANNEL,
    DIRECTOR,
    NAMES,
    OPERATOR,
    REVIEWER,
    TEAM,
    config_for,
    to_volume,
)

# Claims, leases and concurrent requests: on PostgreSQL as well.
pytestmark = pytest.mark.also_postgresql

ALT = "A courier on a red bike at dawn."
OTHER = "C0OTHER"


def cleared(watch: SlackWatch, keep: int = 1) -> tuple[str, list[int]]:
    """A project with `keep` cleared finals; returns its thread and the batch's numbers."""
    slack = watch.standin
    thread, numbers = to_volume(watch)
    kept = " ".join(str(n) for n in numbers[:keep])
    slack.say(OPERATOR, CHANNEL, f"keep {kept}", thread_ts=thread)
    watch.message(CHANNEL, thread, "Kept")
    slack.say(DIRECTOR, CHANNEL, "skip fix nothing to repair", thread_ts=thread)
    watch.message(CHANNEL, thread, "skipped the Fix-and-finish")
    for number in numbers[:keep]:
        walk.clear(watch, TEAM, thread, number, ALT)
    return thread, numbers


def packs(watch: SlackWatch, thread: str) -> list[dict[str, Any]]:
    return [
        m
        for m in watch.standin.thread(CHANNEL, thread)
        if "Ship pack for project" in (m.get("text") or "")
    ]


def test_a_long_upload_holds_up_no_other_channel(local: LocalSlack) -> None:
    slack = local.standin
    thread, _ = cleared(local)
    local.settle()
    slack.fail("files.completeUploadExternal", 200, delay=8.0)  # slow, then it shares
    slack.say(OPERATOR, CHANNEL, "ship", thread_ts=thread)
    local.wait(lambda: slack.calls_of("files.completeUploadExternal"), 30, "the upload")
    slack.command(DIRECTOR, OTHER, "new Banner for the autumn sale")
    local.root(OTHER)
    assert packs(local, thread) == []  # the other channel's root did not wait for the pack
    local.wait(lambda: packs(local, thread), 30, "the pack")
    local.settle()
    assert len(packs(local, thread)) == 1


@pytest.fixture
def impatient(db_url: str, tmp_path: Path) -> Any:
    """The workbench with a Slack client that gives up on an answer after 1 s."""
    config = replace(config_for(db_url, tmp_path), slack_timeout=1)
    with LocalSlack(config, NAMES) as workbench:
        yield workbench


def test_a_share_answered_late_is_found_not_made_again(impatient: LocalSlack) -> None:
    local, slack = impatient, impatient.standin
    thread, _ = cleared(local)
    local.settle()
    slack.fail("files.completeUploadExternal", 200, delay=2.5, late=True)
    slack.say(REVIEWER, CHANNEL, "ship", thread_ts=thread)
    local.wait(lambda: packs(local, thread), 30, "the pack")
    local.settle()
    with local.server.atelier.service.sessions() as s:
        row = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "ship_pack")).one()
        assert (row.status, row.attempts) == (OutboxStatus.SENT, 1)  # retried once, found it
    assert len(packs(local, thread)) == 1
    uploads = [c["filename"] for c in slack.calls_of("files.getUploadURLExternal")]
    assert uploads.count("atelier-p1-ship-pack.zip") == 1


def test_a_message_that_keeps_failing_gives_up_says_so_and_the_thread_goes_on(
    local: LocalSlack,
) -> None:
    slack = local.standin
    thread, numbers = cleared(local)
    local.settle()
    store = local.server.atelier.store
    final = local.server.atelier.service.image(1, numbers[0])
    store.fs.rm(store._path(final.file_hash))  # the final's PNG is gone from the store
    slack.say(OPERATOR, CHANNEL, "ship", thread_ts=thread)

    def ship_row() -> OutboxMessage | None:
        with local.server.atelier.service.sessions() as s:
            return s.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.kind == "ship_pack", OutboxMessage.attempts > 0
                )
            ).first()

    local.wait(ship_row, 30, "the pack's first failure")
    slack.command(OPERATOR, CHANNEL, "queue")
    waiting = local.ephemeral(OPERATOR, "will be tried again")["text"]
    assert "ship_pack (try 1 of 12: StoreError" in waiting
    with local.server.atelier.service.sessions.begin() as s:  # its last try, due now
        s.execute(
            update(OutboxMessage)
            .where(OutboxMessage.kind == "ship_pack")
            .values(attempts=11, next_attempt_at=OutboxMessage.created_at)
        )
    told = local.message(CHANNEL, thread, "gave up posting the ship pack")
    assert "is not in the store" in told["text"]
    slack.say(DIRECTOR, CHANNEL, "intent Hero art for the spring courier app", thread_ts=thread)
    local.message(CHANNEL, thread, "Intent restated")  # later messages go on
    slack.command(OPERATOR, CHANNEL, "queue")
    assert "ship_pack (StoreError" in local.ephemeral(OPERATOR, "could not be posted")["text"]


def _peak_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_200_mb_pack_streams_and_sigterm_mid_share_posts_it_once(
    db_url: str, tmp_path: Path
) -> None:
    settings = {"ATELIER_SHUTDOWN_SECONDS": "2"}
    with LocalProcesses(
        db_url, tmp_path / "store", NAMES, tmp_path / "logs", settings=settings
    ) as stack:
        stack.start_runner("r1", "--poll-seconds", "0.2")
        slack = stack.standin
        thread, numbers = cleared(stack)
        # The final's stored file, grown to 200 MB (incompressible): the pack is as large.
        digest = _file_hash(stack, numbers[0])
        stored = tmp_path / "store" / digest[:2] / f"{digest}.png"
        with stored.open("ab") as handle:
            for _ in range(200):
                handle.write(os.urandom(1 << 20))
        time.sleep(1.0)
        before = _peak_rss_mb(stack.server.pid)
        slack.say(OPERATOR, CHANNEL, "ship", thread_ts=thread)
        (pack,) = stack.wait(lambda: packs(stack, thread), 120, "the 200 MB pack")
        assert pack["files"][0]["size"] > 200 * 1024 * 1024
        rise = _peak_rss_mb(stack.server.pid) - before
        print(f"serve's peak memory rose {rise:.0f} MB for a 200 MB ship pack")
        assert rise < 250

        slack.say(OPERATOR, CHANNEL, "ship", thread_ts=thread)  # the same finals again
        stack.ephemeral(OPERATOR, "nothing was cleared since")

        # Another final, then SIGTERM while Slack is sharing the new pack (it answers late).
        stored.write_bytes(stored.read_bytes()[: 64 * 1024 * 1024])  # keep the next one quicker
        slack.say(OPERATOR, CHANNEL, f"keep {numbers[1]}", thread_ts=thread)
        stack.message(CHANNEL, thread, f"Kept #{numbers[1]}")
        walk.clear(stack, TEAM, thread, numbers[1], ALT)
        slack.fail("files.completeUploadExternal", 200, delay=10.0, late=True)
        slack.say(OPERATOR, CHANNEL, "ship", thread_ts=thread)
        stack.wait(lambda: len(packs(stack, thread)) == 2, 120, "the second pack's share")
        stack.restart_serve(signal.SIGTERM)
        stack.wait(lambda: _ship_rows_sent(stack) == 2, 90, "the second pack's row to settle")
        assert len(packs(stack, thread)) == 2
        assert "2 final(s)" in packs(stack, thread)[1]["text"]


def _file_hash(stack: LocalProcesses, number: int) -> str:
    from sqlalchemy import create_engine

    engine = create_engine(stack.env["ATELIER_DATABASE_URL"])
    with engine.connect() as connection:
        from storage.models import Image

        digest = connection.execute(
            select(Image.file_hash).where(Image.project_id == 1, Image.number == number)
        ).scalar_one()
    engine.dispose()
    return str(digest)


def _ship_rows_sent(stack: LocalProcesses) -> int:
    from sqlalchemy import create_engine, func

    engine = create_engine(stack.env["ATELIER_DATABASE_URL"])
    with engine.connect() as connection:
        sent = connection.execute(
            select(func.count(OutboxMessage.id)).where(
                OutboxMessage.kind == "ship_pack", OutboxMessage.status == OutboxStatus.SENT
            )
        ).scalar_one()
    engine.dispose()
    return int(sent)
