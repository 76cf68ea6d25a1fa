"""The five plays, their order, owners and triggers, as data."""

from __future__ import annotations

from dataclasses import dataclass

from bot.playbook.roles import Role
from storage.states import Play, PlayStatus

__all__ = ["ORDER", "PLAYS", "Play", "PlayInfo", "PlayStatus", "earlier", "info"]


@dataclass(frozen=True)
class PlayInfo:
    play: Play
    title: str
    owner: Role
    trigger: str
    done_when: str


PLAYS: tuple[PlayInfo, ...] = (
    PlayInfo(
        Play.SPRINT,
        "Concept sprint",
        Role.OPERATOR,
        "a new project needs visual direction and nothing is locked yet",
        "the Director approves a direction",
    ),
    PlayInfo(
        Play.LOCK,
        "Lock-in pass",
        Role.OPERATOR,
        "the Director has approved a direction",
        "the Director approves a hero that reproduces from its card",
    ),
    PlayInfo(
        Play.VOLUME,
        "Volume run",
        Role.OPERATOR,
        "a recipe is locked and you need many images in the same look",
        "the Operator keeps at least one image from a batch",
    ),
    PlayInfo(
        Play.FIX,
        "Fix-and-finish",
        Role.OPERATOR,
        "a near-perfect image has a localized flaw",
        "a repaired version of an image exists",
    ),
    PlayInfo(
        Play.GATE,
        "Review gate",
        Role.REVIEWER,
        "an image is a candidate to ship",
        "the Reviewer clears an image to ship",
    ),
)

ORDER: tuple[Play, ...] = tuple(info.play for info in PLAYS)


def info(play: Play) -> PlayInfo:
    return PLAYS[ORDER.index(play)]


def earlier(play: Play) -> tuple[Play, ...]:
    return ORDER[: ORDER.index(play)]
