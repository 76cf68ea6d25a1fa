"""A model folder's safety checker (#23, item 4): flagged images are held for the Reviewer."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bot.runner.backend import GenTask
from bot.runner.diffusion import DiffusersBackend
from bot.runner.safety import held_reason
from bot.workbench import walk
from bot.workbench.local import LocalSlack
from tests.flagging_model import make_flagging_model
from tests.workbench import CHANNEL, DIRECTOR, NAMES, OPERATOR, REVIEWER, TEAM, config_for


@pytest.fixture(scope="module")
def flagging(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_flagging_model(tmp_path_factory.mktemp("flagging") / "model")


def test_the_checker_marks_a_picture_and_diffusers_blacks_nothing_out(flagging: Path) -> None:
    backend = DiffusersBackend(f"flagging={flagging}", "cpu")
    task = GenTask("a courier at dawn", "", 7, 2, 5.0, 64, 64, "EulerDiscreteScheduler")
    (picture,) = backend.text_to_image([task])
    assert held_reason(picture) == "the model's safety checker flagged it (possible NSFW content)"
    assert np.asarray(picture).max() > 0  # its pixels, not diffusers' black square
    repaired = backend.image_to_image(task, picture, 0.5)
    assert held_reason(repaired) is not None


@pytest.fixture
def checked(db_url: str, tmp_path: Path, flagging: Path) -> Iterator[LocalSlack]:
    config = replace(
        config_for(db_url, tmp_path), model=f"flagging@tiny={flagging}"
    )  # tiny's sizes and steps
    with LocalSlack(config, NAMES) as workbench:
        yield workbench


def detail(data: bytes) -> float:
    """How much neighbouring pixels differ: little, once a picture is blurred."""
    grey = np.asarray(Image.open(io.BytesIO(data)).convert("L"), dtype=np.float32)
    return float(np.abs(np.diff(grey, axis=0)).mean() + np.abs(np.diff(grey, axis=1)).mean())


def test_flagged_images_wait_blurred_for_the_reviewer_who_alone_releases_or_culls(
    checked: LocalSlack,
) -> None:
    slack, service = checked.standin, checked.server.atelier.service
    slack.command(DIRECTOR, CHANNEL, "settings model flagging")
    checked.ephemeral(DIRECTOR, "model `flagging`")
    thread = walk.start(checked, TEAM, "Hero art for the spring courier campaign.")
    project = service.latest_project(CHANNEL)
    assert project is not None
    walk.sprint(checked, TEAM, thread)
    held = checked.message(CHANNEL, thread, "Held for the Reviewer")
    text = json.dumps(held["blocks"])
    assert f"<@{REVIEWER}>: held back, the model's safety checker flagged it" in text
    images = [b for b in held["blocks"] if b["type"] == "image"]
    assert images and all("blurred" in b["alt_text"] for b in images)
    first = int(images[0]["title"]["text"].lstrip("#"))
    second = int(images[1]["title"]["text"].lstrip("#"))
    blurred = slack.ws.files[images[0]["slack_file"]["id"]]["data"]
    original = checked.server.atelier.store.get(service.image(project.id, first).file_hash)
    assert detail(blurred) < detail(original) / 4
    assert service.image(project.id, first).status == "held"

    # Nothing else can be done with it; no one but the Reviewer decides.
    slack.say(OPERATOR, CHANNEL, f"vary {first} subtle", thread_ts=thread)
    checked.ephemeral(OPERATOR, f"#{first} is held")
    slack.press(
        OPERATOR, CHANNEL, str(held["ts"]), "held_release", block=f"held:{project.id}:{first}"
    )
    checked.ephemeral(OPERATOR, "Reviewer")
    assert service.image(project.id, first).status == "held"

    slack.press(
        REVIEWER, CHANNEL, str(held["ts"]), "held_release", block=f"held:{project.id}:{first}"
    )
    released = checked.message(CHANNEL, thread, f"released #{first}")
    (shown,) = [b for b in released["blocks"] if b["type"] == "image"]
    assert slack.ws.files[shown["slack_file"]["id"]]["data"] == original  # as it is, unblurred
    slack.press(
        REVIEWER, CHANNEL, str(held["ts"]), "held_cull", block=f"held:{project.id}:{second}"
    )
    checked.wait(lambda: service.image(project.id, second).status == "culled", 20, "the cull")
    assert service.image(project.id, first).status == "candidate"
