"""Prompts and commands mean what the person meant (#20), over the Slack stand-in (HTTP).

The slot sits inside the subject; a fix's "remove …" goes to the negative prompt; option-like
words are used or refused, never rendered; state guards; every effect names who and from what.
"""

from __future__ import annotations

import json
from datetime import timedelta

from bot.workbench import walk
from bot.workbench.local import LocalSlack
from storage.pngs import read_png
from tests.workbench import CHANNEL, DIRECTOR, OPERATOR, REVIEWER, TEAM, start

SUBJECT = "a courier on a red bike at dawn"


def seen(message: dict) -> str:
    """What a person sees of a message: its text and its blocks."""
    return message.get("text", "") + json.dumps(message.get("blocks") or [], ensure_ascii=False)


def to_direction(local: LocalSlack, subject: str = SUBJECT) -> str:
    """A sprint on `subject`, ranked 1 2 3 and approved; returns the thread."""
    slack = local.standin
    thread = start(local)
    slack.say(OPERATOR, CHANNEL, f"sprint ink | clay | neon — {subject}", thread_ts=thread)
    board = local.message(CHANNEL, thread, "Moodboard")
    slack.say(DIRECTOR, CHANNEL, "rank 1 2 3", thread_ts=thread)
    local.message(CHANNEL, thread, "ranked #1")
    slack.react(DIRECTOR, CHANNEL, str(board["ts"]), "white_check_mark")
    local.message(CHANNEL, thread, "approved the direction")
    return thread


def approve_hero(local: LocalSlack, thread: str) -> None:
    hero = local.message(CHANNEL, thread, "Hero #")
    local.standin.react(DIRECTOR, CHANNEL, str(hero["ts"]), "white_check_mark")
    local.message(CHANNEL, thread, "approved the hero")


def test_the_slot_is_the_words_named_inside_the_subject(local: LocalSlack) -> None:
    slack, service = local.standin, local.server.atelier.service
    thread = to_direction(local)
    say = lambda text: slack.say(OPERATOR, CHANNEL, text, thread_ts=thread)  # noqa: E731
    # Words that are not in the prompt are refused with the prompt shown.
    say("lock 1 slot green bike")
    refused = local.ephemeral(OPERATOR, "is not in #1's prompt")["text"]
    assert "a courier on a red bike at dawn, ink" in refused
    # A template that repeats its slot value is refused, with both shown.
    say("lock 1 template a rustic {subject} at dawn")
    refused = local.ephemeral(OPERATOR, "already says")["text"]
    assert "“at dawn”" in refused and SUBJECT in refused
    assert service.recipe(1) is None
    say("lock 1 slot red bike")
    locked = local.message(CHANNEL, thread, "locked recipe v1")
    assert "a courier on a *{subject}* at dawn, ink" in locked["text"]
    assert "“red bike”" in locked["text"]
    recipe = service.recipe(1)
    assert recipe is not None
    assert (recipe.prompt_template, recipe.slot_value) == (
        "a courier on a {subject} at dawn, ink",
        "red bike",
    )
    card = seen(local.message(CHANNEL, thread, "Hero #"))
    assert "a courier on a *{subject}* at dawn, ink" in card
    approve_hero(local, thread)
    say("volume blue bike x2")
    started = local.message(CHANNEL, thread, "started a volume run")["text"]
    assert (
        f"<@{OPERATOR}> started a volume run. Rendering 2: “a courier on a blue bike at dawn, ink”"
        in started
    )
    local.message(CHANNEL, thread, "Volume batch")
    batch = [image for image in service.images(1) if image.play == "volume"]
    assert {image.prompt for image in batch} == {"a courier on a blue bike at dawn, ink"}


def test_a_lock_without_slot_says_how_to_narrow_it(local: LocalSlack) -> None:
    slack = local.standin
    thread = to_direction(local)
    slack.say(OPERATOR, CHANNEL, "lock 1", thread_ts=thread)
    locked = local.message(CHANNEL, thread, "locked recipe v1")["text"]
    assert "*{subject}*, ink" in locked
    assert "The whole subject is the slot" in locked and "`lock 1 slot &lt;words&gt;`" in locked


def test_a_fix_puts_what_to_remove_in_the_negative_prompt(local: LocalSlack) -> None:
    slack, service, store = local.standin, local.server.atelier.service, local.server.atelier.store
    thread, _, numbers = walk.to_volume(local, TEAM, "Hero art for the spring courier campaign.")
    number = numbers[0]
    slack.say(OPERATOR, CHANNEL, f"keep {number}", thread_ts=thread)
    local.message(CHANNEL, thread, f"Kept #{number}")
    slack.say(
        OPERATOR,
        CHANNEL,
        f"fix {number} a1 b1 clear sky, remove the stray text and the logo",
        thread_ts=thread,
    )
    repaired = local.message(CHANNEL, thread, "Repaired #")
    image = service.images(1)[-1]
    parent = service.image(1, number)
    assert image.prompt == "clear sky"
    assert image.negative_prompt == f"stray text, logo, {parent.negative_prompt}"
    parameters = read_png(store.get(image.file_hash))[0].text["parameters"]
    first, negative = parameters.splitlines()[:2]
    assert first == "clear sky" and "stray text" in negative and "logo" in negative
    shown = seen(repaired)
    assert f"<@{OPERATOR}> inpainted #{number} (a1, b1) → #{image.number}" in shown
    assert "*Negative prompt:* stray text, logo" in shown
    slack.say(DIRECTOR, CHANNEL, f"info {image.number}", thread_ts=thread)
    info = local.ephemeral(DIRECTOR, f"#{image.number}: ")
    assert "stray text, logo" in seen(info)
    # Only a removal: the region is painted from the image's own prompt, nothing steers to text.
    slack.say(OPERATOR, CHANNEL, f"fix {number} c3 no text", thread_ts=thread)
    local.message(CHANNEL, thread, f"Repaired #{image.number + 1}")
    second = service.image(1, image.number + 1)
    assert second.prompt == parent.prompt and second.negative_prompt.startswith("text, ")


def test_option_like_words_are_used_or_refused_never_rendered(local: LocalSlack) -> None:
    slack, service = local.standin, local.server.atelier.service
    thread, _, _ = walk.to_volume(local, TEAM, "Hero art for the spring courier campaign.")
    say = lambda text: slack.say(OPERATOR, CHANNEL, text, thread_ts=thread)  # noqa: E731
    before = len(service.images(1))
    say("volume croissant; baguette x4 steps 30")
    assert "goes at the very end" in local.ephemeral(OPERATOR, "x4")["text"]
    say("volume croissant; baguette steps 30 x4")
    assert "steps 4 → '30'" in local.ephemeral(OPERATOR, "drift")["text"]
    say("volume croissant --ar 16:9")
    assert "width 64 → 80" in local.ephemeral(OPERATOR, "width 64")["text"]
    say("volume croissant --chaos 5")
    assert "is not an option Atelier knows" in local.ephemeral(OPERATOR, "--chaos")["text"]
    say("volume croissant sampler euler")
    assert "scheduler" in local.ephemeral(OPERATOR, "'euler'")["text"]
    say("volume croissant seed 7")
    local.ephemeral(OPERATOR, "seed")
    # The card's own value is no drift: used, and the slot value is the croissant alone.
    say("volume croissant steps 4 x2")
    local.message(CHANNEL, thread, "Rendering 2")
    local.message(CHANNEL, thread, "Volume batch: 2 images")
    made = service.images(1)[before:]
    assert [image.slot_value for image in made] == ["croissant", "croissant"]


def test_lock_takes_only_the_approved_direction(local: LocalSlack) -> None:
    slack = local.standin
    thread = to_direction(local)
    slack.say(OPERATOR, CHANNEL, "lock 5", thread_ts=thread)
    refused = local.ephemeral(OPERATOR, "not part of the approved direction")["text"]
    assert "approved #1" in refused and "#2, #3" in refused and "`reopen sprint" in refused
    assert local.server.atelier.service.recipe(1) is None
    slack.say(OPERATOR, CHANNEL, "lock 2", thread_ts=thread)
    local.message(CHANNEL, thread, "locked recipe v1 from #2")


def test_a_culled_image_is_kept_first(local: LocalSlack) -> None:
    slack = local.standin
    thread, _, numbers = walk.to_volume(local, TEAM, "Hero art for the spring courier campaign.")
    culled = numbers[1]
    slack.say(OPERATOR, CHANNEL, f"keep {numbers[0]}", thread_ts=thread)
    local.message(CHANNEL, thread, f"Kept #{numbers[0]}")
    slack.say(OPERATOR, CHANNEL, f"cull {culled}", thread_ts=thread)
    local.message(CHANNEL, thread, f"Culled #{culled}")
    for verb in (f"fix {culled} a1 sky", f"vary {culled} subtle", f"upscale {culled}"):
        slack.say(OPERATOR, CHANNEL, verb, thread_ts=thread)
    skip_fix(local, thread)
    slack.say(OPERATOR, CHANNEL, f"review {culled}", thread_ts=thread)

    def refusals() -> list[str]:
        return [
            e["text"] for e in slack.ephemerals_for(OPERATOR) if f"`keep {culled}`" in e["text"]
        ]

    local.wait(lambda: len(refusals()) >= 4, 30, "four refusals")
    assert {text.split(",")[1].split(".")[0] for text in refusals()} == {
        " so it can't be repaired",
        " so it can't be sent to the gate",
        " so it can't be varied",
        " so it can't be upscaled",
    }
    service = local.server.atelier.service
    source = service.image(1, culled).id
    assert [i.number for i in service.images(1) if i.parent_id == source] == []


def skip_fix(local: LocalSlack, thread: str) -> None:
    local.standin.say(DIRECTOR, CHANNEL, "skip fix nothing to repair", thread_ts=thread)
    local.message(CHANNEL, thread, "skipped the Fix")


def test_a_second_send_back_is_refused_and_does_not_count(local: LocalSlack) -> None:
    slack, service = local.standin, local.server.atelier.service
    thread, _, numbers = walk.to_volume(local, TEAM, "Hero art for the spring courier campaign.")
    skip_fix(local, thread)
    number = numbers[0]
    slack.say(OPERATOR, CHANNEL, f"keep {number}", thread_ts=thread)
    local.message(CHANNEL, thread, f"Kept #{number}")
    slack.say(OPERATOR, CHANNEL, f"review {number}", thread_ts=thread)
    local.message(CHANNEL, thread, f"Review gate: #{number}")
    slack.say(REVIEWER, CHANNEL, f"sendback {number} license stock photo", thread_ts=thread)
    local.message(CHANNEL, thread, f"sent #{number} back")
    slack.say(REVIEWER, CHANNEL, f"sendback {number} license again", thread_ts=thread)
    local.ephemeral(REVIEWER, "already sent back")
    now = service.clock()
    window = {"since": now - timedelta(days=1), "until": now + timedelta(days=1)}
    metrics = {m.name: m for m in service.metrics(project_id=1, **window)}
    assert metrics["Rework after review"].count == 1


def test_cancel_with_nothing_queued_answers_privately(local: LocalSlack) -> None:
    slack = local.standin
    thread = start(local)
    slack.say(OPERATOR, CHANNEL, "cancel", thread_ts=thread)
    local.ephemeral(OPERATOR, "nothing was cancelled")
    said = [m for m in slack.thread(CHANNEL, thread) if m.get("bot_id")]
    assert not [m for m in said if "cancel" in (m.get("text") or "").lower()]


def test_upscales_and_their_gate_say_who_and_from_what(local: LocalSlack) -> None:
    slack = local.standin
    thread, batch, numbers = walk.to_volume(
        local, TEAM, "Hero art for the spring courier campaign."
    )
    slack.say(OPERATOR, CHANNEL, f"keep {numbers[0]}", thread_ts=thread)
    local.message(CHANNEL, thread, f"Kept #{numbers[0]}")
    slack.say(OPERATOR, CHANNEL, f"upscale {numbers[0]}", thread_ts=thread)
    upscaled = seen(local.message(CHANNEL, thread, "Upscaled keepers"))
    large = numbers[-1] + 1
    assert f"<@{OPERATOR}> upscaled #{numbers[0]} → #{large}" in upscaled
    progress = [m for m in slack.thread(CHANNEL, thread) if "Upscale" in (m.get("text") or "")]
    assert any(f"of #{numbers[0]} by <@{OPERATOR}>" in m["text"] for m in progress)
    skip_fix(local, thread)
    slack.say(OPERATOR, CHANNEL, f"review {large}", thread_ts=thread)
    gate = seen(local.message(CHANNEL, thread, f"Review gate: #{large}"))
    assert f"upscaled #{numbers[0]} → #{large}" in gate
