"""Real generations on CPU with the tiny model at 64 px."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.imaging import grid_mask, pixel_diff
from bot.playbook.service import PlaybookService
from bot.runner import models
from bot.runner.backend import GenTask
from bot.runner.diffusion import DiffusersBackend, backend_for
from storage.files import ImageStore
from storage.models import Image as ImageRow
from storage.pngs import DIGITAL_SOURCE, read_png

Pixels = np.ndarray


def task(seed: int = 7, prompt: str = "a courier at dawn, watercolor", size: int = 64) -> GenTask:
    return GenTask(prompt, "blurry", seed, 4, 5.0, size, size, "EulerDiscreteScheduler")


@pytest.fixture(scope="module")
def backend() -> DiffusersBackend:
    return backend_for("tiny")


def arr(image: Image.Image) -> Pixels:
    return np.asarray(image.convert("RGB"), dtype=np.int16)


def test_text_to_image_depends_on_the_seed_alone(backend: DiffusersBackend) -> None:
    first, again = backend.text_to_image([task(7)])[0], backend.text_to_image([task(7)])[0]
    other = backend.text_to_image([task(8)])[0]
    assert first.size == (64, 64)
    assert pixel_diff(first, again) == (0.0, 0.0)
    assert pixel_diff(first, other)[0] > 5
    assert arr(first).std() > 5  # a real render, not a blank


def test_an_image_is_the_same_alone_or_in_a_batch_of_four(backend: DiffusersBackend) -> None:
    tasks = [task(seed, f"a courier {seed}") for seed in (11, 12, 13, 14)]
    batch = backend.text_to_image(tasks)
    for one, in_batch in zip(tasks, batch, strict=True):
        alone = backend.text_to_image([one])[0]
        mean, peak = pixel_diff(alone, in_batch)
        # CPU matrix kernels block differently by batch size: at most 1/255 on rare values.
        assert peak <= 1 and mean < 0.01


def test_img2img_and_inpaint_share_the_base_pipelines_modules(backend: DiffusersBackend) -> None:
    for pipe in (backend.img2img, backend.inpainting):
        assert pipe.unet is backend.base.unet
        assert pipe.vae is backend.base.vae
        assert pipe.text_encoder is backend.base.text_encoder


def test_image_to_image_at_low_strength_keeps_the_composition(backend: DiffusersBackend) -> None:
    init = backend.text_to_image([task(7)])[0]
    refined = backend.image_to_image(task(7), init, 0.3)
    unrelated = backend.text_to_image([task(99)])[0]
    assert refined.size == init.size
    assert 0 < pixel_diff(init, refined)[0] < pixel_diff(init, unrelated)[0]


def test_inpaint_changes_the_masked_region_more_than_the_rest(backend: DiffusersBackend) -> None:
    init = backend.text_to_image([task(7)])[0]
    mask = grid_mask([0, 1], 64, 64)
    repaired = backend.inpaint(task(7, "a red flag"), init, mask, 0.9)
    delta = np.abs(arr(init) - arr(repaired)).mean(axis=2)
    inside = np.asarray(mask) > 127
    far_outside = (
        np.asarray(mask.filter(ImageFilter.MaxFilter(13))) < 128
    )  # beyond the feathered seam
    assert delta[inside].mean() > 5
    assert delta[far_outside].max() == 0


def test_upscale_doubles_the_size(backend: DiffusersBackend) -> None:
    init = backend.text_to_image([task(7)])[0]
    large = backend.upscale(task(7, size=128), init, 2)
    assert large.size == (128, 128)
    small_again = large.resize((64, 64), Image.Resampling.LANCZOS)
    assert pixel_diff(init, small_again)[0] < 40


def test_tiny_is_built_from_configs_reproducibly(tmp_path: Path) -> None:
    models.build_tiny(tmp_path / "a")
    models.build_tiny(tmp_path / "b")
    assert (tmp_path / "a" / "model_index.json").exists()
    assert models.weights_hash(tmp_path / "a") == models.weights_hash(tmp_path / "b")


def test_an_unknown_model_says_how_to_fix_it(tmp_path: Path) -> None:
    with pytest.raises(models.ModelNotFound, match="never fetched at run time"):
        models.resolve(str(tmp_path / "nothing-here"))


def test_png_metadata_reads_back_and_reproduces_the_image(
    drain: Callable[[], None],
    service: PlaybookService,
    sessions: sessionmaker[Session],
    store: ImageStore,
    backend: DiffusersBackend,
) -> None:
    project = service.start_project("C1", "U1", "Art for spring.").project
    service.run_sprint(project.id, "U1", "a courier", ["ink", "clay", "neon"], 15)
    drain()
    with sessions() as s:
        row = s.scalars(select(ImageRow).where(ImageRow.number == 6)).one()
    data = store.get(row.file_hash)
    picture, recipe = read_png(data)
    parameters = Image.open(io.BytesIO(data)).text["parameters"]  # type: ignore[attr-defined]
    assert parameters.splitlines()[0] == "a courier, neon"
    assert (
        f"Seed: {row.seed}" in parameters
        and "Steps: 2" in parameters
        and "Model hash:" in parameters
    )
    assert recipe["seed"] == row.seed and recipe["prompt"] == "a courier, neon"
    assert recipe["model_hash"] == backend.model_hash
    # A1111 readers parse the sampler by A1111's names; the JSON keeps diffusers' class.
    assert "Sampler: Euler," in parameters and recipe["scheduler"] == "EulerDiscreteScheduler"
    assert f"Model hash: {backend.model_hash[:10]}, Model: tiny" in parameters
    # The contact sheet is not a generation: only the JSON chunk, listing its tiles.
    job = service.job(1)
    assert job is not None and job.result is not None
    sheet = Image.open(io.BytesIO(store.get(job.result["sheet_hash"])))
    assert "parameters" not in sheet.text  # type: ignore[attr-defined]
    # XMP says what made each picture, in IPTC's words, for readers that know no C2PA.
    made = Image.open(io.BytesIO(data)).info["XML:com.adobe.xmp"]
    assert f'DigitalSourceType="{DIGITAL_SOURCE}trainedAlgorithmicMedia"' in made
    assert "compositeWithTrainedAlgorithmicMedia" in sheet.info["XML:com.adobe.xmp"]
    assert read_png(store.get(job.result["sheet_hash"]))[1]["contact_sheet_of"] == list(
        range(1, 16)
    )
    fields = {
        k: recipe[k]
        for k in (
            "prompt",
            "negative_prompt",
            "seed",
            "steps",
            "guidance",
            "width",
            "height",
            "scheduler",
        )
    }
    again = backend.text_to_image([GenTask(**fields)])[0]
    assert pixel_diff(picture, again)[1] <= 1


def test_a_prompt_past_77_tokens_reports_what_was_cut(backend: DiffusersBackend) -> None:
    short = "a courier at dawn"
    assert backend.truncated(short) is None
    long = "a courier at dawn " + "with a red scarf " * 5 + "THE-END"
    cut = backend.truncated(long)
    assert cut is not None and cut.endswith("THE-END") and len(cut) < len(long)
