"""Every rule of the playbook (roles, order, recipe, gate, pauses, budget), asserted on what the database holds afterwards."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.playbook import errors
from bot.playbook.gate import REVIEWER_ITEMS, GateItem
from bot.playbook.plays.fix import RegenerateInstead
from bot.playbook.sequence import Play
from bot.playbook.service import PlaybookService
from storage.gate_models import GateReview
from storage.models import AuditEntry, Image, Job, PlayRun, Recipe
from tests.conftest import Clock
from tests.playbook.conftest import CHANNEL, DIRECTOR, OPERATOR, REVIEWER, STRANGER, Flow


def count(sessions: sessionmaker[Session], model: type, *where: object) -> int:
    with sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)  # type: ignore[arg-type]


# ---- roles and hats ----------------------------------------------------------------------


def test_only_the_operator_can_generate_and_refusal_changes_nothing(
    flow: Flow, sessions: sessionmaker[Session]
) -> None:
    flow.start()
    for user in (DIRECTOR, REVIEWER, STRANGER):
        with pytest.raises(errors.NotAuthorized, match="Only the Operator"):
            flow.service.run_sprint(flow.project_id, user, "a courier", ["a", "b", "c"], 15)
    assert count(sessions, Job) == 0
    assert flow.service.plays(flow.project_id)[0].status == "pending"


def test_only_the_director_ranks_approves_and_skips(flow: Flow) -> None:
    flow.start()
    flow.sprint()
    with pytest.raises(errors.NotAuthorized):
        flow.service.rank(flow.project_id, OPERATOR, [1, 2, 3])
    with pytest.raises(errors.NotAuthorized):
        flow.service.skip_play(flow.project_id, OPERATOR, Play.LOCK, "we are in a hurry")
    flow.service.rank(flow.project_id, DIRECTOR, [1, 2, 3])
    with pytest.raises(errors.NotAuthorized):
        flow.service.approve_direction(flow.project_id, REVIEWER)
    assert flow.service.project(flow.project_id).direction_approved_at is None


def test_every_action_records_the_hat_it_was_taken_under(
    service: PlaybookService,
    drain: Callable[[], None],
    clock: Clock,
    sessions: sessionmaker[Session],
) -> None:
    solo = "USOLO"
    project = service.start_project(CHANNEL, solo, "A quick social graphic for the launch.").project
    assert (project.director, project.operator, project.reviewer) == (solo, solo, solo)
    service.run_sprint(project.id, solo, "a rocket", ["ink", "clay", "neon"], 15)
    service.skip_play(project.id, solo, Play.LOCK, "quick social graphic: sprint + gate only")
    hats = {entry.action: entry.hat for entry in service.audit(project.id)}
    assert hats == {"start_project": "director", "run_sprint": "operator", "skip_play": "director"}


def test_the_audit_log_is_append_only(flow: Flow, sessions: sessionmaker[Session]) -> None:
    flow.start()
    with sessions() as s:
        entry = s.scalars(select(AuditEntry)).first()
        assert entry is not None
        entry.action = "tampered"
        with pytest.raises(PermissionError):
            s.flush()


# ---- review cool-off for one person holding several roles --------------------------------


def test_a_person_cannot_review_within_the_cooloff_of_their_own_generation(
    service: PlaybookService,
    drain: Callable[[], None],
    clock: Clock,
    sessions: sessionmaker[Session],
) -> None:
    solo = "USOLO"
    project = service.start_project(CHANNEL, solo, "A quick social graphic for the launch.").project
    service.run_sprint(project.id, solo, "a rocket", ["ink", "clay", "neon"], 15)
    drain()
    service.rank(project.id, solo, [1, 2, 3])
    service.approve_direction(project.id, solo)
    for play in (Play.LOCK, Play.VOLUME, Play.FIX):
        service.skip_play(project.id, solo, play, "quick social graphic: sprint + gate only")
    clock.advance(minutes=9)
    with pytest.raises(errors.CooloffActive, match="switch hats in 2 min"):
        service.review(
            project.id, solo, 1, decision="clear", ticked=set(REVIEWER_ITEMS), alt_text="A rocket."
        )
    assert count(sessions, GateReview) == 0
    clock.advance(minutes=2)
    service.review(
        project.id, solo, 1, decision="clear", ticked=set(REVIEWER_ITEMS), alt_text="A rocket."
    )
    with sessions() as s:
        review = s.scalars(select(GateReview)).one()
        assert (review.decision, review.hat) == ("cleared", "reviewer")


# ---- one-sentence intent (pause trigger 1) --------------------------------------------------


def test_an_intent_of_several_sentences_pauses_until_restated(
    flow: Flow, sessions: sessionmaker[Session]
) -> None:
    flow.start("We need art. It should be warm. Also hopeful.")
    project = flow.service.project(flow.project_id)
    assert (project.state, project.pause_reason) == ("paused", "intent")
    with pytest.raises(errors.ProjectPaused, match="not one sentence"):
        flow.service.run_sprint(flow.project_id, OPERATOR, "a courier", ["a", "b", "c"], 15)
    assert count(sessions, Job) == 0
    with pytest.raises(errors.NotAuthorized):
        flow.service.set_intent(
            flow.project_id, OPERATOR, "Warm hopeful art for the spring campaign."
        )
    with pytest.raises(errors.InvalidInput):
        flow.service.set_intent(flow.project_id, DIRECTOR, "Still. Two sentences.")
    flow.service.set_intent(flow.project_id, DIRECTOR, "Warm hopeful art for the spring campaign.")
    project = flow.service.project(flow.project_id)
    assert (project.state, project.pause_reason) == ("active", None)


def test_an_empty_intent_is_refused_with_an_example(service: PlaybookService) -> None:
    with pytest.raises(errors.InvalidInput, match="/atelier new"):
        service.start_project(CHANNEL, DIRECTOR, "   ")


# ---- play order and deliberate skips ---------------------------------------------------------


def test_plays_run_in_order_unless_the_director_skips_with_a_reason(
    flow: Flow, sessions: sessionmaker[Session]
) -> None:
    flow.start()
    flow.sprint()
    with pytest.raises(errors.OutOfOrder, match="comes after the Concept sprint"):
        flow.service.lock_recipe(flow.project_id, OPERATOR, number=1)
    with pytest.raises(errors.InvalidInput, match="Say why"):
        flow.service.skip_play(flow.project_id, DIRECTOR, Play.SPRINT, "")
    flow.service.skip_play(
        flow.project_id, DIRECTOR, Play.SPRINT, "the client supplied the direction"
    )
    flow.service.lock_recipe(flow.project_id, OPERATOR, number=1)
    with sessions() as s:
        run = s.scalars(select(PlayRun).where(PlayRun.play == "sprint")).one()
        assert (run.status, run.skip_reason, run.actor, run.hat) == (
            "skipped",
            "the client supplied the direction",
            DIRECTOR,
            "director",
        )


def test_the_gate_waits_for_earlier_plays(flow: Flow) -> None:
    flow.start()
    flow.sprint()
    with pytest.raises(errors.OutOfOrder):
        flow.service.review(
            flow.project_id, REVIEWER, 1, decision="clear", ticked=set(REVIEWER_ITEMS), alt_text="x"
        )


def test_a_done_play_cannot_be_skipped(flow: Flow) -> None:
    flow.start()
    flow.direction()
    with pytest.raises(errors.OutOfOrder, match="already done"):
        flow.service.skip_play(flow.project_id, DIRECTOR, Play.SPRINT, "changed my mind")


def test_sprint_bounds(flow: Flow, sessions: sessionmaker[Session]) -> None:
    flow.start()
    with pytest.raises(errors.InvalidInput, match="3 to 5 distinct styles"):
        flow.service.run_sprint(flow.project_id, OPERATOR, "a courier", ["a", "b"], 15)
    with pytest.raises(errors.InvalidInput, match="between 15 and 30"):
        flow.service.run_sprint(flow.project_id, OPERATOR, "a courier", ["a", "b", "c"], 40)
    with pytest.raises(errors.InvalidInput, match="distinct"):
        flow.service.run_sprint(flow.project_id, OPERATOR, "a courier", ["a", "A", "c"], 15)
    assert count(sessions, Job) == 0


def test_ranking_takes_three_to_five_sprint_candidates(flow: Flow) -> None:
    flow.start()
    flow.sprint()
    with pytest.raises(errors.InvalidInput, match="Rank 3 to 5"):
        flow.service.rank(flow.project_id, DIRECTOR, [1, 2])
    with pytest.raises(errors.NotFound):
        flow.service.rank(flow.project_id, DIRECTOR, [1, 2, 99])
    with pytest.raises(errors.OutOfOrder, match="Rank 3–5 candidates first"):
        flow.service.approve_direction(flow.project_id, DIRECTOR)
    flow.service.rank(flow.project_id, DIRECTOR, [9, 1, 2])
    flow.service.approve_direction(flow.project_id, DIRECTOR)
    project = flow.service.project(flow.project_id)
    direction = next(
        i for i in flow.service.images(flow.project_id) if i.id == project.direction_image_id
    )
    assert direction.number == 9


# ---- lock-in pass and the reproducibility trigger (pause trigger 2) ------------------------


def test_the_recipe_card_has_every_field_and_one_slot(flow: Flow) -> None:
    flow.start()
    flow.hero()
    recipe = flow.service.recipe(flow.project_id)
    assert recipe is not None
    assert recipe.prompt_template == "{subject}, film photo"
    assert recipe.slot_name == "subject" and recipe.slot_value == "a courier at dawn"
    assert recipe.model_hash and len(recipe.model_hash) == 64
    assert recipe.reproducible is True and recipe.repro_max_diff == 0
    assert (recipe.scheduler, recipe.steps, recipe.width) == ("EulerDiscreteScheduler", 4, 64)
    with pytest.raises(errors.InvalidInput, match="exactly one named slot"):
        flow.service.lock_recipe(
            flow.project_id, OPERATOR, number=1, template="a {subject} and a {object}"
        )


def test_a_hero_that_does_not_reproduce_pauses_until_a_real_recipe_is_locked(flow: Flow) -> None:
    flow.start()
    flow.direction()
    flow.service.update_settings(CHANNEL, DIRECTOR, repro_tolerance=-1.0)
    flow.service.lock_recipe(flow.project_id, OPERATOR, number=3)
    flow.drain()
    project = flow.service.project(flow.project_id)
    assert (project.state, project.pause_reason) == ("paused", "reproducibility")
    with pytest.raises(errors.ProjectPaused, match="does not reproduce"):
        flow.service.approve_hero(flow.project_id, DIRECTOR)
    with pytest.raises(errors.ProjectPaused):
        flow.service.run_volume(flow.project_id, OPERATOR, ["red bike"])
    flow.service.update_settings(CHANNEL, DIRECTOR, repro_tolerance=1.0)
    flow.service.lock_recipe(flow.project_id, OPERATOR, number=3)
    flow.drain()
    project = flow.service.project(flow.project_id)
    assert (project.state, project.pause_reason) == ("active", None)
    flow.service.approve_hero(flow.project_id, DIRECTOR)
    assert flow.service.project(flow.project_id).hero_approved_at == flow.clock.now


# ---- volume run and the drift guard -------------------------------------------------------


def test_volume_before_a_lock_is_refused_with_the_reason(
    flow: Flow, sessions: sessionmaker[Session]
) -> None:
    flow.start()
    flow.direction()
    with pytest.raises(errors.OutOfOrder, match="needs a locked recipe"):
        flow.service.run_volume(flow.project_id, OPERATOR, ["red bike"])
    assert count(sessions, Job, Job.kind == "volume") == 0


def test_volume_may_change_only_the_slot(flow: Flow, sessions: sessionmaker[Session]) -> None:
    flow.start()
    flow.hero()
    with pytest.raises(errors.DriftRefused, match="steps 4 → 30"):
        flow.service.run_volume(flow.project_id, OPERATOR, ["red bike"], overrides={"steps": 30})
    with pytest.raises(errors.DriftRefused, match="negative_prompt"):
        flow.service.run_volume(
            flow.project_id, OPERATOR, ["red bike"], overrides={"negative_prompt": "nothing"}
        )
    assert count(sessions, Job, Job.kind == "volume") == 0
    flow.service.run_volume(
        flow.project_id, OPERATOR, ["red bike"], overrides={"steps": 4, "slot_value": "x"}
    )
    flow.drain()
    recipe = flow.service.recipe(flow.project_id)
    assert recipe is not None
    with sessions() as s:
        image = s.scalars(select(Image).where(Image.play == "volume")).one()
        assert (image.prompt, image.seed, image.steps) == (
            "red bike, film photo",
            recipe.seed,
            recipe.steps,
        )


def test_volume_waits_for_the_directors_hero_approval(flow: Flow) -> None:
    flow.start()
    flow.direction()
    flow.service.lock_recipe(flow.project_id, OPERATOR, number=3)
    flow.drain()
    with pytest.raises(errors.OutOfOrder, match="hasn't approved the hero"):
        flow.service.run_volume(flow.project_id, OPERATOR, ["red bike"])


# ---- iteration budget ---------------------------------------------------------------------


def test_the_iteration_budget_warns_at_80_percent_and_blocks_at_100(
    flow: Flow, sessions: sessionmaker[Session]
) -> None:
    flow.service.update_settings(CHANNEL, DIRECTOR, iteration_budget=3)
    flow.start()
    kept = flow.volume()[0]
    first = flow.service.fix_image(flow.project_id, OPERATOR, kept, mode="refine")
    assert first.warnings == []
    flow.drain()
    second = flow.service.fix_image(flow.project_id, OPERATOR, kept, mode="refine")
    assert second.warnings == [f"#{kept} will have used 3 of its 3 iterations."]
    flow.drain()
    jobs_before = count(sessions, Job)
    with pytest.raises(errors.BudgetExhausted, match=f"`budget {kept} 7`"):
        flow.service.fix_image(flow.project_id, OPERATOR, kept, mode="refine")
    assert count(sessions, Job) == jobs_before
    with pytest.raises(errors.NotAuthorized):
        flow.service.raise_budget(flow.project_id, OPERATOR, kept, 6)
    flow.service.raise_budget(flow.project_id, DIRECTOR, kept, 6)
    flow.service.fix_image(flow.project_id, OPERATOR, kept, mode="refine")
    assert flow.service.budget_of(flow.project_id, kept) == (3, 6)


# ---- fix-and-finish -----------------------------------------------------------------------


def test_a_region_over_a_third_recommends_regenerating(flow: Flow) -> None:
    flow.start()
    kept = flow.volume()[0]
    small = flow.service.fix_image(flow.project_id, OPERATOR, kept, mode="inpaint", cells=[0, 1, 2])
    assert small.warnings == []
    with pytest.raises(RegenerateInstead, match="more than a third"):
        flow.service.fix_image(flow.project_id, OPERATOR, kept, mode="inpaint", cells=[0, 1, 2, 3])
    with pytest.raises(errors.NotAuthorized, match="Only the Director"):
        flow.service.fix_image(
            flow.project_id, OPERATOR, kept, mode="inpaint", cells=[0, 1, 2, 3], force=True
        )
    forced = flow.service.fix_image(
        flow.project_id, DIRECTOR, kept, mode="inpaint", cells=[0, 1, 2, 3], force=True
    )
    assert forced.job is not None and forced.job.params["coverage"] == 4 / 9
    with pytest.raises(errors.InvalidInput, match="between 0.05 and 0.5"):
        flow.service.fix_image(flow.project_id, OPERATOR, kept, mode="refine", strength=0.9)


def test_the_assigned_editors_file_becomes_the_next_version(
    flow: Flow, sessions: sessionmaker[Session]
) -> None:
    flow.start()
    kept = flow.volume()[0]
    flow.service.hand_off(flow.project_id, OPERATOR, kept, "UEDITOR")
    with pytest.raises(errors.NotAuthorized):
        flow.service.record_editor_file(
            flow.project_id, STRANGER, file_hash="f" * 64, width=64, height=64
        )
    with pytest.raises(errors.InvalidInput, match="same size"):
        flow.service.record_editor_file(
            flow.project_id, "UEDITOR", file_hash="f" * 64, width=128, height=64
        )
    version = flow.service.record_editor_file(
        flow.project_id, "UEDITOR", file_hash="f" * 64, width=64, height=64
    )
    with sessions() as s:
        original = s.scalars(select(Image).where(Image.number == kept)).one()
        assert version.parent_id == original.id and version.root_id == original.root_id
        assert version.kind == "editor" and version.created_by == "UEDITOR"
    assert flow.service.plays(flow.project_id)[3].status == "done"


# ---- the review gate and the recurring send-back trigger (pause trigger 3) ------------------


def test_clear_needs_every_box_and_alt_text(flow: Flow, sessions: sessionmaker[Session]) -> None:
    flow.start()
    kept = flow.ready_for_gate()
    some = set(REVIEWER_ITEMS) - {GateItem.LICENSE}
    with pytest.raises(errors.GateIncomplete, match="license"):
        flow.service.review(
            flow.project_id, REVIEWER, kept, decision="clear", ticked=some, alt_text="A courier."
        )
    with pytest.raises(errors.GateIncomplete, match="alt text"):
        flow.service.review(
            flow.project_id,
            REVIEWER,
            kept,
            decision="clear",
            ticked=set(REVIEWER_ITEMS),
            alt_text=" ",
        )
    with pytest.raises(errors.NotAuthorized):
        flow.service.review(
            flow.project_id,
            DIRECTOR,
            kept,
            decision="clear",
            ticked=set(REVIEWER_ITEMS),
            alt_text="x",
        )
    assert count(sessions, GateReview) == 0
    flow.clear(kept)
    with sessions() as s:
        review = s.scalars(select(GateReview)).one()
        assert (
            review.logged_with_recipe and review.alt_text_written and review.decision == "cleared"
        )


def test_send_back_needs_a_reason_item_and_counts_as_rework(
    flow: Flow, sessions: sessionmaker[Session]
) -> None:
    flow.start()
    kept = flow.ready_for_gate()
    with pytest.raises(errors.InvalidInput, match="checklist item"):
        flow.service.review(flow.project_id, REVIEWER, kept, decision="send_back")
    flow.service.review(
        flow.project_id,
        REVIEWER,
        kept,
        decision="send_back",
        reason_item=GateItem.PEOPLE_LOGOS_ARTISTS,
        note="looks like a real logo",
    )
    with sessions() as s:
        image = s.scalars(select(Image).where(Image.number == kept)).one()
        review = s.scalars(select(GateReview)).one()
    assert image.status == "sent_back"
    assert (review.reason_item, review.reason_note) == (
        "clear_of_people_logos_artists",
        "looks like a real logo",
    )


def test_three_send_backs_for_one_item_pause_until_the_recipe_is_fixed(flow: Flow) -> None:
    flow.start()
    flow.ready_for_gate()
    numbers = [i.number for i in flow.service.images(flow.project_id) if i.status != "culled"]
    for number in numbers[:2]:
        flow.service.review(
            flow.project_id, REVIEWER, number, decision="send_back", reason_item=GateItem.LICENSE
        )
    flow.service.review(
        flow.project_id, REVIEWER, numbers[2], decision="send_back", reason_item=GateItem.CONTENT
    )
    assert flow.service.project(flow.project_id).state == "active"
    outcome = flow.service.review(
        flow.project_id, REVIEWER, numbers[3], decision="send_back", reason_item=GateItem.LICENSE
    )
    assert "paused" in outcome.warnings[0]
    project = flow.service.project(flow.project_id)
    assert (project.state, project.pause_reason) == ("paused", "recurring_sendback")
    assert "license" in (project.pause_detail or "")
    flow.clock.advance(minutes=1)
    flow.service.lock_recipe(flow.project_id, OPERATOR, number=3, negative="logo, watermark, text")
    flow.drain()
    assert flow.service.project(flow.project_id).state == "active"


# ---- jobs ------------------------------------------------------------------------------------


def test_per_user_queue_limit(flow: Flow, sessions: sessionmaker[Session]) -> None:
    flow.service.update_settings(CHANNEL, DIRECTOR, queue_limit_per_user=20)
    flow.start()
    flow.service.run_sprint(flow.project_id, OPERATOR, "a courier", ["a", "b", "c"], 15)
    with pytest.raises(errors.QueueLimit, match="limit of 20"):
        flow.service.run_sprint(flow.project_id, OPERATOR, "a courier", ["a", "b", "c"], 15)
    assert count(sessions, Job) == 1


def test_settings_belong_to_the_channels_director(service: PlaybookService) -> None:
    service.update_settings(CHANNEL, DIRECTOR, director=DIRECTOR, iteration_budget=5)
    with pytest.raises(errors.NotAuthorized):
        service.update_settings(CHANNEL, STRANGER, iteration_budget=50)
    with pytest.raises(errors.InvalidInput, match="Unknown setting"):
        service.update_settings(CHANNEL, DIRECTOR, colour="red")
    assert service.settings(CHANNEL).iteration_budget == 5


def test_export_has_recipe_cards_and_the_prompt_log(flow: Flow) -> None:
    flow.start()
    flow.hero()
    exported = flow.service.export(flow.project_id)
    assert exported["recipes"][0]["prompt_template"] == "{subject}, film photo"
    assert exported["recipes"][0]["hero"] == 16
    log = {row["number"]: row for row in exported["prompt_log"]}
    assert len(log) == 17
    assert log[16]["parent"] == 3 and log[17]["kind"] == "repro"
    assert all(row["seed"] is not None and row["model_hash"] for row in log.values())


RANGES: dict[str, tuple[str, Callable[[Flow, int], object], str]] = {
    "sprint variations": (
        "started",
        lambda f, n: f.service.run_sprint(f.project_id, OPERATOR, "a courier", ["a", "b", "c"], 31),
        "between 15 and 30",
    ),
    "lock steps": (
        "direction",
        lambda f, n: f.service.lock_recipe(f.project_id, OPERATOR, number=3, steps=0),
        "steps must be between 1 and",
    ),
    "lock size": (
        "direction",
        lambda f, n: f.service.lock_recipe(f.project_id, OPERATOR, number=3, size=24),
        "size must be between 32 and 512 px a side",
    ),
    "lock guidance": (
        "direction",
        lambda f, n: f.service.lock_recipe(f.project_id, OPERATOR, number=3, guidance=31),
        "guidance must be between 0 and 30",
    ),
    "volume per value": (
        "hero",
        lambda f, n: f.service.run_volume(f.project_id, OPERATOR, ["red bike"], per_value=17),
        "between 1 and 16",
    ),
    "volume values": (
        "hero",
        lambda f, n: f.service.run_volume(f.project_id, OPERATOR, [f"v{i}" for i in range(21)]),
        "between 1 and 20",
    ),
    "refine strength": (
        "volume",
        lambda f, n: f.service.fix_image(f.project_id, OPERATOR, n, mode="refine", strength=0.6),
        "between 0.05 and 0.5",
    ),
    "inpaint strength": (
        "volume",
        lambda f, n: f.service.fix_image(
            f.project_id, OPERATOR, n, mode="inpaint", cells=[0], strength=0.2
        ),
        "between 0.3 and 1",
    ),
}


def _reach(flow: Flow, stage: str) -> int:
    """Take the project to `stage`; returns a kept image number once there is one."""
    if stage == "direction":
        flow.direction()
    elif stage == "hero":
        flow.hero()
    elif stage == "volume":
        return flow.volume()[0]
    return 0


@pytest.mark.parametrize("name", sorted(RANGES))
def test_an_out_of_range_number_is_refused_with_the_allowed_range(
    flow: Flow, sessions: sessionmaker[Session], name: str
) -> None:
    stage, call, allowed = RANGES[name]
    flow.start()
    kept = _reach(flow, stage)
    jobs, recipes = count(sessions, Job), count(sessions, Recipe)
    with pytest.raises(errors.InvalidInput, match=allowed):
        call(flow, kept)
    assert (count(sessions, Job), count(sessions, Recipe)) == (jobs, recipes)
