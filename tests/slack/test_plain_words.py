"""Numbers and words a creative team reads at a glance (#20, point 6), over the stand-in (HTTP)."""

from __future__ import annotations

import io
import json

from PIL import Image as PILImage

from bot import digest
from bot.workbench import walk
from bot.workbench.local import LocalSlack
from tests.workbench import CHANNEL, DIRECTOR, OPERATOR, REVIEWER, STRANGER, TEAM, start


def seen(message: dict) -> str:
    return message.get("text", "") + json.dumps(message.get("blocks") or [], ensure_ascii=False)


def test_keep_rate_counts_volume_images_and_equals_its_breakdown(local: LocalSlack) -> None:
    slack = local.standin
    thread, _, numbers = walk.to_volume(local, TEAM, "Hero art for the spring courier campaign.")
    slack.say(OPERATOR, CHANNEL, f"keep {numbers[0]}", thread_ts=thread)
    local.message(CHANNEL, thread, f"Kept #{numbers[0]}")
    slack.say(STRANGER, CHANNEL, "metrics project", thread_ts=thread)
    shown = seen(local.ephemeral(STRANGER, "Project 1 metrics"))
    assert "*Keep rate:* 25% — from 4 volume images" in shown
    assert "red bike: 1 of 4 kept (25%)" in shown
    assert "*Sprint picks:* 20% — from 15 sprint candidates" in shown
    # Brief to approved hero took seconds here: said in minutes, not "0.0 h".
    assert "*Brief to approved hero:* 0 min — from 1 projects" in shown
    assert "n=" not in shown and "rising means" not in shown and "`help metrics`" in shown
    slack.say(STRANGER, CHANNEL, "help metrics", thread_ts=thread)
    meanings = local.ephemeral(STRANGER, "What the numbers mean")["text"]
    assert "*Keep rate*: volume images kept" in meanings and "*Sprint picks*" in meanings


def test_the_digest_fits_in_twelve_lines(local: LocalSlack) -> None:
    slack = local.standin
    start(local)
    for n in range(4):
        slack.command(DIRECTOR, CHANNEL, f"new Banner number {n} for the spring sale.")
    local.wait(lambda: len(local.server.atelier.service.projects(CHANNEL)) == 5, 30, "5 projects")
    atelier = local.server.atelier
    digest.post_digest(atelier.service, atelier.store, CHANNEL, once=False)
    posted = local.wait(
        lambda: [m for m in slack.history(CHANNEL) if "Atelier digest" in (m.get("text") or "")],
        60,
        "the digest",
    )[0]["text"]
    lines = posted.splitlines()
    assert len(lines) <= 12, posted
    assert "…and 4 more: `status` lists them" in posted
    assert "n=" not in posted and "rising means" not in posted


def test_help_groups_the_verbs_by_play(local: LocalSlack) -> None:
    slack = local.standin
    thread = start(local)
    slack.say(STRANGER, CHANNEL, "help", thread_ts=thread)
    helped = local.ephemeral(STRANGER, "Atelier commands, by play")["text"]
    order = [
        helped.index(part)
        for part in ("*1 · Concept sprint*", "• `sprint", "*2 · Lock-in pass*", "• `lock 7")
    ]
    assert order == sorted(order)
    assert "*5 · Review gate*" in helped and "• `sendback" in helped


def test_roles_say_which_open_projects_keep_their_own(local: LocalSlack) -> None:
    slack = local.standin
    start(local)
    slack.command(
        DIRECTOR,
        CHANNEL,
        f"roles director <@{DIRECTOR}> operator <@{REVIEWER}> reviewer <@{OPERATOR}>",
    )
    said = local.ephemeral(DIRECTOR, "Open projects keep their own roles")["text"]
    assert (
        f"Project 1: Director <@{DIRECTOR}>, Operator <@{OPERATOR}>, Reviewer <@{REVIEWER}>" in said
    )
    assert f"`/atelier p1 roles director <@{DIRECTOR}> operator <@{REVIEWER}>" in said


def test_a_one_person_project_says_so(local: LocalSlack) -> None:
    slack = local.standin
    slack.command(DIRECTOR, CHANNEL, "new A solo poster for the bake sale.")
    thread = str(local.root(CHANNEL)["ts"])
    said = local.message(CHANNEL, thread, "holds all three roles")["text"]
    assert f"<@{DIRECTOR}> holds all three roles" in said and "10 min" in said


def test_the_moodboard_has_one_row_per_style(local: LocalSlack) -> None:
    slack = local.standin
    thread = start(local)
    slack.say(
        OPERATOR, CHANNEL, "sprint ink | clay | neon — a courier at dawn x16", thread_ts=thread
    )
    board = local.message(CHANNEL, thread, "Moodboard")
    file_id = next(b for b in board["blocks"] if b["type"] == "image")["slack_file"]["id"]
    sheet = PILImage.open(io.BytesIO(slack.ws.files[file_id]["data"]))
    # 16 over three styles: 6, 5 and 5 tiles, each style a row (192-px tiles, 24-px labels).
    assert sheet.size == (6 * 198 + 6, 3 * (192 + 24 + 6) + 6)
