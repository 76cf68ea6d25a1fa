"""`reroll N [xK]`: new seeds in the image's lineage, under its budget, by the Operator only."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.playbook import errors
from storage.models import Job
from tests.playbook.conftest import CHANNEL, DIRECTOR, OPERATOR, Flow


def jobs(sessions: sessionmaker[Session]) -> int:
    with sessions() as s:
        return int(s.scalar(select(func.count()).select_from(Job)) or 0)


def test_a_volume_reroll_is_new_seeds_of_the_same_slot_value_in_the_lineage(
    flow: Flow, sessions: sessionmaker[Session]
) -> None:
    flow.service.update_settings(CHANNEL, DIRECTOR, iteration_budget=4)
    flow.start()
    number = flow.volume()[0]
    image = flow.service.image(flow.project_id, number)
    outcome = flow.service.reroll(flow.project_id, OPERATOR, number, 2)
    assert outcome.warnings == []  # 3 of 4 is under the 80 % warning
    flow.drain()
    rerolls = [i for i in flow.service.images(flow.project_id) if i.parent_id == image.id]
    assert len(rerolls) == 2
    assert {(i.prompt, i.slot_value, i.play, i.status) for i in rerolls} == {
        (image.prompt, "red bike", "volume", "candidate")
    }
    assert image.seed not in {i.seed for i in rerolls} and len({i.seed for i in rerolls}) == 2
    assert {i.recipe_id for i in rerolls} == {image.recipe_id}
    assert flow.service.budget_of(flow.project_id, number) == (3, 4)
    before = jobs(sessions)
    with pytest.raises(errors.BudgetExhausted, match=f"2 more would pass it.*`budget {number} 8`"):
        flow.service.reroll(flow.project_id, OPERATOR, number, 2)
    assert jobs(sessions) == before


def test_a_sprint_reroll_is_new_candidates_in_the_same_style(flow: Flow) -> None:
    flow.start()
    flow.sprint()
    first = flow.service.image(flow.project_id, 1)
    flow.service.reroll(flow.project_id, OPERATOR, 1, 3)
    flow.drain()
    rerolls = [i for i in flow.service.images(flow.project_id) if i.parent_id == first.id]
    assert {(i.style, i.prompt, i.play) for i in rerolls} == {(first.style, first.prompt, "sprint")}
    assert len(rerolls) == 3


def test_reroll_refusals_change_nothing(flow: Flow, sessions: sessionmaker[Session]) -> None:
    flow.start()
    flow.hero()
    before = jobs(sessions)
    hero = max(i.number for i in flow.service.images(flow.project_id) if i.play == "lock")
    with pytest.raises(errors.InvalidInput, match="no seed to re-roll"):
        flow.service.reroll(flow.project_id, OPERATOR, hero)
    with pytest.raises(errors.InvalidInput, match="between 1 and 8"):
        flow.service.reroll(flow.project_id, OPERATOR, 1, 9)
    with pytest.raises(errors.NotFound, match="no image #999"):
        flow.service.reroll(flow.project_id, OPERATOR, 999)
    with pytest.raises(errors.NotAuthorized):
        flow.service.reroll(flow.project_id, DIRECTOR, 1)
    assert jobs(sessions) == before
