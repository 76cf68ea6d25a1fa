"""A use case whose database connection is cut under it runs again, once, and lands."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from bot.playbook.service import PlaybookService
from handlers.context import TRIES, retried
from storage.db import make_engine, make_sessions
from storage.models import Project
from tests.conftest import truncate_all


def test_a_use_case_cut_off_by_the_server_runs_again_and_lands_once(pg_url: str) -> None:
    truncate_all(pg_url)
    engine = make_engine(pg_url)
    sessions = make_sessions(engine)
    service = PlaybookService(sessions)
    admin = make_engine(pg_url)
    tries: list[int] = []

    def start_project() -> int:
        tries.append(1)
        if len(tries) == 1:  # the first try loses its connection mid-transaction
            with sessions.begin() as s:
                pid = s.scalar(text("SELECT pg_backend_pid()"))
                with admin.begin() as other:
                    other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
                s.execute(text("SELECT 1"))
        return service.start_project("C1", "U1", "Posters for the spring launch.").project.id

    retried(start_project)
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Project)) == 1
    assert len(tries) == 2
    engine.dispose()
    admin.dispose()
    truncate_all(pg_url)


def test_other_database_errors_and_endless_cuts_are_not_hidden() -> None:
    cut = DBAPIError(
        "INSERT …", {}, Exception("server closed the connection"), connection_invalidated=True
    )
    refused = DBAPIError("INSERT …", {}, Exception("violates a constraint"))
    calls: list[int] = []

    def always(error: DBAPIError) -> None:
        calls.append(1)
        raise error

    with pytest.raises(DBAPIError):
        retried(lambda: always(refused))
    assert len(calls) == 1
    with pytest.raises(DBAPIError):
        retried(lambda: always(cut))
    assert len(calls) == 1 + TRIES
