"""The models and the Alembic migrations describe the same schema (what `alembic check` checks)."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Engine

from storage.models import Base


def _ours(_object: Any, name: str | None, kind: str, reflected: bool, _compare_to: Any) -> bool:
    """Atelier's tables; APScheduler keeps its job store in the same database."""
    return not (kind == "table" and reflected and name not in Base.metadata.tables)


def test_migrating_to_head_gives_exactly_the_models_schema(engine: Engine) -> None:
    with engine.begin() as connection:  # another app's table in the same database is not ours
        connection.execute(text("CREATE TABLE IF NOT EXISTS someone_elses (id INTEGER)"))
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": _ours}
        )
        differences = compare_metadata(context, Base.metadata)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE someone_elses"))
    assert differences == []
