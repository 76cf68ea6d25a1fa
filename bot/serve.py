"""`atelier serve`: the Bolt app over HTTP or Socket Mode, plus the dispatcher and a runner."""

from __future__ import annotations

import io
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import text
from sqlalchemy.engine import Engine

from bot.app import create_app, create_replay_app, make_client
from bot.config import Config
from bot.lora_files import LoraFolder
from bot.playbook.service import PlaybookService
from bot.runner.worker import Worker
from bot.schedule import Schedules
from bot.shutdown import join_until, on_signals, wait_for
from bot.slack.context import Atelier
from bot.slack.delivery import Dispatcher
from bot.slack.inbox import InboxWorkers
from bot.slack.index import MessageIndex
from handlers.messages import acts_on
from storage.db import make_engine, make_sessions, migrate
from storage.files import ImageStore

log = logging.getLogger("atelier.serve")
# Slack's requests are a few KB (a click carries its whole message, still far below this).
MAX_BODY_BYTES = 1024 * 1024
DIGITS = re.compile("[0-9]+")
StartResponse = Callable[[str, list[tuple[str, str]]], Any]


def _health(engine: Engine, stopping: threading.Event) -> tuple[str, dict[str, Any]]:
    if stopping.is_set():
        return "503 Service Unavailable", {"ok": False, "stopping": True}
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:
        return "503 Service Unavailable", {"ok": False, "database": type(error).__name__}
    return "200 OK", {"ok": True, "database": "ok"}


def health_app(
    slack: SlackRequestHandler, engine: Engine, stopping: threading.Event, secret: str
) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    """WSGI: `GET /healthz` answers itself; everything else goes to Bolt (`POST /slack/events`).

    Once stopping, both answer 503: the load balancer stops sending, and Slack retries events
    (to another process) instead of handing them to one that is going away.
    """

    signed = signed_only(slack, secret)  # type: ignore[arg-type]

    def wsgi(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz" and environ.get("REQUEST_METHOD") == "GET":
            status, body = _health(engine, stopping)
            data = json.dumps(body).encode()
            start_response(
                status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
            )
            return [data]
        if stopping.is_set():
            start_response(
                "503 Service Unavailable", [("Retry-After", "1"), ("Content-Length", "0")]
            )
            return [b""]
        return signed(environ, start_response)

    return wsgi


def signed_only(
    inner: Callable[[dict[str, Any], StartResponse], Iterable[bytes]], secret: str
) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    """WSGI: nothing unsigned is read past its cap, parsed, or handed to Bolt.

    A body over MAX_BODY_BYTES is refused (413) before one byte of it is read; the rest is
    read once, and its timestamp (ASCII digits, within five minutes) and signature are checked
    before any parsing (401). Bolt then gets the same bytes and checks them again.
    """
    verifier = SignatureVerifier(secret)

    def wsgi(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        length = environ.get("CONTENT_LENGTH") or "0"
        if not DIGITS.fullmatch(length):
            return _answer(start_response, "400 Bad Request")
        if int(length) > MAX_BODY_BYTES:
            return _answer(start_response, "413 Request Entity Too Large")
        body = environ["wsgi.input"].read(int(length))
        timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", "")
        signature = environ.get("HTTP_X_SLACK_SIGNATURE", "")
        if not DIGITS.fullmatch(timestamp) or not verifier.is_valid(body, timestamp, signature):
            return _answer(start_response, "401 Unauthorized")
        environ["wsgi.input"] = io.BytesIO(body)
        return inner(environ, start_response)

    return wsgi


def _answer(start_response: StartResponse, status: str) -> list[bytes]:
    start_response(status, [("Content-Length", "0")])
    return [b""]


@dataclass
class Server:
    """Everything `serve` runs, built once so the demo and tests can run it in-process."""

    config: Config
    engine: Engine
    app: App
    inbox: InboxWorkers
    atelier: Atelier
    dispatcher: Dispatcher
    worker: Worker | None
    schedules: Schedules
    stopping: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)

    @classmethod
    def build(
        cls, config: Config, *, runner: bool = True, dispatch_interval: float = 0.5
    ) -> Server:
        engine = make_engine(config.database_url)
        migrate(engine)
        sessions = make_sessions(engine)
        service = PlaybookService(sessions, models=config.models(), families=config.families())
        index = MessageIndex(sessions)
        store = ImageStore(config.image_store)
        client = make_client(config)
        credentials = config.credentials()
        atelier = Atelier(
            service, index, store, client, LoraFolder(config.lora_folder), credentials
        )
        inbox = InboxWorkers(
            sessions,
            create_replay_app(config, atelier),
            service.applied,
            keeps=lambda body: acts_on(atelier, body),
            tell=atelier.whisper,
        )
        app = create_app(config, atelier, inbox)
        dispatcher = Dispatcher(
            service,
            index,
            sessions,
            store,
            client,
            interval=dispatch_interval,
            file_limit=int(config.slack_file_limit_mb * 1024 * 1024),
            home=atelier.home,
            credentials=credentials,
        )
        worker = (
            Worker(
                sessions,
                store,
                _lazy_backend(config),
                poll_seconds=0.5,
                credentials=credentials,
            )
            if runner
            else None
        )
        schedules = Schedules(service, store, engine)
        return cls(config, engine, app, inbox, atelier, dispatcher, worker, schedules)

    def start_background(self) -> list[threading.Thread]:
        threads = [
            threading.Thread(target=self.dispatcher.run, name="dispatcher", daemon=True),
            threading.Thread(target=self.dispatcher.run_bulky, name="uploads", daemon=True),
        ]
        if self.worker is not None:
            threads.append(threading.Thread(target=self.worker.run, name="runner", daemon=True))
        for thread in threads:
            thread.start()
        self.schedules.start()
        self.threads = self.inbox.start() + threads
        return self.threads

    def stop_background(self) -> None:
        self.schedules.stop()
        self.inbox.stop.set()
        self.dispatcher.stop.set()
        if self.worker is not None:
            self.worker.stop.set()

    def shutdown(self, seconds: float) -> None:
        """Stop taking requests, finish what is in flight, and hand back what cannot finish.

        Requests already acked are in the inbox, so none is lost whatever happens here; what
        this adds is that another process can take the unfinished ones at once, and that a
        render in hand goes back without using up one of its attempts.
        """
        deadline = time.monotonic() + seconds
        self.stopping.set()
        self.stop_background()
        still = join_until(self.threads, deadline)
        handed = self.inbox.hand_back()
        if self.worker is not None:
            self.worker.hand_back()
        log.info(
            "stopped",
            extra={"unfinished_threads": [t.name for t in still], "requests_handed_back": handed},
        )

    def wsgi(self) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
        return health_app(
            SlackRequestHandler(self.app, path="/slack/events"),
            self.engine,
            self.stopping,
            self.config.slack_signing_secret or "",
        )


def _lazy_backend(config: Config) -> Callable[[str], Any]:
    """torch loads on the first job, not at start-up: the bot acks fast and runs without a GPU."""

    def backend_for(model: str) -> Any:
        from bot.runner.diffusion import registered_backend

        return registered_backend(
            config.models(), config.device, config.max_loaded_models, config.lora_folder
        )(model)

    return backend_for


def serve(
    config: Config, *, http: bool, port: int, host: str, runner: bool, threads: int = 8
) -> None:
    """Serve until SIGTERM/SIGINT, then stop within ATELIER_SHUTDOWN_SECONDS (see Server.shutdown)."""
    if not http and not config.slack_app_token:
        raise SystemExit(
            "Socket Mode needs SLACK_APP_TOKEN (xapp-…, with connections:write). Or run `atelier serve --http`."
        )
    asked = on_signals()
    server = Server.build(config, runner=runner)
    server.start_background()
    if http:
        from waitress.server import create_server

        listener = create_server(
            server.wsgi(),
            host=host,
            port=port,
            threads=threads,
            ident="atelier",
            max_request_body_size=MAX_BODY_BYTES,  # waitress refuses more before buffering it
        )
        threading.Thread(target=listener.run, name="http", daemon=True).start()
        log.info("serving HTTP", extra={"host": host, "port": port, "runner": runner})
        wait_for(asked)
        server.shutdown(config.shutdown_seconds)  # answering 503 meanwhile
        listener.close()
    else:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        handler = SocketModeHandler(server.app, config.slack_app_token)
        handler.connect()
        log.info("serving over Socket Mode", extra={"runner": runner})
        wait_for(asked)
        handler.close()  # Slack sends what this process did not ack to another connection
        server.shutdown(config.shutdown_seconds)
