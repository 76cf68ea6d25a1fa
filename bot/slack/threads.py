"""Posting into a project's thread: what every outbox renderer (posts, gate_posts) shares."""

from __future__ import annotations

from typing import Any

from bot.slack.sender import Sender
from storage.models import OutboxMessage, Project


class NotReady(Exception):
    """The message depends on something not there yet (the project's thread); try again shortly."""


def project_thread(project: Project | None) -> Project:
    if project is None or project.thread_ts is None:
        raise NotReady("the project's thread is not posted yet")
    return project


def post_in_thread(
    d: Sender,
    message: OutboxMessage,
    project: Project,
    text: str,
    message_blocks: list[dict[str, Any]] | None = None,
    *,
    kind: str | None = None,
    **ref: Any,
) -> dict[str, Any]:
    """Post into the project's thread; `kind` indexes the post so clicks and emoji find it."""
    ts = d.chat_post(
        message,
        channel=project.channel_id,
        thread_ts=project.thread_ts,
        text=text,
        blocks=message_blocks,
    )
    if kind:
        d.index.remember(project.channel_id, ts, kind, project_id=project.id, **ref)
    return {"ts": ts}
