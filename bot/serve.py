"""`atelier serve`: the Bolt app over HTTP or Socket Mode, plus the dispatcher and a runner."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import text
from sqlalchemy.engine import Engine

from bot.app import create_app, make_client
from bot.config import Config
from bot.playbook.service import PlaybookService
from bot.runner.worker import Worker
from bot.schedule import Schedules
from bot.slack.context import Atelier
from bot.slack.delivery import Dispatcher
from bot.slack.index import MessageIndex
from storage.db import make_engine, make_sessions, migrate
from storage.files import ImageStore

log = logging.getLogger("atelier.serve")
StartResponse = Callable[[str, list[tuple[str, str]]], Any]


def health_app(
    slack: SlackRequestHandler, engine: Engine
) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    """WSGI: `GET /healthz` answers itself; everything else goes to Bolt (`POST /slack/events`)."""

    def wsgi(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz" and environ.get("REQUEST_METHOD") == "GET":
            try:
                with engine.connect() as connection:
                    connection.execute(text("SELECT 1"))
                status, body = "200 OK", {"ok": True, "database": "ok"}
            except Exception as error:
                status, body = (
                    "503 Service Unavailable",
                    {"ok": False, "database": type(error).__name__},
                )
            data = json.dumps(body).encode()
            start_response(
                status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
            )
            return [data]
        if not environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", "0").isdigit():
            # Bolt would raise on it (a 500); a request we cannot verify is simply unauthorized.
            start_response("401 Unauthorized", [("Content-Length", "0")])
            return [b""]
        return slack(environ, start_response)  # type: ignore[arg-type]

    return wsgi


@dataclass
class Server:
    """Everything `serve` runs, built once so the demo and tests can run it in-process."""

    config: Config
    engine: Engine
    app: App
    atelier: Atelier
    dispatcher: Dispatcher
    worker: Worker | None
    schedules: Schedules

    @classmethod
    def build(
        cls, config: Config, *, runner: bool = True, dispatch_interval: float = 0.5
    ) -> Server:
        engine = make_engine(config.database_url)
        migrate(engine)
        sessions = make_sessions(engine)
        service = PlaybookService(sessions, models=config.models())
        index = MessageIndex(sessions)
        store = ImageStore(config.image_store)
        client = make_client(config)
        atelier = Atelier(service, index, store, client)
        app = create_app(config, atelier)
        dispatcher = Dispatcher(service, index, sessions, store, client, interval=dispatch_interval)
        worker = (
            Worker(sessions, store, _lazy_backend(config), poll_seconds=0.5) if runner else None
        )
        schedules = Schedules(service, store, engine)
        return cls(config, engine, app, atelier, dispatcher, worker, schedules)

    def start_background(self) -> list[threading.Thread]:
        threads = [threading.Thread(target=self.dispatcher.run, name="dispatcher", daemon=True)]
        if self.worker is not None:
            threads.append(threading.Thread(target=self.worker.run, name="runner", daemon=True))
        for thread in threads:
            thread.start()
        self.schedules.start()
        return threads

    def stop_background(self) -> None:
        self.schedules.stop()
        self.dispatcher.stop.set()
        if self.worker is not None:
            self.worker.stop.set()

    def wsgi(self) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
        return health_app(SlackRequestHandler(self.app, path="/slack/events"), self.engine)


def _lazy_backend(config: Config) -> Callable[[str], Any]:
    """torch loads on the first job, not at start-up: the bot acks fast and runs without a GPU."""

    def backend_for(model: str) -> Any:
        from bot.runner.diffusion import registered_backend

        return registered_backend(config.models(), config.device)(model)

    return backend_for


def serve(
    config: Config, *, http: bool, port: int, host: str, runner: bool, threads: int = 8
) -> None:
    server = Server.build(config, runner=runner)
    server.start_background()
    try:
        if http:
            from waitress import serve as waitress_serve

            log.info("serving HTTP", extra={"host": host, "port": port, "runner": runner})
            waitress_serve(server.wsgi(), host=host, port=port, threads=threads, ident="atelier")
        else:
            if not config.slack_app_token:
                raise SystemExit(
                    "Socket Mode needs SLACK_APP_TOKEN (xapp-…, with connections:write). Or run `atelier serve --http`."
                )
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            log.info("serving over Socket Mode", extra={"runner": runner})
            SocketModeHandler(server.app, config.slack_app_token).start()
    finally:
        server.stop_background()
