"""What every listener needs: the service, the image store and a Slack client."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import DBAPIError

from bot.playbook.service import PlaybookService
from storage.files import ImageStore
from storage.models import Project

log = logging.getLogger("atelier.slack")
T = TypeVar("T")
# A use case cut off by a database restart is run again this many times in all.
TRIES = 3


def retried(work: Callable[[], T]) -> T:
    """Run a use case again when the database connection was cut under it (a server restart).

    The cut transaction was rolled back, so nothing happens twice; the next try waits for the
    server to come back (see storage.db).
    """
    attempt = 1
    while True:
        try:
            return work()
        except DBAPIError as error:
            if not error.connection_invalidated or attempt == TRIES:
                raise
            log.warning("database connection cut; trying again", extra={"attempt": attempt})
            attempt += 1


@dataclass
class Atelier:
    service: PlaybookService
    store: ImageStore
    client: WebClient

    def whisper(
        self,
        channel: str,
        user: str,
        text: str,
        *,
        thread_ts: str | None = None,
        blocks: list[dict[str, Any]] | None = None,
    ) -> None:
        """An ephemeral message only `user` sees; failures are logged, never raised at them."""
        try:
            self.client.chat_postEphemeral(
                channel=channel, user=user, text=text, blocks=blocks, thread_ts=thread_ts
            )
        except SlackApiError as error:
            log.warning(
                "ephemeral failed", extra={"error": error.response.get("error"), "channel": channel}
            )

    def warn(self, project: Project, warnings: list[str]) -> None:
        """Post what a use case went ahead with but wants the team to know, one line each."""
        for warning in warnings:
            self.service.notify(project, f":warning: {warning}")

    def project_for(
        self, channel: str, thread_ts: str | None, explicit: int | None
    ) -> Project | None:
        """The project a command is about: the thread's, the one named (`p3`), or the channel's latest."""
        if explicit is not None:
            project = self.service.project(explicit)
            return project if project.channel_id == channel else None
        if thread_ts:
            found = self.service.project_in_thread(channel, thread_ts)
            if found is not None:
                return found
        return self.service.latest_project(channel)
