"""What a runner holds while it works: claimed jobs, images waiting for their rows, and its errors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.playbook.recipe import lora_tuples
from bot.runner.backend import GenTask


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
