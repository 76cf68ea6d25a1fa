"""Rules the playbook implies: approve every recipe, rank only in the sprint, cull hard, the next step."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.playbook import errors
from bot.playbook.gate import GateItem
from bot.playbook.next_step import Step
from bot.playbook.roles import Role
from bot.playbook.sequence import Play
from bot.slack.notices import notice_text
from storage.models import AuditEntry, OutboxMessage
from tests.playbook.conftest import DIRECTOR, OPERATOR, REVIEWER, Flow


def notices(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as s:
        rows = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "notice"))
        return [notice_text(row.payload) for row in rows]


def test_each_new_recipe_version_needs_its_hero_approved_before_volume(flow: Flow) -> None:
    flow.start()
    kept = flow.volume()[0]
    flow.service.lock_recipe(flow.project_id, OPERATOR, number=kept, template="a {subject}, ink")
    flow.drain()
    with pytest.raises(errors.OutOfOrder, match="hero of recipe v2"):
        flow.service.run_volume(flow.project_id, OPERATOR, ["green tram"])
    flow.service.approve_hero(flow.project_id, DIRECTOR)
    assert flow.service.run_volume(flow.project_id, OPERATOR, ["green tram"]).job is not None
    assert [r.approved_by for r in flow.service.recipes(flow.project_id)] == [DIRECTOR] * 2


def test_ranking_belongs_to_the_sprint_until_the_director_reopens_it(
    flow: Flow, sessions: sessionmaker[Session]
) -> None:
    flow.start()
    flow.hero()
    with pytest.raises(errors.OutOfOrder, match="belongs to the concept sprint, which is done"):
        flow.service.rank(flow.project_id, DIRECTOR, [1, 2, 3])
    with pytest.raises(errors.NotAuthorized):
        flow.service.reopen_sprint(flow.project_id, OPERATOR, "new brief from the client")
    with pytest.raises(errors.InvalidInput, match="Say why"):
        flow.service.reopen_sprint(flow.project_id, DIRECTOR, "")
    flow.service.reopen_sprint(flow.project_id, DIRECTOR, "new brief from the client")
    flow.service.rank(flow.project_id, DIRECTOR, [2, 1, 3])
    assert flow.service.approve(flow.project_id, DIRECTOR).project.direction_image_id is not None
    with sessions() as s:
        reopened = s.scalars(select(AuditEntry).where(AuditEntry.action == "reopen_play")).one()
    assert (reopened.actor, reopened.hat, reopened.detail["reason"]) == (
        DIRECTOR,
        "director",
        "new brief from the client",
    )
    assert any("re-opened the Concept sprint" in text for text in notices(sessions))


def test_a_skipped_sprint_cannot_be_ranked(flow: Flow) -> None:
    flow.start()
    flow.service.skip_play(flow.project_id, DIRECTOR, Play.SPRINT, "brand look exists already")
    with pytest.raises(errors.OutOfOrder, match="which is skipped"):
        flow.service.rank(flow.project_id, DIRECTOR, [1, 2, 3])


def test_keeping_more_than_one_in_four_earns_a_nudge_not_a_block(
    flow: Flow, sessions: sessionmaker[Session]
) -> None:
    flow.start()
    numbers = flow.volume()  # keeps 2 of 4
    nudges = [text for text in notices(sessions) if "cull aggressively" in text]
    assert nudges == [
        f":scissors: <@{OPERATOR}> kept 2 of 4 in this batch. The playbook: “Generate in batches, then cull "
        "aggressively—expect to keep 1 in 4 or fewer.”"
    ]
    flow.service.mark(flow.project_id, OPERATOR, keep=[], cull=numbers[1:2])
    flow.service.mark(flow.project_id, OPERATOR, keep=numbers[:1], cull=[])
    assert len([text for text in notices(sessions) if "cull aggressively" in text]) == 1


def test_a_pause_says_so_once(flow: Flow, sessions: sessionmaker[Session]) -> None:
    flow.start()
    flow.ready_for_gate()
    numbers = [i.number for i in flow.service.images(flow.project_id) if i.status != "culled"]
    for number in numbers[:3]:
        flow.service.review(
            flow.project_id, REVIEWER, number, decision="send_back", reason_item=GateItem.LICENSE
        )
    paused = [text for text in notices(sessions) if "paused" in text.lower()]
    assert len(paused) == 1 and paused[0].startswith(":double_vertical_bar: Paused:")


def step(flow: Flow) -> Step:
    return flow.service.standing(flow.project_id).step


def test_the_next_step_names_who_takes_it_through_all_five_plays(flow: Flow) -> None:
    flow.start()
    assert step(flow).role == Role.OPERATOR and "`sprint" in step(flow).text
    flow.sprint()
    assert step(flow).role == Role.DIRECTOR and "`rank" in step(flow).text
    flow.service.rank(flow.project_id, DIRECTOR, [3, 1, 2])
    assert (
        step(flow).role == Role.DIRECTOR and "approve the top-ranked direction" in step(flow).text
    )
    flow.service.approve_direction(flow.project_id, DIRECTOR)
    assert step(flow) == Step(Role.OPERATOR, "lock the direction into a recipe card: `lock 3`")
    flow.service.lock_recipe(flow.project_id, OPERATOR, number=3)
    assert "wait for the hero" in step(flow).text
    flow.drain()
    assert step(flow).role == Role.DIRECTOR and "hero of recipe v1" in step(flow).text
    flow.service.approve_hero(flow.project_id, DIRECTOR)
    assert step(flow).role == Role.OPERATOR and "`volume" in step(flow).text
    flow.service.run_volume(flow.project_id, OPERATOR, ["red bike"], per_value=4)
    flow.drain()
    assert "cull hard" in step(flow).text
    kept = flow.service.images(flow.project_id)[-1].number
    flow.service.mark(flow.project_id, OPERATOR, keep=[kept], cull=[])
    assert step(flow).role == Role.OPERATOR and "`skip fix" in step(flow).text
    flow.service.skip_play(flow.project_id, DIRECTOR, Play.FIX, "nothing to repair")
    assert step(flow).role is None and "`review N`" in step(flow).text
    flow.service.submit_for_review(flow.project_id, OPERATOR, kept)
    assert step(flow) == Step(
        Role.REVIEWER,
        f"review #{kept} at the gate: tick the checklist, write alt text, then Clear to ship or Send back",
    )
    flow.clock.advance(minutes=30)
    flow.clear(kept)
    assert "all five plays have run" in step(flow).text


def test_a_paused_project_names_who_resumes_it(flow: Flow) -> None:
    flow.start("Posters for spring. Also some banners.")
    assert step(flow) == Step(
        Role.DIRECTOR, "restate the intent in one sentence: `intent <one sentence>`"
    )


def test_iterations_per_final_counts_every_generation_in_the_project(flow: Flow) -> None:
    flow.start()
    kept = flow.ready_for_gate()
    flow.clear(kept)
    # The runner stamps images with the real time, the service with the test's clock.
    since, until = flow.clock() - timedelta(days=3650), flow.clock() + timedelta(days=3650)
    iterations = flow.service.metrics(since=since, until=until, project_id=flow.project_id)[1]
    # 15 sprint variations + the hero and its re-check + 4 volume images, for one final.
    assert (iterations.value, iterations.count) == (21.0, 1)
    assert "its own history alone: 1.0" in iterations.meaning
