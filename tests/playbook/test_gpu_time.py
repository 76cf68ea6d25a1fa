"""GPU time: every job carries the runner seconds it used; metrics, the digest and the ship pack
show them; a channel's weekly cap refuses work that would pass it, with the figures."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.playbook import errors
from bot.playbook.service import PlaybookService
from bot.slack import blocks
from storage.models import Job
from tests.playbook.conftest import CHANNEL, DIRECTOR, OPERATOR, Flow


def jobs(sessions: sessionmaker[Session]) -> list[Job]:
    with sessions() as s:
        return list(s.scalars(select(Job).order_by(Job.id)))


def test_each_job_carries_the_seconds_its_renders_used_and_the_device(
    flow: Flow, sessions: sessionmaker[Session]
) -> None:
    flow.start()
    flow.hero()  # a sprint (15 images) and a hero with its reproducibility check (2 renders)
    sprint, hero = jobs(sessions)
    assert sprint.kind == "sprint" and hero.kind == "hero"
    assert sprint.gpu_seconds > 0 and hero.gpu_seconds > 0
    assert (sprint.device, hero.device) == ("cpu", "cpu")


def test_a_batch_of_several_jobs_shares_its_seconds_by_image_count(
    flow: Flow, sessions: sessionmaker[Session]
) -> None:
    flow.start()
    flow.hero()
    flow.service.run_volume(flow.project_id, OPERATOR, ["red bike"], per_value=2)
    flow.service.run_volume(flow.project_id, OPERATOR, ["blue bike", "green bike"], per_value=2)
    flow.drain()
    small, large = [job for job in jobs(sessions) if job.kind == "volume"]
    assert (small.progress_total, large.progress_total) == (2, 4)
    assert large.gpu_seconds == pytest.approx(2 * small.gpu_seconds)


def test_metrics_and_the_digest_show_gpu_minutes_per_person(
    flow: Flow, sessions: sessionmaker[Session]
) -> None:
    flow.start()
    flow.sprint()
    with sessions.begin() as s:
        (job,) = s.scalars(select(Job))
        job.gpu_seconds = 90.0  # 1.5 minutes, so the figures below are exact
    flow.clock.advance(minutes=1)
    now = flow.clock()
    spent = flow.service.gpu_time(since=now - timedelta(days=7), until=now, channel_id=CHANNEL)
    assert spent.by_person == {OPERATOR: 90.0} and spent.minutes == 1.5
    nothing = flow.service.gpu_time(since=now - timedelta(days=14), until=now - timedelta(days=7))
    line = blocks.gpu_line(spent, nothing)
    assert line == f"*GPU time:* 1.5 min (the 0.0 before) — <@{OPERATOR}> 1.5"
    digest = flow.service.digest_data(CHANNEL, now)
    assert digest.gpu.minutes == 1.5 and digest.gpu_before.minutes == 0
    assert flow.service.ship_record(flow.project_id).gpu_seconds == 90.0


def test_a_weekly_cap_refuses_work_that_would_pass_it_with_the_figures(
    flow: Flow, sessions: sessionmaker[Session]
) -> None:
    flow.start()
    flow.sprint()  # measures seconds per image for this model and size
    with sessions.begin() as s:
        (job,) = s.scalars(select(Job))
        job.gpu_seconds = 15 * 8.0  # 8 s an image: 15 images are 2 minutes
    flow.service.update_settings(CHANNEL, DIRECTOR, gpu_minutes_weekly=3)
    with pytest.raises(errors.GpuCapReached) as refused:
        flow.service.run_sprint(flow.project_id, OPERATOR, "a courier", ["a", "b", "c"], 15)
    assert str(refused.value) == (
        "This channel has used 2.0 min of its 3 GPU minutes this week (the last 7 days); "
        "this needs about 2.0 min more. The channel's Director or a workspace admin can raise "
        "the cap (`settings gpu-minutes 6`), or it frees up as this week's work ages out."
    )
    assert len(jobs(sessions)) == 1
    flow.service.update_settings(CHANNEL, DIRECTOR, gpu_minutes_weekly=4)  # 2 + 2 fits
    flow.service.run_sprint(flow.project_id, OPERATOR, "a courier", ["a", "b", "c"], 15)
    with sessions.begin() as s:
        s.scalars(select(Job).order_by(Job.id.desc())).first().gpu_seconds = 120.0  # type: ignore[union-attr]
    with pytest.raises(errors.GpuCapReached, match="used 4.0 min of its 4"):
        flow.service.run_sprint(flow.project_id, OPERATOR, "a courier", ["a", "b", "c"], 15)
    flow.clock.advance(minutes=8 * 24 * 60)  # both sprints leave the week
    flow.service.run_sprint(flow.project_id, OPERATOR, "a courier", ["a", "b", "c"], 15)
    flow.service.update_settings(CHANNEL, DIRECTOR, gpu_minutes_weekly=None)
    assert flow.service.settings(CHANNEL).gpu_minutes_weekly is None
    assert len(jobs(sessions)) == 3


def test_only_the_channels_director_sets_the_cap(service: PlaybookService) -> None:
    service.update_settings(CHANNEL, DIRECTOR, director=DIRECTOR)
    with pytest.raises(errors.NotAuthorized):
        service.update_settings(CHANNEL, OPERATOR, gpu_minutes_weekly=10)
    with pytest.raises(errors.InvalidInput):
        service.update_settings(CHANNEL, DIRECTOR, gpu_minutes_weekly=0)
