"""The runner: claims jobs, generates, saves each image exactly once, reports progress."""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from PIL import Image as PILImage
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.runner.backend import Backend, GenTask, OutOfMemory
from bot.runner.images import Tile, contact_sheet, grid_mask, pixel_diff
from storage import prompt_log, queue
from storage.files import ImageStore, StoreError
from storage.models import Image, Job, Recipe
from storage.pngs import read_png, to_png

log = logging.getLogger("atelier.runner")


class LeaseLost(RuntimeError):
    """Another runner took this job over; stop without writing."""


class JobError(RuntimeError):
    """A failure retrying will not fix; the message is shown to the person."""


@dataclass(frozen=True)
class Stored:
    """A PNG already in the image store, waiting for its prompt-log row."""

    digest: str
    width: int
    height: int


@dataclass
class Pending:
    job_id: int
    index: int
    task: GenTask
    extra: dict[str, Any]


def _task(params: dict[str, Any], settings: dict[str, Any]) -> GenTask:
    return GenTask(
        prompt=params["prompt"],
        negative_prompt=params.get("negative_prompt", ""),
        seed=int(params["seed"]),
        steps=int(settings["steps"]),
        guidance=float(settings["guidance"]),
        width=int(settings["width"]),
        height=int(settings["height"]),
        scheduler=settings["scheduler"],
    )


def _chunks(items: Sequence[Pending], size: int) -> Iterator[list[Pending]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


class Worker:
    """One runner; run it as a process (`atelier runner`) or a thread inside `serve`."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        store: ImageStore,
        backend_for: Callable[[str], Backend],
        *,
        worker_id: str | None = None,
        lease_seconds: float = 60.0,
        batch_size: int = 4,
        poll_seconds: float = 1.0,
    ) -> None:
        self.sessions = sessions
        self.store = store
        self.backend_for = backend_for
        self.worker_id = (
            worker_id or f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
        )
        self.lease_seconds = lease_seconds
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.stop = threading.Event()

    # ---- loop ---------------------------------------------------------------------------

    def run(self) -> None:
        """Work until `stop` is set; a job in hand is finished to a chunk boundary, then released."""
        log.info("runner started", extra={"worker": self.worker_id})
        while not self.stop.is_set():
            try:
                worked = self.run_once()
            except Exception:
                log.exception("runner loop error; retrying", extra={"worker": self.worker_id})
                worked = False
            if not worked:
                self.stop.wait(self.poll_seconds)
        log.info("runner stopped", extra={"worker": self.worker_id})

    def run_once(self) -> bool:
        """Claim and process one job (with batch companions); False when the queue is empty."""
        with self.sessions.begin() as s:
            job = queue.claim(s, self.worker_id, lease_seconds=self.lease_seconds)
            if job is None:
                return False
            jobs = [job]
            if job.kind == "volume":
                jobs += queue.claim_companions(
                    s, job, self.worker_id, limit=7, lease_seconds=self.lease_seconds
                )
            claimed = [(j.id, j.kind, dict(j.params), j.project_id, j.created_by) for j in jobs]
        ids = [job_id for job_id, *_ in claimed]
        log.info("claimed", extra={"worker": self.worker_id, "jobs": ids, "kind": claimed[0][1]})
        with self._heartbeat(ids) as lost:
            try:
                kind = claimed[0][1]
                if kind in ("sprint", "volume"):
                    self._text_to_image(claimed, lost)
                elif kind == "hero":
                    self._hero(claimed[0], lost)
                elif kind == "fix":
                    self._fix(claimed[0], lost)
                elif kind == "upscale":
                    self._upscale(claimed[0], lost)
                else:
                    raise JobError(f"unknown job kind {kind!r}")
            except LeaseLost:
                log.warning("lease lost; another runner has the job", extra={"jobs": ids})
            except _Released:
                log.info("released", extra={"jobs": ids})
            except JobError as error:
                self._fail(ids, str(error), retryable=False)
            except StoreError as error:
                self._fail(
                    ids,
                    f"{error}. Check that the store is there and writable",
                    retryable=True,
                )
            except Exception as error:
                log.exception("job failed", extra={"jobs": ids})
                self._fail(ids, f"{type(error).__name__}: {error}", retryable=True)
        return True

    @contextmanager
    def _heartbeat(self, job_ids: list[int]) -> Iterator[threading.Event]:
        """Renew the lease in the background; `lost` is set if another runner took over."""
        lost = threading.Event()
        done = threading.Event()

        def beat() -> None:
            while not done.wait(self.lease_seconds / 3):
                try:
                    with self.sessions.begin() as s:
                        if not all(
                            queue.renew(s, job_id, self.worker_id, lease_seconds=self.lease_seconds)
                            for job_id in job_ids
                        ):
                            lost.set()
                except Exception:
                    log.warning("lease renewal failed; will retry", exc_info=True)

        thread = threading.Thread(target=beat, name=f"lease-{job_ids[0]}", daemon=True)
        thread.start()
        try:
            yield lost
        finally:
            done.set()
            thread.join()

    def _fail(self, job_ids: list[int], error: str, *, retryable: bool) -> None:
        with self.sessions.begin() as s:
            for job_id in job_ids:
                job = s.get(Job, job_id)
                if (
                    job is not None
                    and job.lease_owner == self.worker_id
                    and job.status == "running"
                ):
                    queue.fail(s, job, error, retryable=retryable)

    def _release(self, job_ids: Sequence[int]) -> None:
        with self.sessions.begin() as s:
            for job_id in job_ids:
                job = s.get(Job, job_id)
                if (
                    job is not None
                    and job.lease_owner == self.worker_id
                    and job.status == "running"
                ):
                    queue.release(s, job)

    # ---- saving ---------------------------------------------------------------------------

    def _store(self, picture: PILImage.Image, params: dict[str, Any]) -> Stored:
        """Write the PNG before any transaction opens: a database lock never waits on the store."""
        return Stored(self.store.put(to_png(picture, params)), picture.width, picture.height)

    def _save(
        self,
        s: Session,
        job_id: int,
        index: int,
        stored: Stored,
        row: dict[str, Any],
        parent: Image | None = None,
    ) -> Image:
        """Log a stored PNG once per (job, index); a retry finds it and moves on."""
        existing = s.scalars(
            select(Image).where(Image.job_id == job_id, Image.job_index == index)
        ).first()
        if existing is not None:
            return existing
        if not queue.still_owned(s, job_id, self.worker_id):
            raise LeaseLost(job_id)
        try:
            with s.begin_nested():
                return prompt_log.add_image(
                    s,
                    row.pop("project_id"),
                    parent=parent,
                    job_id=job_id,
                    job_index=index,
                    file_hash=stored.digest,
                    width=stored.width,
                    height=stored.height,
                    **row,
                )
        except IntegrityError as error:
            raise LeaseLost(job_id) from error

    def _load(self, image: Image) -> PILImage.Image:
        picture, _ = read_png(self.store.get(image.file_hash))
        return picture.convert("RGB")

    @staticmethod
    def _row(
        project_id: int | None, task: GenTask, backend: Backend, user: str, **fields: Any
    ) -> dict[str, Any]:
        """The prompt-log columns every generated image has, plus what is particular to it."""
        return {
            "project_id": project_id,
            "prompt": task.prompt,
            "negative_prompt": task.negative_prompt,
            "seed": task.seed,
            "steps": task.steps,
            "guidance": task.guidance,
            "scheduler": task.scheduler,
            "model_id": backend.model_id,
            "model_hash": backend.model_hash,
            "created_by": user,
            **fields,
        }

    @staticmethod
    def _prompt_warnings(backend: Backend, images: Sequence[Image]) -> list[str]:
        """Say what the text encoder cut from prompts past its token limit, once per cut."""
        cuts: dict[str, list[int]] = {}
        for image in images:
            lost = backend.truncated(image.prompt)
            if lost:
                cuts.setdefault(lost, []).append(image.number)
        return [
            f"{', '.join(f'#{n}' for n in numbers)}: the prompt is longer than the text encoder reads (77 tokens); it ignored “{lost}”."
            for lost, numbers in cuts.items()
        ]

    @staticmethod
    def _log_params(task: GenTask, backend: Backend, **more: Any) -> dict[str, Any]:
        return {
            **task.as_dict(),
            "model_id": backend.model_id,
            "model_hash": backend.model_hash,
            **more,
        }

    def _generate(self, backend: Backend, tasks: list[GenTask]) -> list[PILImage.Image]:
        """Generate a batch; on out-of-memory halve it and go on, failing only at batch 1."""
        try:
            return backend.text_to_image(tasks)
        except OutOfMemory as error:
            if len(tasks) == 1:
                raise JobError(
                    "out of GPU memory even at batch 1: lower the size or steps, or use a larger GPU"
                ) from error
            self.batch_size = max(1, len(tasks) // 2)
            log.warning("out of memory; batch halved", extra={"batch": self.batch_size})
            half = len(tasks) // 2
            return self._generate(backend, tasks[:half]) + self._generate(backend, tasks[half:])

    def _check(self, lost: threading.Event) -> None:
        if lost.is_set():
            raise LeaseLost()

    # ---- job kinds ----------------------------------------------------------------------

    def _text_to_image(
        self, claimed: list[tuple[int, str, dict[str, Any], int | None, str]], lost: threading.Event
    ) -> None:
        pending: list[Pending] = []
        info: dict[int, tuple[str, dict[str, Any], int | None, str]] = {}
        with self.sessions.begin() as s:
            for job_id, kind, params, project_id, user in claimed:
                info[job_id] = (kind, params, project_id, user)
                done = set(s.scalars(select(Image.job_index).where(Image.job_id == job_id)))
                for index, image in enumerate(params["images"]):
                    if index not in done:
                        pending.append(
                            Pending(job_id, index, _task(image, params["settings"]), image)
                        )
        backend = self.backend_for(claimed[0][2]["settings"]["model"])
        remaining = list(pending)
        while remaining:
            self._check(lost)
            if self.stop.is_set():
                self._release(list(info))
                raise _Released()
            chunk, remaining = remaining[: self.batch_size], remaining[self.batch_size :]
            pictures = self._generate(backend, [item.task for item in chunk])
            stored = [
                self._store(
                    picture, self._log_params(item.task, backend, style=item.extra.get("style"))
                )
                for item, picture in zip(chunk, pictures, strict=True)
            ]
            with self.sessions.begin() as s:
                for item, kept in zip(chunk, stored, strict=True):
                    kind, params, project_id, user = info[item.job_id]
                    self._save(
                        s,
                        item.job_id,
                        item.index,
                        kept,
                        self._row(
                            project_id,
                            item.task,
                            backend,
                            user,
                            play=kind,
                            kind="txt2img",
                            status="candidate",
                            style=item.extra.get("style"),
                            slot_value=item.extra.get("slot_value"),
                            recipe_id=params.get("recipe_id"),
                        ),
                    )
                for job_id in {item.job_id for item in chunk}:
                    saved = s.scalars(select(Image.id).where(Image.job_id == job_id)).all()
                    queue.progress(s, job_id, len(saved))
            if remaining:
                self._maybe_yield(list(info))
        for job_id in info:
            self._finish_with_sheet(job_id, backend)

    def _maybe_yield(self, job_ids: list[int]) -> None:
        """Between chunks, give the GPU to a more urgent job or another channel's turn."""
        with self.sessions.begin() as s:
            job = s.get(Job, job_ids[0])
            owed = job is not None and queue.others_waiting(s, job)
        if owed:
            self._release(job_ids)
            raise _Released()

    def _finish_with_sheet(self, job_id: int, backend: Backend) -> None:
        with self.sessions.begin() as s:
            images = list(
                s.scalars(select(Image).where(Image.job_id == job_id).order_by(Image.job_index))
            )
        tiles = [
            Tile(self._load(image), image.number, image.style or image.slot_value or "")
            for image in images
        ]
        sheet = contact_sheet(tiles)
        digest = self.store.put(
            to_png(sheet, {"contact_sheet_of": [image.number for image in images]})
        )
        warnings = self._prompt_warnings(backend, images)
        with self.sessions.begin() as s:
            job = s.get(Job, job_id)
            if job is None or job.lease_owner != self.worker_id:
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

    def _hero(
        self, claimed: tuple[int, str, dict[str, Any], int | None, str], lost: threading.Event
    ) -> None:
        job_id, _, params, project_id, user = claimed
        card = params["card"]
        backend = self.backend_for(card["model_id"])
        settings = {k: card[k] for k in ("steps", "guidance", "width", "height", "scheduler")}
        prompt = card["prompt_template"].replace(
            "{" + card["slot_name"] + "}", card["slot_value"], 1
        )
        task = _task(
            {"prompt": prompt, "negative_prompt": card["negative_prompt"], "seed": card["seed"]},
            settings,
        )
        row = self._row(
            project_id,
            task,
            backend,
            user,
            play="lock",
            recipe_id=params["recipe_id"],
            slot_value=card["slot_value"],
        )
        with self.sessions.begin() as s:
            source = s.get(Image, params.get("parent_id")) if params.get("parent_id") else None
            hero = s.scalars(
                select(Image).where(Image.job_id == job_id, Image.job_index == 0)
            ).first()
        if hero is None:
            self._check(lost)
            picture = self._generate(backend, [task])[0]
            stored = self._store(picture, self._log_params(task, backend))
            with self.sessions.begin() as s:
                parent = s.get(Image, source.id) if source else None
                hero = self._save(
                    s,
                    job_id,
                    0,
                    stored,
                    {**row, "kind": "txt2img", "status": "candidate"},
                    parent,
                )
                queue.progress(s, job_id, 1)
        # The check: a second render built from the stored recipe card alone.
        self._check(lost)
        with self.sessions.begin() as s:
            recipe = s.get(Recipe, params["recipe_id"])
            if recipe is None:
                raise JobError("the recipe this hero belongs to is gone")
            again = GenTask(
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
        replay = self._generate(self.backend_for(recipe.model_id), [again])[0]
        mean_diff, max_diff = pixel_diff(self._load(hero), replay)
        stored = self._store(replay, self._log_params(again, backend, reproduces=hero.number))
        with self.sessions.begin() as s:
            hero_row = s.get(Image, hero.id)
            repro = self._save(
                s,
                job_id,
                1,
                stored,
                {**row, "kind": "repro", "status": "culled", "prompt": again.prompt},
                hero_row,
            )
            job = s.get(Job, job_id)
            assert job is not None
            queue.complete(
                s,
                job,
                {
                    "hero_image_id": hero.id,
                    "repro_image_id": repro.id,
                    "model_hash": backend.model_hash,
                    "mean_diff": round(mean_diff, 4),
                    "max_diff": round(max_diff, 4),
                },
            )

    def _fix(
        self, claimed: tuple[int, str, dict[str, Any], int | None, str], lost: threading.Event
    ) -> None:
        job_id, _, params, project_id, user = claimed
        with self.sessions.begin() as s:
            parent = s.get(Image, params["parent_id"])
            if parent is None:
                raise JobError("the image to repair is gone")
            if s.scalars(select(Image).where(Image.job_id == job_id)).first() is None:
                parent_data = (parent.id, parent.file_hash)
            else:
                parent_data = None
        if parent_data is not None:
            backend = self.backend_for(parent.model_id or "tiny")
            init = self._load(parent)
            prompt = parent.prompt
            if params.get("instruction"):
                prompt = (
                    f"{params['instruction']}, {parent.prompt}"
                    if parent.prompt
                    else params["instruction"]
                )
            task = GenTask(
                prompt=prompt,
                negative_prompt=parent.negative_prompt,
                seed=parent.seed or 0,
                steps=max(parent.steps or 1, 2),
                guidance=parent.guidance or 5.0,
                width=init.width,
                height=init.height,
                scheduler=parent.scheduler or "",
            )
            self._check(lost)
            if params["mode"] == "inpaint":
                if params.get("mask_hash"):
                    mask = (
                        read_png(self.store.get(params["mask_hash"]))[0]
                        .convert("L")
                        .resize(init.size)
                    )
                    mask_hash = params["mask_hash"]
                else:
                    mask = grid_mask(params["cells"], init.width, init.height)
                    mask_hash = self.store.put(
                        to_png(mask.convert("RGB"), {"mask_cells": params["cells"]})
                    )
                picture = backend.inpaint(task, init, mask, params["strength"])
                kind = "inpaint"
            else:
                picture = backend.image_to_image(task, init, params["strength"])
                mask_hash, kind = None, "img2img"
            stored = self._store(
                picture,
                self._log_params(
                    task,
                    backend,
                    strength=params["strength"],
                    mask_hash=mask_hash,
                    parent=parent.number,
                ),
            )
            with self.sessions.begin() as s:
                parent_row = s.get(Image, parent_data[0])
                self._save(
                    s,
                    job_id,
                    0,
                    stored,
                    self._row(
                        project_id,
                        task,
                        backend,
                        user,
                        play="fix",
                        kind=kind,
                        status="candidate",
                        strength=params["strength"],
                        mask_hash=mask_hash,
                        recipe_id=parent.recipe_id,
                        slot_value=parent.slot_value,
                    ),
                    parent_row,
                )
        with self.sessions.begin() as s:
            job = s.get(Job, job_id)
            assert job is not None
            queue.progress(s, job_id, 1)
            queue.complete(
                s,
                job,
                {"images": [i for i in s.scalars(select(Image.id).where(Image.job_id == job_id))]},
            )

    def _upscale(
        self, claimed: tuple[int, str, dict[str, Any], int | None, str], lost: threading.Event
    ) -> None:
        job_id, _, params, project_id, user = claimed
        backend: Backend | None = None
        for index, item in enumerate(params["images"]):
            self._check(lost)
            if self.stop.is_set():
                self._release([job_id])
                raise _Released()
            with self.sessions.begin() as s:
                if s.scalars(
                    select(Image).where(Image.job_id == job_id, Image.job_index == index)
                ).first():
                    continue
                parent = s.get(Image, item["parent_id"])
                if parent is None:
                    raise JobError("an image to upscale is gone")
            backend = backend or self.backend_for(parent.model_id or "tiny")
            init = self._load(parent)
            task = GenTask(
                prompt=parent.prompt,
                negative_prompt=parent.negative_prompt,
                seed=parent.seed or 0,
                steps=max(parent.steps or 1, 2),
                guidance=parent.guidance or 5.0,
                width=init.width * item["scale"],
                height=init.height * item["scale"],
                scheduler=parent.scheduler or "",
            )
            picture = backend.upscale(task, init, item["scale"])
            stored = self._store(
                picture, self._log_params(task, backend, upscaled_from=parent.number)
            )
            with self.sessions.begin() as s:
                parent_row = s.get(Image, parent.id)
                self._save(
                    s,
                    job_id,
                    index,
                    stored,
                    self._row(
                        project_id,
                        task,
                        backend,
                        user,
                        play=parent.play,
                        kind="upscale",
                        status="kept",
                        recipe_id=parent.recipe_id,
                        slot_value=parent.slot_value,
                        kept_at=parent.kept_at,
                    ),
                    parent_row,
                )
                queue.progress(s, job_id, index + 1)
        with self.sessions.begin() as s:
            job = s.get(Job, job_id)
            assert job is not None
            images = list(
                s.scalars(select(Image).where(Image.job_id == job_id).order_by(Image.job_index))
            )
            tiles = [Tile(self._load(image), image.number, "upscaled") for image in images]
            digest = self.store.put(
                to_png(contact_sheet(tiles), {"contact_sheet_of": [i.number for i in images]})
            )
            queue.complete(
                s,
                job,
                {
                    "sheet_hash": digest,
                    "images": [image.id for image in images],
                },
            )


class _Released(Exception):
    """The job was handed back to the queue (shutdown or fairness)."""
