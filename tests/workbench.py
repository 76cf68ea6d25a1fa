"""The people, channel and first steps most end-to-end tests share."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import Config
from bot.local import LocalSlack, SlackWatch

CHANNEL = "CTEAM"
DIRECTOR, OPERATOR, REVIEWER, STRANGER = "UDIR", "UOPS", "UREV", "USTRANGER"
NAMES = {DIRECTOR: "dana", OPERATOR: "omar", REVIEWER: "ria", STRANGER: "sam"}


def config_for(db_url: str, tmp_path: Path) -> Config:
    return Config(None, None, None, "", db_url, str(tmp_path / "store"), "tiny", "cpu")


@pytest.fixture
def local(db_url: str, tmp_path: Path) -> Iterator[LocalSlack]:
    with LocalSlack(config_for(db_url, tmp_path), NAMES) as workbench:
        yield workbench


def start(local: SlackWatch) -> str:
    slack = local.standin
    slack.command(
        DIRECTOR,
        CHANNEL,
        f"roles director <@{DIRECTOR}> operator <@{OPERATOR}> reviewer <@{REVIEWER}>",
    )
    local.ephemeral(DIRECTOR, "roles saved")
    slack.command(DIRECTOR, CHANNEL, "new Hero art for the spring courier campaign.")
    return str(local.root(CHANNEL)["ts"])


def sprint(local: SlackWatch, thread: str) -> dict[str, object]:
    local.standin.say(
        OPERATOR, CHANNEL, "sprint ink | clay | neon — a courier at dawn", thread_ts=thread
    )
    return local.message(CHANNEL, thread, "Moodboard")
