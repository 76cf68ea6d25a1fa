"""An image's status is one stored set (storage.states.ImageStatus); every transition, one by one."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session, sessionmaker

from bot.playbook import errors
from bot.playbook.gate import GateItem
from bot.slack.index import MessageIndex
from storage.models import Image
from storage.states import ImageStatus
from tests.playbook.conftest import DIRECTOR, OPERATOR, REVIEWER, Flow


def status(flow: Flow, number: int) -> ImageStatus:
    return flow.service.image(flow.project_id, number).status


def test_generations_start_as_candidates_and_repro_renders_as_culled(
    flow: Flow, sessions: sessionmaker[Session]
) -> None:
    flow.start()
    flow.hero()
    with sessions() as s:
        kinds = {(i.kind, i.status) for i in s.scalars(select(Image))}
    assert ("txt2img", ImageStatus.CANDIDATE) in kinds
    assert ("repro", ImageStatus.CULLED) in kinds
    assert all(isinstance(found, ImageStatus) for _, found in kinds)


def test_keep_cull_and_keep_again(flow: Flow) -> None:
    flow.start()
    first, second, *_ = flow.volume()
    assert status(flow, first) == ImageStatus.KEPT
    flow.service.mark(flow.project_id, OPERATOR, keep=[], cull=[first])
    assert status(flow, first) == ImageStatus.CULLED
    flow.service.mark(flow.project_id, OPERATOR, keep=[first], cull=[])
    assert status(flow, first) == ImageStatus.KEPT


def test_the_gate_round_trip_send_back_and_again_then_ship(flow: Flow) -> None:
    flow.start()
    kept = flow.ready_for_gate()
    flow.service.submit_for_review(flow.project_id, OPERATOR, kept)
    assert status(flow, kept) == ImageStatus.AT_GATE
    flow.service.mark(flow.project_id, OPERATOR, keep=[kept], cull=[])
    assert status(flow, kept) == ImageStatus.AT_GATE  # keeping a waiting image leaves it waiting
    flow.service.review(
        flow.project_id, REVIEWER, kept, decision="send_back", reason_item=GateItem.LICENSE
    )
    assert status(flow, kept) == ImageStatus.SENT_BACK
    flow.service.submit_for_review(flow.project_id, OPERATOR, kept)
    assert status(flow, kept) == ImageStatus.AT_GATE
    flow.clear(kept)
    assert status(flow, kept) == ImageStatus.SHIPPED
    with pytest.raises(errors.InvalidInput, match="shipped"):
        flow.service.mark(flow.project_id, OPERATOR, keep=[], cull=[kept])
    with pytest.raises(errors.InvalidInput, match="shipped"):
        flow.service.submit_for_review(flow.project_id, OPERATOR, kept)


def test_an_image_sent_back_and_submitted_again_is_waiting_at_the_gate(flow: Flow) -> None:
    flow.service.update_settings("C0PLAY", DIRECTOR, gate_wait_hours=4)
    flow.start()
    kept = flow.ready_for_gate()
    index = MessageIndex(flow.service.sessions, clock=flow.service.clock)
    view = flow.service.submit_for_review(flow.project_id, OPERATOR, kept)
    index.remember("C0PLAY", "1.1", "gate", project_id=flow.project_id, image_id=view.image.id)
    flow.service.review(
        flow.project_id, REVIEWER, kept, decision="send_back", reason_item=GateItem.CONTENT
    )
    assert flow.service.waiting_at_gate(flow.clock() + timedelta(hours=5)) == []
    flow.clock.advance(hours=1)
    flow.service.submit_for_review(flow.project_id, OPERATOR, kept)
    index.remember("C0PLAY", "2.2", "gate", project_id=flow.project_id, image_id=view.image.id)
    assert flow.service.waiting_at_gate(flow.clock() + timedelta(hours=3)) == []
    waiting = flow.service.waiting_at_gate(flow.clock() + timedelta(hours=5))
    assert [(image.number, round(hours)) for _, image, hours, _ in waiting] == [(kept, 5)]


def test_hand_off_and_the_editors_file(flow: Flow) -> None:
    flow.start()
    kept = flow.volume()[0]
    flow.service.hand_off(flow.project_id, OPERATOR, kept, "UEDITOR")
    assert status(flow, kept) == ImageStatus.WITH_EDITOR
    flow.service.mark(flow.project_id, OPERATOR, keep=[kept], cull=[])
    assert status(flow, kept) == ImageStatus.WITH_EDITOR  # keep does not take it from the editor
    original = flow.service.image(flow.project_id, kept)
    version = flow.service.record_editor_file(
        flow.project_id,
        "UEDITOR",
        file_hash=original.file_hash,
        width=original.width,
        height=original.height,
    )
    assert status(flow, kept) == ImageStatus.KEPT
    assert version.status == ImageStatus.KEPT and version.parent_id == original.id


def test_upscales_start_kept_and_an_image_at_the_gate_can_be_upscaled(flow: Flow) -> None:
    flow.start()
    kept = flow.ready_for_gate()
    flow.service.submit_for_review(flow.project_id, OPERATOR, kept)
    flow.service.upscale_keepers(flow.project_id, OPERATOR, [kept])
    flow.drain()
    upscaled = [i for i in flow.service.images(flow.project_id) if i.kind == "upscale"]
    assert [i.status for i in upscaled] == [ImageStatus.KEPT]


def test_a_value_outside_the_set_is_refused_when_written(
    flow: Flow, sessions: sessionmaker[Session]
) -> None:
    flow.start()
    kept = flow.volume()[0]
    with (
        pytest.raises(StatementError, match="not among the defined enum values"),
        sessions.begin() as s,
    ):
        image = s.scalars(select(Image).where(Image.number == kept)).one()
        image.status = "at the gate"  # type: ignore[assignment]
        s.flush()
