"""`atelier demo`: a whole project through all five plays, through the real listeners, offline."""

from __future__ import annotations

import json
import re
import shutil
import sys
import time
from dataclasses import replace
from pathlib import Path

from bot import digest
from bot.config import Config
from bot.workbench.local import LocalSlack
from bot.workbench.transcript import Transcript

CHANNEL = "CDEMO"
SUBJECT = "a red circle on a blue background"
DANA, OMAR, RIA, EDDIE = "UDANA", "UOMAR", "URIA", "UEDDIE"
NAMES = {
    DANA: "Dana (Director)",
    OMAR: "Omar (Operator)",
    RIA: "Ria (Reviewer)",
    EDDIE: "Eddie (Editor)",
}


def step(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


def run_demo(out: Path, config: Config) -> Path:
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    config = replace(
        config, database_url=f"sqlite:///{out}/demo.db", image_store=str(out / "store")
    )
    with LocalSlack(config, NAMES) as local:
        slack = local.standin
        step(
            "Dana sets the channel's roles and model (`shapes`, trained by Atelier) and starts a project"
        )
        slack.command(
            DANA, CHANNEL, f"roles director <@{DANA}> operator <@{OMAR}> reviewer <@{RIA}>"
        )
        local.ephemeral(DANA, "roles saved")
        slack.command(DANA, CHANNEL, "settings model shapes")
        local.ephemeral(DANA, "model `shapes`")
        slack.command(DANA, CHANNEL, "new Bold shape tiles for the spring sale, bright and simple.")
        thread = local.root(CHANNEL)["ts"]

        step("Play 1, concept sprint: 15 variations across 3 styles")
        slack.say(
            OMAR,
            CHANNEL,
            f"sprint flat | watercolor | film photo — {SUBJECT}",
            thread_ts=thread,
        )
        board = local.message(CHANNEL, thread, "Moodboard")
        step("Dana ranks three candidates in the modal, then approves the direction with ✅")
        slack.press(DANA, CHANNEL, board["ts"], "rank_open")
        view = local.wait(lambda: slack.ws.views and slack.latest_view(), 10, "the ranking modal")
        slack.submit(DANA, view["id"], {"rank_0": "4", "rank_1": "1", "rank_2": "7"})
        local.message(CHANNEL, thread, "ranked #4, #1, #7")
        slack.react(DANA, CHANNEL, board["ts"], "white_check_mark")
        local.message(CHANNEL, thread, "approved the direction")

        step(
            "Play 2, lock-in pass: the colour is the slot; recipe card, hero, reproducibility check"
        )
        slack.say(OMAR, CHANNEL, "lock 4 slot red negative", thread_ts=thread)
        hero = local.message(CHANNEL, thread, "Hero #")
        slack.press(DANA, CHANNEL, hero["ts"], "approve_hero")
        local.message(CHANNEL, thread, "approved the hero")

        step("Play 3, volume run: 4 colours in the slot × 2, cull, upscale keepers")
        slack.say(OMAR, CHANNEL, "volume yellow; white; green; orange x2", thread_ts=thread)
        batch = local.message(CHANNEL, thread, "Volume batch")
        numbers = [
            int(o["value"]) for o in slack.element(CHANNEL, batch["ts"], "keep_0")[1]["options"]
        ]
        keepers = [numbers[0], numbers[2]]
        slack.set_state(CHANNEL, batch["ts"], "keep_0", [str(n) for n in keepers])
        slack.press(OMAR, CHANNEL, batch["ts"], "batch_save")
        local.message(CHANNEL, thread, "Kept")
        step("Everyday tools: what made an image (info), and new seeds for one (reroll)")
        slack.say(DANA, CHANNEL, f"info {numbers[1]}", thread_ts=thread)
        local.ephemeral(DANA, f"#{numbers[1]}: volume")
        slack.say(OMAR, CHANNEL, f"reroll {numbers[1]} x2", thread_ts=thread)
        local.message(CHANNEL, thread, "Volume batch: 2 images")
        slack.press(OMAR, CHANNEL, batch["ts"], "upscale_keepers")
        upscaled = local.message(CHANNEL, thread, "Upscaled keepers")
        made = re.findall(r"#(\d+) → #(\d+)", upscaled["blocks"][0]["text"]["text"])
        large = {int(parent): int(child) for parent, child in made}[keepers[1]]

        step("Play 4, fix-and-finish: recolour the middle of one keeper")
        slack.press(OMAR, CHANNEL, batch["ts"], "fix_open", str(keepers[0]))
        view = local.wait(
            lambda: (
                slack.ws.views
                and slack.latest_view()["callback_id"] == "fix"
                and slack.latest_view()
            ),
            10,
            "the fix modal",
        )
        slack.submit(
            OMAR,
            view["id"],
            {
                "mode": "inpaint",
                "cells": ["b2"],
                "instruction": "make it green, no text",
                "strength": "1.0",
            },
        )
        repaired = local.message(CHANNEL, thread, "Repaired #")

        step("Play 5, review gate: one send-back, one clear")
        slack.press(OMAR, CHANNEL, repaired["ts"], "send_to_gate")
        gate = local.message(CHANNEL, thread, "Review gate")
        slack.set_state(
            CHANNEL,
            gate["ts"],
            "gate_boxes",
            ["license_permits_use", "no_offensive_content"],
            dispatch_user=RIA,
        )
        slack.press(RIA, CHANNEL, gate["ts"], "gate_sendback")
        view = local.wait(
            lambda: (
                slack.ws.views
                and slack.latest_view()["callback_id"] == "sendback"
                and slack.latest_view()
            ),
            10,
            "the send-back modal",
        )
        slack.submit(
            RIA,
            view["id"],
            {
                "item": "clear_of_people_logos_artists",
                "note": "the green patch reads like a competitor's logo",
            },
        )
        local.message(CHANNEL, thread, "sent #")
        slack.say(OMAR, CHANNEL, f"review {large}", thread_ts=thread)
        gate = local.message(CHANNEL, thread, f"Review gate: #{large}")
        slack.set_state(
            CHANNEL,
            gate["ts"],
            "gate_boxes",
            [
                "clear_of_people_logos_artists",
                "license_permits_use",
                "no_offensive_content",
                "alt_text_written",
            ],
            dispatch_user=RIA,
        )
        slack.set_state(
            CHANNEL,
            gate["ts"],
            "gate_alt",
            "A white circle on a blue background.",
        )
        slack.press(RIA, CHANNEL, gate["ts"], "gate_clear")
        local.message(CHANNEL, thread, "cleared")

        step("The ship pack: the cleared final, finals.csv, recipe, gate record and audit log")
        local.wait(lambda: "ship_pack" in json.dumps(slack.history(CHANNEL)[-1]), 30, "Ship pack")
        slack.press(DANA, CHANNEL, thread, "ship_pack")
        local.message(CHANNEL, thread, "Ship pack for project")

        step("Metrics on demand, and the channel's daily digest with its trend chart")
        slack.command(DANA, CHANNEL, "metrics")
        local.ephemeral(DANA, "metrics")
        service = local.server.atelier.service
        digest.post_digest(service, local.server.atelier.store, CHANNEL, once=False)
        local.wait(
            lambda: [
                m for m in slack.history(CHANNEL) if "Atelier digest" in (m.get("text") or "")
            ],
            60,
            "the digest",
        )
        local.settle()
        project = service.latest_project(CHANNEL)
        assert project is not None
        export = service.export(project.id)
        (out / "recipe-card.json").write_text(json.dumps(export["recipes"][-1], indent=2) + "\n")
        (out / "project-export.json").write_text(json.dumps(export, indent=2) + "\n")
        page = Transcript(slack, NAMES).write_html(
            CHANNEL, out, "Atelier demo: shape tiles for a spring sale"
        )
    shutil.rmtree(out / "store", ignore_errors=True)
    return page


def main(out: str, config: Config) -> int:
    started = time.monotonic()
    page = run_demo(Path(out).resolve(), config)
    images = len(list((page.parent / "files").iterdir()))
    print(
        f"\nDone in {time.monotonic() - started:.0f}s: {images} images, the thread, the recipe card."
    )
    print(f"  open {page}")
    print(f"  recipe card: {page.parent / 'recipe-card.json'}")
    for pack in (page.parent / "files").glob("*-ship-pack.zip"):
        print(f"  ship pack: {pack}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "atelier-demo", Config.from_env()))
