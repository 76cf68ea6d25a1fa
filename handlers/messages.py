"""Thread replies: the same verbs without a slash; editor uploads become new versions."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import App

from bot.playbook.errors import PlaybookError
from bot.slack.grammar import ALIASES, USAGE, UsageError, parse
from handlers import verbs
from handlers.context import Atelier, retried

log = logging.getLogger("atelier.slack")
_MENTION = re.compile(r"^\s*<@[UW][A-Z0-9]+>\s*")
_VERSION = re.compile(r"^\s*version\s+#?(\d+)\s*$", re.I)


def _is_command(text: str) -> bool:
    word = text.strip().split(" ", 1)[0].lower()
    return word in USAGE or word in ALIASES or bool(re.fullmatch(r"p\d+", word)) or word == "send"


def register(app: App, atelier: Atelier) -> None:
    @app.event("message")
    def thread_reply(event: dict[str, Any], body: dict[str, Any], context: dict[str, Any]) -> None:
        if (
            event.get("bot_id")
            or event.get("subtype") not in (None, "file_share")
            or not event.get("thread_ts")
        ):
            return
        if not atelier.service.first_delivery(body.get("event_id", "")):
            return
        channel, user, thread = event["channel"], event.get("user", ""), event["thread_ts"]
        project = atelier.service.project_in_thread(channel, thread)
        if project is None:
            return
        text = _MENTION.sub("", event.get("text") or "")
        mentioned = text != (event.get("text") or "")
        files = event.get("files") or []
        try:
            if files and not text.lower().startswith("fix"):
                match = _VERSION.match(text)
                verbs.record_editor_upload(
                    atelier, project, user, files, int(match.group(1)) if match else None
                )
                return
            if not (_is_command(text) or mentioned):
                return
            parsed = parse(text)
            reply = retried(
                lambda: verbs.run(
                    atelier, parsed, user=user, channel=channel, thread_ts=thread, files=files
                )
            )
        except UsageError as error:
            atelier.whisper(channel, user, str(error), thread_ts=thread)
            return
        except PlaybookError as error:
            atelier.whisper(channel, user, f":no_entry: {error}", thread_ts=thread)
            return
        except Exception:
            log.exception("thread reply failed", extra={"channel": channel})
            atelier.whisper(
                channel,
                user,
                ":warning: Something went wrong on our side and nothing was changed.",
                thread_ts=thread,
            )
            return
        if reply is not None:
            atelier.whisper(channel, user, reply.text, thread_ts=thread, blocks=reply.blocks)

    @app.event("app_mention")
    def mentioned(event: dict[str, Any], body: dict[str, Any]) -> None:
        if event.get("thread_ts") or not atelier.service.first_delivery(body.get("event_id", "")):
            return  # in a thread the message listener answers
        atelier.whisper(
            event["channel"],
            event.get("user", ""),
            "Start a project with `/atelier new <the intent in one sentence>`; `/atelier help` lists everything.",
        )
