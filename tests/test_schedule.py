"""The scheduler follows each channel's digest time and zone, and re-syncs when they change."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.playbook.metrics import keep_rate, rework_after_review
from bot.playbook.service import PlaybookService
from bot.schedule import Schedules
from bot.slack.blocks import metrics_blocks
from storage.db import make_engine, make_sessions, migrate
from storage.files import ImageStore


def test_a_changed_digest_time_is_rescheduled(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/s.db")
    migrate(engine)
    service = PlaybookService(make_sessions(engine))
    service.update_settings("CSYNC", "U1", digest_time="09:00", digest_tz="Europe/Berlin")
    schedules = Schedules(
        service, ImageStore(str(tmp_path / "store")), engine, instance="sync-test"
    )
    schedules.start()
    try:
        job = schedules.scheduler.get_job("digest:CSYNC")
        assert job is not None and job.name == "09:00 Europe/Berlin"
        fire = job.next_run_time.astimezone(job.trigger.timezone)
        assert (fire.hour, fire.minute) == (9, 0)
        service.update_settings("CSYNC", "U1", digest_time="17:30", digest_tz="America/New_York")
        schedules.sync()
        job = schedules.scheduler.get_job("digest:CSYNC")
        assert job is not None and job.name == "17:30 America/New_York"
        fire = job.next_run_time.astimezone(job.trigger.timezone)
        assert (fire.hour, fire.minute, str(job.trigger.timezone)) == (17, 30, "America/New_York")
        assert job.next_run_time > datetime.now(UTC)
    finally:
        schedules.stop()


def test_metrics_show_the_trend_and_what_it_means() -> None:
    current = [keep_rate(3, 10), rework_after_review(1, 4)]
    previous = [keep_rate(2, 10), rework_after_review(2, 4)]
    shown = metrics_blocks("Project 1", current, previous, 7)
    text = shown[1]["text"]["text"]
    assert "*Keep rate:* 30% :arrow_up: from 20% (good) — from 10 volume images" in text
    assert "*Rework after review:* 25% :arrow_down: from 50% (good) — from 4 reviews" in text
    # What each number means is said once, behind `help metrics`, not in every reply.
    assert "rising means" not in text and "`help metrics`" in str(shown[2])
