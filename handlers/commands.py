"""`/atelier …`: ack at once, then act; replies only the person who typed it sees."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.slack.context import Atelier
from bot.slack.grammar import UsageError
from handlers import verbs
from handlers.context import decide, went_wrong

log = logging.getLogger("atelier.slack")


def atelier_command(
    ack: Ack, command: dict[str, Any], respond: Respond, context: dict[str, Any]
) -> None:
    ack()
    atelier: Atelier = context["atelier"]
    user, channel = command["user_id"], command["channel_id"]
    try:
        call = verbs.Call(
            atelier,
            verbs.parse(command.get("text", "")),
            user=user,
            channel=channel,
            thread_ts=None,
            trigger_id=command.get("trigger_id"),
            files=[],
        )
        reply = decide(atelier, command, lambda: verbs.run(call))
    except UsageError as error:
        respond(text=str(error), response_type="ephemeral")
        return
    except Exception:
        said = went_wrong("command failed", channel=channel, user=user)
        respond(
            text=said,
            response_type="ephemeral",
        )
        return
    if reply is None:
        return
    if reply.modal is not None:
        atelier.client.views_open(trigger_id=command["trigger_id"], view=reply.modal)
        return
    respond(text=reply.text, blocks=reply.blocks, response_type="ephemeral")


def register(app: App) -> None:
    app.command("/atelier")(atelier_command)
