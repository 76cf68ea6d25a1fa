"""The review gate's tables: each pass, the Reviewer's draft, and the regions a send-back pins.

Kept beside `storage.models` to keep each module small. `storage.db` imports this module, so
the metadata (migrations, the schema check) always holds these tables.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.base import Base, utcnow
from storage.models import Image, Project
from storage.states import GateDecision


class GateReview(Base):
    """One pass of the review gate over one image."""

    __tablename__ = "gate_reviews"
    __table_args__ = (Index("ix_gate_reviews_project_created", "project_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id"))
    reviewer: Mapped[str] = mapped_column(String(32))
    hat: Mapped[str] = mapped_column(String(16))
    clear_of_people_logos_artists: Mapped[bool] = mapped_column(Boolean, default=False)
    license_permits_use: Mapped[bool] = mapped_column(Boolean, default=False)
    no_offensive_content: Mapped[bool] = mapped_column(Boolean, default=False)
    alt_text_written: Mapped[bool] = mapped_column(Boolean, default=False)
    logged_with_recipe: Mapped[bool] = mapped_column(Boolean, default=False)
    # The channel's own items (`settings checklist`) as they stood at this pass: key → ticked.
    channel_items: Mapped[dict[str, bool] | None] = mapped_column(JSON)
    alt_text: Mapped[str | None] = mapped_column(Text)
    decision: Mapped[GateDecision]
    reason_item: Mapped[str | None] = mapped_column(String(40))
    reason_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    project: Mapped[Project] = relationship()
    image: Mapped[Image] = relationship()
    pins: Mapped[list[GatePin]] = relationship(back_populates="review", order_by="GatePin.id")


class GateDraft(Base):
    """Boxes ticked and alt text typed on a gate message before the decision."""

    __tablename__ = "gate_drafts"

    image_id: Mapped[int] = mapped_column(
        ForeignKey("images.id", ondelete="CASCADE"), primary_key=True
    )
    ticked: Mapped[list[str]] = mapped_column(JSON, default=list)
    alt_text: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    image: Mapped[Image] = relationship()


class GatePin(Base):
    """Grid cells a send-back pins on an image (`sendback 12 brand b2 c2 <note>`).

    Open until a later version of the image (or the image itself) is cleared at the gate; `fix N`
    without cells repairs the open pins' cells.
    """

    __tablename__ = "gate_pins"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(
        ForeignKey("gate_reviews.id", ondelete="CASCADE"), index=True
    )
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), index=True)
    cells: Mapped[list[int]] = mapped_column(JSON)  # 0–8, row-major (b2 is 4)
    item: Mapped[str] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The cleared version that resolved it; None while open.
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("images.id"))
    resolved_at: Mapped[datetime | None]

    review: Mapped[GateReview] = relationship(back_populates="pins")
    image: Mapped[Image] = relationship(foreign_keys=[image_id])
    resolved_by: Mapped[Image | None] = relationship(foreign_keys=[resolved_by_id])
