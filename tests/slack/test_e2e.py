"""End to end over HTTP with signed requests: the real listeners against the Slack stand-in."""

from __future__ import annotations

import json
import os
import time
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.config import Config
from bot.playbook.errors import OutOfOrder
from bot.workbench.demo import run_demo
from bot.workbench.local import LocalSlack, free_port, healthz, serve
from bot.workbench.standin import SlackStandIn
from storage import queue
from storage.models import Job
from tests.workbench import (
    CHANNEL,
    DIRECTOR,
    OPERATOR,
    REVIEWER,
    STRANGER,
    png,
    sprint,
    start,
    to_volume,
)

# Socket Mode (what `atelier serve` runs by default) on a representative subset: one test for
# each way a request arrives (a command, a message event and its redelivery, a file share,
# clicks, a modal and a reaction); the rest run over HTTP (the workbench's `transport`).
BOTH = pytest.mark.parametrize("transport", ["http", "socket"])


def jobs(local: LocalSlack) -> int:
    with local.server.atelier.service.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(Job)) or 0)


def test_the_whole_demo_project(tmp_path: Path) -> None:
    page = run_demo(tmp_path / "demo", Config.from_env())
    html = page.read_text()
    export = json.loads((tmp_path / "demo" / "project-export.json").read_text())
    images = {row["number"]: row for row in export["prompt_log"]}
    # Every play's images are on the page (moodboard, hero, batch, re-roll, upscales, repair, two
    # gate messages and the repair beside its parent), the daily digest's chart, and the zip.
    files = sorted(path.name for path in (tmp_path / "demo" / "files").iterdir())
    assert len(files) == 11
    (pack,) = [name for name in files if name.endswith("-ship-pack.zip")]
    assert f"href='files/{pack}'" in html
    finals = [n for n in zipfile.ZipFile(tmp_path / "demo" / "files" / pack).namelist()]
    assert len([n for n in finals if n.startswith("finals/")]) == 1
    for text in (
        "Moodboard",
        "Hero #",
        "Volume batch",
        "Upscaled keepers",
        "inpainted",
        "Review gate",
        "cleared #",
        "Daily digest",
        "Re-rolling #",
        "Ship pack for project",
        "Only visible to Dana",
    ):
        assert text in html
    assert sum(1 for row in images.values() if row["play"] == "sprint") == 15
    assert (
        sum(1 for row in images.values() if row["play"] == "volume" and row["kind"] == "txt2img")
        == 10
    )
    assert [row["status"] for row in images.values() if row["kind"] == "inpaint"] == ["sent_back"]
    shipped = [row for row in images.values() if row["status"] == "shipped"]
    assert len(shipped) == 1 and shipped[0]["kind"] == "upscale" and shipped[0]["alt_text"]
    assert export["recipes"][0]["reproducible"] is True
    # The campaign is drawn by the built-in `shapes` model, with the colour as the slot.
    assert {row["model_id"] for row in images.values()} == {"shapes"}
    assert (shipped[0]["width"], shipped[0]["height"]) == (128, 128)
    card = json.loads((tmp_path / "demo" / "recipe-card.json").read_text())
    assert (card["prompt_template"], card["slot_value"]) == (
        "a {subject} circle on a blue background, flat",
        "red",
    )
    prompts = {row["prompt"] for row in images.values() if row["play"] == "volume"}
    assert prompts == {
        f"a {colour} circle on a blue background, flat"
        for colour in ("yellow", "white", "green", "orange")
    }
    (repair,) = [row for row in images.values() if row["kind"] == "inpaint"]
    assert (repair["prompt"], repair["negative_prompt"]) == ("green", "text")


@BOTH
def test_a_click_view_or_reaction_without_the_role_changes_nothing(local: LocalSlack) -> None:
    thread = start(local)
    board = sprint(local, thread)
    slack = local.standin
    slack.press(OPERATOR, CHANNEL, board, "approve_direction")
    assert "Only the Director" in local.ephemeral(OPERATOR, "Only the Director")["text"]
    slack.press(STRANGER, CHANNEL, board, "rank_open")
    local.ephemeral(STRANGER, "Only the Director")
    slack.react(OPERATOR, CHANNEL, board, "white_check_mark")
    time.sleep(0.5)
    project = local.server.atelier.service.latest_project(CHANNEL)
    assert project is not None and project.direction_approved_at is None
    # A forged ranking submission from someone who is not the Director.
    slack.press(DIRECTOR, CHANNEL, board, "rank_open")
    view = local.wait(lambda: slack.ws.views and slack.latest_view(), 10)
    answer = slack.submit(STRANGER, view["id"], {"rank_0": "1", "rank_1": "2", "rank_2": "3"})
    assert answer.json()["response_action"] == "errors"
    assert "Only the Director" in answer.json()["errors"]["rank_0"]
    local.ephemeral(STRANGER, "Only the Director")
    assert local.server.atelier.service.export(project.id)["project"]["state"] == "active"
    with pytest.raises(OutOfOrder, match="Rank 3"):
        local.server.atelier.service.approve_direction(project.id, DIRECTOR)


@BOTH
@pytest.mark.also_postgresql
def test_the_same_event_delivered_twice_acts_once(local: LocalSlack) -> None:
    thread = start(local)
    slack = local.standin
    message, first = slack.say(
        OPERATOR,
        CHANNEL,
        "sprint ink | clay | neon — a courier",
        thread_ts=thread,
        event_id="EvSAME0001",
    )
    event = {
        "type": "message",
        "channel": CHANNEL,
        "user": OPERATOR,
        "text": message["text"],
        "ts": message["ts"],
        "thread_ts": thread,
        "channel_type": "channel",
    }
    again = slack.redeliver(event, "EvSAME0001")
    assert (first.status, again.status) == (200, 200)
    local.message(CHANNEL, thread, "Moodboard")
    local.settle()
    assert jobs(local) == 1


@pytest.mark.parametrize("transport", ["http"])  # Socket Mode requests carry no signature
def test_a_bad_signature_or_stale_timestamp_gets_401(local: LocalSlack) -> None:
    slack = local.standin
    assert slack.command(DIRECTOR, CHANNEL, "help", secret="not-the-secret").status == 401
    assert (
        slack.command(DIRECTOR, CHANNEL, "help", timestamp=int(time.time()) - 6 * 60).status == 401
    )
    assert slack.command(DIRECTOR, CHANNEL, "help").status == 200


@pytest.mark.also_postgresql
def test_a_429_on_post_message_is_retried_and_arrives_once(local: LocalSlack) -> None:
    thread = start(local)
    slack = local.standin
    slack.fail("chat.postMessage", 429, retry_after=1)
    slack.say(OPERATOR, CHANNEL, "sprint ink | clay | neon — a courier", thread_ts=thread)
    local.message(CHANNEL, thread, "Moodboard")
    local.settle()
    posted = [m.get("text", "") for m in slack.thread(CHANNEL, thread) if m.get("bot_id")]
    attempts = [
        call for call in slack.calls_of("chat.postMessage") if call.get("thread_ts") == thread
    ]
    assert sum("Moodboard" in text for text in posted) == 1
    assert (
        len(attempts) == len(posted) - 1 + 1
    )  # every threaded post once, plus the one refused with 429


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sprint watercolor", "Usage: `sprint"),
        ("fix 12", "Say which region"),
        ("lock seven", "not part of a lock"),
        ("budget 3", "Usage: `budget"),
        ("metrics --days 0", "between 1 and 365"),
    ],
)
def test_malformed_commands_get_a_usage_message(
    local: LocalSlack, text: str, expected: str
) -> None:
    thread = start(local)
    assert local.standin.command(OPERATOR, CHANNEL, text).status == 200
    assert "Traceback" not in local.ephemeral(OPERATOR, expected)["text"]
    local.standin.say(OPERATOR, CHANNEL, text, thread_ts=thread)
    replies = local.wait(
        lambda: [
            e
            for e in local.standin.ephemerals_for(OPERATOR)
            if e.get("thread_ts") == thread and expected in e["text"]
        ],
        10,
    )
    assert replies


@BOTH
def test_unknown_slash_commands_are_answered_but_thread_chatter_is_left_alone(
    local: LocalSlack,
) -> None:
    thread = start(local)
    local.standin.command(OPERATOR, CHANNEL, "frobnicate now")
    assert "Atelier commands" in local.ephemeral(OPERATOR, "I don't know `frobnicate`")["text"]
    local.standin.say(REVIEWER, CHANNEL, "love where this is going!", thread_ts=thread)
    time.sleep(0.5)
    assert local.standin.ephemerals_for(REVIEWER) == []


def test_volume_before_lock_is_refused_with_the_reason(local: LocalSlack) -> None:
    thread = start(local)
    local.standin.say(OPERATOR, CHANNEL, "volume red bike; blue bike x4", thread_ts=thread)
    reply = local.ephemeral(OPERATOR, "volume")
    assert (
        "comes after the Concept sprint" in reply["text"]
        or "needs a locked recipe" in reply["text"]
    )
    local.standin.command(DIRECTOR, CHANNEL, "skip sprint direction supplied by the client")
    local.standin.say(OPERATOR, CHANNEL, "volume red bike", thread_ts=thread)
    local.ephemeral(OPERATOR, "needs a locked recipe")
    assert jobs(local) == 0


@pytest.mark.also_postgresql
def test_every_ack_is_fast_while_the_runner_is_busy(local: LocalSlack) -> None:
    thread = start(local)
    sprint(local, thread)
    slack = local.standin
    service = local.server.atelier.service
    project = service.latest_project(CHANNEL)
    assert project is not None
    settings = {
        "model": "tiny",
        "scheduler": "EulerDiscreteScheduler",
        "steps": 4,
        "guidance": 5.0,
        "width": 384,
        "height": 384,
    }
    with service.sessions.begin() as s:
        busy = queue.enqueue(
            s,
            channel_id=CHANNEL,
            project_id=project.id,
            kind="volume",
            created_by=OPERATOR,
            total=16,
            params={
                "settings": settings,
                "images": [{"prompt": f"busy {i}", "seed": i} for i in range(16)],
            },
        ).id
    local.wait(lambda: service.job(busy).status == "running", 20, "the runner to start")  # type: ignore[union-attr]
    latencies = []
    for text in ("status", "queue", "recipe", "help", "metrics channel"):
        began = time.monotonic()
        assert slack.command(DIRECTOR, CHANNEL, text).status == 200
        latencies.append(time.monotonic() - began)
        began = time.monotonic()
        slack.say(DIRECTOR, CHANNEL, text, thread_ts=thread)
        latencies.append(time.monotonic() - began)
    assert service.job(busy).status == "running"  # type: ignore[union-attr]
    assert max(latencies) < 3.0, latencies


def test_serve_http_starts_and_acks_without_loading_torch(tmp_path: Path) -> None:
    standin = SlackStandIn()
    standin.start()
    port = free_port()
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": standin.token,
        "SLACK_SIGNING_SECRET": standin.signing_secret,
        "SLACK_API_URL": standin.api_url,
        "ATELIER_DATABASE_URL": f"sqlite:///{tmp_path}/serve.db",
        "ATELIER_IMAGE_STORE": str(tmp_path / "store"),
    }
    proc = serve(env, port)
    try:
        assert json.loads(healthz(port) or "{}") == {"ok": True, "database": "ok"}
        standin.app_url = f"http://127.0.0.1:{port}/slack/events"
        assert standin.command(DIRECTOR, CHANNEL, "help").status == 200
        LocalSlack.wait(lambda: standin.ephemerals_for(DIRECTOR), 10, "the help reply")
        maps = Path(f"/proc/{proc.pid}/maps").read_text()
        assert "libtorch" not in maps and "_C.cpython" not in maps
    finally:
        proc.terminate()
        proc.wait(20)
        standin.stop()


@BOTH
def test_an_editors_upload_in_the_thread_becomes_the_next_version(local: LocalSlack) -> None:
    thread, numbers = to_volume(local)
    slack = local.standin
    slack.say(OPERATOR, CHANNEL, f"keep {numbers[0]}", thread_ts=thread)
    slack.say(OPERATOR, CHANNEL, f"handoff {numbers[0]} <@UEDITOR>", thread_ts=thread)
    local.message(CHANNEL, thread, "is with")
    slack.upload("UEDITOR", CHANNEL, "notes.txt", b"not an image", thread_ts=thread)
    assert "not an image Atelier can read" in local.ephemeral("UEDITOR", "not an image")["text"]
    slack.upload("UEDITOR", CHANNEL, "big.png", png((128, 128)), thread_ts=thread)
    assert "Export it at the same size" in local.ephemeral("UEDITOR", "same size")["text"]
    slack.upload(STRANGER, CHANNEL, "drive-by.png", png((64, 64)), thread_ts=thread)
    local.ephemeral(STRANGER, "No image is handed to you")
    slack.upload("UEDITOR", CHANNEL, "fixed.png", png((64, 64), "teal"), thread_ts=thread)
    version = local.message(CHANNEL, thread, "New version #")
    assert f"edited by hand #{numbers[0]} → #" in version["blocks"][0]["text"]["text"]
    exported = local.server.atelier.service.export(
        local.server.atelier.service.latest_project(CHANNEL).id
    )  # type: ignore[union-attr]
    edited = [row for row in exported["prompt_log"] if row["kind"] == "editor"]
    assert (
        len(edited) == 1
        and edited[0]["parent"] == numbers[0]
        and edited[0]["created_by"] == "UEDITOR"
    )
    stored = local.server.atelier.store.get(edited[0]["file_hash"])
    assert (
        b"UEDITOR" not in stored and b"fixed.png" not in stored
    )  # no Slack id or file name inside


def test_a_mask_upload_is_checked_before_a_repair(local: LocalSlack) -> None:
    thread, numbers = to_volume(local)
    slack = local.standin
    slack.say(DIRECTOR, CHANNEL, "skip volume the hero is enough", thread_ts=thread)
    local.message(CHANNEL, thread, "skipped the Volume run")
    refused = [
        ("mask.png", png((32, 32)), "make it the same size"),
        ("mask.txt", b"white here", "not an image Atelier can read"),
        ("mask.png", b"\x89PNG" + b"0" * (21 * 1024 * 1024), "limited to 20 MB"),
    ]
    for name, data, why in refused:
        slack.upload(
            OPERATOR, CHANNEL, name, data, thread_ts=thread, text=f"fix {numbers[1]} mask a flag"
        )
        local.ephemeral(OPERATOR, why)
    slack.upload(
        OPERATOR,
        CHANNEL,
        "mask.png",
        png((64, 64)),
        thread_ts=thread,
        text=f"fix {numbers[1]} mask a flag",
    )
    # An all-white mask covers the whole image: regenerate, unless the Director forces it.
    local.ephemeral(OPERATOR, "more than a third")
    slack.upload(
        DIRECTOR,
        CHANNEL,
        "mask.png",
        png((64, 64)),
        thread_ts=thread,
        text=f"fix {numbers[1]} mask force a flag",
    )
    local.message(CHANNEL, thread, "forced a repair")
    repaired = local.message(CHANNEL, thread, "Repaired #")
    assert "inpainted" in repaired["blocks"][0]["text"]["text"]


@pytest.mark.also_postgresql
def test_a_reply_before_the_root_is_recorded_still_takes_effect(local: LocalSlack) -> None:
    slack = local.standin
    start(local)  # roles set, and a first project
    # The root shows at once but Slack's answer to the bot is slow, so the Operator replies in
    # the thread before the bot has recorded which project the thread is.
    slack.fail("chat.postMessage", 200, delay=2.0, late=True)
    slack.command(DIRECTOR, CHANNEL, "new Hero art for the autumn courier campaign.")
    thread = str(local.wait(lambda: _root_of(local, "autumn"), 30, "the root")["ts"])
    slack.say(OPERATOR, CHANNEL, "sprint ink | clay | neon — a courier", thread_ts=thread)
    local.message(CHANNEL, thread, "Moodboard")


def _root_of(local: LocalSlack, word: str) -> dict[str, object] | None:
    return next((m for m in local.standin.history(CHANNEL) if word in m.get("text", "")), None)


@pytest.mark.also_postgresql
def test_the_reviewers_emoji_clear_or_send_back_and_others_change_nothing(
    local: LocalSlack,
) -> None:
    thread, numbers = to_volume(local)
    slack = local.standin
    slack.say(OPERATOR, CHANNEL, f"keep {numbers[0]} {numbers[1]}", thread_ts=thread)
    local.message(CHANNEL, thread, "Kept")
    slack.say(DIRECTOR, CHANNEL, "skip fix nothing to repair", thread_ts=thread)
    local.message(CHANNEL, thread, "skipped the Fix-and-finish")
    # The gate message shows at once but Slack's answer to the bot is slow, so the first
    # reaction arrives before the bot has recorded what the message is.
    slack.fail("chat.postMessage", 200, delay=1.0, late=True)
    slack.say(OPERATOR, CHANNEL, f"review {numbers[0]}", thread_ts=thread)
    gate = local.message(CHANNEL, thread, f"Review gate: #{numbers[0]}")
    slack.react(OPERATOR, CHANNEL, str(gate["ts"]), "white_check_mark")
    local.ephemeral(OPERATOR, "Only the Reviewer")
    slack.react(REVIEWER, CHANNEL, str(gate["ts"]), "white_check_mark")
    assert "Still open" in local.ephemeral(REVIEWER, "Clear to ship needs every box")["text"]
    boxes = [
        "clear_of_people_logos_artists",
        "license_permits_use",
        "no_offensive_content",
        "alt_text_written",
    ]
    slack.set_state(CHANNEL, str(gate["ts"]), "gate_boxes", boxes, dispatch_user=REVIEWER)
    slack.set_state(
        CHANNEL, str(gate["ts"]), "gate_alt", "A courier on a red bike.", dispatch_user=REVIEWER
    )
    # Both clicks in the draft first: the inbox applies requests side by side, so the second
    # click may land before the first (each fills its own field, so the order does not matter).
    local.wait(
        lambda: (
            (d := local.server.atelier.service.gate_draft(1, numbers[0]))
            and d.alt_text
            and sorted(d.ticked) == sorted(boxes)
        ),
        10,
        "the draft",
    )
    slack.react(REVIEWER, CHANNEL, str(gate["ts"]), "white_check_mark")
    local.message(CHANNEL, thread, f"cleared #{numbers[0]}")
    slack.say(OPERATOR, CHANNEL, f"review {numbers[1]}", thread_ts=thread)
    second = local.message(CHANNEL, thread, f"Review gate: #{numbers[1]}")
    slack.react(REVIEWER, CHANNEL, str(second["ts"]), "x")
    local.message(CHANNEL, thread, f"which checklist item does #{numbers[1]} fail")
    slack.say(
        REVIEWER,
        CHANNEL,
        f"sendback {numbers[1]} license stock photo terms unclear",
        thread_ts=thread,
    )
    local.message(CHANNEL, thread, f"sent #{numbers[1]} back: license")


def test_a_prompt_past_the_token_limit_is_warned_with_what_was_cut(local: LocalSlack) -> None:
    thread = start(local)
    subject = "a courier at dawn " + "with a red scarf and a tall hat " * 3 + "FINAL-DETAIL"
    local.standin.say(OPERATOR, CHANNEL, f"sprint ink | clay | neon — {subject}", thread_ts=thread)
    board = local.message(CHANNEL, thread, "Moodboard")
    warnings = [
        b["elements"][0]["text"]
        for b in board["blocks"]
        if b["type"] == "context" and "77 tokens" in b["elements"][0]["text"]
    ]
    assert len(warnings) == 3  # one per style: each prompt loses its own tail
    assert all("FINAL-DETAIL" in warning for warning in warnings)


def test_an_upload_over_20_mb_is_refused(local: LocalSlack) -> None:
    thread, numbers = to_volume(local)
    local.standin.say(OPERATOR, CHANNEL, f"handoff {numbers[0]} <@UEDITOR>", thread_ts=thread)
    local.message(CHANNEL, thread, "is with")
    local.standin.upload(
        "UEDITOR", CHANNEL, "huge.png", b"\x89PNG" + b"0" * (21 * 1024 * 1024), thread_ts=thread
    )
    assert "limited to 20 MB" in local.ephemeral("UEDITOR", "20 MB")["text"]
