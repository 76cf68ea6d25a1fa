"""What every listener shares: running a use case safely, and the reply a person sees."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.exc import DBAPIError

from bot.playbook.plays.base import REQUEST_KEY
from bot.playbook.service import PlaybookService
from bot.slack.context import Atelier
from bot.slack.grammar import Command
from bot.slack.inbox import request_key

log = logging.getLogger("atelier.slack")
T = TypeVar("T")
# A use case cut off by a database restart is run again this many times in all.
TRIES = 3
SOMETHING_WENT_WRONG = ":warning: Something went wrong on our side and nothing was changed."


def went_wrong(what: str, **extra: Any) -> str:
    """Log the exception being handled under a reference; the person gets the reference only."""
    reference = uuid.uuid4().hex[:8]
    log.exception(what, extra={**extra, "reference": reference})
    return f"{SOMETHING_WENT_WRONG} Try again in a minute; if it persists, quote reference {reference}."


@dataclass
class Reply:
    """What only the person who asked sees."""

    text: str
    blocks: list[dict[str, Any]] | None = None
    modal: dict[str, Any] | None = field(default=None)


def retried(
    work: Callable[[], T],
    *,
    key: str | None = None,
    applied: Callable[[str], bool] | None = None,
) -> T | None:
    """Run a use case again when the database connection was cut under it (a server restart).

    Why a second run cannot apply a decision twice: a use case commits its decision, its audit
    entry and the messages it causes in one transaction. A cut before COMMIT rolled all of it
    back, so the next try starts clean. A cut after the server committed but before it said so
    leaves the audit entry, stamped with this request's `key`: before trying again, `applied`
    looks for it, and if it is there the decision stands and nothing runs twice (None).
    The next try waits for the server to come back (see storage.db).
    """
    token = REQUEST_KEY.set(key)
    try:
        attempt = 1
        while True:
            try:
                return work()
            except DBAPIError as error:
                if not error.connection_invalidated or attempt == TRIES:
                    raise
                log.warning("database connection cut; trying again", extra={"attempt": attempt})
                attempt += 1
                if key is not None and applied is not None and applied(key):
                    log.info("the cut decision had committed; not applying it again")
                    return None
    finally:
        REQUEST_KEY.reset(token)


def decide(atelier: Atelier, body: dict[str, Any], work: Callable[[], T]) -> T | None:
    """Run a listener's use case for one Slack request, safe against a dropped connection."""
    return retried(work, key=request_key(body), applied=atelier.service.applied)


@dataclass(frozen=True)
class Call:
    """One command as a handler sees it: who, where, the parsed words, and the project."""

    atelier: Atelier
    command: Command
    user: str
    channel: str
    thread_ts: str | None
    trigger_id: str | None
    files: list[dict[str, Any]]
    project_id: int = 0

    @property
    def args(self) -> dict[str, Any]:
        return self.command.args

    @property
    def service(self) -> PlaybookService:
        return self.atelier.service


def in_project(call: Call, work: Callable[[Call], Reply | None]) -> Reply | None:
    """Run `work` on the project the command is about (thread, `p3`, or the channel's latest)."""
    project = call.atelier.project_for(call.channel, call.thread_ts, call.command.project)
    if project is None:
        return Reply(
            "There is no project here yet. Start one with `/atelier new <the intent in one sentence>`."
        )
    return work(Call(**{**call.__dict__, "project_id": project.id}))
