"""The people, channel and first steps most end-to-end tests share."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from bot.config import Config
from bot.workbench import walk
from bot.workbench.local import LocalSlack, SlackWatch
from bot.workbench.walk import Team

CHANNEL = "CTEAM"
DIRECTOR, OPERATOR, REVIEWER, STRANGER = "UDIR", "UOPS", "UREV", "USTRANGER"
NAMES = {DIRECTOR: "dana", OPERATOR: "omar", REVIEWER: "ria", STRANGER: "sam"}


def config_for(db_url: str, tmp_path: Path) -> Config:
    return Config(None, None, None, "", db_url, str(tmp_path / "store"), "tiny", "cpu")


@pytest.fixture
def transport() -> str:
    """How the stand-in delivers requests; end-to-end modules run both (see test_e2e)."""
    return "http"


@pytest.fixture
def local(db_url: str, tmp_path: Path, transport: str) -> Iterator[LocalSlack]:
    with LocalSlack(config_for(db_url, tmp_path), NAMES, transport=transport) as workbench:
        yield workbench


def card(local: SlackWatch, user: str, contains: str) -> str:
    """Everything the person sees of the newest ephemeral containing `contains`."""
    whisper = local.ephemeral(user, contains)
    return whisper["text"] + json.dumps(whisper.get("blocks") or [], ensure_ascii=False)


def png(size: tuple[int, int] = (64, 64), colour: str = "white") -> bytes:
    """A small solid PNG, as a person would upload it."""
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


TEAM = Team(CHANNEL, DIRECTOR, OPERATOR, REVIEWER)
INTENT = "Hero art for the spring courier campaign."


def start(local: SlackWatch) -> str:
    return walk.start(local, TEAM, INTENT)


def sprint(local: SlackWatch, thread: str) -> str:
    """Run a sprint; returns the moodboard's ts."""
    return walk.sprint(local, TEAM, thread)


def to_volume(local: SlackWatch) -> tuple[str, list[int]]:
    """A project through the lock, with a batch of four; returns the thread and the batch numbers."""
    thread, _, numbers = walk.to_volume(local, TEAM, INTENT)
    return thread, numbers
