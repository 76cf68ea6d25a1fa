"""Per-person rate limits for asks that cost the bot work but change nothing (compare, recipes).

Counted in this process's memory: a limit is about one person hammering one verb, and a few
serve processes between them only multiply it by a few.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from bot.playbook import errors

# verb: (asks, per seconds)
LIMITS = {"compare": (6, 60.0), "recipes": (3, 60.0)}


class RateLimits:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._asks: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def take(self, user: str, verb: str) -> None:
        """Count one ask, or refuse it with how long to wait."""
        count, window = LIMITS[verb]
        now = self.clock()
        with self._lock:
            asks = self._asks.setdefault((user, verb), deque())
            while asks and asks[0] <= now - window:
                asks.popleft()
            if len(asks) >= count:
                wait = int(asks[0] + window - now) + 1
                raise errors.TooOften(
                    f"You asked for `{verb}` {count} times in the last {window:.0f} s; "
                    f"try again in {wait} s."
                )
            asks.append(now)
