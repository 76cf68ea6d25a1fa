"""The daily digest and reminders: values, chart, time zones, exactly-once, nudges."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot import digest
from bot.config import Config
from bot.playbook.service import PlaybookService
from bot.schedule import digest_trigger
from bot.slack.notices import notice_text
from bot.workbench.local import LocalSlack
from storage.db import make_engine, make_sessions, migrate
from storage.files import ImageStore
from storage.models import AuditEntry, OutboxMessage, Project
from tests.conftest import truncate_all
from tests.fixtures import T0

NOW = T0 + timedelta(hours=12)


def test_digest_values_equal_the_hand_computed_ones(
    service: PlaybookService, sessions: sessionmaker[Session], fixture_projects: None
) -> None:
    with sessions.begin() as s:
        s.add(
            AuditEntry(
                project_id=1,
                channel_id="C1",
                actor="O",
                hat="operator",
                action="run_volume",
                detail={},
                created_at=NOW - timedelta(hours=2),
            )
        )
        project = s.get(Project, 2)
        assert project is not None
        project.state, project.pause_reason, project.pause_detail = (
            "paused",
            "intent",
            "the intent is not one sentence",
        )
    data = service.digest_data("C1", NOW)
    keep, iterations, rework, hero, _ = data.current
    assert (keep.value, keep.count) == (pytest.approx(2 / 9), 9)  # same fixture as test_metrics
    assert (iterations.value, rework.value, hero.value) == (6.5, 0.5, pytest.approx(3.5))
    assert [p.id for p, _, _ in data.moved] == [1]
    assert [p.id for p in data.paused] == [2]
    out = digest.text(data)
    # The week before holds one image, kept.
    assert "Keep rate: 22% (100%), from 9 volume images" in out
    assert (
        "Iterations per final: 6.5" in out
        and "Rework after review: 50%" in out
        and "Brief to approved hero: 3.5 h" in out
    )
    assert "Project 2: the intent is not one sentence" in out
    this_week = data.trend[-1]
    assert this_week[1] == pytest.approx(2 / 9) and this_week[2] == 0.5


def test_the_chart_is_a_legible_png(service: PlaybookService, fixture_projects: None) -> None:
    picture = Image.open(io.BytesIO(digest.chart(service.digest_data("C1", NOW)))).convert("RGB")
    assert picture.size[0] >= 600 and picture.size[1] >= 250
    pixels = np.asarray(picture)
    green = ((pixels[..., 1] > 150) & (pixels[..., 0] < 100)).sum()
    assert green > 50  # the keep-rate line is drawn


@pytest.mark.parametrize(
    ("zone", "before", "after"),
    [
        # Europe switches to summer time on Sunday 29 March 2026: 09:00 is 08:00 UTC, then 07:00 UTC.
        (
            "Europe/Berlin",
            datetime(2026, 3, 28, 8, 0, tzinfo=UTC),
            datetime(2026, 3, 30, 7, 0, tzinfo=UTC),
        ),
        # The US switches on Sunday 8 March 2026: 09:00 is 14:00 UTC, then 13:00 UTC.
        (
            "America/New_York",
            datetime(2026, 3, 7, 14, 0, tzinfo=UTC),
            datetime(2026, 3, 9, 13, 0, tzinfo=UTC),
        ),
    ],
)
def test_a_0900_digest_fires_at_the_right_utc_instants_across_dst(
    zone: str, before: datetime, after: datetime
) -> None:
    trigger = digest_trigger("09:00", zone)
    fires = []
    moment = before - timedelta(hours=1)
    for _ in range(4):
        moment = trigger.get_next_fire_time(None, moment)
        fires.append(moment.astimezone(UTC))
        moment = moment + timedelta(minutes=1)
    assert fires[0] == before
    assert after in fires
    assert all(fire.astimezone(trigger.timezone).hour == 9 for fire in fires)


def test_reminders_nudge_once_a_day(
    service: PlaybookService, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    project = service.start_project("C1", "UDIR", "Art for spring. Two sentences here.").project
    with sessions.begin() as s:
        row = s.get(Project, project.id)
        assert row is not None
        row.thread_ts = "1.0"
        row.paused_at = NOW - timedelta(hours=30)
    assert digest.send_reminders(service, now=NOW) == 1
    assert digest.send_reminders(service, now=NOW + timedelta(hours=3)) == 0
    assert digest.send_reminders(service, now=NOW + timedelta(days=1)) == 1
    with sessions() as s:
        notices = [
            notice_text(m.payload)
            for m in s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "notice"))
        ]
    nudges = [text for text in notices if ":bell:" in text]
    assert len(nudges) == 2 and "<@UDIR>, this project has been paused for 30 h" in nudges[0]


def test_dry_run_prints_the_digest(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/d.db"
    engine = make_engine(url)
    migrate(engine)
    PlaybookService(make_sessions(engine)).start_project("CDRY", "U1", "Art for spring.")
    env = {**os.environ, "ATELIER_DATABASE_URL": url}
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "digest",
            "--channel",
            "CDRY",
            "--dry-run",
            "--chart",
            str(tmp_path / "c.png"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "Atelier digest for CDRY" in out.stdout and "Keep rate: no data yet" in out.stdout
    assert "Project 1 — Art for spring." in out.stdout
    assert Image.open(tmp_path / "c.png").size[0] >= 600


def test_the_digest_renders_in_the_stand_in(db_url: str, tmp_path: Path) -> None:
    with LocalSlack(
        Config(None, None, None, "", db_url, str(tmp_path / "store"), "tiny", "cpu"), {}
    ) as local:
        service = local.server.atelier.service
        service.start_project("CDIG", "U1", "Art for spring.")
        assert digest.post_digest(service, ImageStore(str(tmp_path / "store")), "CDIG")
        assert not digest.post_digest(
            service, ImageStore(str(tmp_path / "store")), "CDIG"
        )  # once a day
        posted = local.wait(
            lambda: [
                m
                for m in local.standin.history("CDIG")
                if "Atelier digest" in (m.get("text") or "")
            ],
            30,
            "the digest",
        )
        blocks = posted[0]["blocks"]
        assert blocks[0]["text"]["text"].startswith(":bar_chart: *Daily digest")
        assert blocks[-1]["type"] == "image"
        assert local.standin.file_bytes(blocks[-1]["slack_file"]["id"]).startswith(b"\x89PNG")


SCHEDULER = """
import sys, time
from bot.playbook.service import PlaybookService
from bot.schedule import Schedules
from storage.db import make_engine, make_sessions, migrate
from storage.files import ImageStore
engine = make_engine(sys.argv[1]); migrate(engine)
schedules = Schedules(PlaybookService(make_sessions(engine)), ImageStore(sys.argv[2]), engine, sync_seconds=1)
schedules.start()
print("ready", flush=True)
sys.stdin.read()  # run until the test closes our input
schedules.stop()
"""


def test_two_bot_processes_post_one_digest_per_channel_per_day(pg_url: str, tmp_path: Path) -> None:
    truncate_all(pg_url)
    engine = make_engine(pg_url)
    service = PlaybookService(make_sessions(engine))
    for channel in ("CONE", "CTWO"):
        service.start_project(channel, "U1", "Art for spring.")
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", SCHEDULER, pg_url, str(tmp_path / "store")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        for process in processes:
            assert process.stdout is not None and process.stdout.readline().strip() == "ready"
        # Both schedulers are running; give the digest a time far enough ahead for their re-sync.
        fire = (datetime.now(UTC) + timedelta(seconds=75)).replace(second=0, microsecond=0)
        for channel in ("CONE", "CTWO"):
            service.update_settings(
                channel, "U1", digest_time=fire.strftime("%H:%M"), digest_tz="UTC"
            )

        def posted() -> list[tuple[str, int]]:
            with make_sessions(engine)() as s:
                rows = s.execute(
                    select(OutboxMessage.channel_id, func.count())
                    .where(OutboxMessage.kind == "digest")
                    .group_by(OutboxMessage.channel_id)
                ).all()
            return sorted((channel, int(count)) for channel, count in rows)

        LocalSlack.wait(
            lambda: len(posted()) == 2,
            (fire - datetime.now(UTC)).total_seconds() + 60,
            "both digests",
        )
        time.sleep(5)  # let the slower scheduler fire too: it must not post again
        assert posted() == [("CONE", 1), ("CTWO", 1)]
    finally:
        for process in processes:
            if process.stdin:
                process.stdin.close()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
    engine.dispose()
    truncate_all(pg_url)
