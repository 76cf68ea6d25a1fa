"""The job kinds that start from an image already made: repairs, upscales and variations.

Each follows bot.runner.kinds' discipline: skip what an earlier attempt recorded, write PNGs
outside any transaction, record rows while the lease is held, complete in the last step.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any

from sqlalchemy import select

from bot.imaging import contact_sheet, grid_mask
from bot.playbook.recipe import lora_tuples
from bot.runner.backend import Backend, GenTask
from bot.runner.jobs import ClaimedJob, JobError, Released, Runner
from bot.runner.sheets import finish_with_sheet, job_of, shown_tile
from storage import queue
from storage.content_credentials import encode
from storage.models import Image
from storage.pngs import read_png, to_png


def _starting_image(
    w: Runner, job_id: int, image_id: int, doing: str
) -> tuple[Image, set[int | None]]:
    """The image a job starts from, and the indexes an earlier attempt of the job recorded."""
    with w.sessions.begin() as s:
        image = s.get(Image, image_id)
        if image is None:
            raise JobError(f"the image to {doing} is gone")
        done = set(s.scalars(select(Image.job_index).where(Image.job_id == job_id)))
    return image, done


# ---- repairs: inpainting a region, or refining at low strength ---------------------------


def fix(w: Runner, claimed: list[ClaimedJob], lost: threading.Event) -> None:
    job = claimed[0]
    params = job.params
    # 1. The image to repair, unless an earlier attempt already recorded the repair.
    parent, done = _starting_image(w, job.id, params["parent_id"], "repair")
    if not done:
        # 2. The parent's own settings, with the prompts the instruction asked for.
        backend = w.backend_for(parent.model_id or "tiny")
        init = w.load_png(parent)
        task = _task_from(parent, init.width, init.height, params)
        w.check(lost)
        # 3. Repair: inpaint inside the mask, or image-to-image over the whole picture.
        picture, kind, mask_hash = _repair(w, backend, task, init, params)
        stored = w.write_png(
            picture,
            w.png_params(
                task,
                backend,
                strength=params["strength"],
                mask_hash=mask_hash,
                parent=parent.number,
            ),
            parent.id,
        )
        # 4. Record the new version under its parent.
        with w.sessions.begin() as s:
            row = w.log_row(
                job,
                task,
                backend,
                play="fix",
                kind=kind,
                status="candidate",
                strength=params["strength"],
                mask_hash=mask_hash,
                recipe_id=parent.recipe_id,
                slot_value=parent.slot_value,
            )
            w.record_image(s, job.id, 0, stored, row, s.get(Image, parent.id))
    # 5. Complete the job.
    with w.sessions.begin() as s:
        queue.progress(s, job.id, 1)
        images = list(s.scalars(select(Image.id).where(Image.job_id == job.id)))
        queue.complete(s, job_of(s, job.id), {"images": images})


def _task_from(
    parent: Image, width: int, height: int, prompts: dict[str, Any] | None = None
) -> GenTask:
    """The parent's settings; a fix's prompts as its use case worked them out."""
    return GenTask(
        prompt=(prompts or {}).get("prompt", parent.prompt),
        negative_prompt=(prompts or {}).get("negative_prompt", parent.negative_prompt),
        seed=parent.seed or 0,
        steps=max(parent.steps or 1, 2),
        guidance=parent.guidance or 5.0,
        width=width,
        height=height,
        scheduler=parent.scheduler or "",
        loras=lora_tuples(parent.loras),
    )


def _repair(
    w: Runner, backend: Backend, task: GenTask, init: Any, params: dict[str, Any]
) -> tuple[Any, str, str | None]:
    """The repaired picture, its prompt-log kind, and the mask it used."""
    if params["mode"] != "inpaint":
        return backend.image_to_image(task, init, params["strength"]), "img2img", None
    if params.get("mask_hash"):
        mask_hash = params["mask_hash"]
        mask = read_png(w.store.get(mask_hash))[0].convert("L").resize(init.size)
    else:
        mask = grid_mask(params["cells"], init.width, init.height)
        mask_hash = w.store.put(to_png(mask.convert("RGB"), {"mask_cells": params["cells"]}))
    return backend.inpaint(task, init, mask, params["strength"]), "inpaint", mask_hash


# ---- upscales of keepers -------------------------------------------------------------------


def upscale(w: Runner, claimed: list[ClaimedJob], lost: threading.Event) -> None:
    job = claimed[0]
    backend: Backend | None = None
    for index, item in enumerate(job.params["images"]):
        # 1. Stop cleanly if the lease was lost or the runner is shutting down.
        w.check(lost)
        if w.stop.is_set():
            w.release([job.id])
            raise Released()
        # 2. Skip a keeper an earlier attempt already upscaled.
        with w.sessions.begin() as s:
            if s.scalars(
                select(Image).where(Image.job_id == job.id, Image.job_index == index)
            ).first():
                continue
            parent = s.get(Image, item["parent_id"])
            if parent is None:
                raise JobError("an image to upscale is gone")
        # 3. Upscale it and write the PNG.
        backend = backend or w.backend_for(parent.model_id or "tiny")
        init = w.load_png(parent)
        scale = item["scale"]
        task = _task_from(parent, init.width * scale, init.height * scale)
        picture = backend.upscale(task, init, scale)
        stored = w.write_png(
            picture, w.png_params(task, backend, upscaled_from=parent.number), parent.id
        )
        # 4. Record it as a keeper beside its parent, and the progress.
        with w.sessions.begin() as s:
            row = w.log_row(
                job,
                task,
                backend,
                play=parent.play,
                kind="upscale",
                status="kept",
                recipe_id=parent.recipe_id,
                slot_value=parent.slot_value,
                kept_at=parent.kept_at,
            )
            w.record_image(s, job.id, index, stored, row, s.get(Image, parent.id))
            queue.progress(s, job.id, index + 1)
    # 5. One sheet of the upscales, and the job is done.
    with w.sessions.begin() as s:
        images = list(
            s.scalars(select(Image).where(Image.job_id == job.id).order_by(Image.job_index))
        )
        tiles = [shown_tile(image, w.load_png(image), "upscaled") for image in images]
        sheet_of = {"contact_sheet_of": [i.number for i in images]}
        digest = w.store.put(encode(contact_sheet(tiles), sheet_of, w.credentials))
        result = {"sheet_hash": digest, "images": [image.id for image in images]}
        queue.complete(s, job_of(s, job.id), result)


# ---- variations: image-to-image from one image, several seeds -------------------------------


def vary(w: Runner, claimed: list[ClaimedJob], lost: threading.Event) -> None:
    job = claimed[0]
    params = job.params
    # 1. The image to vary, and which variations an earlier attempt already recorded.
    source, done = _starting_image(w, job.id, params["source_id"], "vary")
    backend = w.backend_for(source.model_id or "tiny")
    init = w.load_png(source)
    for index, seed in enumerate(params["seeds"]):
        if index in done:
            continue
        # 2. Stop cleanly if the lease was lost or the runner is shutting down.
        w.check(lost)
        if w.stop.is_set():
            w.release([job.id])
            raise Released()
        # 3. One variation: N's prompt and settings, a new seed, N's pixels as the start.
        task = replace(_task_from(source, init.width, init.height), seed=seed)
        picture = backend.image_to_image(task, init, params["strength"])
        stored = w.write_png(
            picture,
            w.png_params(task, backend, strength=params["strength"], varied_from=source.number),
            source.id,
        )
        # 4. Record it as a candidate of N's play, a version of N.
        with w.sessions.begin() as s:
            row = w.log_row(
                job,
                task,
                backend,
                play=source.play,
                kind="img2img",
                status="candidate",
                strength=params["strength"],
                style=source.style,
                slot_value=source.slot_value,
                recipe_id=source.recipe_id,
            )
            w.record_image(s, job.id, index, stored, row, s.get(Image, source.id))
            queue.progress(s, job.id, index + 1)
    # 5. One sheet of the variations, and the job is done.
    finish_with_sheet(w, job.id, backend)
