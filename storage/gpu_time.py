"""GPU time: what rendering cost, per person, project and channel, and what a job will cost.

Every job carries the seconds its renders kept a runner's device busy (the runner adds them
after each attempt). A job counts in the window it was asked in, so a channel's week is the
work its people asked for that week, whenever the runners got to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import Job, Project

# Recent finished jobs of a model and size are what an estimate is measured from.
RECENT_JOBS = 200


@dataclass(frozen=True)
class GpuTime:
    by_person: dict[str, float]  # seconds, by who asked

    @property
    def seconds(self) -> float:
        return sum(self.by_person.values())

    @property
    def minutes(self) -> float:
        return self.seconds / 60


def used(
    session: Session,
    *,
    since: datetime,
    until: datetime,
    channel_id: str | None = None,
    project_id: int | None = None,
) -> GpuTime:
    """Runner seconds of the jobs asked in [since, until), for a project, a channel or the team."""
    stmt = (
        select(Job.created_by, func.sum(Job.gpu_seconds))
        .where(Job.created_at >= since, Job.created_at < until, Job.gpu_seconds > 0)
        .group_by(Job.created_by)
    )
    if project_id is not None:
        stmt = stmt.where(Job.project_id == project_id)
    elif channel_id is not None:
        stmt = stmt.where(Job.channel_id == channel_id)
    return GpuTime({person: float(seconds) for person, seconds in session.execute(stmt)})


def project_seconds(session: Session, project: Project) -> float:
    stmt = select(func.coalesce(func.sum(Job.gpu_seconds), 0.0)).where(Job.project_id == project.id)
    return float(session.scalar(stmt) or 0.0)


def seconds_per_image(session: Session, model: str, width: int, height: int) -> float | None:
    """Measured on the runners in use: recent finished jobs of this model and size; None if none."""
    recent = session.execute(
        select(Job.params, Job.gpu_seconds, Job.progress_total)
        .where(Job.status == "done", Job.gpu_seconds > 0, Job.kind.in_(("sprint", "volume")))
        .order_by(Job.id.desc())
        .limit(RECENT_JOBS)
    )
    seconds = images = 0.0
    for params, spent, total in recent:
        settings = (params or {}).get("settings") or {}
        if (settings.get("model"), settings.get("width"), settings.get("height")) == (
            model,
            width,
            height,
        ):
            seconds += spent
            images += total
    return seconds / images if images else None
