"""`/atelier …`: ack at once, then act; replies only the person who typed it sees."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.slack.grammar import UsageError, parse
from handlers import verbs
from handlers.context import Atelier, retried

log = logging.getLogger("atelier.slack")


def register(app: App, atelier: Atelier) -> None:
    @app.command("/atelier")
    def atelier_command(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        ack()
        user, channel = command["user_id"], command["channel_id"]
        try:
            parsed = parse(command.get("text", ""))
            reply = retried(
                lambda: verbs.run(
                    atelier,
                    parsed,
                    user=user,
                    channel=channel,
                    thread_ts=None,
                    trigger_id=command.get("trigger_id"),
                )
            )
        except UsageError as error:
            respond(text=str(error), response_type="ephemeral")
            return
        except Exception:
            log.exception("command failed", extra={"channel": channel, "user": user})
            respond(
                text=":warning: Something went wrong on our side and nothing was changed. Try again in a minute.",
                response_type="ephemeral",
            )
            return
        if reply is None:
            return
        if reply.modal is not None:
            atelier.client.views_open(trigger_id=command["trigger_id"], view=reply.modal)
            return
        respond(text=reply.text, blocks=reply.blocks, response_type="ephemeral")
