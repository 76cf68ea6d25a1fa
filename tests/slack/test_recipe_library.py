"""The recipe library (#14): `recipes`, `new … from recipe P1v1`, and a lock with no image."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sqlalchemy import update

from bot.workbench.local import LocalSlack
from storage.models import Recipe
from storage.pngs import read_png
from tests.workbench import CHANNEL, DIRECTOR, OPERATOR, STRANGER, to_volume


def root_of(local: LocalSlack, project: int) -> str:
    """The thread of project `project`, once its root message is posted."""
    roots = local.wait(
        lambda: [
            m
            for m in local.standin.history(CHANNEL)
            if str(m.get("text") or "").startswith(f"Project {project}:")
        ],
        30,
        f"project {project}'s root",
    )
    return str(roots[0]["ts"])


def pixels(local: LocalSlack, project: int, number: int) -> np.ndarray:
    image = local.server.atelier.service.image(project, number)
    return np.asarray(read_png(local.server.atelier.store.get(image.file_hash))[0])


@pytest.mark.also_postgresql
def test_a_new_project_starts_from_a_locked_recipe_and_checks_its_hero_again(
    local: LocalSlack,
) -> None:
    slack = local.standin
    thread, numbers = to_volume(local)
    slack.say(OPERATOR, CHANNEL, f"keep {numbers[0]}", thread_ts=thread)
    local.message(CHANNEL, thread, "Kept")
    slack.command(STRANGER, CHANNEL, "recipes")
    listed = local.ephemeral(STRANGER, "Recipe library")
    shown = listed["text"] + json.dumps(listed["blocks"])
    assert "*P1v1*" in shown and "keep rate 25% (1 of 4)" in shown and "0 finals" in shown
    assert any(block["type"] == "image" for block in listed["blocks"])

    slack.command(DIRECTOR, CHANNEL, "new Autumn banner for the courier app. from recipe P9")
    local.ephemeral(DIRECTOR, "no approved recipe P9")
    slack.command(DIRECTOR, CHANNEL, "new Autumn banner for the courier app from recipe P1[v1]")
    local.ephemeral(DIRECTOR, "Project 2 started")
    second = root_of(local, 2)
    local.message(CHANNEL, second, "Started from recipe P1v1")
    hero = local.message(CHANNEL, second, "Hero #")
    service = local.server.atelier.service
    sprint = service.plays(2)[0]
    assert (sprint.status, sprint.skip_reason) == ("skipped", "started from recipe P1v1")
    first_hero = service.recipes(1)[0].hero_image_id
    again = service.recipes(2)[0]
    assert again.reproducible and again.prompt_template == service.recipes(1)[0].prompt_template
    # The same card on the same model: the same hero, pixel for pixel.
    number = int(str(hero["text"]).split("#")[1])
    original = service.image_by_id(first_hero or 0)
    assert original is not None
    assert np.array_equal(pixels(local, 2, number), pixels(local, 1, original.number))
    slack.react(DIRECTOR, CHANNEL, str(hero["ts"]), "white_check_mark")
    local.message(CHANNEL, second, "approved the hero")
    slack.say(OPERATOR, CHANNEL, "volume blue bike x2", thread_ts=second)
    local.message(CHANNEL, second, "Volume batch: 2 images")

    # A recipe whose model the runners no longer offer is refused, with the reason.
    with local.server.atelier.service.sessions.begin() as s:
        s.execute(update(Recipe).where(Recipe.project_id == 1).values(model_id="retired-xl"))
    slack.command(DIRECTOR, CHANNEL, "new Winter banner for the courier app from recipe P1")
    assert "`retired-xl`" in local.ephemeral(DIRECTOR, "no longer offer")["text"]


def test_after_skip_sprint_a_recipe_can_be_locked_without_an_image(local: LocalSlack) -> None:
    slack = local.standin
    slack.command(DIRECTOR, CHANNEL, f"roles director <@{DIRECTOR}> operator <@{OPERATOR}>")
    local.ephemeral(DIRECTOR, "roles saved")
    slack.command(DIRECTOR, CHANNEL, "new A quick social graphic of a courier.")
    thread = root_of(local, 1)
    slack.say(DIRECTOR, CHANNEL, "skip sprint quick social graphic", thread_ts=thread)
    local.message(CHANNEL, thread, "skipped the Concept sprint")
    slack.say(OPERATOR, CHANNEL, "lock", thread_ts=thread)
    local.ephemeral(OPERATOR, "give the whole recipe")
    slack.say(OPERATOR, CHANNEL, 'lock template "a {subject} at dawn" seed 42', thread_ts=thread)
    local.ephemeral(OPERATOR, "`value` fills the slot")
    slack.say(
        OPERATOR,
        CHANNEL,
        'lock template "a {subject} at dawn" seed 42 style watercolor value a courier',
        thread_ts=thread,
    )
    local.message(CHANNEL, thread, "Hero #")
    recipe = local.server.atelier.service.recipes(1)[0]
    assert (recipe.prompt_template, recipe.slot_value, recipe.seed, recipe.source_image_id) == (
        "a {subject} at dawn, watercolor",
        "a courier",
        42,
        None,
    )
