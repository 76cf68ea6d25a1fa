"""The Reviewer is nudged about an image waiting at the gate, after the channel's limit, once a day."""

from __future__ import annotations

from datetime import timedelta

from bot import digest
from bot.playbook.service import PlaybookService
from bot.slack.index import MessageIndex
from tests.playbook.conftest import Flow


def test_the_gate_reminder_waits_for_the_channels_limit(
    flow: Flow, service: PlaybookService
) -> None:
    flow.service.update_settings("C0PLAY", "UDIRECTOR", gate_wait_hours=4)
    flow.start()
    kept = flow.ready_for_gate()
    view = service.submit_for_review(flow.project_id, "UOPERATOR", kept)
    index = MessageIndex(service.sessions, clock=service.clock)
    index.remember("C0PLAY", "9.9", "gate", project_id=flow.project_id, image_id=view.image.id)
    posted = index.message("C0PLAY", "9.9")
    assert posted is not None
    assert digest.send_reminders(service, now=posted.created_at + timedelta(hours=3)) == 0
    assert digest.send_reminders(service, now=posted.created_at + timedelta(hours=5)) == 1
    assert digest.send_reminders(service, now=posted.created_at + timedelta(hours=6)) == 0
