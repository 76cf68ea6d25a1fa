"""Emoji: ✅ approves or clears, ❌ sends back (only the role holder's count); 🔍 shows an image's info."""

from __future__ import annotations

import logging
import time
from typing import Any

from slack_bolt import App, BoltContext

from bot.playbook.errors import PlaybookError
from bot.slack import blocks
from bot.slack.context import Atelier
from bot.slack.info import info_blocks
from handlers.context import decide

log = logging.getLogger("atelier.slack")
APPROVE, REJECT = "white_check_mark", "x"
INFO = ("mag", "mag_right")  # 🔍 and 🔎: `info` for the image, to whoever reacted
# How long a reaction to the bot's own message waits for the bot to record that message.
INDEX_WAIT_SECONDS = 5.0


def _indexed(atelier: Atelier, channel: str, ts: str, *, wait: float) -> Any:
    """What a message is about; one the bot has only just posted may take a moment to be indexed."""
    deadline = time.monotonic() + wait
    while True:
        ref = atelier.index.message(channel, ts)
        if ref is not None or time.monotonic() >= deadline:
            return ref
        time.sleep(0.1)


def _decide(
    atelier: Atelier, kind: str, project_id: int, image_id: int | None, user: str, reaction: str
) -> None:
    """What an emoji on one of the bot's messages decides, if anything."""
    service = atelier.service
    if reaction == APPROVE and kind in ("moodboard", "hero"):
        service.approve(project_id, user, "direction" if kind == "moodboard" else "hero")
        return
    if kind != "gate" or image_id is None:
        return
    project = service.project(project_id)
    if user != project.reviewer:
        raise PlaybookError(
            f"Only the Reviewer ({blocks.mention(project.reviewer)}) decides at the gate; your reaction changed nothing."
        )
    image = service.image_by_id(image_id)
    assert image is not None
    if reaction == APPROVE:
        service.clear(project_id, user, image.number)
    else:
        service.ask_sendback_reason(project_id, user, image.number)


def _show_info(atelier: Atelier, project: Any, ref: Any, user: str) -> None:
    """One image's card to the person who reacted; on a message of several, which numbers."""
    service = atelier.service
    if ref.image_id is not None:
        image = service.image_by_id(ref.image_id)
        assert image is not None
        text, shown = info_blocks(service.image_info(project.id, image.number))
        atelier.whisper(project.channel_id, user, text, thread_ts=project.thread_ts, blocks=shown)
        return
    numbers = [f"#{i.number}" for i in service.job_images(ref.job_id)] if ref.job_id else []
    which = f" This message shows {', '.join(numbers)}." if numbers else ""
    atelier.whisper(
        project.channel_id,
        user,
        f":mag: 🔍 shows one image: react on a single image's message, or type `info N`.{which}",
        thread_ts=project.thread_ts,
    )


def reaction_added(event: dict[str, Any], body: dict[str, Any], context: BoltContext) -> None:
    if (
        event.get("reaction") not in (APPROVE, REJECT, *INFO)
        or event.get("item", {}).get("type") != "message"
    ):
        return
    atelier: Atelier = context["atelier"]
    channel, ts, user = event["item"]["channel"], event["item"]["ts"], event["user"]
    ours = event.get("item_user") == context.bot_user_id
    ref = _indexed(atelier, channel, ts, wait=INDEX_WAIT_SECONDS if ours else 0.0)
    if ref is None or ref.project_id is None:
        return
    project = atelier.service.project(ref.project_id)
    if event["reaction"] in INFO:
        _show_info(atelier, project, ref, user)
        return
    try:
        decide(
            atelier,
            body,
            lambda: _decide(atelier, ref.kind, project.id, ref.image_id, user, event["reaction"]),
        )
    except PlaybookError as error:
        atelier.whisper(channel, user, f":no_entry: {error}", thread_ts=project.thread_ts)


def register(app: App) -> None:
    app.event("reaction_added")(reaction_added)
