"""GPU time: how long a claim's renders kept the device busy, charged to its jobs after.

The runner hands each kind a metered backend, so every render a kind makes — batches, the
hero's check, repairs, upscales — is timed where it runs, and nothing else (saving, the
database) is counted as the device's time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from PIL import Image
from sqlalchemy.orm import Session

from bot.runner.backend import Backend, GenTask
from storage.models import Job


class Meter:
    """Seconds of rendering for one claim, and the device they ran on."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.device: str | None = None

    def metered(self, backend_for: Callable[[str], Backend]) -> Callable[[str], Backend]:
        return lambda model: Metered(backend_for(model), self)

    @contextmanager
    def timing(self, backend: Backend) -> Iterator[None]:
        self.device = str(getattr(backend, "device_name", None) or "unknown")
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds += time.perf_counter() - started

    def charge(self, s: Session, job_ids: Sequence[int]) -> None:
        """Add the seconds to the jobs, shared by their image counts (a batch is several jobs)."""
        if not self.seconds:
            return
        jobs = [job for job in (s.get(Job, job_id) for job_id in job_ids) if job is not None]
        weights = sum(max(1, job.progress_total) for job in jobs)
        for job in jobs:
            job.gpu_seconds += self.seconds * max(1, job.progress_total) / weights
            job.device = self.device


class Metered:
    """A backend whose renders are timed on a meter; everything else passes through."""

    def __init__(self, inner: Backend, meter: Meter) -> None:
        self._inner, self._meter = inner, meter
        self.model_id, self.model_hash = inner.model_id, inner.model_hash

    def text_to_image(self, tasks: Sequence[GenTask]) -> list[Image.Image]:
        with self._meter.timing(self._inner):
            return self._inner.text_to_image(tasks)

    def image_to_image(self, task: GenTask, init: Image.Image, strength: float) -> Image.Image:
        with self._meter.timing(self._inner):
            return self._inner.image_to_image(task, init, strength)

    def inpaint(
        self, task: GenTask, init: Image.Image, mask: Image.Image, strength: float
    ) -> Image.Image:
        with self._meter.timing(self._inner):
            return self._inner.inpaint(task, init, mask, strength)

    def upscale(self, task: GenTask, init: Image.Image, scale: int) -> Image.Image:
        with self._meter.timing(self._inner):
            return self._inner.upscale(task, init, scale)

    def truncated(self, prompt: str) -> str | None:
        return self._inner.truncated(prompt)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
