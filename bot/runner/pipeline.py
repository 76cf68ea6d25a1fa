"""What happens after a render — PNGs, hashes, the store, the commits — off the device's path.

A GPU idles for every millisecond the runner spends between two renders, so the render loop
hands each rendered batch to the worker's `SavingLine` and starts the next batch at once, and
a job's last step (its contact sheet, completing it) is handed over too, so the next job's
first batch renders meanwhile. The line is one thread, so steps run in the order they were
handed over (image numbers follow the job's order), and bounded, so at most `depth` steps wait
in memory. A job's lease is held until its last step on the line has run.

A runner killed mid-line loses only pictures whose rows were not written yet: rows are written
after their PNG is stored, and the next attempt renders exactly the indexes with no row.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager, suppress

DEPTH = 2  # steps waiting: one running, one rendered behind it

Step = Callable[[], None]


class SavingLine:
    """One thread running the steps handed to it, in order; `submit` waits while it is full."""

    def __init__(self, depth: int = DEPTH) -> None:
        self._pool = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="atelier-save", initializer=_yield_to_the_render
        )
        self._depth = depth
        self._queued: deque[Future[None]] = deque()

    def submit(self, step: Step) -> Future[None]:
        """Hand over a step; its owner reads how it went from the future it gets back."""
        while len(self._queued) >= self._depth:
            wait([self._queued.popleft()])
        future = self._pool.submit(step)
        self._queued.append(future)
        return future

    def settle(self) -> None:
        """Wait until every step handed over has run."""
        while self._queued:
            wait([self._queued.popleft()])

    @contextmanager
    def job(self) -> Iterator[JobSaves]:
        """One job's batches; if the render loop fails, its saves not yet started never start."""
        saves = JobSaves(self)
        try:
            yield saves
        except BaseException:
            saves.abandon()
            raise


def _yield_to_the_render() -> None:
    """On a host that renders on its CPU, the line takes the cycles the render leaves idle."""
    with suppress(AttributeError, OSError):  # not Linux, or not allowed: it runs at par
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)


class JobSaves:
    """A job's batches on the line: saved in order, none after the first that failed."""

    def __init__(self, line: SavingLine) -> None:
        self._line = line
        self._futures: list[Future[None]] = []
        self._failure: BaseException | None = None

    def submit(self, save: Step) -> None:
        """Hand over one batch; a failed earlier batch is raised here, in the render loop."""
        self.raise_failure()
        self._futures.append(self._line.submit(lambda: self._unless_failed(save)))

    def wait(self) -> None:
        """Every batch handed over is saved, or the first failure is raised."""
        wait(self._futures)
        self.raise_failure()

    def raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure

    def abandon(self) -> None:
        """Cancel what has not started and wait for what has (it checks the lease itself)."""
        for future in self._futures:
            future.cancel()
        wait(self._futures)

    def _unless_failed(self, save: Step) -> None:
        if self._failure is not None:
            return
        try:
            save()
        except BaseException as error:
            self._failure = error
            raise
