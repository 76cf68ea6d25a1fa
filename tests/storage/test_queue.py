"""Queue semantics on SQLite and PostgreSQL: order, fairness, leases, retries, idempotence."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.playbook.service import PlaybookService
from bot.runner.backend import Backend, GenTask, OutOfMemory
from bot.runner.diffusion import backend_for
from bot.runner.worker import Worker
from storage import queue
from storage.files import ImageStore, StoreError
from storage.models import Image as ImageRow
from storage.models import Job, utcnow

SETTINGS = {
    "model": "tiny",
    "scheduler": "EulerDiscreteScheduler",
    "steps": 2,
    "guidance": 5.0,
    "width": 64,
    "height": 64,
}


def one_job(worker: Worker) -> None:
    """Take one job and see it through: its last step may still be on the saving line."""
    worker.run_once()
    worker.line.settle()


def volume_job(
    s: Session,
    project_id: int,
    channel: str = "C1",
    images: int = 1,
    kind: str = "volume",
    key: str = "k",
    person: str = "U1",
) -> Job:
    params = {
        "settings": SETTINGS,
        "images": [{"prompt": f"p{i}", "seed": i} for i in range(images)],
    }
    return queue.enqueue(
        s,
        channel_id=channel,
        project_id=project_id,
        kind=kind,
        params=params,
        created_by=person,
        total=images,
        batch_key=key,
    )


@pytest.fixture
def project_id(service: PlaybookService) -> int:
    return service.start_project("C1", "U1", "Art for spring.").project.id


def claim_kinds(sessions: sessionmaker[Session], n: int) -> list[tuple[str, str]]:
    out = []
    for _ in range(n):
        with sessions.begin() as s:
            job = queue.claim(s, "w")
            assert job is not None
            out.append((job.kind, job.channel_id))
    return out


def test_hero_checks_and_repairs_first_then_the_rest_in_turn(
    sessions: sessionmaker[Session], project_id: int
) -> None:
    with sessions.begin() as s:
        for kind in ("volume", "sprint", "fix", "volume", "hero"):
            volume_job(s, project_id, kind=kind)
    assert [k for k, _ in claim_kinds(sessions, 5)] == ["fix", "hero", "volume", "sprint", "volume"]


def test_a_sprint_does_not_jump_another_channels_earlier_volume_run(
    sessions: sessionmaker[Session], project_id: int
) -> None:
    """Channels take turns whatever the kind: a long run is split into turns, not skipped."""
    with sessions.begin() as s:
        volume_job(s, project_id, channel="CVOLUME")
        volume_job(s, project_id, channel="CSPRINT", kind="sprint")
    assert [channel for _, channel in claim_kinds(sessions, 2)] == ["CVOLUME", "CSPRINT"]


def test_people_in_one_channel_take_turns(sessions: sessionmaker[Session], project_id: int) -> None:
    with sessions.begin() as s:
        for person in ("UANA", "UANA", "UANA", "UBEN"):
            volume_job(s, project_id, person=person)
    with sessions() as s:
        people = {job.id: job.created_by for job in s.scalars(select(Job))}
    order = []
    for _ in range(3):
        with sessions.begin() as s:
            job = queue.claim(s, "w")
            assert job is not None
            order.append(people[job.id])
    assert order == ["UANA", "UBEN", "UANA"]


def test_a_run_yields_between_batches_to_another_person_in_its_channel(
    sessions: sessionmaker[Session], project_id: int
) -> None:
    with sessions.begin() as s:
        first = volume_job(s, project_id, person="UANA")
        volume_job(s, project_id, person="UANA")
    with sessions.begin() as s:
        job = queue.claim(s, "w")
        assert job is not None and job.id == first.id
        assert not queue.others_waiting(s, job)  # the same person's next job waits behind it
        volume_job(s, project_id, person="UBEN")
        assert queue.others_waiting(s, job)


def test_one_channels_big_run_does_not_starve_another_channel(
    sessions: sessionmaker[Session], project_id: int
) -> None:
    with sessions.begin() as s:
        for _ in range(5):
            volume_job(s, project_id, channel="CBIG")
        volume_job(s, project_id, channel="CSMALL")
    order = [channel for _, channel in claim_kinds(sessions, 3)]
    assert order == ["CBIG", "CSMALL", "CBIG"]


def test_a_lapsed_lease_is_claimed_again_and_attempts_are_bounded(
    sessions: sessionmaker[Session], project_id: int
) -> None:
    with sessions.begin() as s:
        job_id = volume_job(s, project_id).id
    now = utcnow()
    for attempt in range(1, 4):
        with sessions.begin() as s:
            job = queue.claim(s, f"w{attempt}", now=now, lease_seconds=10)
            assert job is not None and job.id == job_id and job.attempts == attempt
        with sessions.begin() as s:
            assert (
                queue.claim(s, "other", now=now + timedelta(seconds=5)) is None
            )  # lease still held
        now += timedelta(seconds=11)
    with sessions.begin() as s:
        assert queue.claim(s, "w4", now=now) is None
        job = s.get(Job, job_id)
        assert job is not None and job.status == "failed"
        assert job.error is not None and "gave up after 3 attempts" in job.error


def test_a_dead_runners_batch_is_taken_over_whole(
    sessions: sessionmaker[Session], project_id: int
) -> None:
    """Its companions come along with the first job, not one full job's time after another."""
    with sessions.begin() as s:
        ids = [volume_job(s, project_id).id for _ in range(3)]
    now = utcnow()
    with sessions.begin() as s:
        first = queue.claim(s, "dead", now=now, lease_seconds=10)
        assert first is not None
        assert (
            len(queue.claim_companions(s, first, "dead", limit=7, now=now, lease_seconds=10)) == 2
        )
    later = now + timedelta(seconds=11)
    with sessions.begin() as s:
        again = queue.claim(s, "heir", now=later, lease_seconds=10)
        assert again is not None
        companions = queue.claim_companions(s, again, "heir", limit=7, now=later)
        assert sorted([again.id, *(c.id for c in companions)]) == ids
        assert {c.attempts for c in companions} == {2}


def test_a_runner_killed_while_its_batch_progressed_costs_the_job_no_attempt(
    sessions: sessionmaker[Session], project_id: int
) -> None:
    """Three deploys during one long volume run must not fail it; a job that kills its runner
    before anything is stored still runs out of attempts (the test above)."""
    with sessions.begin() as s:
        job_id = volume_job(s, project_id, images=4).id
    now = utcnow()
    for index in range(4):
        with sessions.begin() as s:
            job = queue.claim(s, f"w{index}", now=now, lease_seconds=10)
            assert job is not None and job.attempts == 1
            s.add(
                ImageRow(
                    project_id=project_id,
                    number=index + 1,
                    job_id=job_id,
                    job_index=index,
                    play="volume",
                    kind="txt2img",
                    width=64,
                    height=64,
                    file_hash=f"{index:064d}",
                    created_by="U1",
                    created_at=now + timedelta(seconds=1),
                )
            )
        now += timedelta(seconds=11)  # killed after storing one image; the lease lapses


def test_failure_retries_with_backoff_then_gives_up(
    sessions: sessionmaker[Session], project_id: int
) -> None:
    with sessions.begin() as s:
        job_id = volume_job(s, project_id).id
    with sessions.begin() as s:
        job = queue.claim(s, "w")
        assert job is not None
        queue.fail(s, job, "flaky")
        assert job.status == "queued" and job.not_before is not None and job.not_before > utcnow()
    with sessions.begin() as s:
        assert queue.claim(s, "w") is None  # backing off
    with sessions.begin() as s:
        assert queue.claim(s, "w", now=utcnow() + timedelta(seconds=60)) is not None
        job = s.get(Job, job_id)
        assert job is not None
        queue.fail(s, job, "broken", retryable=False)
        assert job.status == "failed" and job.error == "broken"


def test_renewal_fails_for_a_runner_that_lost_its_job(
    sessions: sessionmaker[Session], project_id: int
) -> None:
    with sessions.begin() as s:
        job_id = volume_job(s, project_id).id
    with sessions.begin() as s:
        queue.claim(s, "old", lease_seconds=1)
    with sessions.begin() as s:
        queue.claim(s, "new", now=utcnow() + timedelta(seconds=5))
    with sessions.begin() as s:
        assert queue.renew(s, job_id, "old") is False
        assert queue.renew(s, job_id, "new") is True


def test_a_retried_job_never_duplicates_or_loses_an_image(
    sessions: sessionmaker[Session], store: ImageStore, project_id: int
) -> None:
    with sessions.begin() as s:
        job_id = volume_job(s, project_id, images=6).id

    class StopAfterOneChunk:
        def __init__(self, inner: Backend) -> None:
            self.inner, self.model_id, self.model_hash = inner, inner.model_id, inner.model_hash

        def text_to_image(self, tasks: Sequence[GenTask]) -> list[Image.Image]:
            first.stop.set()  # as SIGTERM would: finish this chunk, then release the job
            return self.inner.text_to_image(tasks)

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

    first = Worker(
        sessions,
        store,
        lambda m: StopAfterOneChunk(backend_for(m)),
        worker_id="first",
        batch_size=2,
    )  # type: ignore[arg-type,return-value]
    one_job(first)
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(ImageRow)) == 2
        assert s.get(Job, job_id).status == "queued"  # type: ignore[union-attr]
    one_job(Worker(sessions, store, backend_for, worker_id="second", batch_size=4))
    with sessions() as s:
        rows = s.scalars(select(ImageRow).order_by(ImageRow.job_index)).all()
        job = s.get(Job, job_id)
    assert [row.job_index for row in rows] == [0, 1, 2, 3, 4, 5]
    assert [row.number for row in rows] == [1, 2, 3, 4, 5, 6]
    assert job is not None and job.status == "done" and job.progress_done == 6


def test_jobs_that_share_a_recipe_run_as_one_batch(
    sessions: sessionmaker[Session], store: ImageStore, project_id: int
) -> None:
    with sessions.begin() as s:
        ids = [volume_job(s, project_id, images=2).id for _ in range(3)]
    calls: list[int] = []

    class Counting:
        def __init__(self, inner: Backend) -> None:
            self.inner, self.model_id, self.model_hash = inner, inner.model_id, inner.model_hash

        def text_to_image(self, tasks: Sequence[GenTask]) -> list[Image.Image]:
            calls.append(len(tasks))
            return self.inner.text_to_image(tasks)

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

    one_job(Worker(sessions, store, lambda m: Counting(backend_for(m)), batch_size=6))  # type: ignore[arg-type,return-value]
    assert calls == [6]
    with sessions() as s:
        assert [s.get(Job, i).status for i in ids] == ["done"] * 3  # type: ignore[union-attr]


class OomAbove:
    """The tiny backend, but 'out of memory' for batches larger than `limit`."""

    def __init__(self, limit: int) -> None:
        self.inner = backend_for("tiny")
        self.model_id, self.model_hash, self.limit = (
            self.inner.model_id,
            self.inner.model_hash,
            limit,
        )
        self.sizes: list[int] = []

    def text_to_image(self, tasks: Sequence[GenTask]) -> list[Image.Image]:
        self.sizes.append(len(tasks))
        if len(tasks) > self.limit:
            raise OutOfMemory("CUDA out of memory")
        return self.inner.text_to_image(tasks)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_out_of_memory_halves_the_batch_and_goes_on(
    sessions: sessionmaker[Session], store: ImageStore, project_id: int
) -> None:
    with sessions.begin() as s:
        job_id = volume_job(s, project_id, images=8).id
    fake = OomAbove(2)
    worker = Worker(sessions, store, lambda m: fake, batch_size=8)  # type: ignore[arg-type,return-value]
    one_job(worker)
    with sessions() as s:
        assert s.get(Job, job_id).status == "done"  # type: ignore[union-attr]
        assert s.scalar(select(func.count()).select_from(ImageRow)) == 8
    assert fake.sizes[:3] == [8, 4, 2] and worker.batch_size == 2


def test_out_of_memory_at_batch_one_fails_with_a_clear_error(
    sessions: sessionmaker[Session], store: ImageStore, project_id: int
) -> None:
    with sessions.begin() as s:
        job_id = volume_job(s, project_id, images=2).id
    one_job(Worker(sessions, store, lambda m: OomAbove(0), batch_size=2))  # type: ignore[arg-type,return-value]
    with sessions() as s:
        job = s.get(Job, job_id)
    assert job is not None and job.status == "failed"
    assert job.error is not None and "out of GPU memory even at batch 1" in job.error


def test_a_long_run_yields_to_a_more_urgent_job(
    sessions: sessionmaker[Session], store: ImageStore, project_id: int
) -> None:
    with sessions.begin() as s:
        volume_id = volume_job(s, project_id, images=4, key="").id
    worker = Worker(sessions, store, backend_for, batch_size=2)
    original = worker.owes_turn

    def hero_arrives(job_ids: list[int]) -> bool:
        with sessions.begin() as s:
            volume_job(s, project_id, kind="hero", key="")
        return original(job_ids)

    worker.owes_turn = hero_arrives  # type: ignore[method-assign]
    one_job(worker)
    with sessions() as s:
        job = s.get(Job, volume_id)
        assert (
            job is not None
            and job.status == "queued"
            and job.attempts == 0
            and job.progress_done == 2
        )
    with sessions.begin() as s:
        nxt = queue.claim(s, "w")
        assert nxt is not None and nxt.kind == "hero"


def test_an_unwritable_store_fails_the_job_clearly_and_it_retries(
    sessions: sessionmaker[Session], tmp_path: Any, project_id: int
) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the store's folder should be")
    with sessions.begin() as s:
        job_id = volume_job(s, project_id).id
    one_job(Worker(sessions, ImageStore(str(blocked)), backend_for))
    with sessions() as s:
        job = s.get(Job, job_id)
        assert (
            job is not None
            and job.status == "queued"
            and "cannot write to the image store" in (job.error or "")
        )
    with sessions.begin() as s:
        s.get(Job, job_id).not_before = None  # type: ignore[union-attr]
    one_job(Worker(sessions, ImageStore(str(tmp_path / "fine")), backend_for))
    with sessions() as s:
        assert s.get(Job, job_id).status == "done"  # type: ignore[union-attr]


def test_a_batch_that_fails_to_save_stops_its_job_there_and_the_retry_keeps_the_order(
    sessions: sessionmaker[Session], store: ImageStore, project_id: int
) -> None:
    """The render runs ahead of the saving line; a batch after the failed one is never saved."""

    class FailingOnce(ImageStore):
        puts = 0

        def put(self, data: bytes) -> str:
            FailingOnce.puts += 1
            if FailingOnce.puts == 3:  # the first image of the second batch
                raise StoreError("cannot write to the image store /x: disk full")
            return super().put(data)

    with sessions.begin() as s:
        job_id = volume_job(s, project_id, images=8).id
    one_job(Worker(sessions, FailingOnce(store.root), backend_for, batch_size=2))
    with sessions() as s:
        job = s.get(Job, job_id)
        rows = s.scalars(select(ImageRow.job_index).where(ImageRow.job_id == job_id)).all()
    assert job is not None and job.status == "queued" and "disk full" in (job.error or "")
    assert sorted(rows) == [0, 1]
    with sessions.begin() as s:
        s.get(Job, job_id).not_before = None  # type: ignore[union-attr]
    one_job(Worker(sessions, store, backend_for, batch_size=2))
    with sessions() as s:
        saved = s.scalars(
            select(ImageRow).where(ImageRow.job_id == job_id).order_by(ImageRow.job_index)
        ).all()
    assert [row.number for row in saved] == list(range(1, 9))
