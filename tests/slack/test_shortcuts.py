"""Shortcuts over the stand-in: the four on an image message (same role rules as the verbs),
a shortcut on a message that is not an image, and *New project*'s modal."""

from __future__ import annotations

import pytest

from bot.workbench import walk
from bot.workbench.local import LocalSlack
from tests.workbench import CHANNEL, DIRECTOR, OPERATOR, REVIEWER, STRANGER, TEAM, card

BOTH = pytest.mark.parametrize("transport", ["http", "socket"])


def pick(local: LocalSlack, user: str, batch: str, shortcut: str, number: int) -> None:
    """Choose a shortcut on a batch, then the image in the picker it opens."""
    slack = local.standin
    before = slack.latest_view()["id"] if slack.ws.views else None
    slack.message_shortcut(user, CHANNEL, batch, shortcut)
    picker = local.wait(
        lambda: slack.ws.views and slack.latest_view()["id"] != before and slack.latest_view(),
        what="the image picker",
    )
    assert picker["callback_id"] == "pick_image"
    slack.submit(user, picker["id"], {"number": str(number)})


@BOTH
def test_the_image_shortcuts_do_what_their_verbs_do(local: LocalSlack) -> None:
    slack = local.standin
    thread, batch, numbers = walk.to_volume(local, TEAM, "Hero art for the spring campaign.")
    hero = local.message(CHANNEL, thread, "Hero #")
    number = int(str(hero["text"]).split("#")[1].split()[0])
    # Info on one image: anyone may ask; only they see it.
    slack.message_shortcut(STRANGER, CHANNEL, str(hero["ts"]), "image_info")
    assert "model `tiny`" in card(local, STRANGER, f"#{number}:")
    # Re-roll: the Operator's, as `reroll N` is; a stranger is told so in the same words, and
    # the hero is refused as `reroll 16` is.
    slack.message_shortcut(STRANGER, CHANNEL, str(hero["ts"]), "image_reroll")
    assert "Only the Operator" in local.ephemeral(STRANGER, "Only the Operator")["text"]
    slack.message_shortcut(OPERATOR, CHANNEL, str(hero["ts"]), "image_reroll")
    local.ephemeral(OPERATOR, "so it has no seed to re-roll")
    # On a batch of several images, the shortcut first asks which one.
    pick(local, OPERATOR, batch, "image_reroll", numbers[1])
    local.message(CHANNEL, thread, f"Re-rolling #{numbers[1]}")
    pick(local, OPERATOR, batch, "image_vary", numbers[2])
    local.message(CHANNEL, thread, f"Varying #{numbers[2]} (subtle)")


def test_send_to_review_from_a_batch(local: LocalSlack) -> None:
    slack = local.standin
    thread, batch, numbers = walk.to_volume(local, TEAM, "Hero art for the spring campaign.")
    slack.say(OPERATOR, CHANNEL, f"keep {numbers[0]} {numbers[1]}", thread_ts=thread)
    local.message(CHANNEL, thread, "Kept")
    slack.say(DIRECTOR, CHANNEL, "skip fix nothing to repair", thread_ts=thread)
    local.message(CHANNEL, thread, "skipped the Fix-and-finish")
    pick(local, STRANGER, batch, "image_review", numbers[0])
    local.ephemeral(STRANGER, "nothing was changed")
    pick(local, OPERATOR, batch, "image_review", numbers[0])
    gate = local.message(CHANNEL, thread, f"Review gate: #{numbers[0]}")
    # Info on the gate's single image needs no picker.
    slack.message_shortcut(REVIEWER, CHANNEL, str(gate["ts"]), "image_info")
    assert "at the review gate" in card(local, REVIEWER, f"#{numbers[0]}:")


def test_a_shortcut_on_someone_elses_message_answers_privately(local: LocalSlack) -> None:
    slack = local.standin
    thread = walk.start(local, TEAM, "Hero art for the spring courier campaign.")
    said, _ = slack.say(DIRECTOR, CHANNEL, "lovely brief", thread_ts=thread)
    slack.message_shortcut(DIRECTOR, CHANNEL, str(said["ts"]), "image_info")
    assert "`info 7`" in local.ephemeral(DIRECTOR, "works on Atelier's image messages")["text"]


@BOTH
def test_new_project_opens_a_modal_and_starts_the_project(local: LocalSlack) -> None:
    slack = local.standin
    slack.shortcut(DIRECTOR, "new_project")
    view = local.wait(lambda: slack.ws.views and slack.latest_view(), what="the modal")
    assert view["callback_id"] == "new_project"
    slack.submit(
        DIRECTOR,
        view["id"],
        {
            "channel": CHANNEL,
            "intent": "Posters for the spring sale, bold and bright.",
            "operator": OPERATOR,
            "reviewer": REVIEWER,
        },
    )
    root = local.root(CHANNEL)
    assert "Posters for the spring sale" in str(root["text"])
    project = local.server.atelier.service.projects(CHANNEL)[0]
    assert (project.director, project.operator, project.reviewer) == (DIRECTOR, OPERATOR, REVIEWER)
    local.ephemeral(DIRECTOR, "Project 1 started")
    # An empty intent is refused on the field, and nothing starts.
    slack.shortcut(DIRECTOR, "new_project")
    again = local.wait(
        lambda: slack.ws.views and slack.latest_view()["id"] != view["id"] and slack.latest_view()
    )
    answer = slack.submit(DIRECTOR, again["id"], {"channel": CHANNEL, "intent": " "})
    assert "intent" in answer.json().get("errors", {})
    assert len(local.server.atelier.service.projects(CHANNEL)) == 1
