"""Stopping on SIGTERM/SIGINT without losing work: the signal only asks, the main thread acts.

A deploy sends SIGTERM; a process then has ATELIER_SHUTDOWN_SECONDS to stop taking work,
finish or hand back what it holds, and exit. The handler only sets an event, because the
work of stopping (database writes, joins) must not run inside a signal handler.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Iterable
from types import FrameType

log = logging.getLogger("atelier.shutdown")


def on_signals() -> threading.Event:
    """An event set by the first SIGTERM or SIGINT (call from the main thread)."""
    asked = threading.Event()

    def ask(signum: int, _frame: FrameType | None) -> None:
        log.info("asked to stop", extra={"signal": signal.Signals(signum).name})
        asked.set()

    signal.signal(signal.SIGTERM, ask)
    signal.signal(signal.SIGINT, ask)
    return asked


def wait_for(asked: threading.Event) -> None:
    """Block the main thread until asked to stop (in short waits, so signals are handled)."""
    while not asked.wait(0.5):
        pass


def join_until(threads: Iterable[threading.Thread], deadline: float) -> list[threading.Thread]:
    """Join each thread until the deadline (time.monotonic()); the ones still running."""
    threads = list(threads)
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return [thread for thread in threads if thread.is_alive()]
