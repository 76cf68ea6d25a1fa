"""Emoji approvals: ✅ approves or clears, ❌ sends back; only the role holder's count."""

from __future__ import annotations

import logging
import time
from typing import Any

from slack_bolt import App, BoltContext

from bot.playbook.errors import PlaybookError
from bot.playbook.gate import GateItem
from bot.slack import blocks
from handlers import actions, verbs
from handlers.context import Atelier, retried
from storage.models import Project, SlackMessage

log = logging.getLogger("atelier.slack")
APPROVE, REJECT = "white_check_mark", "x"
# How long a reaction to the bot's own message waits for the bot to record that message.
INDEX_WAIT_SECONDS = 5.0


def _indexed(atelier: Atelier, channel: str, ts: str, *, wait: float) -> SlackMessage | None:
    """What a message is about; one the bot has only just posted may take a moment to be indexed."""
    deadline = time.monotonic() + wait
    while True:
        ref = atelier.service.message(channel, ts)
        if ref is not None or time.monotonic() >= deadline:
            return ref
        time.sleep(0.1)


def _decide(
    atelier: Atelier, ref: SlackMessage, project: Project, user: str, reaction: str
) -> None:
    """What an emoji on one of the bot's messages decides, if anything."""
    if reaction == APPROVE and ref.kind in ("moodboard", "hero"):
        verbs.approve(atelier, project, user, "direction" if ref.kind == "moodboard" else "hero")
        atelier.service.refresh_root(project.id)
    elif ref.kind == "gate" and ref.image_id is not None:
        image = atelier.service.image_by_id(ref.image_id)
        assert image is not None
        if user != project.reviewer:
            raise PlaybookError(
                f"Only the Reviewer ({blocks.mention(project.reviewer)}) decides at the gate; your reaction changed nothing."
            )
        if reaction == APPROVE:
            draft = atelier.service.gate_draft(project.id, image.number)
            ticked = {GateItem(value) for value in (draft.ticked if draft else [])}
            actions.clear(
                atelier,
                project.id,
                user,
                image.number,
                ticked,
                (draft.alt_text if draft else "") or "",
            )
        else:
            atelier.service.notify(
                project,
                f"{blocks.mention(user)}, which checklist item does #{image.number} fail? Reply `sendback {image.number} <item> <note>` (people/logos/artists, license, content, alt text).",
            )


def register(app: App, atelier: Atelier) -> None:
    @app.event("reaction_added")
    def reaction(event: dict[str, Any], body: dict[str, Any], context: BoltContext) -> None:
        if (
            event.get("reaction") not in (APPROVE, REJECT)
            or event.get("item", {}).get("type") != "message"
        ):
            return
        if not atelier.service.first_delivery(body.get("event_id", "")):
            return
        channel, ts, user = event["item"]["channel"], event["item"]["ts"], event["user"]
        ours = event.get("item_user") == context.bot_user_id
        ref = _indexed(atelier, channel, ts, wait=INDEX_WAIT_SECONDS if ours else 0.0)
        if ref is None or ref.project_id is None:
            return
        project = atelier.service.project(ref.project_id)
        try:
            retried(lambda: _decide(atelier, ref, project, user, event["reaction"]))
        except PlaybookError as error:
            atelier.whisper(channel, user, f":no_entry: {error}", thread_ts=project.thread_ts)
