"""The stand-in's Socket Mode: a WebSocket on 127.0.0.1 that sends envelopes and reads acks.

What Slack does: `apps.connections.open` (with the app-level token) answers a `wss://` URL;
the app connects; Slack sends `hello`, then one envelope per request (`slash_commands`,
`events_api`, `interactive`), and the app acks each by its `envelope_id`, with a payload
where a response is accepted (a view's errors). Here the URL is `ws://`.
"""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import serve

CONNECT_SECONDS = 30.0


class SocketModeEndpoint:
    """One WebSocket server; `deliver` sends an envelope and waits for the app's ack."""

    def __init__(self) -> None:
        self._server = serve(self._connected, "127.0.0.1", 0)
        self._connections: list[Any] = []
        self._acks: dict[str, dict[str, Any]] = {}
        self._changed = threading.Condition()
        self.opened = 0  # connections made so far: a test waits for the app to connect
        threading.Thread(target=self._server.serve_forever, name="socket-mode", daemon=True).start()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self._server.socket.getsockname()[1]}/link"

    def stop(self) -> None:
        self._server.shutdown()

    def _connected(self, connection: Any) -> None:
        connection.send(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": 1,
                    "connection_info": {"app_id": "A0ATELIER"},
                    "debug_info": {"host": "standin", "approximate_connection_time": 3600},
                }
            )
        )
        with self._changed:
            self._connections.append(connection)
            self.opened += 1
            self._changed.notify_all()
        try:
            for message in connection:
                ack = json.loads(message)
                with self._changed:
                    self._acks[ack.get("envelope_id", "")] = ack
                    self._changed.notify_all()
        except ConnectionClosed:
            pass  # the app went away without a close frame (killed, or a client that does so)
        finally:
            with self._changed:
                self._connections.remove(connection)

    def deliver(
        self, kind: str, payload: dict[str, Any], *, timeout: float
    ) -> dict[str, Any] | None:
        """Send one envelope to a connected app; its ack, or None when none came in time."""
        envelope_id = str(uuid.uuid4())
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": kind != "events_api",
        }
        if kind == "events_api":
            envelope.update(retry_attempt=0, retry_reason="")
        with self._changed:
            if not self._changed.wait_for(lambda: self._connections, CONNECT_SECONDS):
                raise ConnectionError("no app is connected over Socket Mode")
            connection = self._connections[-1]
        connection.send(json.dumps(envelope))
        with self._changed:
            self._changed.wait_for(lambda: envelope_id in self._acks, timeout)
            return self._acks.pop(envelope_id, None)
