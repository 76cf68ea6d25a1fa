"""The closed sets of values that columns hold, as StrEnums; the models map them to strings.

A StrEnum member equals its string, so `image.status == "kept"` and rows written before the
enums existed both keep working; a value outside the set fails at write time.
"""

from __future__ import annotations

from enum import StrEnum


class ProjectState(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"


class PauseReason(StrEnum):
    """Why a project paused: the playbook's three triggers."""

    INTENT = "intent"
    REPRODUCIBILITY = "reproducibility"
    RECURRING_SENDBACK = "recurring_sendback"


class Play(StrEnum):
    SPRINT = "sprint"
    LOCK = "lock"
    VOLUME = "volume"
    FIX = "fix"
    GATE = "gate"


class PlayStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    DONE = "done"
    SKIPPED = "skipped"


class ImageStatus(StrEnum):
    """Where an image stands. Transitions (each tested in tests/playbook/test_image_status.py):

    candidate ─keep─▶ kept ─review N─▶ at_gate ─clear─▶ shipped
        │               │  ◀──keep──┐     │
        └─cull─▶ culled ◀─cull──────┴─────┤ send back
                        ▲                 ▼
    kept ─handoff─▶ with_editor       sent_back ─review N─▶ at_gate
           ◀─editor's file─┘
    Generations start as candidates; upscales and editors' files start kept; reproducibility
    re-renders start culled (evidence, never a candidate). What a model folder's safety checker
    flags starts held, until the Reviewer releases it (a candidate) or culls it.
    """

    CANDIDATE = "candidate"
    HELD = "held"  # flagged by the model's safety checker: the Reviewer releases or culls it
    KEPT = "kept"
    CULLED = "culled"
    WITH_EDITOR = "with_editor"
    AT_GATE = "at_gate"
    SENT_BACK = "sent_back"
    SHIPPED = "shipped"


# Keepers: kept, whether or not they are waiting at the gate.
KEEPERS = (ImageStatus.KEPT, ImageStatus.AT_GATE)


class ImageKind(StrEnum):
    TXT2IMG = "txt2img"
    IMG2IMG = "img2img"
    INPAINT = "inpaint"
    UPSCALE = "upscale"
    REPRO = "repro"
    EDITOR = "editor"


# Image kinds that are attempts at an image; upscales, reproducibility renders and editor
# uploads are not, so they count neither toward keep rate, iterations nor the budget.
ATTEMPT_KINDS = ("txt2img", "img2img", "inpaint")
# Everything the runner rendered: what "iterations per final" divides by the finals cleared.
GENERATION_KINDS = (*ATTEMPT_KINDS, "upscale", "repro")


class JobKind(StrEnum):
    SPRINT = "sprint"
    HERO = "hero"
    VOLUME = "volume"
    FIX = "fix"
    UPSCALE = "upscale"
    VARY = "vary"


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class GateDecision(StrEnum):
    CLEARED = "cleared"
    SENT_BACK = "sent_back"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class InboxStatus(StrEnum):
    """A Slack request Atelier acked: waiting for a worker, being applied, or done with."""

    WAITING = "waiting"
    APPLYING = "applying"
    APPLIED = "applied"
    FAILED = "failed"
