"""Nothing acked is lost: the inbox over HTTP and Socket Mode, restarts, and shutdown."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.slack.inbox import request_key
from bot.workbench.local import LocalProcesses, LocalSlack, SlackWatch, healthz
from bot.workbench.standin import SlackStandIn
from storage import queue
from storage.db import make_engine, make_sessions
from storage.models import AuditEntry, InboxRequest, Job, Project, utcnow
from storage.states import InboxStatus, JobStatus
from tests.workbench import CHANNEL, DIRECTOR, NAMES, OPERATOR

# Claims, leases and concurrent requests: on PostgreSQL as well.
pytestmark = pytest.mark.also_postgresql


@pytest.fixture(params=["http", "socket"])
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def slash_command(local: LocalSlack, text: str, trigger: str) -> dict[str, Any]:
    """A `/atelier` body as Slack sends it (and as the inbox keeps it)."""
    return {
        "team_id": local.standin.team_id,
        "channel_id": CHANNEL,
        "user_id": DIRECTOR,
        "command": "/atelier",
        "text": text,
        "api_app_id": "A0ATELIER",
        "response_url": f"{local.standin.base_url}/respond/{CHANNEL}%7C{DIRECTOR}%7C",
        "trigger_id": trigger,
    }


def inbox_status(local: LocalSlack, key: str) -> InboxStatus | None:
    with local.server.atelier.service.sessions() as s:
        return s.scalar(select(InboxRequest.status).where(InboxRequest.key == key))


def projects(local: LocalSlack) -> list[str]:
    with local.server.atelier.service.sessions() as s:
        return list(s.scalars(select(Project.intent).order_by(Project.id)))


def test_a_request_a_dead_process_acked_is_applied_once_its_lease_lapses(
    local: LocalSlack,
) -> None:
    body = slash_command(local, "new Posters for the spring launch.", "1.1.deadbeef")
    with local.server.atelier.service.sessions.begin() as s:
        s.add(
            InboxRequest(
                key=request_key(body),
                kind="slash_command",
                body=body,
                status=InboxStatus.APPLYING,
                attempts=1,
                lease_owner="gone-host:1",
                lease_until=utcnow() - timedelta(seconds=1),
            )
        )
    root = local.root(CHANNEL)
    assert "Posters for the spring launch." in root["text"]
    local.ephemeral(DIRECTOR, "started")
    local.settle()
    assert projects(local) == ["Posters for the spring launch."]


def test_a_request_whose_decision_committed_is_not_applied_again(local: LocalSlack) -> None:
    """The applier died after the decision's COMMIT but before it marked the row applied."""
    assert (
        local.standin.command(DIRECTOR, CHANNEL, "new Posters for the spring launch.").status == 200
    )
    local.root(CHANNEL)
    local.settle()
    sessions = local.server.atelier.service.sessions
    with sessions.begin() as s:
        row = s.scalars(select(InboxRequest).where(InboxRequest.kind == "slash_command")).one()
        row.status, row.lease_until = InboxStatus.APPLYING, utcnow() - timedelta(seconds=1)
        key = row.key
    with sessions() as s:
        kept = s.scalars(select(InboxRequest.body).where(InboxRequest.key == key)).one()
    assert "token" not in kept and kept["text"] == "new Posters for the spring launch."
    local.wait(lambda: inbox_status(local, key) == InboxStatus.APPLIED, 30, "the re-claim")
    local.settle()
    assert projects(local) == ["Posters for the spring launch."]
    assert len([m for m in local.standin.history(CHANNEL) if m.get("bot_id")]) == 1
    with sessions() as s:
        decisions = s.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.request_key == key)
        )
    assert decisions == 1


@pytest.mark.parametrize("transport", ["http"])  # Socket Mode disconnects first instead
def test_a_stopping_server_answers_503_so_slack_sends_elsewhere(local: LocalSlack) -> None:
    local.server.stopping.set()
    assert local.standin.command(DIRECTOR, CHANNEL, "new Posters.").status == 503
    port = local.http.effective_port  # type: ignore[union-attr]
    assert healthz(port) is None  # 503: the load balancer takes it out
    local.server.stopping.clear()
    with local.server.atelier.service.sessions() as s:
        assert s.scalar(select(func.count()).select_from(InboxRequest)) == 0


@pytest.mark.parametrize("transport", ["http"])
def test_commands_acked_just_before_a_kill_or_sigterm_all_take_effect(
    transport: str, tmp_path: Path
) -> None:
    """The measurement that opened #13: kill -9 lost 6 of 8 acked commands, SIGTERM 7 of 8."""
    url = f"sqlite:///{tmp_path}/inbox.db"
    with LocalProcesses(url, tmp_path / "store", NAMES, tmp_path / "logs") as stack:
        intents = [f"Poster number {n} for the launch." for n in range(8)]
        for n, intent in enumerate(intents):
            assert stack.standin.command(DIRECTOR, CHANNEL, f"new {intent}").status == 200
            stack.restart_serve(signal.SIGKILL if n % 2 else signal.SIGTERM)
        sessions = make_sessions(make_engine(url))

        def started() -> list[str]:
            with sessions() as s:
                return sorted(s.scalars(select(Project.intent)))

        stack.wait(lambda: len(started()) >= 8, 60, "every acked command to take effect")
        stack.wait(
            lambda: len([m for m in stack.standin.history(CHANNEL) if m.get("bot_id")]) >= 8,
            60,
            "a thread for each project",
        )
        time.sleep(1)
        assert started() == sorted(intents)
        roots = [m["text"] for m in stack.standin.history(CHANNEL) if m.get("bot_id")]
        assert sorted(i for i in intents if any(i in r for r in roots)) == sorted(intents)
        assert len(roots) == 8


@pytest.mark.parametrize("transport", ["http"])
def test_sigterm_hands_back_the_render_in_hand_at_no_cost_and_exits_in_time(
    transport: str, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path}/stop.db"
    sessions = make_sessions(make_engine(url))
    settings = {"ATELIER_SHUTDOWN_SECONDS": "10"}
    with LocalProcesses(
        url, tmp_path / "store", NAMES, tmp_path / "logs", settings=settings, runner_in_serve=True
    ) as stack:
        assert stack.standin.command(DIRECTOR, CHANNEL, "new Posters.").status == 200
        stack.root(CHANNEL)
        with sessions.begin() as s:
            project = s.scalars(select(Project.id)).one()
            job_id = queue.enqueue(
                s,
                channel_id=CHANNEL,
                project_id=project,
                kind="volume",
                created_by=OPERATOR,
                total=40,
                params={
                    "settings": {
                        "model": "tiny",
                        "scheduler": "EulerDiscreteScheduler",
                        "steps": 4,
                        "guidance": 5.0,
                        "width": 256,
                        "height": 256,
                    },
                    "images": [{"prompt": f"poster {i}", "seed": i} for i in range(40)],
                },
            ).id

        def job() -> Job:
            with sessions() as s:
                found = s.get(Job, job_id)
                assert found is not None
                return found

        stack.wait(lambda: job().progress_done >= 1, 120, "the render to be under way")
        began = time.monotonic()
        stack.server.send_signal(signal.SIGTERM)
        assert stack.server.wait(30) == 0
        assert time.monotonic() - began < 16  # the 10 s deadline, and the process exit after it
        held = job()
        assert (held.status, held.attempts, held.lease_owner) == (JobStatus.QUEUED, 0, None)
        assert "stopped" in stack.log_text("serve")


@pytest.mark.parametrize("transport", ["socket"])
def test_atelier_serve_over_socket_mode_acks_applies_and_stops_cleanly(
    transport: str, tmp_path: Path
) -> None:
    """`atelier serve` as the README runs it (Socket Mode), as a real process."""
    standin = SlackStandIn()
    standin.start()
    standin.start_socket_mode()
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": standin.token,
        "SLACK_APP_TOKEN": standin.app_token,
        "SLACK_SIGNING_SECRET": standin.signing_secret,
        "SLACK_API_URL": standin.api_url,
        "ATELIER_DATABASE_URL": f"sqlite:///{tmp_path}/socket.db",
        "ATELIER_IMAGE_STORE": str(tmp_path / "store"),
    }
    with (tmp_path / "serve.log").open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--no-runner"], env=env, stdout=log, stderr=log
        )
        try:
            assert standin.socket_mode is not None
            SlackWatch.wait(lambda: standin.socket_mode.opened, 60, "serve to connect")  # type: ignore[union-attr]
            assert standin.command(DIRECTOR, CHANNEL, "new Posters for the launch.").status == 200
            SlackWatch.wait(lambda: standin.history(CHANNEL), 30, "the project's root")
            began = time.monotonic()
            process.send_signal(signal.SIGTERM)
            assert process.wait(30) == 0
            assert time.monotonic() - began < 20
        finally:
            if process.poll() is None:
                process.kill()
            standin.stop()
    assert "Posters for the launch." in standin.history(CHANNEL)[0]["text"]
