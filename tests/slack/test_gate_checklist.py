"""The channel's own checklist and pinned regions (#23, items 2 and 3), over the Slack stand-in."""

from __future__ import annotations

import csv
import io
import json
import zipfile

from PIL import Image

from bot.workbench import walk
from bot.workbench.local import LocalSlack
from tests.slack.test_ship_pack import pack_in_thread
from tests.workbench import CHANNEL, DIRECTOR, OPERATOR, REVIEWER, card, to_volume

BRAND = "On brand: palette, type, logo use"
PIN = (255, 32, 96)  # the outline's colour


def test_a_brand_item_at_the_gate_a_pinned_send_back_its_fix_and_the_record(
    local: LocalSlack,
) -> None:
    slack = local.standin
    thread, numbers = to_volume(local)
    # A Director of the channel adds the item; the Operator may not; the playbook's five stay.
    slack.command(OPERATOR, CHANNEL, f'settings checklist add brand "{BRAND}"')
    local.ephemeral(OPERATOR, "nothing was changed")
    slack.command(DIRECTOR, CHANNEL, f'settings checklist add brand "{BRAND}"')
    listed = card(local, DIRECTOR, "Checklist saved")
    assert f"`brand` — {BRAND} _(this channel's)_" in listed and "`license`" in listed
    slack.command(DIRECTOR, CHANNEL, "settings checklist remove license")
    local.ephemeral(DIRECTOR, "one of the playbook's five gate items")

    slack.say(OPERATOR, CHANNEL, f"keep {numbers[0]}", thread_ts=thread)
    local.message(CHANNEL, thread, "Kept")
    slack.say(DIRECTOR, CHANNEL, "skip fix nothing to repair yet", thread_ts=thread)
    local.message(CHANNEL, thread, "skipped the Fix-and-finish")
    slack.say(OPERATOR, CHANNEL, f"review {numbers[0]}", thread_ts=thread)
    gate = local.message(CHANNEL, thread, f"Review gate: #{numbers[0]}")
    boxes = slack.element(CHANNEL, str(gate["ts"]), "gate_boxes")[1]["options"]
    assert [o["value"] for o in boxes][-1] == "brand"
    assert boxes[-1]["description"]["text"] == BRAND
    slack.press(REVIEWER, CHANNEL, str(gate["ts"]), "gate_sendback")
    modal = local.wait(lambda: slack.ws.views and slack.latest_view(), 10, "the send-back modal")
    options = json.dumps(modal["blocks"])
    assert '"value": "brand"' in options and '"value": "logged_with_recipe"' not in options

    # A send-back pins b2 and c2: the thread shows them outlined on the image.
    slack.say(
        REVIEWER, CHANNEL, f"sendback {numbers[0]} brand b2 c2 logo too big", thread_ts=thread
    )
    said = local.message(CHANNEL, thread, f"sent #{numbers[0]} back")
    assert f"brand (pinned b2 c2: `fix {numbers[0]}` repairs them). logo too big" in said["text"]
    pinned = local.message(CHANNEL, thread, f"#{numbers[0]} sent back for brand at b2 c2")
    (shown,) = [b for b in pinned["blocks"] if b["type"] == "image"]
    picture = Image.open(io.BytesIO(slack.ws.files[shown["slack_file"]["id"]]["data"]))
    width, height = picture.size
    assert picture.getpixel((width // 3 + 1, height // 2)) == PIN  # b2's left edge
    assert picture.getpixel((width - 2, height // 2)) == PIN  # c2's right edge
    assert picture.getpixel((width // 6, height // 6)) != PIN  # a1 is not pinned
    slack.say(REVIEWER, CHANNEL, f"info {numbers[0]}", thread_ts=thread)
    assert f"#{numbers[0]} b2 c2 (brand) — logo too big · open" in card(
        local, REVIEWER, f"#{numbers[0]}: volume"
    )

    # `fix N` alone repairs the pinned cells; clearing the repair (brand ticked) resolves the pin.
    slack.say(OPERATOR, CHANNEL, f"fix {numbers[0]} a calm blue sky", thread_ts=thread)
    repaired = local.message(CHANNEL, thread, "Repaired #")
    fixed = int(str(repaired["text"]).split("#")[1].split()[0].rstrip(":."))
    assert local.server.atelier.service.image(1, fixed).parent_id is not None
    slack.say(OPERATOR, CHANNEL, f"review {fixed}", thread_ts=thread)
    gate = local.message(CHANNEL, thread, f"Review gate: #{fixed}")
    assert "b2 c2 (brand) — logo too big · open" in json.dumps(gate["blocks"], ensure_ascii=False)
    slack.set_state(
        CHANNEL,
        str(gate["ts"]),
        "gate_boxes",
        [*walk.REVIEWER_BOXES, "brand"],
        dispatch_user=REVIEWER,
    )
    slack.set_state(CHANNEL, str(gate["ts"]), "gate_alt", "A courier on a red bike at dawn.")
    slack.press(REVIEWER, CHANNEL, str(gate["ts"]), "gate_clear")
    local.message(CHANNEL, thread, f"cleared #{fixed}")

    # The ship pack: the channel's column in finals.csv, the pin and how it ended in gate.json.
    slack.say(DIRECTOR, CHANNEL, "ship", thread_ts=thread)
    _, data = pack_in_thread(local, thread)
    pack = zipfile.ZipFile(io.BytesIO(data))
    (row,) = csv.DictReader(io.StringIO(pack.read("finals.csv").decode()))
    assert row["brand"] == "True" and list(row)[-2:] == ["brand", "content_credentials"]
    (sent_back,) = [g for g in json.loads(pack.read("gate.json")) if g["decision"] == "sent_back"]
    assert sent_back["reason"] == "brand"
    assert [(p["cells"], p["note"], p["resolved"]) for p in sent_back["pins"]] == [
        ("b2 c2", "logo too big", f"#{fixed} cleared")
    ]
    slack.command(DIRECTOR, CHANNEL, "metrics channel")
    assert "from 2 reviews; sent back for brand 1" in card(local, DIRECTOR, "This channel metrics")
