"""LoRAs (#11): a tiny LoRA made with peft changes the pixels, reproduces, and never leaks."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

from bot.lora_files import LoraFolder, family_of, sha256_of
from bot.playbook.errors import InvalidInput
from bot.playbook.loras import LoraChoice, check_loras
from bot.playbook.presets import PRESETS
from bot.runner import models
from bot.runner.backend import GenTask
from bot.runner.diffusion import DiffusersBackend
from bot.runner.jobs import JobError
from bot.runner.worker import Worker
from storage.pngs import read_png, to_png


def make_lora(folder: Path, name: str, seed: int = 0) -> Path:
    """A LoRA for the tiny model, initialised at random with peft (so it changes what it touches)."""
    from diffusers import StableDiffusionPipeline
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    pipe = StableDiffusionPipeline.from_pretrained(models.resolve("tiny").path, dtype=torch.float32)
    torch.manual_seed(seed)
    pipe.unet.add_adapter(
        LoraConfig(
            r=4,
            lora_alpha=4,
            target_modules=["to_q", "to_k", "to_v", "to_out.0"],
            init_lora_weights=False,
        )
    )
    StableDiffusionPipeline.save_lora_weights(
        folder,
        unet_lora_layers=get_peft_model_state_dict(pipe.unet),
        weight_name=f"{name}.safetensors",
    )
    return folder / f"{name}.safetensors"


@pytest.fixture(scope="module")
def lora_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("loras")
    make_lora(folder, "brand-style")
    return folder


def task(loras: tuple[tuple[str, float, str], ...] = ()) -> GenTask:
    return GenTask(
        "a courier at dawn", "blurry", 7, 4, 5.0, 64, 64, "EulerDiscreteScheduler", loras
    )


def pixels(backend: DiffusersBackend, job: GenTask) -> np.ndarray:
    return np.asarray(backend.text_to_image([job])[0], dtype=np.int16)


def test_a_lora_changes_the_pixels_reproduces_and_never_leaks(lora_folder: Path) -> None:
    path = lora_folder / "brand-style.safetensors"
    assert family_of(path) == "tiny"
    backend = DiffusersBackend("tiny", "cpu", LoraFolder(str(lora_folder)))
    styled = (("brand-style", 0.8, sha256_of(path)),)
    plain_before = pixels(backend, task())
    with_lora = pixels(backend, task(styled))
    assert np.abs(with_lora - plain_before).max() > 10  # the LoRA shows
    assert np.array_equal(pixels(backend, task(styled)), with_lora)  # and reproduces
    assert np.array_equal(pixels(backend, task()), plain_before)  # and is gone after its job
    # A1111's form in the PNG: the LoRA in the prompt, and its hash.
    parameters = read_png(
        to_png(backend.text_to_image([task(styled)])[0], Worker.png_params(task(styled), backend))
    )[0].text["parameters"]
    assert "a courier at dawn <lora:brand-style:0.8>" in parameters
    assert f'Lora hashes: "brand-style: {styled[0][2][:10]}"' in parameters


def test_a_lora_file_changed_since_the_lock_fails_the_job(lora_folder: Path) -> None:
    backend = DiffusersBackend("tiny", "cpu", LoraFolder(str(lora_folder)))
    plain = pixels(backend, task())
    loaded_then_refused = (
        ("brand-style", 0.8, sha256_of(lora_folder / "brand-style.safetensors")),
        ("gone", 0.5, "0" * 64),
    )
    with pytest.raises(JobError, match="`gone` is not on this runner"):
        backend.text_to_image([task(loaded_then_refused)])
    assert np.array_equal(pixels(backend, task()), plain)  # the first LoRA did not stay loaded
    with pytest.raises(JobError, match="changed since the recipe was locked"):
        backend.text_to_image([task((("brand-style", 0.8, "0" * 64),))])
    with pytest.raises(JobError, match="not on this runner"):
        backend.text_to_image([task((("gone", 0.8, "0" * 64),))])


def test_a_lora_named_with_dots_renders(lora_folder: Path) -> None:
    """`detail.v1` is a fine file name; an adapter name can't hold a dot (#22)."""
    path = make_lora(lora_folder, "detail.v1", seed=2)
    folder = LoraFolder(str(lora_folder))
    assert "detail.v1" in folder.names()
    choice = folder.choose("detail.v1", 0.8)
    backend = DiffusersBackend("tiny", "cpu", folder)
    plain = pixels(backend, task())
    dotted = pixels(backend, task((("detail.v1", 0.8, choice.sha256),)))
    assert np.abs(dotted - plain).max() > 10
    assert choice.sha256 == sha256_of(path)


def test_a_same_size_swap_with_its_mtime_restored_is_caught(
    lora_folder: Path, tmp_path: Path
) -> None:
    """The hash is of the bytes that are loaded, not a cache keyed by size and mtime (#22)."""
    path = make_lora(tmp_path, "swap", seed=3)
    other = make_lora(tmp_path / "other", "swap", seed=4)
    assert path.stat().st_size == other.stat().st_size
    backend = DiffusersBackend("tiny", "cpu", LoraFolder(str(tmp_path)))
    locked = (("swap", 0.8, sha256_of(path)),)
    first = pixels(backend, task(locked))
    stat = path.stat()
    path.write_bytes(other.read_bytes())
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    with pytest.raises(JobError, match="changed since the recipe was locked"):
        backend.text_to_image([task(locked)])
    assert np.abs(first - pixels(backend, task((("swap", 0.8, sha256_of(path)),)))).max() > 0


def test_a_lora_that_will_not_load_says_why(tmp_path: Path) -> None:
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"this is no safetensors file")
    backend = DiffusersBackend("tiny", "cpu", LoraFolder(str(tmp_path)))
    with pytest.raises(JobError, match="`broken` could not be loaded onto `tiny`") as refused:
        backend.text_to_image([task((("broken", 0.8, sha256_of(broken)),))])
    assert "Traceback" not in str(refused.value) and "\n" not in str(refused.value)


def test_lora_refusals_say_what_to_change(lora_folder: Path) -> None:
    folder = LoraFolder(str(lora_folder))
    tiny, sd15 = PRESETS["tiny"], PRESETS["sd15"]
    brand = folder.choose("brand-style", 0.8)
    assert check_loras([brand], tiny) == [
        {
            "name": "brand-style",
            "weight": 0.8,
            "sha256": sha256_of(lora_folder / "brand-style.safetensors"),
        }
    ]
    refusals = [
        (
            lambda: folder.choose("missing", 1.0),
            "There is no LoRA `missing`. LoRAs here: `brand-style`",
        ),
        (lambda: folder.choose("../etc/passwd", 1.0), "There is no LoRA"),
        (
            lambda: check_loras([LoraChoice("brand-style", 2.5, "x", "tiny")], tiny),
            "between -2 and 2",
        ),
        (lambda: check_loras([brand], sd15), "a LoRA for tiny models"),
        (
            lambda: check_loras([LoraChoice(f"l{i}", 0.5, "x", "tiny") for i in range(5)], tiny),
            "at most 4 LoRAs",
        ),
    ]
    for attempt, why in refusals:
        with pytest.raises(InvalidInput, match=why.replace("(", r"\(")):
            attempt()


def test_a_recipe_with_a_lora_through_the_thread(
    db_url: str, tmp_path: Path, lora_folder: Path
) -> None:
    from dataclasses import replace

    from bot.workbench import walk
    from bot.workbench.local import LocalSlack
    from tests.workbench import CHANNEL, DIRECTOR, NAMES, OPERATOR, STRANGER, TEAM, config_for

    config = replace(config_for(db_url, tmp_path), lora_folder=str(lora_folder))
    with LocalSlack(config, NAMES) as local:
        slack = local.standin
        thread = walk.start(local, TEAM, "Hero art for the spring campaign.")
        board = walk.sprint(local, TEAM, thread)
        slack.say(DIRECTOR, CHANNEL, "rank 1 2 3", thread_ts=thread)
        local.message(CHANNEL, thread, "ranked #1")
        slack.react(DIRECTOR, CHANNEL, board, "white_check_mark")
        local.message(CHANNEL, thread, "approved the direction")
        for who, text, why in [
            (STRANGER, "lock 1 lora brand-style:0.8", "Only the Operator"),
            (OPERATOR, "lock 1 lora house-style:0.8", "There is no LoRA `house-style`"),
            (OPERATOR, "lock 1 lora brand-style:3", "between -2 and 2"),
            (OPERATOR, "lock 1 lora brand-style:high", "`name:weight`"),
        ]:
            slack.say(who, CHANNEL, text, thread_ts=thread)
            local.ephemeral(who, why)
        slack.say(OPERATOR, CHANNEL, "lock 1 lora brand-style:0.8", thread_ts=thread)
        hero = local.message(CHANNEL, thread, "Hero #")
        service = local.server.atelier.service
        recipe = service.recipes(1)[0]
        sha = sha256_of(lora_folder / "brand-style.safetensors")
        assert recipe.loras == [{"name": "brand-style", "weight": 0.8, "sha256": sha}]
        assert recipe.reproducible  # the check rendered the card, LoRA and all, twice
        assert "brand-style" in str(hero["blocks"])
        slack.react(DIRECTOR, CHANNEL, str(hero["ts"]), "white_check_mark")
        local.message(CHANNEL, thread, "approved the hero")
        slack.say(OPERATOR, CHANNEL, "volume red bike x2", thread_ts=thread)
        batch = local.message(CHANNEL, thread, "Volume batch")
        number = int(slack.element(CHANNEL, str(batch["ts"]), "keep_0")[1]["options"][0]["value"])
        image = service.image(1, number)
        assert image.loras == recipe.loras
        parameters = read_png(local.server.atelier.store.get(image.file_hash))[0].text["parameters"]
        assert "<lora:brand-style:0.8>" in parameters and f"brand-style: {sha[:10]}" in parameters
        slack.say(STRANGER, CHANNEL, f"info {number}", thread_ts=thread)
        assert "LoRAs `brand-style` 0.8" in local.ephemeral(STRANGER, f"#{number}: volume")[
            "text"
        ] + str(local.ephemeral(STRANGER, f"#{number}: volume").get("blocks"))
