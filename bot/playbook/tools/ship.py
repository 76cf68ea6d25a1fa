"""The ship pack: every cleared final with its record, ready to hand over outside Slack.

`ship` (or the root's *Ship pack* button) asks for it in the thread; `atelier export P --zip`
writes the same file. What goes in is read here; bot.ship_pack writes the zip.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.playbook import errors, pins
from bot.playbook.gate import GateItem
from bot.playbook.plays.base import Outcome, UseCases, post
from bot.playbook.plays.reporting import recipe_rows
from bot.playbook.roles import ANY_ROLE, May
from storage import gpu_time
from storage.gate_models import GatePin, GateReview
from storage.models import AuditEntry, Image, OutboxMessage
from storage.states import GateDecision, ImageStatus, OutboxStatus


@dataclass(frozen=True)
class Final:
    """A cleared image and the gate pass that cleared it."""

    number: int
    file_hash: str
    alt_text: str
    cleared_by: str
    cleared_at: str
    checklist: dict[str, bool]


@dataclass(frozen=True)
class ShipRecord:
    project_id: int
    intent: str
    finals: list[Final]
    recipes: list[dict[str, Any]]
    gate: list[dict[str, Any]]
    audit: list[dict[str, Any]]
    gpu_seconds: float = 0.0


class ShipUseCases(UseCases):
    # Who may take the decisions this module opens (roles.WHO_MAY gathers every module's).
    MAY = {
        "ship": May(ANY_ROLE, "post its ship pack"),
    }

    def ship(self, project_id: int, user: str) -> Outcome:
        """Anyone holding a role on the project may ask; the pack is posted in its thread.

        A pack is made again only when the finals changed since the last one (a pack is large,
        and the same one twice is no news); the request is audited, so an applier that died
        after the COMMIT is not run again.
        """
        with self._tx() as s:
            project = self._project(s, project_id)
            hat = self._require(project, user, "ship")
            finals = _finals_key(s, project.id)
            if not finals:
                raise errors.OutOfOrder(
                    "Nothing is cleared yet, so there is nothing to ship. The Reviewer clears "
                    "finals at the review gate (`review N` sends one there)."
                )
            _require_changed(s, project.id, finals)
            post(s, project, "ship_pack", user=user, finals=finals)
            self._audit(s, project, project.channel_id, user, hat, "ship", {"finals": len(finals)})
            return Outcome(project)

    def ship_record(self, project_id: int) -> ShipRecord:
        """What the pack holds, read in one transaction."""
        with self._tx() as s:
            project = self._project(s, project_id)
            numbers: dict[int, int] = {
                image_id: number
                for image_id, number in s.execute(
                    select(Image.id, Image.number).where(Image.project_id == project.id)
                )
            }
            reviews = list(
                s.scalars(
                    select(GateReview)
                    .where(GateReview.project_id == project.id)
                    .order_by(GateReview.id)
                )
            )
            audit = s.scalars(
                select(AuditEntry)
                .where(AuditEntry.project_id == project.id)
                .order_by(AuditEntry.id)
            )
            return ShipRecord(
                project_id=project.id,
                intent=project.intent,
                finals=_finals(reviews),
                recipes=recipe_rows(s, project.id, numbers),
                gate=[_gate_row(review) for review in reviews],
                audit=[
                    {
                        "at": entry.created_at.isoformat(),
                        "actor": entry.actor,
                        "hat": entry.hat,
                        "action": entry.action,
                        "detail": entry.detail,
                    }
                    for entry in audit
                ],
                gpu_seconds=gpu_time.project_seconds(s, project),
            )


def _finals_key(s: Session, project_id: int) -> list[list[int]]:
    """What a pack holds, in brief: each cleared final and the gate pass that cleared it."""
    rows = s.execute(
        select(Image.number, func.max(GateReview.id))
        .join(GateReview, GateReview.image_id == Image.id)
        .where(
            Image.project_id == project_id,
            Image.status == ImageStatus.SHIPPED,
            GateReview.decision == GateDecision.CLEARED,
        )
        .group_by(Image.number)
        .order_by(Image.number)
    )
    return [[int(number), int(review)] for number, review in rows]


def _require_changed(s: Session, project_id: int, finals: list[list[int]]) -> None:
    """Refuse a pack of the same finals as the last one posted or on its way."""
    last = s.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.project_id == project_id,
            OutboxMessage.kind == "ship_pack",
            OutboxMessage.status != OutboxStatus.FAILED,
        )
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    ).first()
    if last is not None and last.payload.get("finals") == finals:
        when = (
            "is on its way" if last.sent_at is None else f"was posted at {last.sent_at:%H:%M} UTC"
        )
        raise errors.AlreadyDone(
            f"The ship pack of these {len(finals)} final(s) {when}, in this thread; nothing was "
            "cleared since, so it was not made again. Clear another final (or clear one again "
            "with new alt text) and `ship` makes a new pack."
        )


def _checklist(review: GateReview) -> dict[str, bool]:
    """The playbook's five as ticked, then the channel's own items as they stood then."""
    playbook = {item.value: bool(getattr(review, item.value)) for item in GateItem}
    return playbook | dict(review.channel_items or {})


def _finals(reviews: list[GateReview]) -> list[Final]:
    """Each image still cleared, with its last clearing pass."""
    cleared: dict[int, GateReview] = {}
    for review in reviews:
        if review.decision == GateDecision.CLEARED:
            cleared[review.image_id] = review
    return [
        Final(
            number=review.image.number,
            file_hash=review.image.file_hash,
            alt_text=review.alt_text or "",
            cleared_by=review.reviewer,
            cleared_at=review.created_at.isoformat(),
            checklist=_checklist(review),
        )
        for review in sorted(cleared.values(), key=lambda r: r.image.number)
        if review.image.status == ImageStatus.SHIPPED
    ]


def _gate_row(review: GateReview) -> dict[str, Any]:
    return {
        "image": review.image.number,
        "decision": review.decision,
        "reviewer": review.reviewer,
        "hat": review.hat,
        "at": review.created_at.isoformat(),
        "reason": review.reason_item,
        "note": review.reason_note,
        "alt_text": review.alt_text,
        "checklist": _checklist(review),
        "pins": [_pin_row(pin) for pin in review.pins],
    }


def _pin_row(pin: GatePin) -> dict[str, Any]:
    """A pinned region and how it ended: resolved by a cleared version, or still open."""
    shown = pins.view(pin)
    return {
        "cells": pins.cell_names(shown.cells),
        "item": pin.item,
        "note": pin.note,
        "resolved": f"#{shown.resolved_by} cleared" if shown.resolved_by else "open",
        "resolved_at": pin.resolved_at.isoformat() if pin.resolved_at else None,
    }
