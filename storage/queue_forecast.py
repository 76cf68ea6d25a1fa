"""Where each job stands in the queue, and when it should be done: the queue's own turns, played out.

Position is the order in which queued jobs get their first turn (`queue.fair_order`). The
times come from playing the queue forward: each runner in use takes the next job in fair order
for one batch, as the runners do, at the seconds per image measured for that model and size
(storage.gpu_time). Nothing is promised where nothing was measured: a job whose renders, or
some ahead of it, have no measurement yet has no time, only a place in line.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import gpu_time, queue
from storage.models import Job

BATCH = 4  # images a runner renders in one turn (the runner's default batch)


@dataclass(frozen=True)
class Forecast:
    position: int  # 0: rendering now; 1, 2, …: in line
    done_in: float | None  # seconds from now; None when not measured


@dataclass
class _Work:
    job: Job
    left: int
    per_image: float | None
    turns: int = 0
    done_at: float | None = None
    key: tuple[Any, ...] = field(default_factory=tuple)


def forecast(session: Session) -> dict[int, Forecast]:
    """Every queued and running job's place and expected finish, by job id."""
    running = list(session.scalars(select(Job).where(Job.status == "running").order_by(Job.id)))
    queued = list(
        session.scalars(select(Job).where(Job.status == "queued").order_by(*queue.fair_order()))
    )
    rates: dict[tuple[Any, ...], float | None] = {}
    work = [
        _Work(job, max(0, job.progress_total - job.progress_done), _rate(session, job, rates))
        for job in running + queued
    ]
    # The runners in use are the ones holding jobs; with none holding any, one will come.
    _play_forward(work, runners=max(1, len({job.lease_owner for job in running})))
    places = {job.id: index + 1 for index, job in enumerate(queued)}
    return {item.job.id: Forecast(places.get(item.job.id, 0), item.done_at) for item in work}


def _play_forward(work: list[_Work], runners: int) -> None:
    """Give each free runner the next job's next batch, in the queue's order, until all is done."""
    order = {id(item): index for index, item in enumerate(work)}
    free = [(0.0, n) for n in range(runners)]
    heapq.heapify(free)
    busy: set[int] = set()  # jobs on a runner now (one runner a job)
    ends: list[tuple[float, int, _Work]] = []
    unknown = False
    while any(item.left for item in work):
        at, runner = heapq.heappop(free)
        while ends and ends[0][0] <= at:
            busy.discard(id(heapq.heappop(ends)[2]))
        waiting = [item for item in work if item.left and id(item) not in busy]
        if not waiting:  # everything left is on another runner: wait for the next to end
            heapq.heappush(free, (ends[0][0], runner))
            continue
        # Hero checks and repairs first; then whoever has had the fewest turns, in queue order
        # (the queue's turns across channels and people, as a round).
        item = min(waiting, key=lambda w: (w.job.priority, w.turns, order[id(w)]))
        images = min(BATCH, item.left)
        unknown = unknown or item.per_image is None
        end = at + images * (item.per_image or 0.0)
        item.left -= images
        item.turns += 1
        busy.add(id(item))
        heapq.heappush(ends, (end, id(item), item))
        if not item.left:
            item.done_at = None if unknown else end
        heapq.heappush(free, (end, runner))


def _rate(session: Session, job: Job, rates: dict[tuple[Any, ...], float | None]) -> float | None:
    params = job.params or {}
    settings = params.get("settings") or params.get("card") or {}
    key = (
        settings.get("model") or settings.get("model_id"),
        settings.get("width"),
        settings.get("height"),
    )
    if key not in rates:
        model, width, height = key
        rates[key] = (
            gpu_time.seconds_per_image(session, str(model), int(width), int(height))
            if model and width and height
            else None
        )
    return rates[key]
