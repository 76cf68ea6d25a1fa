"""What the Slack adapter remembers: which posted message is about what, and events already seen."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.slack.blocks import escape
from storage import outbox
from storage.models import SlackMessage, utcnow


class MessageIndex:
    """Clicks and emoji arrive with a message ts; this says which project, job or image it shows."""

    def __init__(
        self, sessions: sessionmaker[Session], *, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.sessions = sessions
        self.clock = clock

    def remember(
        self,
        channel_id: str,
        ts: str,
        kind: str,
        *,
        project_id: int | None = None,
        job_id: int | None = None,
        image_id: int | None = None,
        recipe_id: int | None = None,
        shown: int = 0,
    ) -> None:
        """Index a posted message; indexing one twice (a resent outbox message) keeps the first."""
        with self.sessions.begin() as s:
            if self._find(s, channel_id, ts) is not None:
                return
            s.add(
                SlackMessage(
                    channel_id=channel_id,
                    ts=ts,
                    kind=kind,
                    project_id=project_id,
                    job_id=job_id,
                    image_id=image_id,
                    recipe_id=recipe_id,
                    shown=shown,
                    created_at=self.clock(),
                )
            )

    def message(self, channel_id: str, ts: str) -> SlackMessage | None:
        with self.sessions.begin() as s:
            return self._find(s, channel_id, ts)

    def progress_message(self, job_id: int) -> SlackMessage | None:
        with self.sessions.begin() as s:
            return s.scalars(
                select(SlackMessage).where(
                    SlackMessage.job_id == job_id, SlackMessage.kind == "progress"
                )
            ).first()

    def retrying(self, channel_id: str) -> list[str]:
        """How each message in this channel that waits to be retried is doing, in words."""
        with self.sessions.begin() as s:
            return [
                f"{m.kind} (try {m.attempts} of {outbox.MAX_ATTEMPTS}: {escape(m.last_error or '')})"
                for m in outbox.retrying(s, channel_id)
            ]

    def undeliverable(self, channel_id: str) -> list[tuple[str, str]]:
        """(kind, Slack's reason) for messages Slack refused for good in this channel."""
        with self.sessions.begin() as s:
            return [(m.kind, m.last_error or "") for m in outbox.failed(s, channel_id)]

    def mark_shown(self, message_id: int, shown: int) -> None:
        with self.sessions.begin() as s:
            row = s.get(SlackMessage, message_id)
            if row is not None:
                row.shown = shown

    @staticmethod
    def _find(s: Session, channel_id: str, ts: str) -> SlackMessage | None:
        return s.scalars(
            select(SlackMessage).where(SlackMessage.channel_id == channel_id, SlackMessage.ts == ts)
        ).first()
