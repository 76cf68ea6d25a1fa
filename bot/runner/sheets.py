"""The last step of a job that made several images: one contact sheet of them, and done."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PIL import Image as PILImage
from sqlalchemy import select

from bot.imaging import Tile, contact_sheet, veiled
from bot.runner.backend import Backend
from bot.runner.jobs import LeaseLost, Runner
from storage import queue
from storage.content_credentials import encode
from storage.models import Image, Job
from storage.states import ImageStatus


def shown_tile(image: Image, picture: PILImage.Image, label: str) -> Tile:
    """An image's tile on a sheet; one the safety checker flagged is veiled, for the Reviewer."""
    if image.status == ImageStatus.HELD:
        return Tile(veiled(picture), image.number, "held for the Reviewer")
    return Tile(picture, image.number, label)


def finish_with_sheet(
    w: Runner,
    job_id: int,
    backend: Backend,
    rendered: Mapping[tuple[int, int], PILImage.Image] | None = None,
) -> None:
    """`rendered` holds pictures this attempt made, by (job, index): only the others are read back."""
    with w.sessions.begin() as s:
        images = list(
            s.scalars(select(Image).where(Image.job_id == job_id).order_by(Image.job_index))
        )
    in_memory = rendered or {}
    tiles = [
        shown_tile(
            image,
            in_memory.get((job_id, image.job_index or 0)) or w.load_png(image),
            image.style or image.slot_value or "",
        )
        for image in images
    ]
    sheet = contact_sheet(tiles, by_label=any(image.style for image in images))
    sheet_of = {"contact_sheet_of": [image.number for image in images]}
    digest = w.store.put(encode(sheet, sheet_of, w.credentials))
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


def job_of(s: Any, job_id: int) -> Job:
    job = s.get(Job, job_id)
    assert job is not None
    return job
