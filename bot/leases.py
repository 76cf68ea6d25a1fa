"""Keeping a lease while work goes on: a background beat that renews it until the work ends.

The runner (jobs) and the outbox drainer (messages) hold short leases so that a dead process's
work is taken over soon; a live one renews them from this beat.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

log = logging.getLogger("atelier.leases")


@contextmanager
def renewing(renew: Callable[[], None], every: float, name: str) -> Iterator[None]:
    """Call `renew` every `every` seconds in a thread until the block ends; a failed renewal
    is logged and tried again at the next beat (the lease has time left for that)."""
    done = threading.Event()

    def beat() -> None:
        while not done.wait(every):
            try:
                renew()
            except Exception:
                log.warning(
                    "lease renewal failed; will retry", extra={"lease": name}, exc_info=True
                )

    thread = threading.Thread(target=beat, name=name, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
