"""One function per job kind, each written as numbered steps; KINDS says which runs a job.

Every kind follows the same discipline: skip what an earlier attempt already recorded (results
are idempotent per job and image index), write PNGs before any transaction opens, record the
rows only while this runner still holds the lease, and complete the job in the last step.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from bot.runner.backend import Backend, GenTask
from bot.runner.images import Tile, contact_sheet, grid_mask, pixel_diff
from bot.runner.jobs import ClaimedJob, JobError, LeaseLost, Pending, Released, Stored, gen_task
from storage import queue
from storage.models import Image, Job, Recipe
from storage.pngs import read_png, to_png

if TYPE_CHECKING:
    from bot.runner.worker import Worker

Kind = Callable[["Worker", list[ClaimedJob], threading.Event], None]


# ---- text to image (sprints and volume batches, several jobs batched together) -----------


def text_to_image(w: Worker, claimed: list[ClaimedJob], lost: threading.Event) -> None:
    # 1. What is still to make: every image of every claimed job not recorded yet.
    pending = _pending(w, claimed)
    jobs = {job.id: job for job in claimed}
    backend = w.backend_for(claimed[0].params["settings"]["model"])
    remaining = list(pending)
    while remaining:
        # 2. Stop cleanly if the lease was lost or the runner is shutting down.
        w.check(lost)
        if w.stop.is_set():
            w.release(list(jobs))
            raise Released()
        # 3. Generate one batch and write its PNGs, outside any transaction.
        chunk, remaining = remaining[: w.batch_size], remaining[w.batch_size :]
        pictures = w.generate(backend, [item.task for item in chunk])
        stored = [
            w.write_png(picture, w.png_params(item.task, backend, style=item.extra.get("style")))
            for item, picture in zip(chunk, pictures, strict=True)
        ]
        # 4. Record the rows and the progress in one short transaction.
        _record_chunk(w, jobs, chunk, stored, backend)
        # 5. Between batches, give the GPU to a more urgent job or another channel's turn.
        if remaining:
            w.maybe_yield(list(jobs))
    # 6. A contact sheet per job, and the job is done.
    for job_id in jobs:
        _finish_with_sheet(w, job_id, backend)


def _pending(w: Worker, claimed: list[ClaimedJob]) -> list[Pending]:
    pending: list[Pending] = []
    with w.sessions.begin() as s:
        for job in claimed:
            done = set(s.scalars(select(Image.job_index).where(Image.job_id == job.id)))
            for index, image in enumerate(job.params["images"]):
                if index not in done:
                    task = gen_task(image, job.params["settings"])
                    pending.append(Pending(job.id, index, task, image))
    return pending


def _record_chunk(
    w: Worker,
    jobs: dict[int, ClaimedJob],
    chunk: list[Pending],
    stored: list[Stored],
    backend: Backend,
) -> None:
    with w.sessions.begin() as s:
        for item, kept in zip(chunk, stored, strict=True):
            job = jobs[item.job_id]
            row = w.log_row(
                job,
                item.task,
                backend,
                play=job.kind,
                kind="txt2img",
                status="candidate",
                style=item.extra.get("style"),
                slot_value=item.extra.get("slot_value"),
                recipe_id=job.params.get("recipe_id"),
            )
            # A re-roll is a version in its image's lineage (and counts against its budget).
            parent = s.get(Image, item.extra["parent_id"]) if item.extra.get("parent_id") else None
            w.record_image(s, item.job_id, item.index, kept, row, parent)
        for job_id in {item.job_id for item in chunk}:
            saved = s.scalars(select(Image.id).where(Image.job_id == job_id)).all()
            queue.progress(s, job_id, len(saved))


def _finish_with_sheet(w: Worker, job_id: int, backend: Backend) -> None:
    with w.sessions.begin() as s:
        images = list(
            s.scalars(select(Image).where(Image.job_id == job_id).order_by(Image.job_index))
        )
    tiles = [
        Tile(w.load_png(image), image.number, image.style or image.slot_value or "")
        for image in images
    ]
    sheet = contact_sheet(tiles)
    digest = w.store.put(to_png(sheet, {"contact_sheet_of": [image.number for image in images]}))
    warnings = w.prompt_warnings(backend, images)
    with w.sessions.begin() as s:
        job = s.get(Job, job_id)
        if job is None or job.lease_owner != w.worker_id:
            raise LeaseLost(job_id)
        queue.complete(
            s,
            job,
            {
                "warnings": warnings,
                "sheet_hash": digest,
                "model_hash": backend.model_hash,
                "images": [image.id for image in images],
            },
        )


# ---- the hero and its reproducibility check --------------------------------------------


def hero(w: Worker, claimed: list[ClaimedJob], lost: threading.Event) -> None:
    job = claimed[0]
    card = job.params["card"]
    backend = w.backend_for(card["model_id"])
    # 1. The hero, from the card as the lock wrote it (unless an earlier attempt made it).
    task = gen_task(
        {
            "prompt": card["prompt_template"].replace(
                "{" + card["slot_name"] + "}", card["slot_value"], 1
            ),
            "negative_prompt": card["negative_prompt"],
            "seed": card["seed"],
        },
        {k: card[k] for k in ("steps", "guidance", "width", "height", "scheduler")},
    )
    row = w.log_row(
        job,
        task,
        backend,
        play="lock",
        recipe_id=job.params["recipe_id"],
        slot_value=card["slot_value"],
    )
    made = _hero_image(w, job, task, row, backend, lost)
    # 2. The check: a second render built from the stored recipe card alone.
    w.check(lost)
    again, model_id = _from_stored_card(w, job.params["recipe_id"])
    replay = w.generate(w.backend_for(model_id), [again])[0]
    # 3. Compare the two renders pixel by pixel.
    mean_diff, max_diff = pixel_diff(w.load_png(made), replay)
    stored = w.write_png(replay, w.png_params(again, backend, reproduces=made.number))
    # 4. Record the re-render (culled: it is evidence, not a candidate) and complete the job.
    with w.sessions.begin() as s:
        repro = w.record_image(
            s,
            job.id,
            1,
            stored,
            {**row, "kind": "repro", "status": "culled", "prompt": again.prompt},
            s.get(Image, made.id),
        )
        queue.complete(
            s,
            _job(s, job.id),
            {
                "hero_image_id": made.id,
                "repro_image_id": repro.id,
                "model_hash": backend.model_hash,
                "mean_diff": round(mean_diff, 4),
                "max_diff": round(max_diff, 4),
            },
        )


def _hero_image(
    w: Worker,
    job: ClaimedJob,
    task: GenTask,
    row: dict[str, Any],
    backend: Backend,
    lost: threading.Event,
) -> Image:
    with w.sessions.begin() as s:
        parent_id = job.params.get("parent_id")
        source = s.get(Image, parent_id) if parent_id else None
        made = s.scalars(select(Image).where(Image.job_id == job.id, Image.job_index == 0)).first()
    if made is not None:
        return made
    w.check(lost)
    stored = w.write_png(w.generate(backend, [task])[0], w.png_params(task, backend))
    with w.sessions.begin() as s:
        parent = s.get(Image, source.id) if source else None
        made = w.record_image(
            s, job.id, 0, stored, {**row, "kind": "txt2img", "status": "candidate"}, parent
        )
        queue.progress(s, job.id, 1)
        return made


def _from_stored_card(w: Worker, recipe_id: int) -> tuple[GenTask, str]:
    with w.sessions.begin() as s:
        recipe = s.get(Recipe, recipe_id)
        if recipe is None:
            raise JobError("the recipe this hero belongs to is gone")
        task = GenTask(
            prompt=recipe.prompt_template.replace(
                "{" + recipe.slot_name + "}", recipe.slot_value, 1
            ),
            negative_prompt=recipe.negative_prompt,
            seed=recipe.seed,
            steps=recipe.steps,
            guidance=recipe.guidance,
            width=recipe.width,
            height=recipe.height,
            scheduler=recipe.scheduler,
        )
        return task, recipe.model_id


# ---- repairs: inpainting a region, or refining at low strength ---------------------------


def fix(w: Worker, claimed: list[ClaimedJob], lost: threading.Event) -> None:
    job = claimed[0]
    params = job.params
    # 1. The image to repair, unless an earlier attempt already recorded the repair.
    with w.sessions.begin() as s:
        parent = s.get(Image, params["parent_id"])
        if parent is None:
            raise JobError("the image to repair is gone")
        done = s.scalars(select(Image).where(Image.job_id == job.id)).first() is not None
    if not done:
        # 2. The parent's own settings, with the instruction in front of its prompt.
        backend = w.backend_for(parent.model_id or "tiny")
        init = w.load_png(parent)
        task = _task_from(parent, init.width, init.height, params.get("instruction") or "")
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
        queue.complete(s, _job(s, job.id), {"images": images})


def _task_from(parent: Image, width: int, height: int, instruction: str) -> GenTask:
    prompt = parent.prompt
    if instruction:
        prompt = f"{instruction}, {parent.prompt}" if parent.prompt else instruction
    return GenTask(
        prompt=prompt,
        negative_prompt=parent.negative_prompt,
        seed=parent.seed or 0,
        steps=max(parent.steps or 1, 2),
        guidance=parent.guidance or 5.0,
        width=width,
        height=height,
        scheduler=parent.scheduler or "",
    )


def _repair(
    w: Worker, backend: Backend, task: GenTask, init: Any, params: dict[str, Any]
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


def upscale(w: Worker, claimed: list[ClaimedJob], lost: threading.Event) -> None:
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
        task = _task_from(parent, init.width * scale, init.height * scale, "")
        picture = backend.upscale(task, init, scale)
        stored = w.write_png(picture, w.png_params(task, backend, upscaled_from=parent.number))
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
        tiles = [Tile(w.load_png(image), image.number, "upscaled") for image in images]
        digest = w.store.put(
            to_png(contact_sheet(tiles), {"contact_sheet_of": [i.number for i in images]})
        )
        result = {"sheet_hash": digest, "images": [image.id for image in images]}
        queue.complete(s, _job(s, job.id), result)


def _job(s: Any, job_id: int) -> Job:
    job = s.get(Job, job_id)
    assert job is not None
    return job


KINDS: dict[str, Kind] = {
    "sprint": text_to_image,
    "volume": text_to_image,
    "hero": hero,
    "fix": fix,
    "upscale": upscale,
}
