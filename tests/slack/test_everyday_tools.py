"""The everyday tools (#14): `info N` and 🔍, `reroll N [xK]`, and which prompts produce keepers."""

from __future__ import annotations

from bot.workbench import walk
from bot.workbench.local import LocalSlack
from storage.pngs import read_png
from tests.workbench import CHANNEL, DIRECTOR, OPERATOR, STRANGER, TEAM, card, start


def test_info_shows_what_made_an_image_to_anyone_who_asks(local: LocalSlack) -> None:
    slack = local.standin
    thread = start(local)
    slack.say(
        OPERATOR,
        CHANNEL,
        "sprint ink | clay | neon — a courier <!channel> at dawn",
        thread_ts=thread,
    )
    board = str(local.message(CHANNEL, thread, "Moodboard")["ts"])
    slack.say(STRANGER, CHANNEL, "info 2", thread_ts=thread)
    shown = card(local, STRANGER, "#2: sprint, text to image")
    image = local.server.atelier.service.image(1, 2)
    assert f"seed `{image.seed}`" in shown and "model `tiny`" in shown
    assert "a courier &lt;!channel&gt; at dawn" in shown and "<!channel>" not in shown
    assert "a candidate" in shown and f"<@{OPERATOR}>" in shown
    # The infotext is the one in the PNG, ready to paste into an A1111 reader.
    parameters = read_png(local.server.atelier.store.get(image.file_hash))[0].text["parameters"]
    assert parameters.splitlines()[-1].replace("<", "&lt;").replace(">", "&gt;") in shown
    # 🔍 on a contact sheet says which images it shows.
    slack.react(DIRECTOR, CHANNEL, board, "mag")
    hint = local.ephemeral(DIRECTOR, "🔍 shows one image")["text"]
    assert "#1" in hint and "#15" in hint and "`info N`" in hint


def test_a_mag_on_the_hero_shows_its_recipe_and_lineage(local: LocalSlack) -> None:
    slack = local.standin
    thread = start(local)
    board = walk.sprint(local, TEAM, thread)
    slack.say(DIRECTOR, CHANNEL, "rank 1 2 3", thread_ts=thread)
    local.message(CHANNEL, thread, "ranked #1")
    hero = walk.hero(local, TEAM, thread, board)
    slack.react(STRANGER, CHANNEL, hero, "mag")
    shown = card(local, STRANGER, ": hero, text to image, kept")
    assert "recipe v1" in shown
    assert "History (made from #1): #1 text to image" in shown
    assert "*#16* text to image (kept) → #17 reproducibility re-render (culled)" in shown


def test_info_refuses_an_image_that_is_not_there(local: LocalSlack) -> None:
    slack = local.standin
    thread = start(local)
    slack.say(DIRECTOR, CHANNEL, "info 99", thread_ts=thread)
    assert "no image #99" in local.ephemeral(DIRECTOR, "#99")["text"]
    slack.say(DIRECTOR, CHANNEL, "info", thread_ts=thread)
    assert "`info 12`" in local.ephemeral(DIRECTOR, "Usage")["text"]


def test_metrics_project_shows_which_prompts_produce_keepers(local: LocalSlack) -> None:
    slack = local.standin
    thread, batch, numbers = walk.to_volume(local, TEAM, "Hero art for the spring campaign.")
    slack.set_state(CHANNEL, batch, "keep_0", [str(numbers[0])])
    slack.press(OPERATOR, CHANNEL, batch, "batch_save")
    local.message(CHANNEL, thread, "Kept #")
    slack.say(STRANGER, CHANNEL, "metrics project", thread_ts=thread)
    shown = card(local, STRANGER, "Project 1 metrics")
    assert "Which prompts produce keepers" in shown
    assert "red bike: 1 of 4 kept (25%)" in shown
    ranked = [f"{style}: " for style in ("ink", "clay", "neon") if f"{style}: " in shown]
    assert len(ranked) == 3 and "of 5 ranked" in shown
    keepers = local.server.atelier.service.export(1)["keepers"]
    assert sum(row["kept"] for row in keepers["sprint_styles"]) == 3
    assert keepers["volume_slot_values"] == [{"prompt": "red bike", "generated": 4, "kept": 1}]


def test_a_reroll_arrives_as_a_batch_with_keep_and_cull(local: LocalSlack) -> None:
    slack = local.standin
    thread, _, numbers = walk.to_volume(local, TEAM, "Hero art for the spring campaign.")
    slack.say(STRANGER, CHANNEL, f"reroll {numbers[0]} x2", thread_ts=thread)
    assert "Only the Operator" in local.ephemeral(STRANGER, "Only the Operator")["text"]
    slack.say(OPERATOR, CHANNEL, f"reroll {numbers[0]} x9", thread_ts=thread)
    local.ephemeral(OPERATOR, "between 1 and 8")
    slack.say(OPERATOR, CHANNEL, f"reroll {numbers[0]} x2", thread_ts=thread)
    local.message(CHANNEL, thread, f"Re-rolling #{numbers[0]} with 2 new seed(s)")
    batch = local.message(CHANNEL, thread, "Volume batch: 2 images")
    options = slack.element(CHANNEL, str(batch["ts"]), "keep_0")[1]["options"]
    rerolled = [int(option["value"]) for option in options]
    assert len(rerolled) == 2 and min(rerolled) > max(numbers)
    slack.say(OPERATOR, CHANNEL, f"info {rerolled[0]}", thread_ts=thread)
    assert f"(made from #{numbers[0]})" in card(local, OPERATOR, f"#{rerolled[0]}: volume")
