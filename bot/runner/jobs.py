"""What a runner holds while it works: claimed jobs, images waiting for their rows, and its errors."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from PIL import Image as PILImage
from sqlalchemy.orm import Session, sessionmaker

from bot.playbook.recipe import lora_tuples
from bot.runner.backend import Backend, GenTask
from bot.runner.pipeline import SavingLine
from storage.content_credentials import Credentials
from storage.files import ImageStore
from storage.models import Image


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
    held: str | None = None  # why the model's safety checker flagged it; None when it did not


@dataclass(frozen=True)
class ClaimedJob:
    """A job this runner holds the lease on, as read when it was claimed."""

    id: int
    kind: str
    params: dict[str, Any]
    project_id: int | None
    created_by: str


@dataclass
class Pending:
    job_id: int
    index: int
    task: GenTask
    extra: dict[str, Any]


def gen_task(params: dict[str, Any], settings: dict[str, Any]) -> GenTask:
    return GenTask(
        prompt=params["prompt"],
        negative_prompt=params.get("negative_prompt", ""),
        seed=int(params["seed"]),
        steps=int(settings["steps"]),
        guidance=float(settings["guidance"]),
        width=int(settings["width"]),
        height=int(settings["height"]),
        scheduler=settings["scheduler"],
        loras=lora_tuples(settings.get("loras")),
    )


class Released(Exception):
    """The job was handed back to the queue (shutdown or fairness)."""


class Runner(Protocol):
    """What a job kind (bot.runner.kinds, edits, sheets) may use of the worker running it.

    Declared here, below both, so the kinds need not import the worker that dispatches to them.
    """

    sessions: sessionmaker[Session]
    store: ImageStore
    backend_for: Callable[[str], Backend]
    worker_id: str
    batch_size: int
    stop: threading.Event
    line: SavingLine
    credentials: Credentials | None

    def check(self, lost: threading.Event) -> None: ...
    def release(self, job_ids: Sequence[int]) -> None: ...
    def owes_turn(self, job_ids: list[int]) -> bool: ...
    def generate(self, backend: Backend, tasks: list[GenTask]) -> list[PILImage.Image]: ...
    def write_png(
        self, picture: PILImage.Image, params: dict[str, Any], parent_id: int | None = None
    ) -> Stored: ...
    def load_png(self, image: Image) -> PILImage.Image: ...
    def record_image(
        self,
        s: Session,
        job_id: int,
        index: int,
        stored: Stored,
        row: dict[str, Any],
        parent: Image | None = None,
    ) -> Image: ...
    @staticmethod
    def log_row(
        job: ClaimedJob, task: GenTask, backend: Backend, **fields: Any
    ) -> dict[str, Any]: ...
    @staticmethod
    def prompt_warnings(backend: Backend, images: Sequence[Image]) -> list[str]: ...
    @staticmethod
    def png_params(task: GenTask, backend: Backend, **more: Any) -> dict[str, Any]: ...
