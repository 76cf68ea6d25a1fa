"""The daily digest and the reminders: composed here, scheduled by bot.schedule, posted via the outbox."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import matplotlib

from bot.playbook import notices as N

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - the backend must be chosen first

from bot.playbook.service import DigestData, PlaybookService  # noqa: E402
from bot.slack import blocks  # noqa: E402
from storage.files import ImageStore  # noqa: E402
from storage.models import utcnow  # noqa: E402

log = logging.getLogger("atelier.digest")
PAUSE_NUDGE_AFTER = timedelta(days=1)


def _percent(shares: Iterable[float | None]) -> list[float]:
    """Shares as percentages; a week without data is a gap in the line (NaN)."""
    return [float("nan") if share is None else share * 100 for share in shares]


def chart(data: DigestData) -> bytes:
    """Weekly keep rate and rework after review, as a small PNG line chart."""
    weeks = [end.strftime("%d %b") for end, _, _ in data.trend]
    keep = _percent(value for _, value, _ in data.trend)
    rework = _percent(value for _, _, value in data.trend)
    figure, axis = plt.subplots(figsize=(6.4, 2.6), dpi=110)
    positions = list(range(len(weeks)))
    axis.plot(positions, keep, marker="o", color="#2eb67d", label="Keep rate")
    axis.plot(positions, rework, marker="s", color="#e01e5a", label="Rework after review")
    axis.set_xticks(positions, weeks)
    axis.set_xlim(-0.5, len(weeks) - 0.5)
    axis.set_ylim(0, 100)
    axis.set_ylabel("%")
    axis.set_title(f"Last {len(weeks)} weeks (week ending)", fontsize=10)
    axis.grid(alpha=0.3)
    axis.legend(loc="upper left", fontsize=8, frameon=False)
    axis.tick_params(labelsize=8)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()


def text(data: DigestData) -> str:
    """The digest as plain text (`atelier digest --dry-run` prints this)."""
    lines = [
        f"Atelier digest for {data.channel_id} — {data.now:%A %d %B %Y}",
        f"Metrics, last {data.days} days (previous {data.days} in brackets); "
        f"GPU time {data.gpu.minutes:.1f} min ({data.gpu_before.minutes:.1f}):",
    ]
    for now, before in zip(data.current, data.previous, strict=True):
        lines.append(f"  {now.name}: {now.formatted()} ({before.formatted()}), {now.basis()}")
    lines.append(
        "Projects that moved in the last day:"
        if data.moved
        else "No project moved in the last day."
    )
    lines += capped([f"  {_moved(p, n, done)}" for p, n, done in data.moved], MOVED_LINES)
    lines.append("Paused:" if data.paused else "Nothing is paused.")
    lines += capped([f"  Project {p.id}: {p.pause_detail}" for p in data.paused], PAUSED_LINES)
    return "\n".join(lines)


# At most 12 lines in all: 2 headings, 5 metrics, 2 section lines and these.
MOVED_LINES, PAUSED_LINES = 2, 1


def capped(lines: list[str], room: int) -> list[str]:
    """At most `room` lines: the last one says how many more there are (`status` lists them)."""
    if len(lines) <= room:
        return lines
    return [*lines[: room - 1], f"  …and {len(lines) - room + 1} more: `status` lists them"]


def _moved(project: Any, actions: int, done: Sequence[str]) -> str:
    return (
        f"Project {project.id} — {project.intent} "
        f"({actions} decisions; done: {', '.join(done) or 'nothing yet'})"
    )


def digest_blocks(data: DigestData) -> list[dict[str, Any]]:
    out = blocks.metrics_blocks(
        f"Daily digest — {data.now:%a %d %b}",
        data.current,
        data.previous,
        data.days,
        (data.gpu, data.gpu_before),
    )
    moved = "\n".join(
        capped([f"• {blocks.escape(_moved(p, n, done))}" for p, n, done in data.moved], MOVED_LINES)
    )
    out.append(blocks.section("*Projects that moved*\n" + (moved or "none in the last day")))
    paused = "\n".join(
        capped([f"• Project {p.id}: {blocks.escape(p.pause_detail)}" for p in data.paused], 1)
    )
    out.append(blocks.section("*Paused*\n" + (paused or "nothing")))
    return out


def local_day(when: datetime, zone: str) -> str:
    return when.astimezone(ZoneInfo(zone)).date().isoformat()


def post_digest(
    service: PlaybookService,
    store: ImageStore,
    channel_id: str,
    *,
    now: datetime | None = None,
    once: bool = True,
) -> bool:
    """Compose and queue a channel's digest; with `once`, only the first caller per local day does."""
    now = now or utcnow()
    settings = service.settings(channel_id)
    if once and not service.claim_digest(channel_id, local_day(now, settings.digest_tz)):
        log.info("digest already posted today", extra={"channel": channel_id})
        return False
    data = service.digest_data(channel_id, now)
    chart_hash = store.put(chart(data))
    service.post_digest(
        channel_id, {"text": text(data), "blocks": digest_blocks(data), "chart_hash": chart_hash}
    )
    return True


def send_reminders(service: PlaybookService, *, now: datetime | None = None) -> int:
    """Nudge Reviewers about images waiting at the gate and Directors about long pauses.

    Each nudge is keyed by its 24-hour slot since the wait crossed the limit, so none repeats
    within a day, whichever of several processes sends it.
    """
    now = now or utcnow()
    sent = 0
    for project, image, hours, limit in service.waiting_at_gate(now):
        day = str(int((hours - limit) // 24))
        if service.nudge(
            "gate",
            image.id,
            day,
            project.id,
            N.GateWait(reviewer=project.reviewer, number=image.number, hours=hours),
        ):
            sent += 1
    for project in service.paused_longer_than(now, PAUSE_NUDGE_AFTER):
        waited = now - project.paused_at if project.paused_at else PAUSE_NUDGE_AFTER
        day = str(int((waited - PAUSE_NUDGE_AFTER) / timedelta(days=1)))
        hours = waited.total_seconds() / 3600
        if service.nudge(
            "pause",
            project.id,
            day,
            project.id,
            N.PausedLong(director=project.director, hours=hours, detail=project.pause_detail or ""),
        ):
            sent += 1
    return sent
