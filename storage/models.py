"""SQLAlchemy 2 typed models: everything the playbook keeps, one table per noun."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.base import Base, utcnow
from storage.states import (
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

__all__ = ["Base", "utcnow"]


class ChannelSettings(Base):
    """Per-channel defaults a new project inherits."""

    __tablename__ = "channel_settings"

    channel_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    director: Mapped[str | None] = mapped_column(String(32))
    operator: Mapped[str | None] = mapped_column(String(32))
    reviewer: Mapped[str | None] = mapped_column(String(32))
    iteration_budget: Mapped[int] = mapped_column(Integer, default=8)
    review_cooloff_minutes: Mapped[int] = mapped_column(Integer, default=10)
    gate_wait_hours: Mapped[int] = mapped_column(Integer, default=24)
    queue_limit_per_user: Mapped[int] = mapped_column(Integer, default=200)
    digest_time: Mapped[str] = mapped_column(String(5), default="09:00")
    digest_tz: Mapped[str] = mapped_column(String(64), default="UTC")
    model: Mapped[str] = mapped_column(String(200), default="tiny")
    repro_tolerance: Mapped[float] = mapped_column(Float, default=1.0)
    repro_max_tolerance: Mapped[float] = mapped_column(Float, default=16.0)
    gpu_minutes_weekly: Mapped[int | None] = mapped_column(Integer)  # None: no cap
    blocklist: Mapped[list[str]] = mapped_column(JSON, default=list)  # phrases refused in prompts
    # The gate's own items beside the playbook's five: [[key, text], …] (bot.playbook.checklist)
    checklist: Mapped[list[list[str]]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Project(Base):
    """One brief, living in one Slack thread."""

    __tablename__ = "projects"
    __table_args__ = (UniqueConstraint("channel_id", "thread_ts"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(32), index=True)
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    intent: Mapped[str] = mapped_column(Text)
    state: Mapped[ProjectState] = mapped_column(default=ProjectState.ACTIVE)
    pause_reason: Mapped[PauseReason | None]
    pause_detail: Mapped[str | None] = mapped_column(Text)
    paused_at: Mapped[datetime | None]
    director: Mapped[str] = mapped_column(String(32))
    operator: Mapped[str] = mapped_column(String(32))
    reviewer: Mapped[str] = mapped_column(String(32))
    model: Mapped[str] = mapped_column(String(200))
    iteration_budget: Mapped[int] = mapped_column(Integer)
    review_cooloff_minutes: Mapped[int] = mapped_column(Integer)
    next_image_number: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    direction_image_id: Mapped[int | None] = mapped_column(Integer)
    direction_approved_at: Mapped[datetime | None]
    hero_approved_at: Mapped[datetime | None]

    plays: Mapped[list[PlayRun]] = relationship(back_populates="project", order_by="PlayRun.id")


class PlayRun(Base):
    """Where each of the five plays stands in a project."""

    __tablename__ = "play_runs"
    __table_args__ = (UniqueConstraint("project_id", "play"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    play: Mapped[Play]
    status: Mapped[PlayStatus] = mapped_column(default=PlayStatus.PENDING)
    skip_reason: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str | None] = mapped_column(String(32))
    hat: Mapped[str | None] = mapped_column(String(16))
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    project: Mapped[Project] = relationship(back_populates="plays")


class Recipe(Base):
    """A versioned recipe card: everything needed to reproduce the hero."""

    __tablename__ = "recipes"
    __table_args__ = (UniqueConstraint("project_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    source_image_id: Mapped[int | None] = mapped_column(Integer)
    model_id: Mapped[str] = mapped_column(String(200))
    model_hash: Mapped[str | None] = mapped_column(String(64))
    scheduler: Mapped[str] = mapped_column(String(64))
    steps: Mapped[int] = mapped_column(Integer)
    guidance: Mapped[float] = mapped_column(Float)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(BigInteger)
    prompt_template: Mapped[str] = mapped_column(Text)
    slot_name: Mapped[str] = mapped_column(String(64))
    slot_value: Mapped[str] = mapped_column(Text)
    negative_prompt: Mapped[str] = mapped_column(Text, default="")
    # Each LoRA on the card: {"name", "weight", "sha256"}; none is [] or NULL.
    loras: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    tolerance: Mapped[float] = mapped_column(Float)
    max_tolerance: Mapped[float] = mapped_column(Float)
    hero_image_id: Mapped[int | None] = mapped_column(Integer)
    repro_mean_diff: Mapped[float | None] = mapped_column(Float)
    repro_max_diff: Mapped[float | None] = mapped_column(Float)
    reproducible: Mapped[bool | None] = mapped_column(Boolean)
    locked_by: Mapped[str] = mapped_column(String(32))
    locked_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The Director's approval of this version's hero; a volume run needs it.
    approved_by: Mapped[str | None] = mapped_column(String(32))
    approved_at: Mapped[datetime | None]

    project: Mapped[Project] = relationship()


class Image(Base):
    """The prompt log: one row per image, with all it takes to reproduce it."""

    __tablename__ = "images"
    __table_args__ = (
        UniqueConstraint("job_id", "job_index"),
        UniqueConstraint("project_id", "number"),
        # Metrics and the digest count a channel's images in a window: its projects' rows by date.
        Index("ix_images_project_created", "project_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id"))
    job_index: Mapped[int | None] = mapped_column(Integer)
    play: Mapped[Play]
    kind: Mapped[ImageKind]
    status: Mapped[ImageStatus] = mapped_column(default=ImageStatus.CANDIDATE)
    style: Mapped[str | None] = mapped_column(String(200))
    slot_value: Mapped[str | None] = mapped_column(Text)
    prompt: Mapped[str] = mapped_column(Text, default="")
    negative_prompt: Mapped[str] = mapped_column(Text, default="")
    seed: Mapped[int | None] = mapped_column(BigInteger)
    steps: Mapped[int | None] = mapped_column(Integer)
    guidance: Mapped[float | None] = mapped_column(Float)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    scheduler: Mapped[str | None] = mapped_column(String(64))
    model_id: Mapped[str | None] = mapped_column(String(200))
    model_hash: Mapped[str | None] = mapped_column(String(64))
    strength: Mapped[float | None] = mapped_column(Float)
    mask_hash: Mapped[str | None] = mapped_column(String(64))
    loras: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("images.id"))
    root_id: Mapped[int | None] = mapped_column(ForeignKey("images.id"), index=True)
    recipe_id: Mapped[int | None] = mapped_column(ForeignKey("recipes.id"))
    file_hash: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    kept_at: Mapped[datetime | None]
    editor: Mapped[str | None] = mapped_column(String(32))
    budget: Mapped[int | None] = mapped_column(Integer)
    alt_text: Mapped[str | None] = mapped_column(Text)

    project: Mapped[Project] = relationship()
    job: Mapped[Job | None] = relationship()
    recipe: Mapped[Recipe | None] = relationship()
    # The version this one was made from, and the first generation of its lineage.
    parent: Mapped[Image | None] = relationship(remote_side="Image.id", foreign_keys=[parent_id])
    # Read-only: a first generation is its own root, which the unit of work could not order.
    root: Mapped[Image | None] = relationship(
        remote_side="Image.id", foreign_keys=[root_id], viewonly=True
    )


class Ranking(Base):
    """The Director's ordered pick of sprint candidates."""

    __tablename__ = "rankings"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    image_ids: Mapped[list[int]] = mapped_column(JSON)
    ranked_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    project: Mapped[Project] = relationship()


class Job(Base):
    """A unit of GPU work with a lease, claimed by exactly one runner at a time."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    channel_id: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[JobKind]
    priority: Mapped[int] = mapped_column(Integer)
    batch_key: Mapped[str] = mapped_column(String(64), default="")
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[JobStatus] = mapped_column(default=JobStatus.QUEUED, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    not_before: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None]
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    applied_at: Mapped[datetime | None]
    # Seconds its renders kept a runner's device busy, over every attempt, and that device.
    gpu_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    device: Mapped[str | None] = mapped_column(String(64))

    project: Mapped[Project | None] = relationship()


class OutboxMessage(Base):
    """A Slack call waiting to be made; drained with retries so nothing is lost."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(32))
    project_id: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    status: Mapped[OutboxStatus] = mapped_column(default=OutboxStatus.PENDING, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class InboxRequest(Base):
    """A Slack request Atelier acked, kept until a worker applies it: a restart loses none."""

    __tablename__ = "inbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)  # the delivery's request key
    kind: Mapped[str] = mapped_column(String(32))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[InboxStatus] = mapped_column(default=InboxStatus.WAITING, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(80))
    lease_until: Mapped[datetime | None]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    applied_at: Mapped[datetime | None]


class AuditEntry(Base):
    """Append-only record of every decision, with the hat it was taken under."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int | None] = mapped_column(Integer, index=True)
    channel_id: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(32))
    hat: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(40))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The Slack request the decision answered: a retry after a lost commit finds it here.
    request_key: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SlackMessage(Base):
    """What each message the bot posted is about, so clicks and emoji find their target."""

    __tablename__ = "slack_messages"
    __table_args__ = (UniqueConstraint("channel_id", "ts"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(32))
    ts: Mapped[str] = mapped_column(String(32))
    project_id: Mapped[int | None] = mapped_column(Integer, index=True)
    kind: Mapped[str] = mapped_column(String(16))
    job_id: Mapped[int | None] = mapped_column(Integer, index=True)
    image_id: Mapped[int | None] = mapped_column(Integer)
    recipe_id: Mapped[int | None] = mapped_column(Integer)
    shown: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ImageNote(Base):
    """A role holder's note on one image (`note N <text>`); `info N` lists them, oldest first."""

    __tablename__ = "image_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DigestRun(Base):
    """One row per channel per local day: whichever process inserts it posts the digest."""

    __tablename__ = "digest_runs"

    channel_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Nudge(Base):
    """A reminder sent; at most one per thing per day."""

    __tablename__ = "nudges"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    ref_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
