"""The counts behind the four metrics, for several time windows in one pass over the data.

The digest asks for ten windows (this week, last week, eight trend weeks); asked one by one,
each window re-read the channel's images, ten scans at a million generations. Here the
windows' edges cut time into slices, every query groups its rows by slice once, and each
window sums the slices it covers, so windows may overlap and the data is read once.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from storage.gate_models import GateReview
from storage.models import Image, Project, Ranking
from storage.states import ATTEMPT_KINDS, GENERATION_KINDS

# Keep rate's images: volume renders at keep/cull (re-rolls and variations of them too).
VOLUME_ATTEMPTS = ("txt2img", "img2img")

Window = tuple[datetime, datetime]  # [since, until)


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
    # Send-backs by the checklist item they failed (stored keys: a channel's own items too).
    sent_back_items: dict[str, int] = field(default_factory=dict)


@dataclass
class _Slice:
    """One stretch between two window edges; a window's inputs are the sum of its slices."""

    generated: int = 0
    kept: int = 0
    generations: int = 0
    shipped_roots: list[int] = field(default_factory=list)
    reviewed: int = 0
    sent_back: int = 0
    hero_durations: list[timedelta] = field(default_factory=list)
    candidates: int = 0
    ranked: int = 0
    sent_back_items: Counter[str] = field(default_factory=Counter)


def metric_inputs(
    session: Session,
    *,
    since: datetime,
    until: datetime,
    channel_id: str | None = None,
    project_id: int | None = None,
) -> MetricInputs:
    """Counts for the four metrics over [since, until), for a project, a channel or the team."""
    return metric_inputs_by_window(
        session, [(since, until)], channel_id=channel_id, project_id=project_id
    )[0]


def metric_inputs_by_window(
    session: Session,
    windows: Sequence[Window],
    *,
    channel_id: str | None = None,
    project_id: int | None = None,
) -> list[MetricInputs]:
    """Counts for each window, in the order given, reading each table once."""
    edges = sorted({edge for window in windows for edge in window})
    scope = _Scope(channel_id, project_id)
    slices = [_Slice() for _ in edges[:-1]]
    _count_images(session, edges, scope, slices)
    _count_sprint_picks(session, edges, scope, slices)
    _collect_shipped(session, edges, scope, slices)
    _count_reviews(session, edges, scope, slices)
    _collect_heroes(session, edges, scope, slices)
    roots = {root for part in slices for root in part.shipped_roots}
    sizes = _lineage_sizes(session, roots)
    return [
        _window(slices[edges.index(since) : edges.index(until)], sizes) for since, until in windows
    ]


_S = TypeVar("_S", bound=Select)  # type: ignore[type-arg]


@dataclass(frozen=True)
class _Scope:
    channel_id: str | None
    project_id: int | None

    def __call__(self, stmt: _S, project_column: Any) -> _S:
        if self.project_id is not None:
            return stmt.where(project_column == self.project_id)
        if self.channel_id is not None:
            in_channel = select(Project.id).where(Project.channel_id == self.channel_id)
            return stmt.where(project_column.in_(in_channel))
        return stmt


def _slice_of(column: Any, edges: list[datetime]) -> Any:
    """The slice index of a row, in SQL; rows outside [first edge, last edge) are filtered out."""
    return case(*[(column < edge, index) for index, edge in enumerate(edges[1:])])


def _in_range(column: Any, edges: list[datetime]) -> Any:
    return (column >= edges[0]) & (column < edges[-1])


def _count_images(
    session: Session, edges: list[datetime], scope: _Scope, slices: list[_Slice]
) -> None:
    part = _slice_of(Image.created_at, edges)
    attempt = (Image.play == "volume") & Image.kind.in_(VOLUME_ATTEMPTS)
    stmt = (
        select(
            part,
            func.count(Image.id).filter(attempt),
            func.count(Image.kept_at).filter(attempt),
            func.count(Image.id).filter(Image.kind.in_(GENERATION_KINDS)),
        )
        .where(_in_range(Image.created_at, edges))
        .group_by(part)
    )
    for index, generated, kept, generations in session.execute(scope(stmt, Image.project_id)):
        slices[index].generated = int(generated)
        slices[index].kept = int(kept)
        slices[index].generations = int(generations)


def _count_sprint_picks(
    session: Session, edges: list[datetime], scope: _Scope, slices: list[_Slice]
) -> None:
    """Sprint candidates made in each slice, and how many of them the Director ranked."""
    ranked: set[int] = set()
    for image_ids in session.scalars(scope(select(Ranking.image_ids), Ranking.project_id)):
        ranked |= set(image_ids)
    candidates = select(Image.id, Image.created_at).where(
        Image.play == "sprint", Image.kind == "txt2img", _in_range(Image.created_at, edges)
    )
    for image_id, created_at in session.execute(scope(candidates, Image.project_id)):
        part = slices[_index(edges, created_at)]
        part.candidates += 1
        part.ranked += image_id in ranked


def _collect_shipped(
    session: Session, edges: list[datetime], scope: _Scope, slices: list[_Slice]
) -> None:
    """Each clearance's lineage root, in the slice of the clearance (reviews scope the search)."""
    part = _slice_of(GateReview.created_at, edges)
    stmt = (
        select(part, Image.root_id)
        .join(Image, Image.id == GateReview.image_id)
        .where(GateReview.decision == "cleared", _in_range(GateReview.created_at, edges))
    )
    for index, root in session.execute(scope(stmt, GateReview.project_id)):
        if root is not None:
            slices[index].shipped_roots.append(root)


def _count_reviews(
    session: Session, edges: list[datetime], scope: _Scope, slices: list[_Slice]
) -> None:
    part = _slice_of(GateReview.created_at, edges)
    stmt = (
        select(
            part,
            GateReview.reason_item,
            func.count(GateReview.id),
            func.count(GateReview.id).filter(GateReview.decision == "sent_back"),
        )
        .where(_in_range(GateReview.created_at, edges))
        .group_by(part, GateReview.reason_item)
    )
    rows = session.execute(scope(stmt, GateReview.project_id))
    for index, item, reviewed, sent_back in rows:
        slices[index].reviewed += int(reviewed)
        slices[index].sent_back += int(sent_back)
        if item and sent_back:
            slices[index].sent_back_items[item] += int(sent_back)


def _collect_heroes(
    session: Session, edges: list[datetime], scope: _Scope, slices: list[_Slice]
) -> None:
    stmt = select(Project.created_at, Project.hero_approved_at).where(
        _in_range(Project.hero_approved_at, edges)
    )
    for created, approved in session.execute(scope(stmt, Project.id)):
        if approved is not None:  # the range excludes none, but the column may hold one
            slices[_index(edges, approved)].hero_durations.append(approved - created)


def _lineage_sizes(session: Session, roots: set[int]) -> dict[int, int]:
    if not roots:
        return {}
    stmt = (
        select(Image.root_id, func.count(Image.id))
        .where(Image.root_id.in_(roots), Image.kind.in_(ATTEMPT_KINDS))
        .group_by(Image.root_id)
    )
    return {root: int(count) for root, count in session.execute(stmt) if root is not None}


def _index(edges: list[datetime], moment: datetime) -> int:
    """The slice a moment read back from the database falls in (SQLite returns it naive)."""
    if moment.tzinfo is None and edges[0].tzinfo is not None:
        moment = moment.replace(tzinfo=edges[0].tzinfo)
    return bisect_right(edges, moment) - 1


def _window(parts: list[_Slice], sizes: dict[int, int]) -> MetricInputs:
    return MetricInputs(
        generated=sum(part.generated for part in parts),
        kept=sum(part.kept for part in parts),
        generations=sum(part.generations for part in parts),
        lineage_sizes=[sizes.get(root, 0) for part in parts for root in part.shipped_roots],
        reviewed=sum(part.reviewed for part in parts),
        sent_back=sum(part.sent_back for part in parts),
        hero_durations=[d for part in parts for d in part.hero_durations],
        candidates=sum(part.candidates for part in parts),
        ranked=sum(part.ranked for part in parts),
        sent_back_items=dict(sum((part.sent_back_items for part in parts), Counter[str]())),
    )
