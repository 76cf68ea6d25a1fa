"""Decisions that race in one project are serialized: none is lost."""

from __future__ import annotations

import contextlib
import threading

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.playbook import errors
from bot.playbook.service import PlaybookService
from storage.models import Job
from tests.playbook.conftest import OPERATOR, Flow


def race(*calls: object) -> None:
    barrier = threading.Barrier(len(calls))

    def run(call: object) -> None:
        barrier.wait()
        call()  # type: ignore[operator]

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_a_hand_off_racing_a_keep_is_not_overwritten(flow: Flow, service: PlaybookService) -> None:
    flow.start()
    flow.volume()
    for number in range(1, 9):  # sprint candidates, a fresh one each round
        race(
            lambda n=number: service.mark(flow.project_id, OPERATOR, keep=[n], cull=[]),
            lambda n=number: service.hand_off(flow.project_id, OPERATOR, n, "UEDITOR"),
        )
        image = next(i for i in service.images(flow.project_id) if i.number == number)
        assert (image.status, image.editor) == ("with_editor", "UEDITOR")


def test_one_persons_sprints_in_three_threads_at_once_stay_within_their_queue_limit(
    service: PlaybookService, sessions: sessionmaker[Session]
) -> None:
    service.update_settings("CRACE", "UDIR", queue_limit_per_user=40)
    projects = [
        service.start_project(
            "CRACE", "UDIR", f"Posters {n} for spring.", operator=OPERATOR
        ).project.id
        for n in range(3)
    ]
    refused: list[Exception] = []

    def sprint(project_id: int) -> None:
        try:
            service.run_sprint(project_id, OPERATOR, "a cat", ["ink", "clay", "neon"], 30)
        except errors.QueueLimit as error:
            refused.append(error)

    for _ in range(5):  # the race was lost 9 times in 10 before the per-person lock
        race(*(lambda p=p: sprint(p) for p in projects))
        with sessions() as s:
            queued = s.scalar(select(func.sum(Job.progress_total)).where(Job.status == "queued"))
            assert (queued or 0) <= 40
        for project_id in projects:
            with contextlib.suppress(errors.InvalidInput):  # a refused sprint queued nothing
                service.cancel(project_id, OPERATOR)
    assert len(refused) == 10
