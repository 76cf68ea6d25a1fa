"""Listeners are module-level functions: a test calls one with a fake ack and sees the reply."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy.orm import Session, sessionmaker

from bot.playbook.service import PlaybookService
from bot.slack.context import Atelier
from bot.slack.index import MessageIndex
from handlers import commands
from storage.files import ImageStore


class Recorder:
    """Stands in for Bolt's ack/respond: remembers what it was called with."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        self.calls.append({"args": args, **kwargs})


def _atelier(sessions: sessionmaker[Session], store: ImageStore) -> Atelier:
    service = PlaybookService(sessions)
    return Atelier(service, MessageIndex(sessions), store, WebClient(token="xoxb-unused"))


def test_a_slash_command_acks_then_answers_only_the_asker(
    sessions: sessionmaker[Session], store: ImageStore
) -> None:
    ack, respond = Recorder(), Recorder()
    command = {"user_id": "U1", "channel_id": "C1", "text": "new Posters for the spring launch."}
    commands.atelier_command(ack, command, respond, {"atelier": _atelier(sessions, store)})  # type: ignore[arg-type]
    assert len(ack.calls) == 1
    assert respond.calls[0]["response_type"] == "ephemeral"
    assert respond.calls[0]["text"].startswith("Project 1 started")
    project = PlaybookService(sessions).latest_project("C1")
    assert project is not None and project.intent == "Posters for the spring launch."


def test_a_typo_gets_the_verb_it_resembles_and_changes_nothing(
    sessions: sessionmaker[Session], store: ImageStore
) -> None:
    ack, respond = Recorder(), Recorder()
    command = {"user_id": "U1", "channel_id": "C1", "text": "sprnt ink | clay | neon — a cat"}
    commands.atelier_command(ack, command, respond, {"atelier": _atelier(sessions, store)})  # type: ignore[arg-type]
    assert len(ack.calls) == 1
    said = respond.calls[0]["text"]
    assert said.startswith("Did you mean `sprint`? Usage: `sprint")
    assert "Atelier commands" not in said
    assert PlaybookService(sessions).latest_project("C1") is None


def test_an_unexpected_error_reaches_the_person_as_a_reference_only(
    sessions: sessionmaker[Session],
    store: ImageStore,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    atelier = _atelier(sessions, store)

    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("(psycopg.errors.DataError) INSERT INTO projects … parameters")

    monkeypatch.setattr(atelier.service, "start_project", broken)
    ack, respond = Recorder(), Recorder()
    command = {"user_id": "U1", "channel_id": "C1", "text": "new Posters for the spring launch."}
    with caplog.at_level(logging.ERROR, logger="atelier.slack"):
        commands.atelier_command(ack, command, respond, {"atelier": atelier})  # type: ignore[arg-type]
    said = respond.calls[0]["text"]
    assert "psycopg" not in said and "INSERT" not in said and "nothing was changed" in said
    reference = said.rsplit("reference ", 1)[1].rstrip(".")
    logged = [r for r in caplog.records if getattr(r, "reference", None) == reference]
    assert logged and "psycopg" in (logged[0].exc_text or "")
