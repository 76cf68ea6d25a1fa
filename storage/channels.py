"""Channel settings rows, created race-free (two listeners may touch a new channel at once)."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import ChannelSettings


def ensure(session: Session, channel_id: str) -> ChannelSettings:
    """The channel's settings, inserting the defaults if none exist (INSERT … ON CONFLICT DO NOTHING)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(ChannelSettings)
        .values(channel_id=channel_id)
        .on_conflict_do_nothing(index_elements=["channel_id"])
    )
    settings = session.get(ChannelSettings, channel_id, populate_existing=True)
    assert settings is not None
    return settings
