"""Several hosts (#25): `serve --no-runner` and two runners with folders of their own, sharing
only PostgreSQL and an S3 store (SeaweedFS); a runner killed mid-batch, the other finishes it."""

from __future__ import annotations

import re
import signal
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.workbench import walk
from bot.workbench.local import LocalProcesses
from storage.db import make_engine, make_sessions
from storage.files import ImageStore
from storage.models import Image, Job
from tests.conftest import truncate_all
from tests.seaweed import BUCKET, seaweed
from tests.workbench import CHANNEL, DIRECTOR, NAMES, OPERATOR, TEAM

STORE = f"s3://{BUCKET}/atelier"


def _runner(stack: LocalProcesses, root: Path, name: str) -> subprocess.Popen[bytes]:
    host = root / name
    return stack.start_runner(
        name,
        "--batch-size",
        "1",
        "--poll-seconds",
        "0.2",
        "--lease-seconds",
        "5",
        cwd=host,
        settings={"ATELIER_MODEL_CACHE": str(host / "models")},
    )


def test_a_project_runs_on_hosts_that_share_only_postgresql_and_s3(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    truncate_all(pg_url)
    sessions = make_sessions(make_engine(pg_url))
    with seaweed(tmp_path / "seaweed") as s3:
        for name, value in s3.env().items():
            monkeypatch.setenv(name, value)
        with LocalProcesses(pg_url, STORE, NAMES, tmp_path / "logs", settings=s3.env()) as stack:
            hosts = {name: _runner(stack, tmp_path, name) for name in ("host-a", "host-b")}
            slack = stack.standin
            # Plays 1 to 3: the sprint, the lock and a first batch, rendered on either host.
            thread, first, _ = walk.to_volume(stack, TEAM, "Hero art for the spring campaign.")
            # A longer batch; the host holding it is killed mid-way and the other finishes it.
            slack.say(OPERATOR, CHANNEL, "volume green bike; blue bike x8", thread_ts=thread)
            job = stack.wait(lambda: _running(sessions), 60, "the batch to be under way")
            hosts[str(job.lease_owner)].send_signal(signal.SIGKILL)
            hosts[str(job.lease_owner)].wait(10)
            with sessions() as s:
                stored_at_kill = s.get(Job, job.id).progress_done  # type: ignore[union-attr]
            assert stored_at_kill < 16, "the batch finished before its host was killed"
            batch = stack.message(CHANNEL, thread, "Volume batch", after=first, timeout=180)
            options = slack.element(CHANNEL, str(batch["ts"]), "keep_0")[1]["options"]
            number = int(options[0]["value"])
            # Play 4: a repair reads its parent from S3 on whichever host takes it.
            slack.say(OPERATOR, CHANNEL, f"keep {number}", thread_ts=thread)
            stack.message(CHANNEL, thread, "Kept")
            slack.say(OPERATOR, CHANNEL, f"fix {number} a1 clear sky", thread_ts=thread)
            repaired = stack.message(CHANNEL, thread, "Repaired #")
            match = re.search(r"Repaired #(\d+)", str(repaired["text"]))
            assert match, repaired["text"]
            # Play 5: the gate, then the ship pack, read back from S3 by serve.
            walk.clear(stack, TEAM, thread, int(match.group(1)), "A courier on a green bike.")
            slack.say(DIRECTOR, CHANNEL, "ship", thread_ts=thread)
            stack.message(CHANNEL, thread, "Ship pack for project")
            texts = [str(m.get("text") or "") for m in slack.thread(CHANNEL, thread)]
        with sessions() as s:
            jobs = s.scalars(select(Job)).all()
            images = s.scalars(select(Image)).all()
            killed = s.get(Job, job.id)
        assert all(j.status == "done" for j in jobs), [(j.kind, j.status, j.error) for j in jobs]
        assert killed is not None and killed.progress_done == killed.progress_total == 16
        indexes = [i.job_index for i in images if i.job_id == job.id]
        assert sorted(indexes) == list(range(16))  # nothing lost or doubled by the kill
        store = ImageStore(STORE)
        assert all(store.exists(image.file_hash) for image in images)
        assert sum("Volume batch" in text for text in texts) == 2  # each batch posted once
        assert sum("Ship pack for project" in text for text in texts) == 1


def _running(sessions: sessionmaker[Session]) -> Job | None:
    """The second volume batch, once a host has stored two of its images."""
    with sessions() as s:
        job = s.scalars(
            select(Job).where(Job.kind == "volume", Job.status == "running", Job.progress_done >= 2)
        ).first()
        return job if job is not None and job.lease_owner else None
