"""Read-side queries the service and the digest share."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased

from storage.models import (
    ATTEMPT_KINDS,
    GENERATION_KINDS,
    GateReview,
    Image,
    Job,
    Project,
    Ranking,
)


@dataclass(frozen=True)
class MetricInputs:
    generated: int
    kept: int
    # Every generation in scope (attempts, hero re-checks, upscales), for iterations per final.
    generations: int
    lineage_sizes: list[int]
    reviewed: int
    sent_back: int
    hero_durations: list[timedelta]
    candidates: int = 0
    ranked: int = 0


# Keep rate's images: volume renders at keep/cull (re-rolls and variations of them too).
VOLUME_ATTEMPTS = ("txt2img", "img2img")


_S = TypeVar("_S", bound=Select)  # type: ignore[type-arg]


def _scope(
    stmt: _S,
    project_column: Any,
    channel_id: str | None,
    project_id: int | None,
) -> _S:
    if project_id is not None:
        return stmt.where(project_column == project_id)
    if channel_id is not None:
        in_channel = select(Project.id).where(Project.channel_id == channel_id)
        return stmt.where(project_column.in_(in_channel))
    return stmt


def metric_inputs(
    session: Session,
    *,
    since: datetime,
    until: datetime,
    channel_id: str | None = None,
    project_id: int | None = None,
) -> MetricInputs:
    """Counts for the four metrics over [since, until), for a project, a channel or the team."""
    attempts = select(func.count(Image.id), func.count(Image.kept_at)).where(
        Image.play == "volume",
        Image.kind.in_(VOLUME_ATTEMPTS),
        Image.created_at >= since,
        Image.created_at < until,
    )
    generated, kept = session.execute(
        _scope(attempts, Image.project_id, channel_id, project_id)
    ).one()
    made = select(func.count(Image.id)).where(
        Image.kind.in_(GENERATION_KINDS), Image.created_at >= since, Image.created_at < until
    )
    generations = session.scalar(_scope(made, Image.project_id, channel_id, project_id)) or 0

    clears = aliased(GateReview)
    shipped = (
        select(Image.root_id)
        .join(clears, clears.image_id == Image.id)
        .where(clears.decision == "cleared", clears.created_at >= since, clears.created_at < until)
    )
    roots = [
        row for row in session.scalars(_scope(shipped, Image.project_id, channel_id, project_id))
    ]
    sizes: dict[int, int] = {}
    if roots:
        lineage = (
            select(Image.root_id, func.count(Image.id))
            .where(Image.root_id.in_(set(roots)), Image.kind.in_(ATTEMPT_KINDS))
            .group_by(Image.root_id)
        )
        sizes = {root: int(count) for root, count in session.execute(lineage) if root is not None}

    reviews = select(
        func.count(GateReview.id),
        func.count(GateReview.id).filter(GateReview.decision == "sent_back"),
    ).where(GateReview.created_at >= since, GateReview.created_at < until)
    reviewed, sent_back = session.execute(
        _scope(reviews, GateReview.project_id, channel_id, project_id)
    ).one()

    heroes = select(Project.created_at, Project.hero_approved_at).where(
        Project.hero_approved_at >= since, Project.hero_approved_at < until
    )
    durations: list[timedelta] = []
    for created, approved in session.execute(_scope(heroes, Project.id, channel_id, project_id)):
        if approved is not None:
            durations.append(approved - created)

    candidates, ranked = _sprint_picks(session, since, until, channel_id, project_id)
    return MetricInputs(
        candidates=candidates,
        ranked=ranked,
        generated=int(generated),
        kept=int(kept),
        generations=int(generations),
        lineage_sizes=[sizes.get(root, 0) for root in roots if root is not None],
        reviewed=int(reviewed),
        sent_back=int(sent_back),
        hero_durations=durations,
    )


def lineage_attempts(session: Session, root_id: int) -> int:
    """Generations spent on one final image: every attempt sharing its lineage root."""
    stmt = select(func.count(Image.id)).where(
        Image.root_id == root_id, Image.kind.in_(ATTEMPT_KINDS)
    )
    return int(session.scalar(stmt) or 0)


# The job param naming the lineage root whose iteration budget the job's images spend.
LINEAGE = "lineage"


def lineage_pending(session: Session, project_id: int, root_id: int) -> int:
    """Images a lineage's queued and running jobs will still make (not yet stored)."""
    jobs = session.scalars(
        select(Job).where(Job.project_id == project_id, Job.status.in_(("queued", "running")))
    )
    return sum(
        job.progress_total - job.progress_done
        for job in jobs
        if (job.params or {}).get(LINEAGE) == root_id
    )


def last_generation_at(session: Session, project_id: int, user: str) -> datetime | None:
    """When this user last asked for a generation in this project."""
    stmt = select(func.max(Job.created_at)).where(
        Job.project_id == project_id, Job.created_by == user
    )
    return session.scalar(stmt)


def lock_user(session: Session, user: str) -> None:
    """Serialize one person's queue decisions until the transaction ends.

    PostgreSQL: a transaction-scoped advisory lock keyed by the user id; SQLite has one writer.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    key = int.from_bytes(hashlib.sha256(f"queue:{user}".encode()).digest()[:8], "big", signed=True)
    session.execute(select(func.pg_advisory_xact_lock(key)))


def queued_images_for(session: Session, user: str) -> int:
    stmt = select(func.coalesce(func.sum(Job.progress_total - Job.progress_done), 0)).where(
        Job.created_by == user, Job.status.in_(("queued", "running"))
    )
    return int(session.scalar(stmt) or 0)


@dataclass(frozen=True)
class PromptKeepers:
    """How one sprint style or volume slot value did: generated, and how many made the cut."""

    prompt: str
    generated: int
    kept: int

    def as_dict(self) -> dict[str, Any]:
        return {"prompt": self.prompt, "generated": self.generated, "kept": self.kept}


def _sprint_picks(
    session: Session,
    since: datetime,
    until: datetime,
    channel_id: str | None,
    project_id: int | None,
) -> tuple[int, int]:
    """Sprint candidates made in the window, and how many of them the Director ranked."""
    candidates = select(Image.id).where(
        Image.play == "sprint",
        Image.kind == "txt2img",
        Image.created_at >= since,
        Image.created_at < until,
    )
    ids = set(session.scalars(_scope(candidates, Image.project_id, channel_id, project_id)))
    rankings = _scope(select(Ranking.image_ids), Ranking.project_id, channel_id, project_id)
    ranked: set[int] = set()
    for image_ids in session.scalars(rankings):
        ranked |= set(image_ids) & ids
    return len(ids), len(ranked)


def keepers_by_prompt(
    session: Session, project_id: int
) -> tuple[list[PromptKeepers], list[PromptKeepers]]:
    """The playbook's "track which prompts produced keepers", for one project.

    Sprint styles count a candidate as a keeper when the Director ranked it; volume slot
    values when it was kept at keep/cull (whatever happened to it after). Best first.
    """
    ranked: set[int] = set()
    for ids in session.scalars(select(Ranking.image_ids).where(Ranking.project_id == project_id)):
        ranked |= set(ids)
    styles: dict[str, list[int]] = {}
    sprint = select(Image.id, Image.style).where(
        Image.project_id == project_id, Image.play == "sprint", Image.kind == "txt2img"
    )
    for image_id, style in session.execute(sprint):
        counts = styles.setdefault(style or "", [0, 0])
        counts[0] += 1
        counts[1] += image_id in ranked
    volume = (
        select(Image.slot_value, func.count(Image.id), func.count(Image.kept_at))
        .where(
            Image.project_id == project_id,
            Image.play == "volume",
            Image.kind.in_(VOLUME_ATTEMPTS),
        )
        .group_by(Image.slot_value)
    )
    slots = [
        PromptKeepers(value or "", total, kept) for value, total, kept in session.execute(volume)
    ]
    return (
        sorted(
            (PromptKeepers(style, *counts) for style, counts in styles.items()), key=_best_first
        ),
        sorted(slots, key=_best_first),
    )


def _best_first(keepers: PromptKeepers) -> tuple[float, str]:
    return (-keepers.kept / keepers.generated if keepers.generated else 0.0, keepers.prompt)
