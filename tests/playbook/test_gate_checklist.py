"""The channel's own gate items (#23, item 2) and pinned regions (item 3), on the real service."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.playbook import checklist, errors
from bot.playbook.gate import REVIEWER_ITEMS, GateItem
from bot.playbook.plays.base import Outcome
from storage.gate_models import GatePin, GateReview
from storage.models import AuditEntry, Job
from tests.playbook.conftest import CHANNEL, DIRECTOR, OPERATOR, REVIEWER, STRANGER, Flow

BRAND = "On brand: palette, type, logo use"


def test_a_channel_adds_and_removes_its_own_items_but_never_the_playbooks() -> None:
    own = checklist.added([], "Brand", f"  {BRAND} ")
    assert own == [["brand", BRAND]]
    assert [item.short for item in checklist.items(own)][-2:] == ["logged", "brand"]
    assert checklist.named("BRAND", own) == checklist.items(own)[-1]
    assert checklist.named("licence", own).key == GateItem.LICENSE  # type: ignore[union-attr]
    with pytest.raises(errors.InvalidInput, match="already names the playbook's item"):
        checklist.added(own, "logo", "Logos")  # a playbook synonym
    with pytest.raises(errors.InvalidInput, match="already names this channel's item"):
        checklist.added(own, "brand", "again")
    with pytest.raises(errors.InvalidInput, match="can't name an item"):
        checklist.added(own, "on brand", "spaces")
    with pytest.raises(errors.InvalidInput, match="the line the Reviewer reads"):
        checklist.added(own, "tone", "  ")
    with pytest.raises(errors.InvalidInput, match="playbook's five gate items"):
        checklist.removed(own, "license")
    with pytest.raises(errors.NotFound, match="not on this channel's checklist"):
        checklist.removed(own, "tone")
    six = [[f"item-{n}", "x"] for n in range(checklist.MAX_ITEMS)]
    with pytest.raises(errors.InvalidInput, match="remove one first"):
        checklist.added(six, "tone", "Tone of voice")
    assert checklist.removed(own, "brand") == []


def test_only_the_channel_director_changes_it_and_it_is_audited(
    flow: Flow, sessions: sessionmaker[Session]
) -> None:
    flow.start()
    with pytest.raises(errors.NotAuthorized, match="set by the Director of one of its projects"):
        flow.service.change_checklist(CHANNEL, STRANGER, add=("brand", BRAND))
    flow.service.change_checklist(CHANNEL, DIRECTOR, add=("brand", BRAND))
    assert [i.short for i in flow.service.checklist(CHANNEL) if not i.playbook] == ["brand"]
    with sessions() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "checklist_add")).one()
    assert entry.detail == {"item": "brand", "text": BRAND} and entry.actor == DIRECTOR


def test_the_gate_asks_for_the_channels_item_and_a_pin_is_fixed_then_resolved(
    flow: Flow, sessions: sessionmaker[Session]
) -> None:
    flow.start()
    flow.service.change_checklist(CHANNEL, DIRECTOR, add=("brand", BRAND))
    kept = flow.ready_for_gate()
    view = flow.service.submit_for_review(flow.project_id, OPERATOR, kept)
    assert [item.short for item in view.checklist if item.reviewer][-1] == "brand"
    with pytest.raises(errors.GateIncomplete, match="Still open: brand"):
        flow.clear(kept)  # the playbook's four ticked, the channel's own not

    # A send-back for the channel's item pins b2 and c2; an unknown item is refused with names.
    with pytest.raises(errors.InvalidInput, match="alt text, brand"):
        flow.service.review(
            flow.project_id, REVIEWER, kept, decision="send_back", reason_item="tone"
        )
    flow.service.review(
        flow.project_id,
        REVIEWER,
        kept,
        decision="send_back",
        reason_item="brand",
        note="logo too big",
        cells=[4, 5],
    )
    info = flow.service.image_info(flow.project_id, kept)
    assert [pin.describe() for pin in info.pins] == [f"#{kept} b2 c2 (brand) — logo too big · open"]
    assert flow.service.gate_view(flow.project_id, kept).pins == info.pins

    # `fix N` without cells repairs the open pins' cells.
    outcome: Outcome = flow.service.fix_image(flow.project_id, OPERATOR, kept, mode="inpaint")
    assert outcome.job is not None and outcome.job.params["cells"] == [4, 5]
    flow.drain()
    repaired = max(image.number for image in flow.service.images(flow.project_id))
    flow.clock.advance(minutes=30)
    flow.service.submit_for_review(flow.project_id, OPERATOR, repaired)
    flow.service.review(
        flow.project_id,
        REVIEWER,
        repaired,
        decision="clear",
        ticked={*REVIEWER_ITEMS, "brand"},
        alt_text="A courier on a red bike at dawn.",
    )
    (pin,) = flow.service.image_info(flow.project_id, repaired).pins
    assert pin.resolved_by == repaired and pin.describe().endswith(f"resolved: #{repaired} cleared")
    with pytest.raises(errors.InvalidInput, match="nothing is pinned"):
        flow.service.fix_image(flow.project_id, OPERATOR, kept, mode="inpaint")

    # The record: the channel's item beside the playbook's, the pin and how it ended, the metric.
    record = flow.service.ship_record(flow.project_id)
    assert record.finals[0].checklist["brand"] is True
    sent_back = next(row for row in record.gate if row["decision"] == "sent_back")
    assert sent_back["reason"] == "brand" and sent_back["pins"] == [
        {
            "cells": "b2 c2",
            "item": "brand",
            "note": "logo too big",
            "resolved": f"#{repaired} cleared",
            "resolved_at": sent_back["pins"][0]["resolved_at"],
        }
    ]
    metrics = flow.service.metrics(
        since=flow.clock() - timedelta(days=1),
        until=flow.clock() + timedelta(hours=1),
        project_id=flow.project_id,
    )
    rework = next(m for m in metrics if "Rework" in m.name)
    assert rework.basis() == "from 2 reviews; sent back for brand 1"
    with sessions() as s:
        assert s.scalars(select(GatePin)).one().resolved_at is not None
        reviews = list(s.scalars(select(GateReview).order_by(GateReview.id)))
        assert [r.channel_items for r in reviews] == [{"brand": False}, {"brand": True}]
        assert s.scalars(select(Job).where(Job.kind == "fix")).one().params["cells"] == [4, 5]
