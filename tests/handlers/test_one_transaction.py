"""A decision and the messages it causes commit together, so a cut connection never doubles either."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from bot.workbench.local import LocalSlack
from handlers.context import retried
from storage import outbox
from storage.models import AuditEntry, OutboxMessage, Ranking
from tests.workbench import CHANNEL, DIRECTOR, sprint, start


def _cut() -> DBAPIError:
    return DBAPIError(
        "INSERT INTO outbox …",
        {},
        Exception("server closed the connection"),
        connection_invalidated=True,
    )


@pytest.fixture
def cut_the_first_notice(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The first notice's outbox insert loses the connection, as a server restart would."""
    real = outbox.add
    cuts: list[str] = []

    def add(session: Any, **message: Any) -> Any:
        if message["kind"] == "notice" and not cuts:
            cuts.append(message["payload"].get("event", ""))
            raise _cut()
        return real(session, **message)

    monkeypatch.setattr(outbox, "add", add)
    yield cuts


def _count(local: LocalSlack, *where: Any) -> int:
    with local.server.atelier.service.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(where[0]).where(*where[1:])) or 0)


def test_a_cut_between_the_ranking_and_its_notice_ranks_once_and_says_so_once(
    local: LocalSlack, cut_the_first_notice: list[str]
) -> None:
    thread = start(local)
    sprint(local, thread)
    local.standin.say(DIRECTOR, CHANNEL, "rank 1 2 3", thread_ts=thread)
    local.message(CHANNEL, thread, "ranked #1")
    local.settle()
    assert cut_the_first_notice == ["ranked"]
    assert _count(local, Ranking) == 1
    assert _count(local, AuditEntry, AuditEntry.action == "rank") == 1
    said = [m["text"] for m in local.standin.thread(CHANNEL, thread) if "ranked #1" in m["text"]]
    assert len(said) == 1
    assert _count(local, OutboxMessage, OutboxMessage.status != "sent") == 0


def test_a_decision_whose_commit_answer_was_lost_is_not_applied_again(
    local: LocalSlack,
) -> None:
    """The server committed, then the connection died before it said so: the audit key tells."""
    thread = start(local)
    sprint(local, thread)
    service = local.server.atelier.service
    project = service.project_in_thread(CHANNEL, thread)
    assert project is not None
    tries: list[int] = []

    def rank_then_lose_the_answer() -> None:
        tries.append(1)
        service.rank(project.id, DIRECTOR, [1, 2, 3])
        if len(tries) == 1:
            raise _cut()

    assert retried(rank_then_lose_the_answer, key="t:lost-commit", applied=service.applied) is None
    assert len(tries) == 1
    assert _count(local, Ranking) == 1
    local.message(CHANNEL, thread, "ranked #1")
    local.settle()
    said = [m["text"] for m in local.standin.thread(CHANNEL, thread) if "ranked #1" in m["text"]]
    assert len(said) == 1
