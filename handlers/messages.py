"""Thread replies: the same verbs without a slash; editor uploads become new versions."""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from slack_bolt import App

from bot.playbook.errors import PlaybookError
from bot.playbook.service import Project
from bot.slack import uploads
from bot.slack.context import Atelier
from bot.slack.grammar import UsageError
from handlers import verbs
from handlers.context import Reply, decide, went_wrong

log = logging.getLogger("atelier.slack")
_MENTION = re.compile(r"^\s*<@[UW][A-Z0-9]+>\s*")
_VERSION = re.compile(r"^\s*version\s+#?(\d+)\s*$", re.I)
# How long a reply under Atelier's message waits for the thread's project to be recorded.
ROOT_RECORDED_WITHIN = 10.0


def _is_command(text: str) -> bool:
    return verbs.is_verb(text.strip().split(" ", 1)[0])


def _from_a_person_in_a_thread(event: dict[str, Any]) -> bool:
    return (
        not event.get("bot_id")
        and event.get("subtype") in (None, "file_share")
        and bool(event.get("thread_ts"))
    )


def acts_on(atelier: Atelier, body: dict[str, Any]) -> bool:
    """Whether Atelier will act on a request, so the inbox keeps it.

    Every command, click and non-message event is kept. Of message events, only a person's
    reply (or file) in a project's thread: the channel's own chat, bots' posts (Atelier's
    included) and edits are none of Atelier's business, and are not stored anywhere.
    """
    event = body.get("event") or {}
    if body.get("type") != "event_callback" or event.get("type") != "message":
        return True
    if not _from_a_person_in_a_thread(event):
        return False
    if _under_our_message(body, event):
        return True  # a project's thread, perhaps one whose root is still being recorded
    return (
        atelier.service.project_in_thread(event.get("channel", ""), event["thread_ts"]) is not None
    )


def _under_our_message(body: dict[str, Any], event: dict[str, Any]) -> bool:
    """Whether the thread starts with a message of Atelier's (Slack names its author)."""
    ours = {a.get("user_id") for a in body.get("authorizations") or [] if a.get("is_bot")}
    return bool(event.get("parent_user_id")) and event["parent_user_id"] in ours


def _project_of(
    atelier: Atelier, body: dict[str, Any], event: dict[str, Any], channel: str, thread: str
) -> Project | None:
    """The thread's project. A reply can arrive between Slack's answer to the root post and
    the commit that records its thread; under Atelier's own message, wait that out briefly."""
    project = atelier.service.project_in_thread(channel, thread)
    if project is not None or not _under_our_message(body, event):
        return project
    deadline = time.monotonic() + ROOT_RECORDED_WITHIN
    while project is None:
        if time.monotonic() > deadline:
            return None  # a reply to another of Atelier's messages (a digest, a listing)
        time.sleep(0.2)
        project = atelier.service.project_in_thread(channel, thread)
    return project


def _respond(
    atelier: Atelier, body: dict[str, Any], project: Project, event: dict[str, Any]
) -> Reply | None:
    """An editor's file, a command, or (for a typo of a verb) a suggestion; chat is ignored."""
    channel, user, thread = event["channel"], event.get("user", ""), event["thread_ts"]
    text = _MENTION.sub("", event.get("text") or "")
    files = event.get("files") or []
    if files and not text.lower().startswith("fix"):
        match = _VERSION.match(text)
        number = int(match.group(1)) if match else None
        decide(
            atelier,
            body,
            lambda: uploads.record_editor_upload(atelier, project, user, files, number),
        )
        return None
    if not (_is_command(text) or text != (event.get("text") or "")):
        suggestion = verbs.did_you_mean(text)
        return Reply(suggestion) if suggestion is not None else None
    call = verbs.Call(atelier, verbs.parse(text), user, channel, thread, None, files)
    return decide(atelier, body, lambda: verbs.run(call))


def thread_reply(event: dict[str, Any], body: dict[str, Any], context: dict[str, Any]) -> None:
    if not _from_a_person_in_a_thread(event):
        return
    atelier: Atelier = context["atelier"]
    channel, user, thread = event["channel"], event.get("user", ""), event["thread_ts"]
    project = _project_of(atelier, body, event, channel, thread)
    if project is None:
        return
    try:
        reply = _respond(atelier, body, project, event)
    except UsageError as error:
        atelier.whisper(channel, user, str(error), thread_ts=thread)
        return
    except PlaybookError as error:
        atelier.whisper(channel, user, f":no_entry: {error}", thread_ts=thread)
        return
    except Exception:
        said = went_wrong("thread reply failed", channel=channel)
        atelier.whisper(channel, user, said, thread_ts=thread)
        return
    if reply is not None:
        atelier.whisper(channel, user, reply.text, thread_ts=thread, blocks=reply.blocks)


def app_mention(event: dict[str, Any], body: dict[str, Any], context: dict[str, Any]) -> None:
    atelier: Atelier = context["atelier"]
    if event.get("thread_ts"):
        return  # in a thread the message listener answers
    atelier.whisper(
        event["channel"],
        event.get("user", ""),
        "Start a project with `/atelier new <the intent in one sentence>`; `/atelier help` lists everything.",
    )


def register(app: App) -> None:
    app.event("message")(thread_reply)
    app.event("app_mention")(app_mention)
