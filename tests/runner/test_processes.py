"""Real `atelier runner` processes: killed mid-job, stopped politely, and four at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.playbook.service import PlaybookService
from storage import queue
from storage.db import make_engine, make_sessions, migrate
from storage.models import Image, Job
from tests.conftest import truncate_all

SETTINGS = {
    "model": "tiny",
    "scheduler": "EulerDiscreteScheduler",
    "steps": 2,
    "guidance": 5.0,
    "width": 64,
    "height": 64,
}


def wait_for(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


class Runners:
    def __init__(self, db_url: str, store: Path) -> None:
        self.env = {
            **os.environ,
            "ATELIER_DATABASE_URL": db_url,
            "ATELIER_IMAGE_STORE": str(store),
            "PYTHONUNBUFFERED": "1",
            "OMP_NUM_THREADS": "1",
        }
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, name: str, batch: int = 1) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bot",
                "runner",
                "--lease-seconds",
                "3",
                "--poll-seconds",
                "0.2",
                "--batch-size",
                str(batch),
                "--worker-id",
                name,
            ],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self.procs.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(10)


@pytest.fixture
def runners(db_url: str, tmp_path: Path) -> Iterator[Runners]:
    group = Runners(db_url, tmp_path / "images")
    yield group
    group.stop_all()


@pytest.fixture
def project(sessions: sessionmaker[Session]) -> int:
    return PlaybookService(sessions).start_project("C1", "U1", "Art for spring.").project.id


def enqueue(
    sessions: sessionmaker[Session], project: int, images: int, count: int = 1
) -> list[int]:
    with sessions.begin() as s:
        return [
            queue.enqueue(
                s,
                channel_id="C1",
                project_id=project,
                kind="volume",
                created_by="U1",
                total=images,
                batch_key=f"k{n}",
                params={
                    "settings": SETTINGS,
                    "images": [{"prompt": f"p{n}-{i}", "seed": i} for i in range(images)],
                },
            ).id
            for n in range(count)
        ]


def progress(sessions: sessionmaker[Session], job_id: int) -> int:
    with sessions() as s:
        return s.scalar(select(func.count()).select_from(Image).where(Image.job_id == job_id)) or 0


def status(sessions: sessionmaker[Session], job_id: int) -> str:
    with sessions() as s:
        job = s.get(Job, job_id)
        return job.status if job else "missing"


def test_a_killed_runners_job_is_finished_by_another_with_nothing_lost_or_doubled(
    sessions: sessionmaker[Session], runners: Runners, project: int
) -> None:
    (job_id,) = enqueue(sessions, project, images=24)
    victim = runners.start("victim")
    assert wait_for(lambda: progress(sessions, job_id) >= 3, 90), (
        victim.stderr.read().decode()
        if victim.poll() is not None and victim.stderr
        else "no progress"
    )
    victim.send_signal(signal.SIGKILL)
    victim.wait(10)
    done_at_kill = progress(sessions, job_id)
    assert done_at_kill < 24
    runners.start("rescuer")
    assert wait_for(lambda: status(sessions, job_id) == "done", 120)
    with sessions() as s:
        rows = s.scalars(
            select(Image).where(Image.job_id == job_id).order_by(Image.job_index)
        ).all()
        job = s.get(Job, job_id)
    assert [row.job_index for row in rows] == list(range(24))
    assert len({row.number for row in rows}) == 24
    # The victim had stored images when it died: a kill is no fault of the job, so no attempt.
    assert job is not None and job.attempts == 1 and job.progress_done == 24


def test_sigterm_releases_the_job_and_exits_cleanly(
    sessions: sessionmaker[Session], runners: Runners, project: int
) -> None:
    (job_id,) = enqueue(sessions, project, images=40)
    proc = runners.start("polite")
    assert wait_for(lambda: progress(sessions, job_id) >= 2, 90)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0
    with sessions() as s:
        job = s.get(Job, job_id)
        assert (
            job is not None
            and job.status == "queued"
            and job.lease_owner is None
            and job.attempts == 0
        )
    assert 2 <= progress(sessions, job_id) < 40


def test_four_runners_on_postgresql_do_every_job_exactly_once(pg_url: str, tmp_path: Path) -> None:
    engine = make_engine(pg_url)
    migrate(engine)
    sessions = make_sessions(engine)
    project = PlaybookService(sessions).start_project("CLOAD", "U1", "Art for spring.").project.id
    job_ids = set(enqueue(sessions, project, images=1, count=200))
    group = Runners(pg_url, tmp_path / "images")
    try:
        for n in range(4):
            group.start(f"runner-{n}", batch=4)

        def all_done() -> bool:
            with sessions() as s:
                return (
                    s.scalar(
                        select(func.count())
                        .select_from(Job)
                        .where(Job.id.in_(job_ids), Job.status == "done")
                    )
                    == 200
                )

        assert wait_for(all_done, 300)
    finally:
        group.stop_all()
    with sessions() as s:
        jobs = s.scalars(select(Job).where(Job.id.in_(job_ids))).all()
        images = s.scalars(select(Image).where(Image.job_id.in_(job_ids))).all()
        owners = {row.job_id: row for row in images}
    assert len(images) == 200 and set(owners) == job_ids
    assert {job.attempts for job in jobs} == {1}
    assert len({job.claimed_at for job in jobs}) > 1
    engine.dispose()
    truncate_all(pg_url)


def test_a_runner_killed_mid_pipeline_loses_and_reorders_nothing(
    pg_url: str, tmp_path: Path
) -> None:
    """Killed while its saving line holds a stored PNG whose row is not written yet."""
    engine = make_engine(pg_url)
    migrate(engine)
    sessions = make_sessions(engine)
    project = PlaybookService(sessions).start_project("C1", "U1", "Art for spring.").project.id
    (job_id,) = enqueue(sessions, project, images=16)
    store = tmp_path / "images"
    group = Runners(pg_url, store)
    blocker = engine.connect()
    try:
        victim = group.start("victim", batch=2)
        assert wait_for(lambda: progress(sessions, job_id) >= 2, 90)
        # Hold inserts into images: the line's next commit waits with its PNGs already stored,
        # and the render loop runs on until the line is full.
        transaction = blocker.begin()
        blocker.exec_driver_sql("LOCK TABLE images IN SHARE ROW EXCLUSIVE MODE")
        recorded = progress(sessions, job_id)
        assert wait_for(lambda: len(pngs(store)) > recorded, 30)
        time.sleep(2)
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        transaction.rollback()
        assert progress(sessions, job_id) == recorded  # the stored PNG's row never committed
        group.start("rescuer", batch=4)
        assert wait_for(lambda: status(sessions, job_id) == "done", 120)
    finally:
        blocker.close()
        group.stop_all()
    with sessions() as s:
        rows = s.scalars(
            select(Image).where(Image.job_id == job_id).order_by(Image.job_index)
        ).all()
        job = s.get(Job, job_id)
    assert [row.job_index for row in rows] == list(range(16))
    assert [row.number for row in rows] == list(range(1, 17))  # in the job's order, no gaps
    # Every row's PNG is in the store. The dead runner's stored-but-unrecorded PNGs may stay
    # beside them, unreferenced (the rescuer renders those indexes in batches of another size,
    # which on a CPU can change a pixel's last bit, so not always into the same file).
    stored = {path.stem for path in pngs(store)}
    assert {row.file_hash for row in rows} <= stored
    assert job is not None and job.attempts == 1
    engine.dispose()
    truncate_all(pg_url)


def pngs(store: Path) -> list[Path]:
    return [path for path in store.rglob("*") if path.is_file()] if store.exists() else []
