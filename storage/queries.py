"""Read-side queries the service and the digest share (the metrics' counts: storage.metric_windows)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.metric_windows import VOLUME_ATTEMPTS
from storage.models import Image, Job, Ranking
from storage.states import ATTEMPT_KINDS


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
