"""A channel's weekly cap on GPU minutes: work that would pass it is refused before it queues.

The week is the last seven days, so a cap frees up as old work ages out rather than all at once
on a Monday. What the new job will cost is measured, not guessed: seconds per image of this
model and size on the runners in use (storage.gpu_time); with no measurement yet, only a channel
already over its cap is refused.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.playbook import errors
from storage import gpu_time
from storage.models import ChannelSettings

WEEK = timedelta(days=7)


def check(
    s: Session, settings: ChannelSettings, params: dict[str, Any], images: int, now: datetime
) -> None:
    cap = settings.gpu_minutes_weekly
    if cap is None:
        return
    spent = gpu_time.used(s, since=now - WEEK, until=now + WEEK, channel_id=settings.channel_id)
    need = estimate_minutes(s, params, images)
    if spent.minutes + need <= cap:
        return
    raise errors.GpuCapReached(
        f"This channel has used {minutes(spent.minutes)} of its {cap} GPU minutes this week "
        f"(the last 7 days){f'; this needs about {minutes(need)} more' if need else ''}. "
        "The channel's Director or a workspace admin can raise the cap "
        f"(`settings gpu-minutes {max(cap * 2, round(spent.minutes + need) + 1)}`), "
        "or it frees up as this week's work ages out."
    )


def estimate_minutes(s: Session, params: dict[str, Any], images: int) -> float:
    """Minutes `images` renders will take, from what the runners measured; 0 when unmeasured."""
    settings = params.get("settings") or params.get("card") or {}
    model = settings.get("model") or settings.get("model_id")
    width, height = settings.get("width"), settings.get("height")
    if not (model and width and height):
        return 0.0
    per_image = gpu_time.seconds_per_image(s, str(model), int(width), int(height))
    return images * per_image / 60 if per_image else 0.0


def minutes(value: float) -> str:
    return f"{value:.1f} min" if value < 10 else f"{value:.0f} min"
