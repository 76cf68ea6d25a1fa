"""One function per job kind, each written as numbered steps; KINDS says which runs a job.

Text to image and the hero are here; the kinds that start from an image already made (repairs,
upscales, variations) are in bot.runner.edits.

Every kind follows the same discipline: skip what an earlier attempt already recorded (results
are idempotent per job and image index), write PNGs before any transaction opens, record the
rows only while this runner still holds the lease, and complete the job in the last step.
Text to image, the kind that renders batch after batch, saves each batch on the worker's saving
line (bot.runner.pipeline) while the next one renders.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from typing import Any

from PIL import Image as PILImage
from sqlalchemy import select

from bot.imaging import pixel_diff
from bot.playbook.recipe import lora_tuples
from bot.runner.backend import Backend, GenTask
from bot.runner.edits import fix, upscale, vary
from bot.runner.jobs import ClaimedJob, JobError, Pending, Released, Runner, Stored, gen_task
from bot.runner.pipeline import JobSaves, Step
from bot.runner.sheets import finish_with_sheet, job_of
from storage import queue
from storage.models import Image, Recipe

# A kind returns the step that finishes its jobs when that step should run on the saving line
# after its batches (bot.runner.pipeline); the others finish before they return.
Kind = Callable[[Runner, list[ClaimedJob], threading.Event], Step | None]


# ---- text to image (sprints and volume batches, several jobs batched together) -----------


def text_to_image(w: Runner, claimed: list[ClaimedJob], lost: threading.Event) -> Step:
    # 1. What is still to make: every image of every claimed job not recorded yet.
    pending = _pending(w, claimed)
    jobs = {job.id: job for job in claimed}
    backend = w.backend_for(claimed[0].params["settings"]["model"])
    remaining = list(pending)
    pictures: dict[tuple[int, int], PILImage.Image] = {}  # kept for the contact sheets
    with w.line.job() as saves:
        while remaining:
            # 2. Stop if the lease was lost. Hand the jobs back if the runner is shutting down
            #    or, between batches, another channel or a more urgent job is owed the device:
            #    on the line, once what is rendered is saved, while the next job renders.
            w.check(lost)
            if w.stop.is_set() or (len(remaining) < len(pending) and w.owes_turn(list(jobs))):
                return partial(_hand_back, w, list(jobs), saves)
            # 3. Render one batch and hand it to the saving line; the next batch renders while
            #    this one's PNGs are written and its rows committed.
            chunk, remaining = remaining[: w.batch_size], remaining[w.batch_size :]
            rendered = w.generate(backend, [item.task for item in chunk])
            pictures.update(
                ((item.job_id, item.index), picture)
                for item, picture in zip(chunk, rendered, strict=True)
            )
            saves.submit(partial(_save_chunk, w, jobs, chunk, rendered, backend))
    # 4. Last, on the line after the saves (the next job renders meanwhile): a contact sheet
    #    per job, and the job is done.
    return partial(_finish, w, list(jobs), backend, pictures, saves)


def _hand_back(w: Runner, job_ids: list[int], saves: JobSaves) -> None:
    saves.raise_failure()
    w.release(job_ids)
    raise Released()


def _finish(
    w: Runner,
    job_ids: list[int],
    backend: Backend,
    pictures: dict[tuple[int, int], PILImage.Image],
    saves: JobSaves,
) -> None:
    saves.raise_failure()
    for job_id in job_ids:
        finish_with_sheet(w, job_id, backend, pictures)


def _save_chunk(
    w: Runner,
    jobs: dict[int, ClaimedJob],
    chunk: list[Pending],
    rendered: list[PILImage.Image],
    backend: Backend,
) -> None:
    """On the saving line: the PNGs into the store first, then their rows in one transaction."""
    stored = [
        w.write_png(
            picture,
            w.png_params(item.task, backend, **_png_extra(item.extra)),
            item.extra.get("parent_id"),  # a re-roll names its original
        )
        for item, picture in zip(chunk, rendered, strict=True)
    ]
    _record_chunk(w, jobs, chunk, stored, backend)


def _png_extra(extra: dict[str, Any]) -> dict[str, Any]:
    """What a render's PNG records beside its task: the style, and a re-roll's original."""
    return {
        "style": extra.get("style"),
        **({"rerolled_from": extra["rerolled_from"]} if "rerolled_from" in extra else {}),
    }


def _pending(w: Runner, claimed: list[ClaimedJob]) -> list[Pending]:
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
    w: Runner,
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


# ---- the hero and its reproducibility check --------------------------------------------


def hero(w: Runner, claimed: list[ClaimedJob], lost: threading.Event) -> None:
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
        {k: card.get(k) for k in ("steps", "guidance", "width", "height", "scheduler", "loras")},
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
            job_of(s, job.id),
            {
                "hero_image_id": made.id,
                "repro_image_id": repro.id,
                "model_hash": backend.model_hash,
                "mean_diff": round(mean_diff, 4),
                "max_diff": round(max_diff, 4),
            },
        )


def _hero_image(
    w: Runner,
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
    picture = w.generate(backend, [task])[0]
    stored = w.write_png(picture, w.png_params(task, backend), source.id if source else None)
    with w.sessions.begin() as s:
        parent = s.get(Image, source.id) if source else None
        made = w.record_image(
            s, job.id, 0, stored, {**row, "kind": "txt2img", "status": "candidate"}, parent
        )
        queue.progress(s, job.id, 1)
        return made


def _from_stored_card(w: Runner, recipe_id: int) -> tuple[GenTask, str]:
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
            loras=lora_tuples(recipe.loras),
        )
        return task, recipe.model_id


KINDS: dict[str, Kind] = {
    "sprint": text_to_image,
    "volume": text_to_image,
    "hero": hero,
    "fix": fix,
    "upscale": upscale,
    "vary": vary,
}
