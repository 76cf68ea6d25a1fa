"""The job queue: one-transaction claims with leases, bounded retries, fair ordering."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from storage.models import Image, Job, utcnow
from storage.states import JobStatus

# Hero checks and repairs (one image each, someone waiting on it) first; all other work takes
# turns: across channels, then across people within a channel (`claim`), a batch at a time
# (the runner hands a job back between batches when someone else is owed a turn).
PRIORITY = {"hero": 0, "fix": 0, "sprint": 1, "vary": 1, "volume": 1, "upscale": 1}
BACKOFF_SECONDS = 5.0


def enqueue(
    session: Session,
    *,
    channel_id: str,
    kind: str,
    params: dict[str, Any],
    created_by: str,
    project_id: int | None = None,
    total: int = 1,
    batch_key: str = "",
    max_attempts: int = 3,
) -> Job:
    job = Job(
        channel_id=channel_id,
        project_id=project_id,
        kind=kind,
        priority=PRIORITY.get(kind, 2),
        params=params,
        created_by=created_by,
        progress_total=total,
        batch_key=batch_key,
        max_attempts=max_attempts,
        created_at=utcnow(),
    )
    session.add(job)
    session.flush()
    return job


def _claimable(now: datetime) -> ColumnElement[bool]:
    waiting = and_(Job.status == "queued", or_(Job.not_before.is_(None), Job.not_before <= now))
    lapsed = and_(Job.status == "running", Job.lease_expires_at < now)
    return or_(waiting, lapsed)


def claim(
    session: Session, worker: str, *, now: datetime | None = None, lease_seconds: float = 60.0
) -> Job | None:
    """Claim the next job: priority first, then the channel served longest ago, then within
    it the person served longest ago, then the oldest (`fair_order`)."""
    now = now or utcnow()
    while True:
        stmt = select(Job).where(_claimable(now)).order_by(*fair_order()).limit(1)
        if session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True, of=Job)
        job = session.scalars(stmt).first()
        if job is None:
            return None
        taken = _take(session, job, worker, now, lease_seconds)
        session.flush()
        if taken:
            return job


def fair_order() -> list[Any]:
    """The queue's order: priority, channel's turn, person's turn in the channel, age."""
    other = aliased(Job)
    channel_served = (
        select(func.max(other.claimed_at))
        .where(other.channel_id == Job.channel_id)
        .correlate(Job)
        .scalar_subquery()
    )
    person_served = (
        select(func.max(other.claimed_at))
        .where(other.channel_id == Job.channel_id, other.created_by == Job.created_by)
        .correlate(Job)
        .scalar_subquery()
    )
    return [
        Job.priority,
        channel_served.asc().nulls_first(),
        person_served.asc().nulls_first(),
        Job.id,
    ]


def _take(session: Session, job: Job, worker: str, now: datetime, lease_seconds: float) -> bool:
    """Lease a claimable job to `worker`; False when it has used up its attempts (now failed).

    A lapsed lease costs an attempt only when its runner died without storing an image since
    it claimed the job: a runner killed while its batch was making progress (a deploy, a lost
    machine) is no sign that the job kills runners, however often it happens.
    """
    if job.status != JobStatus.RUNNING or not _progressed(session, job):
        job.attempts += 1
    if job.attempts > job.max_attempts:
        job.status = JobStatus.FAILED
        job.error = job.error or "the runner holding it stopped answering"
        job.error = f"gave up after {job.max_attempts} attempts: {job.error}"
        job.finished_at = now
        job.lease_owner = None
        return False
    job.status = JobStatus.RUNNING
    job.lease_owner = worker
    job.lease_expires_at = now + timedelta(seconds=lease_seconds)
    job.claimed_at = now
    return True


def _progressed(session: Session, job: Job) -> bool:
    """Whether the runner whose lease on `job` lapsed stored any image of its batch after
    claiming it (its batch: the jobs sharing its settings, claimed and run together)."""
    if job.lease_owner is None or job.claimed_at is None:
        return False
    batch = Job.batch_key == job.batch_key if job.batch_key else Job.id == job.id
    held = select(Job.id).where(batch)
    stored = select(Image.id).where(Image.job_id.in_(held), Image.created_at >= job.claimed_at)
    return session.scalars(stored.limit(1)).first() is not None


def claim_companions(
    session: Session,
    job: Job,
    worker: str,
    *,
    limit: int,
    now: datetime | None = None,
    lease_seconds: float = 60.0,
) -> list[Job]:
    """Also claim jobs that share the first one's settings, so they run as one batch: queued
    ones, and ones a dead runner held with it (a batch is taken over whole, not one by one)."""
    if not job.batch_key or limit <= 0:
        return []
    now = now or utcnow()
    stmt = (
        select(Job)
        .where(_claimable(now), Job.batch_key == job.batch_key, Job.id != job.id)
        .order_by(Job.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    companions = [
        other
        for other in list(session.scalars(stmt))
        if _take(session, other, worker, now, lease_seconds)
    ]
    session.flush()
    return companions


def renew(session: Session, job_id: int, worker: str, *, lease_seconds: float = 60.0) -> bool:
    """Extend the lease; False means another runner took the job over."""
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.lease_owner == worker, Job.status == "running")
        .values(lease_expires_at=utcnow() + timedelta(seconds=lease_seconds))
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def progress(session: Session, job_id: int, done: int) -> None:
    session.execute(update(Job).where(Job.id == job_id).values(progress_done=done))


def complete(session: Session, job: Job, result: dict[str, Any]) -> None:
    job.status = JobStatus.DONE
    job.result = result
    job.finished_at = utcnow()
    job.lease_owner = None
    job.lease_expires_at = None
    job.error = None
    session.flush()


def fail(session: Session, job: Job, error: str, *, retryable: bool = True) -> None:
    """Record a failure; retry later with backoff while attempts remain."""
    job.error = error
    job.lease_owner = None
    job.lease_expires_at = None
    if retryable and job.attempts < job.max_attempts:
        job.status = JobStatus.QUEUED
        job.not_before = utcnow() + timedelta(seconds=BACKOFF_SECONDS * 2 ** (job.attempts - 1))
    else:
        job.status = JobStatus.FAILED
        job.finished_at = utcnow()
    session.flush()


def release(session: Session, job: Job) -> None:
    """Hand a job back untouched (shutdown or yielding to others); it does not count as a try."""
    job.status = JobStatus.QUEUED
    job.attempts = max(0, job.attempts - 1)
    job.lease_owner = None
    job.lease_expires_at = None
    session.flush()


def cancel(session: Session, job: Job) -> None:
    job.status = JobStatus.CANCELLED
    job.finished_at = utcnow()
    job.lease_owner = None
    session.flush()


def others_waiting(session: Session, job: Job, *, now: datetime | None = None) -> bool:
    """Is anyone else owed a turn: a more urgent job, or another channel's or person's as
    urgent? (A job of the same person in the same channel waits its turn behind this one.)"""
    now = now or utcnow()
    stmt = (
        select(Job.id)
        .where(Job.status == "queued", or_(Job.not_before.is_(None), Job.not_before <= now))
        .where(
            or_(
                Job.priority < job.priority,
                and_(
                    Job.priority == job.priority,
                    or_(Job.channel_id != job.channel_id, Job.created_by != job.created_by),
                ),
            )
        )
        .limit(1)
    )
    return session.scalars(stmt).first() is not None


def still_owned(session: Session, job_id: int, worker: str) -> bool:
    owner = session.scalar(select(Job.lease_owner).where(Job.id == job_id, Job.status == "running"))
    return owner == worker
