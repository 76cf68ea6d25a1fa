"""Typed refusals; each message tells the person what to do next."""

from __future__ import annotations


class PlaybookError(Exception):
    """A rule said no. `str(error)` is written for the person who asked."""


class InvalidInput(PlaybookError):
    pass


class NotFound(PlaybookError):
    pass


class NotAuthorized(PlaybookError):
    pass


class OutOfOrder(PlaybookError):
    pass


class ProjectPaused(PlaybookError):
    pass


class CooloffActive(PlaybookError):
    pass


class BudgetExhausted(PlaybookError):
    pass


class DriftRefused(PlaybookError):
    pass


class GateIncomplete(PlaybookError):
    pass


class QueueLimit(PlaybookError):
    pass


class GpuCapReached(PlaybookError):
    """The channel's weekly GPU minutes would be passed."""


class Blocked(PlaybookError):
    """Prompt text holds a phrase on the channel's blocked words."""


class AlreadyDone(PlaybookError):
    """Asked again for what is already there (the same ship pack)."""


class TooOften(PlaybookError):
    """A person asked for something costly more often than its rate limit allows."""
