"""The ship pack (#14): `ship`, the root's button, `atelier export --zip`, and a pack too big for Slack."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import pytest

from bot import cli
from bot.workbench import walk
from bot.workbench.local import LocalSlack
from storage.pngs import read_png
from tests.workbench import CHANNEL, DIRECTOR, OPERATOR, REVIEWER, STRANGER, TEAM, to_volume

ALT = "A courier on a red bike at dawn."


def pack_in_thread(local: LocalSlack, thread: str, after: int = 0) -> tuple[dict, bytes]:
    """The newest ship-pack message and the zip its link points at, as Slack holds it."""
    posted = local.wait(
        lambda: [
            m
            for m in local.standin.thread(CHANNEL, thread)
            if "Ship pack for project" in (m.get("text") or "")
        ][after:],
        60,
        "the ship pack",
    )[0]
    (shared,) = posted["files"]
    assert shared["name"] == "atelier-p1-ship-pack.zip"
    return posted, local.standin.ws.files[shared["id"]]["data"]


@pytest.mark.also_postgresql
def test_ship_posts_one_zip_of_the_cleared_finals_and_their_record(
    local: LocalSlack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    slack = local.standin
    thread, numbers = to_volume(local)
    slack.say(OPERATOR, CHANNEL, f"keep {numbers[0]} {numbers[1]}", thread_ts=thread)
    local.message(CHANNEL, thread, "Kept")
    slack.say(DIRECTOR, CHANNEL, "skip fix nothing to repair", thread_ts=thread)
    local.message(CHANNEL, thread, "skipped the Fix-and-finish")
    slack.say(DIRECTOR, CHANNEL, "ship", thread_ts=thread)
    local.ephemeral(DIRECTOR, "Nothing is cleared yet")
    slack.say(OPERATOR, CHANNEL, f"review {numbers[1]}", thread_ts=thread)
    local.message(CHANNEL, thread, f"Review gate: #{numbers[1]}")
    slack.say(REVIEWER, CHANNEL, f"sendback {numbers[1]} license stock photo", thread_ts=thread)
    local.message(CHANNEL, thread, f"sent #{numbers[1]} back")
    walk.clear(local, TEAM, thread, numbers[0], ALT)
    slack.say(STRANGER, CHANNEL, "ship", thread_ts=thread)
    local.ephemeral(STRANGER, "Only the project's Director, Operator or Reviewer")

    # The root offers the pack once something is cleared; its button posts it in the thread.
    root = local.wait(
        lambda: "Ship pack (1 final)" in json.dumps(local.root(CHANNEL)["blocks"]),
        30,
        "the root's Ship pack button",
    )
    assert root
    slack.press(REVIEWER, CHANNEL, thread, "ship_pack")
    posted, data = pack_in_thread(local, thread)
    assert "1 final(s)" in str(posted["text"])
    pack = zipfile.ZipFile(io.BytesIO(data))
    final = f"finals/final-{numbers[0]}.png"
    assert sorted(pack.namelist()) == sorted(
        [final, "finals.csv", "recipes.json", "gate.json", "audit.json", "README.txt"]
    )
    gpu = local.server.atelier.service.ship_record(1).gpu_seconds
    assert gpu > 0 and f"GPU time: {gpu / 60:.1f} minutes" in pack.read("README.txt").decode()
    store = local.server.atelier.store
    image = local.server.atelier.service.image(1, numbers[0])
    assert pack.read(final) == store.get(image.file_hash)  # full size, metadata and all
    assert f"Seed: {image.seed}" in read_png(pack.read(final))[0].text["parameters"]
    xmp = read_png(pack.read(final))[0].info["XML:com.adobe.xmp"]  # no C2PA library needed
    assert "Iptc4xmpExt:DigitalSourceType" in xmp and "/trainedAlgorithmicMedia" in xmp
    rows = list(csv.DictReader(io.StringIO(pack.read("finals.csv").decode())))
    assert rows == [
        {
            "number": str(numbers[0]),
            "file": final,
            "alt_text": ALT,
            "cleared_by": REVIEWER,
            "cleared_at": rows[0]["cleared_at"],
            "clear_of_people_logos_artists": "True",
            "license_permits_use": "True",
            "no_offensive_content": "True",
            "alt_text_written": "True",
            "logged_with_recipe": "True",
            "content_credentials": "none",  # no certificate here: test_content_credentials
        }
    ]
    gate = json.loads(pack.read("gate.json"))
    assert [(g["image"], g["decision"], g["reason"]) for g in gate] == [
        (numbers[1], "sent_back", "license_permits_use"),
        (numbers[0], "cleared", None),
    ]
    assert json.loads(pack.read("recipes.json"))[0]["version"] == 1
    actions = [entry["action"] for entry in json.loads(pack.read("audit.json"))]
    assert "lock_recipe" in actions and "review" in actions

    # `atelier export P --zip` writes the same pack.
    monkeypatch.setenv("ATELIER_DATABASE_URL", local.server.config.database_url)
    monkeypatch.setenv("ATELIER_IMAGE_STORE", local.server.config.image_store)
    out = tmp_path / "pack.zip"
    assert cli.main(["export", "1", "--zip", str(out)]) == 0
    written = zipfile.ZipFile(out)
    assert written.namelist() == pack.namelist()
    assert all(written.read(name) == pack.read(name) for name in pack.namelist())

    # The same finals again: the pack posted is still the pack; nothing is made twice.
    slack.say(OPERATOR, CHANNEL, "ship", thread_ts=thread)
    again = local.ephemeral(OPERATOR, "nothing was cleared since")["text"]
    assert "The ship pack of these 1 final(s)" in again  # "was posted at …" or "is on its way"

    # Past Slack's file limit, the pack waits in the image store with a path for the operator.
    local.server.dispatcher.file_limit = 1024
    slack.say(OPERATOR, CHANNEL, f"keep {numbers[2]}", thread_ts=thread)
    local.message(CHANNEL, thread, f"Kept #{numbers[2]}")
    walk.clear(local, TEAM, thread, numbers[2], ALT)
    slack.say(OPERATOR, CHANNEL, "ship", thread_ts=thread)
    over = local.message(CHANNEL, thread, "over Slack's file limit")
    where = str(over["text"]).split("`")[1]
    assert sorted(zipfile.ZipFile(where).namelist()) == sorted(
        [*pack.namelist(), f"finals/final-{numbers[2]}.png"]
    )
    assert len([m for m in slack.thread(CHANNEL, thread) if m.get("files")]) == 1
