"""The queue's forecast: each job's place in line and when it should be done, from the queue's
own turns at the seconds per image the runners measured."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from bot.playbook.service import PlaybookService
from bot.slack import blocks
from storage import queue
from storage.models import Job
from storage.queue_forecast import Forecast, forecast

SETTINGS = {"model": "tiny", "width": 64, "height": 64, "steps": 2}


def job(s: Session, project: int, channel: str, images: int, kind: str = "volume") -> Job:
    return queue.enqueue(
        s,
        channel_id=channel,
        project_id=project,
        kind=kind,
        created_by="U1",
        total=images,
        params={
            "settings": SETTINGS,
            "images": [{"prompt": "p", "seed": n} for n in range(images)],
        },
    )


def measured(s: Session, project: int, seconds_per_image: float) -> None:
    """A finished job, as the runners leave it: 10 images at this many seconds each."""
    done = job(s, project, "COLD", 10)
    done.status, done.gpu_seconds = "done", 10 * seconds_per_image


def test_jobs_take_turns_a_batch_at_a_time_and_each_knows_when_it_ends(
    sessions: sessionmaker[Session], service: PlaybookService
) -> None:
    project = service.start_project("CA", "U1", "Art for spring.").project.id
    with sessions.begin() as s:
        measured(s, project, 1.0)
        volume = job(s, project, "CA", 30).id
        sprint = job(s, project, "CB", 15, kind="sprint").id
    with sessions() as s:
        ahead = forecast(s)
    # One runner, batches of 4 in turn: A 0–4, B 4–8, A 8–12, B 12–16, A 16–20, B 20–24,
    # A 24–28, B 28–31 (done), then A alone: 31–35, 35–39, 39–43, 43–45 (done).
    assert ahead[volume] == Forecast(1, 45.0)
    assert ahead[sprint] == Forecast(2, 31.0)
    with sessions.begin() as s:
        claimed = queue.claim(s, "runner-1")
        assert claimed is not None and claimed.id == volume
    with sessions() as s:
        ahead = forecast(s)
    assert ahead[volume].position == 0 and ahead[sprint].position == 1


def test_with_nothing_measured_there_is_a_place_but_no_time(
    sessions: sessionmaker[Session], service: PlaybookService
) -> None:
    project = service.start_project("CA", "U1", "Art for spring.").project.id
    with sessions.begin() as s:
        first = job(s, project, "CA", 8)
        second = job(s, project, "CB", 8)
    with sessions() as s:
        ahead = forecast(s)
        assert ahead[first.id] == Forecast(1, None) and ahead[second.id] == Forecast(2, None)
        text = blocks.progress_text(s.get(Job, second.id), ahead[second.id])  # type: ignore[arg-type]
    assert text.endswith("queued, 2nd in line, no time estimate yet (job 2, 8 images)")


def test_progress_says_the_place_and_the_time_in_words(
    sessions: sessionmaker[Session], service: PlaybookService
) -> None:
    project = service.start_project("CA", "U1", "Art for spring.").project.id
    with sessions.begin() as s:
        waiting = job(s, project, "CA", 30)
        waiting.progress_done = 12
    with sessions() as s:
        shown = s.get(Job, waiting.id)
        assert shown is not None
        assert blocks.progress_text(shown, Forecast(3, 150.0)).endswith(
            "12/30, 3rd in line, done in about 2 min"
        )
        assert blocks.progress_text(shown, Forecast(0, 30.0)).endswith(
            "12/30, done in under a minute"
        )
        # The message is edited when the images or the place change, not for each second.
        assert blocks.progress_shown(shown, Forecast(3, 150.0)) == blocks.progress_shown(
            shown, Forecast(3, 90.0)
        )
        assert blocks.progress_shown(shown, Forecast(2, 150.0)) != blocks.progress_shown(
            shown, Forecast(3, 150.0)
        )
