"""Shared fixtures: every database test runs on SQLite and on the real PostgreSQL.

Except end to end: a test through the Slack stand-in (the `local` fixture) runs on PostgreSQL
only where it is marked `also_postgresql` (what PostgreSQL does differently is claims, row locks
and concurrent requests: the inbox, the outbox, double deliveries, every role's clicks). The
same use cases and queries run on both databases in tests/playbook and tests/storage.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.playbook.service import PlaybookService
from bot.runner.worker import Worker
from storage.db import make_engine, make_sessions, migrate
from storage.files import ImageStore
from storage.models import Base, Job

pytest_plugins = ["tests.fixtures", "tests.workbench"]

PG_ADMIN_URL = os.environ.get("ATELIER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    kept, dropped = [], []
    for item in items:
        spec = getattr(item, "callspec", None)
        on_postgresql = spec is not None and spec.params.get("db_url") == "postgresql"
        end_to_end = "local" in getattr(item, "fixturenames", ())
        marked = item.get_closest_marker("also_postgresql") is not None
        (dropped if on_postgresql and end_to_end and not marked else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A throwaway PostgreSQL database; unreachable PostgreSQL fails the run, never skips it."""
    name = f"atelier_test_{uuid.uuid4().hex[:8]}"
    admin = create_engine(
        PG_ADMIN_URL.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def truncate_all(url: str) -> None:
    """Empty every table so each PostgreSQL test starts from nothing, whatever ran before."""
    engine = make_engine(url)
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/atelier.db"  # type: ignore[str-bytes-safe]
        return
    url = request.getfixturevalue("pg_url")
    truncate_all(url)
    yield url
    truncate_all(url)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_sessions(engine)


class Clock:
    """A clock tests move by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def service(sessions: sessionmaker[Session], clock: Clock) -> PlaybookService:
    return PlaybookService(sessions, clock=clock)


@pytest.fixture(scope="session", autouse=True)
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Build the tiny model once per run, in a private cache shared with child processes."""
    path = str(tmp_path_factory.mktemp("models"))
    previous = os.environ.get("ATELIER_MODEL_CACHE")
    os.environ["ATELIER_MODEL_CACHE"] = path
    yield path
    if previous is None:
        os.environ.pop("ATELIER_MODEL_CACHE", None)
    else:
        os.environ["ATELIER_MODEL_CACHE"] = previous


@pytest.fixture
def store(tmp_path: object) -> ImageStore:
    return ImageStore(f"{tmp_path}/images")


@pytest.fixture
def worker(sessions: sessionmaker[Session], store: ImageStore) -> Worker:
    from bot.runner.diffusion import backend_for

    return Worker(sessions, store, backend_for, worker_id="test-runner", lease_seconds=30)


@pytest.fixture
def drain(
    worker: Worker, service: PlaybookService, sessions: sessionmaker[Session]
) -> Callable[[], None]:
    """Run every queued job on the real runner, then fold the results into the playbook."""

    def run() -> None:
        while worker.run_once():
            pass
        with sessions.begin() as s:
            finished = s.scalars(
                select(Job.id).where(Job.applied_at.is_(None), Job.status.in_(("done", "failed")))
            ).all()
        for job_id in finished:
            service.apply_job_result(job_id)

    return run
