"""Engine and session factory; SQLite gets WAL and foreign keys, PostgreSQL a healthy pool."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

import storage.gate_models  # noqa: F401  (the gate's tables join the metadata: migrations, the schema check)
from storage.models import AuditEntry

MIGRATIONS = Path(__file__).parent / "migrations"
# How long a new connection waits for a database that is restarting before giving up.
RECONNECT_SECONDS = 60.0
log = logging.getLogger("atelier.db")


def make_engine(url: str) -> Engine:
    """Create an engine; `url` may be any SQLAlchemy URL (postgresql:// means psycopg 3)."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)
    event.listen(engine, "do_connect", _connect_patiently)
    return engine


def _connect_patiently(dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
    """While PostgreSQL restarts, wait for it rather than fail what someone just asked for."""
    deadline = time.monotonic() + RECONNECT_SECONDS
    while True:
        try:
            return dialect.connect(*cargs, **cparams)
        except dialect.loaded_dbapi.OperationalError as error:
            if time.monotonic() > deadline:
                raise
            log.warning("database unreachable; retrying", extra={"error": str(error).strip()})
            time.sleep(0.5)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin_immediate(connection: Any) -> None:
    # One writer at a time, taken at BEGIN: claims and decisions never race.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> None:
    """Bring the database to the newest schema (idempotent)."""
    command.upgrade(alembic_config(engine), "head")


@event.listens_for(Session, "before_flush")
def _audit_is_append_only(session: Session, _context: Any, _instances: Any) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEntry):
            raise PermissionError("the audit log is append-only")
