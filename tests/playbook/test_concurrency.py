"""Decisions that race in one project are serialized: none is lost."""

from __future__ import annotations

import threading

from bot.playbook.service import PlaybookService
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
