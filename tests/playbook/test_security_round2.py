"""Defects from the second hostile review (#22) that the service itself must refuse.

Each test fails with its fix switched off: the budget counted only stored images; a stranger
could start a rendering project from a recipe; the copied card dropped LoRAs and the model hash.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from bot.playbook import errors
from bot.playbook.plays.base import REQUEST_KEY
from bot.playbook.service import PlaybookService
from storage.models import Job, OutboxMessage, Project, Recipe
from tests.playbook.conftest import CHANNEL, DIRECTOR, OPERATOR, REVIEWER, STRANGER, Flow

# What a copied card takes afresh (id, hero, its checks, lock and approval); all else is the source's.
FRESH = "id project_id source_image_id hero_image_id repro_mean_diff repro_max_diff reproducible"
FRESH += " locked_by locked_at approved_by approved_at"
ONE_SENTENCE = "Autumn banner for the courier app"


def _jobs(service: PlaybookService) -> int:
    with service.sessions.begin() as s:
        return int(s.scalar(select(func.count(Job.id))) or 0)


def _projects(service: PlaybookService) -> int:
    with service.sessions.begin() as s:
        return int(s.scalar(select(func.count(Project.id))) or 0)


def test_queued_rerolls_count_against_the_iteration_budget(flow: Flow) -> None:
    flow.start()
    number = flow.volume()[0]
    service = flow.service
    assert service.budget_of(flow.project_id, number) == (1, 8)
    service.reroll(flow.project_id, OPERATOR, number, 4)  # 5 of 8, still queued
    with pytest.raises(errors.BudgetExhausted, match="used 5 of its iteration budget of 8"):
        service.reroll(flow.project_id, OPERATOR, number, 4)
    before = _jobs(service)
    clicks = []
    for _ in range(10):  # ten clicks on *Regenerate*: three fit (8 of 8)
        try:
            service.regenerate(flow.project_id, OPERATOR, number)
            clicks.append("queued")
        except errors.BudgetExhausted:
            clicks.append("refused")
    assert clicks == ["queued"] * 3 + ["refused"] * 7
    assert _jobs(service) == before + 3
    flow.drain()  # stored now, not queued: still 8 of 8, counted once
    assert service.budget_of(flow.project_id, number)[0] == 8
    with pytest.raises(errors.BudgetExhausted):
        service.reroll(flow.project_id, OPERATOR, number, 1)


def _team_channel(service: PlaybookService) -> None:
    service.update_settings(
        CHANNEL, DIRECTOR, director=DIRECTOR, operator=OPERATOR, reviewer=REVIEWER
    )


def test_only_the_new_projects_director_or_operator_starts_from_a_recipe(flow: Flow) -> None:
    flow.start()
    flow.hero()
    service = flow.service
    _team_channel(service)
    projects, jobs = _projects(service), _jobs(service)
    for _ in range(4):
        with pytest.raises(
            errors.NotAuthorized,
            match="Only the project's Director or Operator can start it from a recipe",
        ):
            service.start_from_recipe(CHANNEL, STRANGER, ONE_SENTENCE, flow.project_id, 1)
    with pytest.raises(errors.InvalidInput, match="must be one sentence"):
        service.start_from_recipe(
            CHANNEL, DIRECTOR, "Autumn banner. For the app.", flow.project_id, 1
        )
    assert (_projects(service), _jobs(service)) == (projects, jobs)
    outcome = service.start_from_recipe(CHANNEL, OPERATOR, ONE_SENTENCE, flow.project_id, 1)
    assert outcome.job is not None and outcome.project.state == "active"


def test_a_card_started_from_a_recipe_is_the_recipe_field_by_field(flow: Flow) -> None:
    flow.start()
    flow.hero()
    service = flow.service
    loras = [{"name": "detail.v1", "weight": 0.6, "sha256": "ab" * 32}]
    with service.sessions.begin() as s:
        s.execute(
            update(Recipe)
            .where(Recipe.project_id == flow.project_id)
            .values(loras=loras, model_hash="cd" * 32, negative_prompt="blurry")
        )
    flow.clock.advance(minutes=5)
    copy = service.start_from_recipe(CHANNEL, DIRECTOR, ONE_SENTENCE, flow.project_id, 1)
    source, copied = service.recipes(flow.project_id)[0], service.recipes(copy.project.id)[0]
    columns = [column.key for column in Recipe.__table__.columns]
    differing = {name for name in columns if getattr(copied, name) != getattr(source, name)}
    assert differing == set(FRESH.split())  # every other column, LoRAs and hash included
    assert copied.loras == loras and copied.model_hash == "cd" * 32
    assert (copied.project_id, copied.version, copied.locked_by) == (copy.project.id, 1, DIRECTOR)
    assert copied.hero_image_id is None and copied.reproducible is None


def _outbox(service: PlaybookService, kind: str) -> int:
    with service.sessions.begin() as s:
        return int(
            s.scalar(select(func.count(OutboxMessage.id)).where(OutboxMessage.kind == kind)) or 0
        )


def test_ship_and_compare_applied_again_after_a_commit_post_nothing_twice(flow: Flow) -> None:
    """An applier that died past COMMIT runs the request again (inbox); it must add nothing."""
    flow.start()
    number = flow.ready_for_gate()
    service = flow.service
    service.submit_for_review(flow.project_id, OPERATOR, number)
    flow.clear(number)
    token = REQUEST_KEY.set("c:ship-request")
    try:
        service.ship(flow.project_id, REVIEWER)
        assert service.applied("c:ship-request")  # the inbox will not run it again
    finally:
        REQUEST_KEY.reset(token)
    token = REQUEST_KEY.set("c:compare-request")
    try:
        for _ in range(2):
            service.compare(flow.project_id, STRANGER, number, number - 1)
    finally:
        REQUEST_KEY.reset(token)
    assert (_outbox(service, "ship_pack"), _outbox(service, "compare")) == (1, 1)
    with pytest.raises(errors.AlreadyDone, match="is on its way"):
        service.ship(flow.project_id, DIRECTOR)  # the same finals: the same pack


def test_compare_and_recipes_are_rate_limited_per_person(flow: Flow) -> None:
    flow.start()
    flow.volume()
    service = flow.service
    for _ in range(6):
        service.compare(flow.project_id, OPERATOR, 1, 2)
    with pytest.raises(errors.TooOften, match="try again in"):
        service.compare(flow.project_id, OPERATOR, 1, 2)
    service.compare(flow.project_id, REVIEWER, 1, 2)  # someone else is not held back
    for _ in range(3):
        service.recipe_library(CHANNEL, OPERATOR)
    with pytest.raises(errors.TooOften, match="`recipes` 3 times"):
        service.recipe_library(CHANNEL, OPERATOR)
