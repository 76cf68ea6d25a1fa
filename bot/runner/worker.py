"""The runner: claims jobs, generates, saves each image exactly once, reports progress.

The loop, the lease and the saving are here; what each job kind does is bot.runner.kinds.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from functools import partial
from typing import Any, TypeVar

from PIL import Image as PILImage
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.leases import renewing
from bot.runner.backend import Backend, GenTask, OutOfMemory
from bot.runner.jobs import ClaimedJob, JobError, LeaseLost, Released, Stored
from bot.runner.kinds import KINDS
from bot.runner.metering import Meter
from bot.runner.pipeline import SavingLine, Step
from bot.runner.safety import held_reason
from storage import prompt_log, queue
from storage.content_credentials import Credentials, encode
from storage.files import ImageStore, StoreError
from storage.models import Image, Job
from storage.pngs import read_png
from storage.states import ImageStatus

log = logging.getLogger("atelier.runner")
T = TypeVar("T")


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
        credentials: Credentials | None = None,
    ) -> None:
        self.sessions = sessions
        self.store = store
        self.models = backend_for  # the kinds get it metered: self.backend_for, per claim
        self.backend_for = backend_for
        self.worker_id = (
            worker_id or f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
        )
        self.lease_seconds = lease_seconds
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.stop = threading.Event()
        self.holding: set[int] = set()  # the jobs in hand, for a shutdown that cannot wait
        self.line = SavingLine()
        self.credentials = credentials  # the team's C2PA signer; None writes XMP only

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
        self.line.settle()
        log.info("runner stopped", extra={"worker": self.worker_id})

    def run_once(self) -> bool:
        """Claim and render one job (with batch companions); False once the queue is empty.

        A job whose last step runs on the saving line is finished there while the next job
        renders; an empty queue waits for the line, so after False every job taken is settled.
        """
        claimed = self._claim()
        if not claimed:
            self.line.settle()
            return False
        ids = [job.id for job in claimed]
        self.holding.update(ids)
        log.info("claimed", extra={"worker": self.worker_id, "jobs": ids, "kind": claimed[0].kind})
        heartbeat = ExitStack()
        lost = heartbeat.enter_context(self._heartbeat(ids))
        meter = Meter()
        self.backend_for = meter.metered(self.models)
        finish = self._settle(ids, lambda: self._dispatch(claimed, lost))
        with self.sessions.begin() as s:
            meter.charge(s, ids)  # whatever the outcome, the renders were made
        if finish is None:
            self._let_go(ids, heartbeat)
        else:
            self.line.submit(partial(self._finish, ids, finish, heartbeat))
        return True

    def _claim(self) -> list[ClaimedJob]:
        with self.sessions.begin() as s:
            job = queue.claim(s, self.worker_id, lease_seconds=self.lease_seconds)
            if job is None:
                return []
            jobs = [job]
            if job.kind == "volume":
                jobs += queue.claim_companions(
                    s, job, self.worker_id, limit=7, lease_seconds=self.lease_seconds
                )
            return [
                ClaimedJob(j.id, j.kind, dict(j.params), j.project_id, j.created_by) for j in jobs
            ]

    def _dispatch(self, claimed: list[ClaimedJob], lost: threading.Event) -> Step | None:
        kind = claimed[0].kind
        if kind not in KINDS:
            raise JobError(f"unknown job kind {kind!r}")
        return KINDS[kind](self, claimed, lost)

    def _finish(self, ids: list[int], finish: Step, heartbeat: ExitStack) -> None:
        """On the saving line, after the job's batches: its last step, with the lease still held."""
        try:
            self._settle(ids, finish)
        finally:
            self._let_go(ids, heartbeat)

    def _let_go(self, ids: list[int], heartbeat: ExitStack) -> None:
        heartbeat.close()
        self.holding.difference_update(ids)

    def _settle(self, ids: list[int], work: Callable[[], T]) -> T | None:
        """Run a job's work; whatever goes wrong becomes the job's outcome, never the loop's."""
        try:
            return work()
        except LeaseLost:
            log.warning("lease lost; another runner has the job", extra={"jobs": ids})
        except Released:
            log.info("released", extra={"jobs": ids})
        except JobError as error:
            self._fail(ids, str(error), retryable=False)
        except StoreError as error:
            self._fail(ids, f"{error}. Check that the store is there and writable", retryable=True)
        except Exception:
            # The detail (SQL, parameters, paths) is for the log; the thread gets a reference.
            reference = uuid.uuid4().hex[:8]
            log.exception("job failed", extra={"jobs": ids, "reference": reference})
            self._fail(
                ids,
                f"the runner hit an unexpected error (reference {reference}; the details are "
                "in the runner's log)",
                retryable=True,
            )
        return None

    def hand_back(self) -> None:
        """Shutdown's deadline passed mid-chunk: the jobs go back as they were, at no try's cost."""
        held = sorted(self.holding)
        if held:
            self.release(held)
            log.warning("handed back at shutdown", extra={"jobs": held})

    @contextmanager
    def _heartbeat(self, job_ids: list[int]) -> Iterator[threading.Event]:
        """Renew the lease in the background; `lost` is set if another runner took over."""
        lost = threading.Event()

        def renew() -> None:
            with self.sessions.begin() as s:
                if not all(
                    queue.renew(s, job_id, self.worker_id, lease_seconds=self.lease_seconds)
                    for job_id in job_ids
                ):
                    lost.set()

        with renewing(renew, self.lease_seconds / 3, f"lease-{job_ids[0]}"):
            yield lost

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

    def release(self, job_ids: Sequence[int]) -> None:
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

    def write_png(
        self, picture: PILImage.Image, params: dict[str, Any], parent_id: int | None = None
    ) -> Stored:
        """Write the PNG before any transaction opens: a database lock never waits on the store.

        With the team's credentials it is signed, naming the image it came from (`parent_id`)
        as its ingredient.
        """
        parent = self._parent_png(parent_id) if self.credentials and parent_id else None
        png = encode(picture, params, self.credentials, parent)
        return Stored(self.store.put(png), picture.width, picture.height, held_reason(picture))

    def _parent_png(self, image_id: int) -> bytes | None:
        with self.sessions.begin() as s:
            parent = s.get(Image, image_id)
            digest = parent.file_hash if parent else None
        return self.store.get(digest) if digest else None

    def record_image(
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
        if stored.held and row.get("status") != ImageStatus.CULLED:
            row["status"] = ImageStatus.HELD  # for the Reviewer, who releases or culls it
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

    def load_png(self, image: Image) -> PILImage.Image:
        picture, _ = read_png(self.store.get(image.file_hash))
        return picture.convert("RGB")

    @staticmethod
    def log_row(job: ClaimedJob, task: GenTask, backend: Backend, **fields: Any) -> dict[str, Any]:
        """The prompt-log columns every generated image has, plus what is particular to it."""
        return {
            "project_id": job.project_id,
            "prompt": task.prompt,
            "negative_prompt": task.negative_prompt,
            "seed": task.seed,
            "steps": task.steps,
            "guidance": task.guidance,
            "scheduler": task.scheduler,
            "model_id": backend.model_id,
            "model_hash": backend.model_hash,
            "loras": [{"name": n, "weight": w, "sha256": h} for n, w, h in task.loras] or None,
            "created_by": job.created_by,
            **fields,
        }

    @staticmethod
    def prompt_warnings(backend: Backend, images: Sequence[Image]) -> list[str]:
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
    def png_params(task: GenTask, backend: Backend, **more: Any) -> dict[str, Any]:
        return {
            **task.as_dict(),
            "model_id": backend.model_id,
            "model_hash": backend.model_hash,
            **more,
        }

    def generate(self, backend: Backend, tasks: list[GenTask]) -> list[PILImage.Image]:
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
            return self.generate(backend, tasks[:half]) + self.generate(backend, tasks[half:])

    def owes_turn(self, job_ids: list[int]) -> bool:
        """Between batches: is the GPU owed to a more urgent job or another channel's turn?"""
        with self.sessions.begin() as s:
            job = s.get(Job, job_ids[0])
            return job is not None and queue.others_waiting(s, job)

    def check(self, lost: threading.Event) -> None:
        if lost.is_set():
            raise LeaseLost()
