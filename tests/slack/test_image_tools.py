"""The everyday tools (#14): `vary`, the regenerate rule, and `compare` (and the gate beside it)."""

from __future__ import annotations

import numpy as np

from bot.workbench.local import LocalSlack
from storage.pngs import read_png
from tests.workbench import CHANNEL, DIRECTOR, OPERATOR, STRANGER, start, to_volume


def pixels(local: LocalSlack, number: int) -> np.ndarray:
    image = local.server.atelier.service.image(1, number)
    return np.asarray(read_png(local.server.atelier.store.get(image.file_hash))[0], dtype=np.int16)


def refusals(local: LocalSlack, user: str, text: str) -> int:
    return len([e for e in local.standin.ephemerals_for(user) if text in e["text"]])


def test_vary_in_the_sprint_makes_new_candidates_of_that_image(local: LocalSlack) -> None:
    slack = local.standin
    thread = start(local)
    slack.say(OPERATOR, CHANNEL, "sprint ink | clay | neon — a courier at dawn", thread_ts=thread)
    local.message(CHANNEL, thread, "Moodboard")
    refusals = [
        (STRANGER, "vary 2 subtle", "Only the Operator"),
        (OPERATOR, "vary 2 medium", "`subtle` (0.35) or `strong` (0.65)"),
        (OPERATOR, "vary 2 subtle x9", "between 1 and 8"),
        (OPERATOR, "vary 99 subtle", "no image #99"),
        (OPERATOR, "vary 2", "Usage"),
    ]
    for who, text, why in refusals:
        slack.say(who, CHANNEL, text, thread_ts=thread)
        local.ephemeral(who, why)
    slack.say(OPERATOR, CHANNEL, "vary 2 subtle x2", thread_ts=thread)
    local.message(CHANNEL, thread, "Varying #2 (subtle), 2 variation(s)")
    board = local.message(CHANNEL, thread, "Moodboard: 2 variations")
    assert "#16" in str(board["blocks"]) and "#17" in str(board["blocks"])
    service = local.server.atelier.service
    varied = service.image(1, 16)
    assert (varied.play, varied.kind, varied.strength) == ("sprint", "img2img", 0.35)
    assert varied.style == service.image(1, 2).style and varied.parent_id == service.image(1, 2).id
    # New pixels, each its own: the same start, two seeds.
    assert np.abs(pixels(local, 16) - pixels(local, 2)).max() > 0
    assert np.abs(pixels(local, 16) - pixels(local, 17)).max() > 0


def test_vary_in_volume_is_a_batch_under_the_images_budget(local: LocalSlack) -> None:
    slack = local.standin
    thread, numbers = to_volume(local)
    service = local.server.atelier.service
    spent, budget = service.budget_of(1, numbers[0])
    hero = service.recipes(1)[0].hero_image_id
    hero_number = next(i.number for i in service.images(1) if i.id == hero)
    refused = f"#{hero_number} is not a sprint candidate or a volume image"
    for tried, verb in enumerate(("vary {} subtle", "reroll {}", "regenerate {}"), start=1):
        slack.say(OPERATOR, CHANNEL, verb.format(hero_number), thread_ts=thread)
        local.wait(lambda n=tried: refusals(local, OPERATOR, refused) == n, 15, "a refusal")
    assert len(service.images(1)) == 17 + len(numbers)  # nothing was queued or made
    slack.say(
        OPERATOR, CHANNEL, f"vary {numbers[0]} strong x{budget - spent + 1}", thread_ts=thread
    )
    local.ephemeral(OPERATOR, f"`budget {numbers[0]}")
    slack.say(OPERATOR, CHANNEL, f"vary {numbers[0]} strong x2", thread_ts=thread)
    batch = local.message(CHANNEL, thread, "Volume batch: 2 images")
    options = slack.element(CHANNEL, str(batch["ts"]), "keep_0")[1]["options"]
    assert len(options) == 2
    assert service.budget_of(1, numbers[0]) == (spent + 2, budget)
    assert service.image(1, int(options[0]["value"])).strength == 0.65


def a_keeper(local: LocalSlack) -> tuple[str, int]:
    """A project through a first batch, with its first image kept; the thread and that number."""
    thread, numbers = to_volume(local)
    local.standin.say(OPERATOR, CHANNEL, f"keep {numbers[0]}", thread_ts=thread)
    local.message(CHANNEL, thread, "Kept")
    return thread, numbers[0]


def test_a_fix_over_a_third_is_refused_and_regenerate_is_offered(local: LocalSlack) -> None:
    slack = local.standin
    thread, target = a_keeper(local)
    service = local.server.atelier.service
    jobs_before = len(local.server.atelier.service.images(1))
    slack.say(OPERATOR, CHANNEL, f"fix {target} a1 a2 a3 b1 remove the sign", thread_ts=thread)
    refusal = local.ephemeral(OPERATOR, "more than a third")
    assert "44%" in refusal["text"] and f"`regenerate {target}`" in refusal["text"]
    assert len(service.images(1)) == jobs_before and not any(
        entry.action == "fix_image" for entry in service.audit(1)
    )
    # The Operator may not force it; the Director may, and the audit log says so.
    slack.say(
        OPERATOR, CHANNEL, f"fix {target} a1 a2 a3 b1 force remove the sign", thread_ts=thread
    )
    local.ephemeral(OPERATOR, "Only the Director")
    # *Regenerate #N* on the refusal: a new seed for its slot value, back to keep/cull.
    slack.press(OPERATOR, CHANNEL, str(refusal["ts"]), "regenerate")
    local.message(CHANNEL, thread, f"Regenerating #{target}")
    batch = local.message(CHANNEL, thread, "Volume batch: 1 images")
    new = int(slack.element(CHANNEL, str(batch["ts"]), "keep_0")[1]["options"][0]["value"])
    assert service.image(1, new).slot_value == service.image(1, target).slot_value
    assert service.image(1, new).seed != service.image(1, target).seed
    slack.say(
        DIRECTOR, CHANNEL, f"fix {target} a1 a2 a3 b1 force remove the sign", thread_ts=thread
    )
    local.message(CHANNEL, thread, "forced a repair")
    local.message(CHANNEL, thread, "Repaired #")
    forced = [entry for entry in service.audit(1) if entry.action == "fix_image"]
    assert len(forced) == 1 and forced[0].actor == DIRECTOR and forced[0].detail["forced"] is True


def test_compare_and_the_gate_show_versions_side_by_side(local: LocalSlack) -> None:
    slack = local.standin
    thread, target = a_keeper(local)
    slack.say(OPERATOR, CHANNEL, f"fix {target} a1 remove the sign", thread_ts=thread)
    repaired = local.message(CHANNEL, thread, "Repaired #")
    version = int(str(repaired["text"]).split("#")[1])
    for text, why in [
        (f"compare {target} {target}", "two different images"),
        (f"compare {target} 99", "no image #99"),
        (f"compare {target}", "Usage"),
    ]:
        slack.say(STRANGER, CHANNEL, text, thread_ts=thread)
        local.ephemeral(STRANGER, why)
    slack.say(STRANGER, CHANNEL, f"compare {target} {version}", thread_ts=thread)
    shown = local.message(CHANNEL, thread, f"#{target} vs #{version}")
    share = float(str(shown["text"]).split(": ")[1].split("%")[0]) / 100
    truth = np.abs(pixels(local, target) - pixels(local, version)).max(axis=2) > 8
    assert abs(share - truth.mean()) < 0.001 and 0 < share < 0.2
    corner = truth[: truth.shape[0] // 2, : truth.shape[1] // 2]
    assert corner.sum() == truth.sum()  # only around cell a1 (the repair's edge is feathered)
    assert shown["blocks"][0]["type"] == "image"
    # At the gate, the repair shows beside its parent without asking.
    slack.say(OPERATOR, CHANNEL, f"review {version}", thread_ts=thread)
    gate = local.message(CHANNEL, thread, f"Review gate: #{version}")
    assert [b["type"] for b in gate["blocks"][1:3]] == ["image", "image"]
    assert f"#{target} → #{version}" in str(gate["blocks"])
