"""The local workbench: the Slack stand-in and the real app wired together over HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

from slack_bolt.adapter.socket_mode import SocketModeHandler
from waitress.server import create_server

from bot.config import Config
from bot.serve import MAX_BODY_BYTES, Server
from bot.workbench.standin import SlackStandIn
from storage import inbox, outbox


class SlackWatch:
    """Waiting on what people would see in the stand-in: thread messages, roots, ephemerals."""

    standin: SlackStandIn

    @staticmethod
    def wait(predicate: Callable[[], Any], timeout: float = 60.0, what: str = "the app") -> Any:
        """Poll until `predicate()` is truthy; a timeout says what never happened."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.1)
        raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")

    def message(
        self,
        channel: str,
        thread_ts: str,
        contains: str,
        *,
        timeout: float = 120.0,
        after: str = "0",
    ) -> dict[str, Any]:
        """The first bot message in a thread (newer than `after`) whose text contains `contains`."""

        def find() -> dict[str, Any] | None:
            for message in self.standin.thread(channel, thread_ts):
                if (
                    message.get("bot_id")
                    and contains in (message.get("text") or "")
                    and float(message["ts"]) > float(after)
                ):
                    return message
            return None

        try:
            return dict(self.wait(find, timeout, f"a message containing {contains!r}"))
        except TimeoutError as error:
            seen = [
                f"{m.get('user')}: {(m.get('text') or '')[:80]}"
                for m in self.standin.thread(channel, thread_ts)
            ]
            whispers = [
                f"to {e['user']}: {e['text'][:120]}"
                for e in self.standin.ephemerals_for_channel(channel)
            ]
            raise TimeoutError(f"{error}\nthread: {seen}\nephemerals: {whispers}") from None

    def root(self, channel: str, timeout: float = 30.0) -> dict[str, Any]:
        return dict(
            self.wait(
                lambda: (
                    self.standin.history(channel)[-1:]
                    and self.standin.history(channel)[-1].get("bot_id")
                    and self.standin.history(channel)[-1]
                ),
                timeout,
                "the project's root message",
            )
        )

    def ephemeral(self, user: str, contains: str, timeout: float = 30.0) -> dict[str, Any]:
        """The newest ephemeral to `user` containing `contains`; a timeout lists what they did see."""

        def find() -> dict[str, Any] | None:
            return next(
                (e for e in reversed(self.standin.ephemerals_for(user)) if contains in e["text"]),
                None,
            )

        try:
            return dict(self.wait(find, timeout, f"an ephemeral containing {contains!r}"))
        except TimeoutError as error:
            seen = [e["text"][:160] for e in self.standin.ephemerals_for(user)]
            raise TimeoutError(f"{error}\n{user} saw: {seen}") from None


class LocalSlack(SlackWatch):
    """`atelier serve --http` in-process, with a stand-in Slack pointed at it and it at the stand-in."""

    def __init__(
        self,
        config: Config,
        users: dict[str, str],
        *,
        runner: bool = True,
        transport: str = "http",
    ) -> None:
        """`transport`: "http" (signed POSTs to /slack/events) or "socket" (Socket Mode)."""
        self.standin = SlackStandIn(users=users)
        self.standin.start()
        if transport == "socket":
            self.standin.start_socket_mode()
        self.config = replace(
            config,
            slack_bot_token=self.standin.token,
            slack_app_token=self.standin.app_token,
            slack_signing_secret=self.standin.signing_secret,
            slack_api_url=self.standin.api_url,
        )
        self.server = Server.build(self.config, runner=runner, dispatch_interval=0.1)
        self.http = create_server(
            self.server.wsgi(),
            host="127.0.0.1",
            port=0,
            threads=6,
            max_request_body_size=MAX_BODY_BYTES,
        )
        self._closing = threading.Event()
        self._http_thread = threading.Thread(target=self._serve_http, name="http", daemon=True)
        self._http_thread.start()
        self.socket: SocketModeHandler | None = None
        if transport == "socket":
            self.socket = SocketModeHandler(self.server.app, self.standin.app_token)
            self.socket.connect()
        else:
            self.standin.app_url = f"http://127.0.0.1:{self.http.effective_port}/slack/events"  # type: ignore[union-attr]
        self._background = self.server.start_background()

    def _serve_http(self) -> None:
        try:
            self.http.run()
        except OSError:
            if not self._closing.is_set():
                raise

    def close(self) -> None:
        """Stop in order: what delivers requests, background work, HTTP, then the stand-in."""
        if self.socket is not None:
            self.socket.close()
        self.server.stop_background()
        for thread in self._background:
            thread.join(timeout=30)
        self._closing.set()
        self.http.close()
        self._http_thread.join(timeout=5)
        self.standin.stop()
        self.server.engine.dispose()

    def __enter__(self) -> LocalSlack:
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.close()

    def settle(self, timeout: float = 60.0) -> None:
        """Wait until every request is applied, no job is pending and the outbox is empty."""
        service = self.server.atelier.service

        def idle() -> bool:
            if service.active_jobs() or service.unapplied_jobs():
                return False
            if self.server.dispatcher.tick():
                return False
            with self.server.dispatcher.sessions() as s:
                return inbox.unapplied(s) == 0 and outbox.unsent(s) == 0

        self.wait(idle, timeout, "the queue and outbox to drain")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def healthz(port: int) -> str | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return str(response.read().decode())
    except OSError:
        return None


def serve(
    env: Mapping[str, str], port: int, *extra: str, output: IO[str] | None = None
) -> subprocess.Popen[bytes]:
    """`atelier serve --http` on 127.0.0.1:port; returns once /healthz answers."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bot",
            "serve",
            "--http",
            "--port",
            str(port),
            "--host",
            "127.0.0.1",
            *extra,
        ],
        env=dict(env),
        stdout=output or subprocess.DEVNULL,
        stderr=output or subprocess.DEVNULL,
    )
    SlackWatch.wait(lambda: healthz(port) or process.poll() is not None, 60, "/healthz")
    if process.poll() is not None:
        raise RuntimeError(f"atelier serve exited with {process.returncode}")
    return process


class LocalProcesses(SlackWatch):
    """`atelier serve --http` and `atelier runner`s as real processes; the stand-in lives here.

    They share `database_url` and `image_store`, take any other `settings` (ATELIER_… variables)
    on top of this process's environment, and each logs to a file in `log_dir`.
    """

    def __init__(
        self,
        database_url: str,
        image_store: Path | str,
        users: dict[str, str],
        log_dir: Path,
        *,
        settings: Mapping[str, str] | None = None,
        runner_in_serve: bool = False,
    ) -> None:
        self.standin = SlackStandIn(users=users)
        self.standin.start()
        self.log_dir = log_dir
        log_dir.mkdir(parents=True, exist_ok=True)
        self.env = {
            **os.environ,
            "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"),
            **(settings or {}),
            "ATELIER_DATABASE_URL": database_url,
            "ATELIER_IMAGE_STORE": str(image_store),
            "SLACK_BOT_TOKEN": self.standin.token,
            "SLACK_SIGNING_SECRET": self.standin.signing_secret,
            "SLACK_API_URL": self.standin.api_url,
            "PYTHONUNBUFFERED": "1",
        }
        self.port = free_port()
        self.logs: list[IO[str]] = []
        self.serve_args = () if runner_in_serve else ("--no-runner",)
        self.server = serve(self.env, self.port, *self.serve_args, output=self._log("serve"))
        self.standin.app_url = f"http://127.0.0.1:{self.port}/slack/events"
        self.runners: list[subprocess.Popen[bytes]] = []

    def restart_serve(self, how: int = signal.SIGKILL) -> float:
        """Stop `serve` with the signal `how`, start it again; the seconds it was not answering."""
        down = time.monotonic()
        self.server.send_signal(how)
        self.server.wait(60)
        self.server = serve(self.env, self.port, *self.serve_args, output=self._log("serve"))
        return time.monotonic() - down

    def _log(self, name: str) -> IO[str]:
        handle = (self.log_dir / f"{name}.log").open("a")
        self.logs.append(handle)
        return handle

    def start_runner(
        self,
        name: str,
        *args: str,
        cwd: Path | None = None,
        settings: Mapping[str, str] | None = None,
    ) -> subprocess.Popen[bytes]:
        """An `atelier runner`; `cwd` and `settings` make it a host of its own (its own folder,
        model cache), sharing only the database and the image store with the others."""
        output = self._log(name)
        if cwd is not None:
            cwd.mkdir(parents=True, exist_ok=True)
        runner = subprocess.Popen(
            [sys.executable, "-m", "bot", "runner", "--worker-id", name, *args],
            env={**self.env, **(settings or {})},
            cwd=cwd,
            stdout=output,
            stderr=output,
        )
        self.runners.append(runner)
        return runner

    def log_text(self, name: str) -> str:
        return (self.log_dir / f"{name}.log").read_text()

    def close(self) -> None:
        for process in [*self.runners, self.server]:
            if process.poll() is None:
                process.terminate()
        for process in [*self.runners, self.server]:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        self.standin.stop()
        for handle in self.logs:
            handle.close()

    def __enter__(self) -> LocalProcesses:
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.close()
