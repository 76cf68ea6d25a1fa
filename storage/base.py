"""The declarative base: how datetimes, JSON and the StrEnums of storage.states are stored."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, DateTime, Enum
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from storage.states import (
    GateDecision,
    ImageKind,
    ImageStatus,
    InboxStatus,
    JobKind,
    JobStatus,
    OutboxStatus,
    PauseReason,
    Play,
    PlayStatus,
    ProjectState,
)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite would hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use an aware UTC one")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _stored(enum: type[StrEnum], length: int) -> Enum:
    """A StrEnum kept as its value in a VARCHAR (no database enum type to migrate)."""
    return Enum(
        enum,
        native_enum=False,
        create_constraint=False,
        length=length,
        validate_strings=True,
        values_callable=lambda members: [member.value for member in members],
    )


class Base(DeclarativeBase):
    type_annotation_map = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON,
        ProjectState: _stored(ProjectState, 16),
        PauseReason: _stored(PauseReason, 32),
        Play: _stored(Play, 16),
        PlayStatus: _stored(PlayStatus, 16),
        ImageStatus: _stored(ImageStatus, 16),
        ImageKind: _stored(ImageKind, 16),
        JobKind: _stored(JobKind, 16),
        JobStatus: _stored(JobStatus, 16),
        GateDecision: _stored(GateDecision, 16),
        OutboxStatus: _stored(OutboxStatus, 16),
        InboxStatus: _stored(InboxStatus, 16),
    }
