"""Bring your own model (#11): ATELIER_MODELS, single-file checkpoints offline, and refusals."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from bot.config import Config
from bot.runner import models
from bot.runner.backend import GenTask
from bot.runner.diffusion import backend_for, registered_backend
from bot.runner.jobs import JobError
from bot.runner.worker import Worker
from storage.pngs import read_png, to_png
from tests.runner.ldm_layout import write_single_file

TASK = GenTask(
    "a courier at dawn, watercolor", "blurry", 7, 4, 5.0, 64, 64, "EulerDiscreteScheduler"
)


def config(models_env: str) -> Config:
    return Config(None, None, None, "", "", "", models_env, "cpu")


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model written the way A1111 and ComfyUI keep models: one original-layout file."""
    from diffusers import StableDiffusionPipeline

    pipe = StableDiffusionPipeline.from_pretrained(models.resolve("tiny").path, dtype=torch.float32)
    path = tmp_path_factory.mktemp("models") / "tiny-brand.safetensors"
    write_single_file(pipe, path)
    return path


def test_atelier_models_names_several_models_and_their_families() -> None:
    registry = config(
        "sd15=/models/v1-5-pruned.safetensors, brand-xl@sdxl=/models/brandXL.safetensors,"
        " /models/sd-turbo/, /models/dreamshaper_8.safetensors"
    )
    assert registry.models() == {
        "tiny": "tiny",
        "shapes": "shapes",
        "sd15": "sd15=/models/v1-5-pruned.safetensors",
        "brand-xl": "brand-xl@sdxl=/models/brandXL.safetensors",
        "sd-turbo": "/models/sd-turbo/",
        "dreamshaper_8": "/models/dreamshaper_8.safetensors",
    }
    assert registry.families() == {"brand-xl": "sdxl"}


def test_a_single_file_renders_the_same_pixels_as_its_folder(checkpoint: Path) -> None:
    registry = config(f"brand={checkpoint}").models()
    single = registered_backend(registry, "cpu")("brand")
    folder = backend_for("tiny", "cpu")
    assert models.resolve(registry["brand"]).family == "tiny"  # read from the checkpoint's keys
    ours, theirs = single.text_to_image([TASK])[0], folder.text_to_image([TASK])[0]
    assert np.array_equal(np.asarray(ours), np.asarray(theirs))
    # Its weights hash is the file's sha256; the PNG says so the way A1111 does.
    assert single.model_hash == hashlib.sha256(checkpoint.read_bytes()).hexdigest()
    parameters = read_png(to_png(ours, Worker.png_params(TASK, single)))[0].text["parameters"]
    assert f"Model hash: {single.model_hash[:10]}, Model: brand" in parameters


@pytest.mark.parametrize(
    ("write", "entry", "why"),
    [
        (None, "gone=/nowhere/gone.safetensors", "missing on this runner"),
        (b"not a checkpoint at all", "broken={path}", "cannot be read"),
        ("odd", "odd={path}", "no family Atelier knows"),
        (b"", "legacy={path}.ckpt", "runs code when loaded"),
        ("odd", "pixart@pixart={path}", "no offline configs for single-file pixart"),
    ],
)
def test_a_checkpoint_that_cannot_load_fails_its_job_with_the_reason(
    tmp_path: Path, write: bytes | str | None, entry: str, why: str
) -> None:
    path = tmp_path / "model.safetensors"
    if isinstance(write, bytes):
        path.write_bytes(write)
        (tmp_path / "model.safetensors.ckpt").write_bytes(write)
    elif write == "odd":
        save_file({"some.other.weight": torch.zeros(2, 2)}, str(path))
    name = entry.partition("=")[0].partition("@")[0]
    load = registered_backend(config(entry.format(path=path)).models(), "cpu")
    with pytest.raises(JobError, match=why) as refused:
        load(name)
    assert str(tmp_path) not in str(refused.value)  # the thread gets the reason, not the path


def test_sd15_single_files_are_read_with_sd15s_own_configs_and_tokenizer(tmp_path: Path) -> None:
    """Built from the shipped configs on the meta device: SD-1.5's published sizes exactly."""
    from accelerate import init_empty_weights
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    from bot.runner.families import write_configs

    folder = write_configs("sd15", tmp_path / "sd15")
    with init_empty_weights():
        unet = UNet2DConditionModel.from_config(UNet2DConditionModel.load_config(folder / "unet"))
        vae = AutoencoderKL.from_config(AutoencoderKL.load_config(folder / "vae"))
        text = CLIPTextModel(CLIPTextConfig.from_pretrained(folder / "text_encoder"))
    sizes = [sum(p.numel() for p in m.parameters()) for m in (unet, vae, text)]
    assert sizes == [859_520_964, 83_653_863, 123_060_480]
    tokenizer = CLIPTokenizer.from_pretrained(folder / "tokenizer")
    assert len(tokenizer) == 49408
    ids = tokenizer("a photograph of an astronaut riding a horse").input_ids
    assert ids == [49406, 320, 8853, 539, 550, 18376, 6765, 320, 4558, 49407]
    # And an SD-1.5 checkpoint is told apart by its keys (the widths of its cross-attention).
    keys = {
        "cond_stage_model.transformer.text_model.embeddings.position_embedding.weight": (77, 768),
        "model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight": (320, 768),
    }
    path = tmp_path / "v1-5.safetensors"
    save_file({k: torch.zeros(shape) for k, shape in keys.items()}, str(path))
    assert models.resolve(f"sd15={path}").family == "sd15"


def test_sd2_single_files_are_read_with_sd2s_configs(tmp_path: Path) -> None:
    from accelerate import init_empty_weights
    from diffusers import UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    from bot.runner.checkpoints import SD2_KEY
    from bot.runner.families import write_configs

    for family, prediction in (("sd2", "v_prediction"), ("sd2-base", "epsilon")):
        folder = write_configs(family, tmp_path / family)
        with init_empty_weights():
            unet = UNet2DConditionModel.from_config(
                UNet2DConditionModel.load_config(folder / "unet")
            )
            text = CLIPTextModel(CLIPTextConfig.from_pretrained(folder / "text_encoder"))
        sizes = [sum(p.numel() for p in m.parameters()) for m in (unet, text)]
        assert sizes == [865_910_724, 340_387_840]
        scheduler = (folder / "scheduler" / "scheduler_config.json").read_text()
        assert f'"prediction_type": "{prediction}"' in scheduler
        assert CLIPTokenizer.from_pretrained(folder / "tokenizer").pad_token == "!"
    path = tmp_path / "v2-1_768.safetensors"
    save_file({SD2_KEY: torch.zeros(3072, 1024)}, str(path))
    assert models.resolve(f"sd21={path}").family == "sd2"


def test_sdxl_single_files_are_read_with_sdxls_configs_and_two_tokenizers(tmp_path: Path) -> None:
    from accelerate import init_empty_weights
    from diffusers import UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModelWithProjection, CLIPTokenizer

    from bot.runner.checkpoints import SDXL_KEY
    from bot.runner.families import write_configs

    folder = write_configs("sdxl", tmp_path / "sdxl")
    with init_empty_weights():
        unet = UNet2DConditionModel.from_config(UNet2DConditionModel.load_config(folder / "unet"))
        text_2 = CLIPTextModelWithProjection(
            CLIPTextConfig.from_pretrained(folder / "text_encoder_2")
        )
    sizes = [sum(p.numel() for p in m.parameters()) for m in (unet, text_2)]
    assert sizes == [2_567_463_684, 694_659_840]
    assert CLIPTokenizer.from_pretrained(folder / "tokenizer_2").pad_token == "!"
    path = tmp_path / "brandXL.safetensors"
    save_file({SDXL_KEY: torch.zeros(1280)}, str(path))
    assert models.resolve(f"brand-xl={path}").family == "sdxl"


def test_a_missing_checkpoint_fails_only_its_channels_jobs_with_the_reason(
    db_url: str, tmp_path: Path
) -> None:
    from dataclasses import replace

    from bot.workbench.local import LocalSlack
    from tests.workbench import NAMES, config_for

    config = replace(config_for(db_url, tmp_path), model="brand=/nowhere/brand.safetensors")
    with LocalSlack(config, NAMES) as local:
        slack = local.standin
        slack.command("UDIR", "CBRAND", "settings model /nowhere/brand.safetensors")
        local.ephemeral("UDIR", "is not a registered model")
        slack.command("UDIR", "CBRAND", "settings model brand")
        local.ephemeral("UDIR", "settings saved")
        for channel in ("CBRAND", "CTINY"):
            slack.command("UDIR", channel, "new Banner art for the spring campaign.")
            local.ephemeral("UDIR", "started")
        threads = {}
        for channel in ("CBRAND", "CTINY"):
            threads[channel] = str(local.root(channel)["ts"])
            slack.say(
                "UDIR", channel, "sprint ink | clay | neon — a courier", thread_ts=threads[channel]
            )
        failed = local.message("CBRAND", threads["CBRAND"], "failed")
        assert "the model `brand` could not be loaded: the checkpoint file is missing" in str(
            failed["text"]
        )
        assert "/nowhere" not in str(failed["text"])
        local.message("CTINY", threads["CTINY"], "Moodboard: 15 variations")
