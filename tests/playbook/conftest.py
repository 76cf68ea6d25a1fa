"""A project driven through the plays on the real service and runner."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from bot.playbook.gate import REVIEWER_ITEMS
from bot.playbook.sequence import Play
from bot.playbook.service import PlaybookService
from tests.conftest import Clock

CHANNEL = "C0PLAY"
DIRECTOR, OPERATOR, REVIEWER, STRANGER = "UDIRECTOR", "UOPERATOR", "UREVIEWER", "USTRANGER"


@dataclass
class Flow:
    service: PlaybookService
    drain: Callable[[], None]
    clock: Clock
    project_id: int = 0

    def start(
        self, intent: str = "Hero art for the spring courier campaign, warm and hopeful."
    ) -> int:
        outcome = self.service.start_project(
            CHANNEL, DIRECTOR, intent, director=DIRECTOR, operator=OPERATOR, reviewer=REVIEWER
        )
        self.project_id = outcome.project.id
        return self.project_id

    def sprint(self) -> None:
        self.service.run_sprint(
            self.project_id,
            OPERATOR,
            "a courier at dawn",
            ["watercolor", "flat vector", "film photo"],
            15,
        )
        self.drain()

    def direction(self) -> None:
        self.sprint()
        self.service.rank(self.project_id, DIRECTOR, [3, 1, 2])
        self.service.approve_direction(self.project_id, DIRECTOR)

    def hero(self) -> None:
        self.direction()
        self.service.lock_recipe(self.project_id, OPERATOR, number=3)
        self.drain()
        self.service.approve_hero(self.project_id, DIRECTOR)

    def volume(self) -> list[int]:
        self.hero()
        outcome = self.service.run_volume(
            self.project_id, OPERATOR, ["red bike", "blue bike"], per_value=2
        )
        self.drain()
        numbers = [
            image.number
            for image in self.service.images(self.project_id)
            if image.job_id == outcome.job.id
        ]  # type: ignore[union-attr]
        self.service.mark(self.project_id, OPERATOR, keep=numbers[:2], cull=numbers[2:])
        return numbers

    def ready_for_gate(self) -> int:
        """Through volume; fix skipped by the Director; returns a kept image number."""
        kept = self.volume()[0]
        self.service.skip_play(self.project_id, DIRECTOR, Play.FIX, "no flaws to repair")
        self.clock.advance(minutes=30)
        return kept

    def clear(self, number: int) -> None:
        self.service.review(
            self.project_id,
            REVIEWER,
            number,
            decision="clear",
            ticked=set(REVIEWER_ITEMS),
            alt_text="A courier on a red bike at dawn.",
        )


@pytest.fixture
def flow(service: PlaybookService, drain: Callable[[], None], clock: Clock) -> Flow:
    return Flow(service, drain, clock)
