"""Aspect ratios (#11): a 16:9 project through all five plays, and the sizes each family gets."""

from __future__ import annotations

import io

import pytest
from PIL import Image as PILImage

from bot.playbook.aspect import RATIOS, size_for
from bot.playbook.errors import InvalidInput
from bot.playbook.presets import PRESETS
from bot.workbench import walk
from bot.workbench.local import LocalSlack
from storage.pngs import read_png
from tests.workbench import CHANNEL, DIRECTOR, OPERATOR, TEAM, start

WIDE = (80, 48)  # 16:9 for the tiny model: about its 64² pixels, sides in multiples of 16


@pytest.mark.parametrize(
    ("family", "ratio", "size"),
    [
        ("sd15", "16:9", (768, 448)),
        ("sd15", "1:1", (512, 512)),
        ("sd15", "9:16", (448, 768)),
        ("sdxl", "16:9", (1344, 768)),
        ("sdxl", "4:5", (896, 1152)),
        ("tiny", "16:9", WIDE),
    ],
)
def test_a_ratio_keeps_about_the_familys_pixel_area(
    family: str, ratio: str, size: tuple[int, int]
) -> None:
    assert size_for(PRESETS[family], ratio) == size


def test_every_offered_ratio_fits_every_familys_limits() -> None:
    for preset in PRESETS.values():
        for ratio in RATIOS:
            width, height = size_for(preset, ratio)
            assert width % preset.multiple == 0 and height % preset.multiple == 0
            assert preset.min_side <= min(width, height) and max(width, height) <= preset.max_size
    with pytest.raises(InvalidInput, match="1:1, 3:2"):
        size_for(PRESETS["sd15"], "5:1")


def sizes(local: LocalSlack, numbers: list[int]) -> set[tuple[int, int]]:
    """The pixel sizes of these images as stored (not as recorded)."""
    service, store = local.server.atelier.service, local.server.atelier.store
    return {read_png(store.get(service.image(1, n).file_hash))[0].size for n in numbers}


def uploaded(local: LocalSlack, message: dict) -> PILImage.Image:
    file_id = next(b for b in message["blocks"] if b["type"] == "image")["slack_file"]["id"]
    return PILImage.open(io.BytesIO(local.standin.ws.files[file_id]["data"]))


def mask(size: tuple[int, int], white: tuple[int, int, int, int]) -> bytes:
    picture = PILImage.new("L", size, 0)
    picture.paste(255, white)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_16_9_project_goes_through_all_five_plays(local: LocalSlack) -> None:
    slack = local.standin
    service = local.server.atelier.service
    thread = start(local)
    say = lambda who, text: slack.say(who, CHANNEL, text, thread_ts=thread)  # noqa: E731

    # Play 1: the sprint at 16:9; the moodboard's tiles keep the shape.
    say(OPERATOR, "sprint ink | clay | neon — a courier at dawn --ar 5:1")
    local.ephemeral(OPERATOR, "is not a ratio Atelier offers")
    say(OPERATOR, "sprint ink | clay | neon — a courier at dawn --ar 16:9")
    board = local.message(CHANNEL, thread, "Moodboard")
    assert sizes(local, list(range(1, 16))) == {WIDE}
    sheet = uploaded(local, board)
    assert sheet.width > 2 * sheet.height  # 5 wide tiles a row, 3 rows
    say(DIRECTOR, "rank 1 2 3")
    local.message(CHANNEL, thread, "ranked #1")
    slack.react(DIRECTOR, CHANNEL, str(board["ts"]), "white_check_mark")
    local.message(CHANNEL, thread, "approved the direction")

    # Play 2: the card stores width and height; bad sizes get the allowed range.
    say(OPERATOR, "lock 1 size 88x48")
    local.ephemeral(OPERATOR, "each a multiple of 16")
    say(OPERATOR, "lock 1 ar 16:9 size 80x48")
    local.ephemeral(OPERATOR, "not both")
    say(OPERATOR, "lock 1")
    hero = local.message(CHANNEL, thread, "Hero #")
    recipe = service.recipes(1)[0]
    assert (recipe.width, recipe.height) == WIDE and recipe.reproducible
    slack.react(DIRECTOR, CHANNEL, str(hero["ts"]), "white_check_mark")
    local.message(CHANNEL, thread, "approved the hero")

    # Play 3: a batch at the card's size; another size is drift.
    say(OPERATOR, "volume red bike size=64x64 x2")
    local.ephemeral(OPERATOR, "width 80 → 64")
    say(OPERATOR, "volume red bike x3")
    batch = local.message(CHANNEL, thread, "Volume batch")
    numbers = [
        int(o["value"]) for o in slack.element(CHANNEL, str(batch["ts"]), "keep_0")[1]["options"]
    ]
    assert sizes(local, numbers) == {WIDE}
    say(OPERATOR, f"keep {numbers[0]} {numbers[1]}")
    local.message(CHANNEL, thread, "Kept")

    # Play 4: a grid repair, a mask repair and an upscale, all at 16:9.
    say(OPERATOR, f"fix {numbers[0]} a1 remove the sign")
    repaired = local.message(CHANNEL, thread, "Repaired #")
    fixed = int(str(repaired["text"]).split("#")[1])
    slack.upload(
        OPERATOR,
        CHANNEL,
        "mask.png",
        mask((48, 80), (0, 0, 8, 8)),
        thread_ts=thread,
        text=f"fix {numbers[1]} mask a flag",
    )
    local.ephemeral(OPERATOR, "Export it at the image's own size")
    slack.upload(
        OPERATOR,
        CHANNEL,
        "mask.png",
        mask(WIDE, (0, 0, 16, 16)),
        thread_ts=thread,
        text=f"fix {numbers[1]} mask a flag",
    )
    local.message(CHANNEL, thread, f"Repaired #{fixed + 1}")
    assert sizes(local, [fixed, fixed + 1]) == {WIDE}
    say(OPERATOR, f"keep {fixed}")
    local.message(CHANNEL, thread, f"Kept #{fixed}")
    say(OPERATOR, f"upscale {fixed}")
    upscaled = local.message(CHANNEL, thread, "Upscaled keepers")
    large = fixed + 2
    assert sizes(local, [large]) == {(160, 96)} and "#" in str(upscaled["blocks"])

    # Play 5: the gate shows the repair beside its parent, and the final ships at 16:9.
    say(OPERATOR, f"review {fixed}")
    gate = local.message(CHANNEL, thread, f"Review gate: #{fixed}")
    beside = [b for b in gate["blocks"] if b["type"] == "image"][1]
    compared = PILImage.open(io.BytesIO(slack.ws.files[beside["slack_file"]["id"]]["data"]))
    assert compared.width > 4 * compared.height  # three 16:9 panels in a row
    walk.clear(local, TEAM, thread, large, "A courier on a red bike, wide banner.")
    final = service.image(1, large)
    assert (final.width, final.height, final.status) == (160, 96, "shipped")
