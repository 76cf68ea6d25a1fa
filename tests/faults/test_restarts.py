"""Faults with real processes: the database restarted, the image store gone, mid-run."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.workbench.local import LocalProcesses
from storage.db import make_engine, make_sessions
from storage.models import AuditEntry, ChannelSettings, Image, Job, Ranking
from tests.faults.cluster import Cluster
from tests.workbench import CHANNEL, DIRECTOR, NAMES, OPERATOR, start

SPRINT = "sprint ink | clay | neon — a courier at dawn"
DECISIONS = ("budget 9", "cooloff 7", "gate-wait 30", "queue-limit 150")


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    server = Cluster()
    server.start()
    yield server
    server.stop()
    server.remove()


def test_a_postgresql_restart_mid_run_loses_no_job_or_decision(
    cluster: Cluster, tmp_path: Path
) -> None:
    sessions = make_sessions(make_engine(cluster.url))
    with LocalProcesses(cluster.url, tmp_path / "store", NAMES, tmp_path / "logs") as stack:
        stack.start_runner("r1", "--batch-size", "1", "--poll-seconds", "0.2")
        thread = start(stack)
        stack.standin.say(OPERATOR, CHANNEL, SPRINT, thread_ts=thread)

        def images() -> int:
            with sessions() as s:
                return int(s.scalar(select(func.count()).select_from(Image)) or 0)

        stack.wait(lambda: images() >= 2, 120, "the sprint to be under way")
        # Decisions made while the server is going down and coming back up.
        decisions = [
            threading.Thread(
                target=stack.standin.command, args=(DIRECTOR, CHANNEL, f"settings {change}")
            )
            for change in DECISIONS
        ]
        for decision in decisions:
            decision.start()
            time.sleep(0.05)
        cluster.restart()
        for decision in decisions:
            decision.join()
        stack.message(CHANNEL, thread, "Moodboard", timeout=180)
        stack.standin.say(DIRECTOR, CHANNEL, "rank 1 2 3", thread_ts=thread)
        stack.message(CHANNEL, thread, "ranked #1")
        stack.wait(
            lambda: (
                len(
                    [
                        e
                        for e in stack.standin.ephemerals_for(DIRECTOR)
                        if "settings saved" in e["text"]
                    ]
                )
                == len(DECISIONS)
            ),
            240,  # the restart and the inbox replays, on a slow shared host
            "every decision to be confirmed",
        )
        assert stack.server.poll() is None and stack.runners[0].poll() is None
        with sessions() as s:
            job = s.scalars(select(Job)).one()
            numbers = sorted(s.scalars(select(Image.job_index).where(Image.job_id == job.id)))
            assert job.status == "done" and numbers == list(range(15))
            settings = s.get(ChannelSettings, CHANNEL)
            assert settings is not None
            assert (settings.iteration_budget, settings.review_cooloff_minutes) == (9, 7)
            assert (settings.gate_wait_hours, settings.queue_limit_per_user) == (30, 150)
            assert len(s.scalars(select(Ranking)).one().image_ids) == 3
            actions = set(s.scalars(select(AuditEntry.action)))
            assert {"run_sprint", "update_settings", "rank"} <= actions
        texts = [m.get("text", "") for m in stack.standin.thread(CHANNEL, thread)]
        assert sum("Moodboard" in text for text in texts) == 1
    assert "database unreachable; retrying" in stack.log_text("r1") + stack.log_text("serve")


def test_an_unwritable_image_store_fails_the_job_clearly_and_works_once_back(
    tmp_path: Path,
) -> None:
    store = tmp_path / "store"
    store.write_text("a file where the store's folder should be")  # nothing can be written under it
    url = f"sqlite:///{tmp_path}/atelier.db"
    with LocalProcesses(url, store, NAMES, tmp_path / "logs") as stack:
        stack.start_runner("r1", "--poll-seconds", "0.2")
        thread = start(stack)
        stack.standin.say(OPERATOR, CHANNEL, SPRINT, thread_ts=thread)
        failed = stack.message(CHANNEL, thread, "failed", timeout=120)["text"]
        assert f"cannot write to the image store {store}" in failed
        assert "Check that the store is there and writable" in failed
        store.unlink()
        stack.standin.say(OPERATOR, CHANNEL, SPRINT, thread_ts=thread)
        board = stack.message(CHANNEL, thread, "Moodboard", timeout=120)
        assert board["text"] == "Moodboard: 15 variations"
        assert len(list(store.rglob("*.png"))) >= 16  # 15 variations and the contact sheet
