"""A local Slack: the Web API methods Atelier calls, and signed delivery of what people do.

It keeps a workspace in memory (channels, threads, files, ephemerals, modals), answers with
Slack's response shapes and error codes, can be told to fail (429 with Retry-After, 500s,
slow answers), and sends the app correctly signed slash commands, events and interactions.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # websockets is a dev dependency: the demo and shell run without it
    from bot.workbench.socket_mode import SocketModeEndpoint

MAX_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_CHECKBOX_OPTIONS = 10
MAX_MODAL_TITLE = 24


def sign(secret: str, timestamp: str, body: str) -> str:
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class Failure:
    status: int
    retry_after: int | None = None
    delay: float = 0.0
    times: int = 1
    late: bool = False
    error: str | None = None  # an ok:false answer with this code (channel_not_found, …)


@dataclass
class Delivery:
    """What the app answered to something delivered to it."""

    status: int
    body: str

    def json(self) -> dict[str, Any]:
        return json.loads(self.body) if self.body.strip().startswith("{") else {}


@dataclass
class Workspace:
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    ephemerals: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    views: dict[str, dict[str, Any]] = field(default_factory=dict)
    homes: dict[str, dict[str, Any]] = field(default_factory=dict)  # user → published Home
    removed: set[str] = field(default_factory=set)  # channels the bot was removed from
    triggers: dict[str, float] = field(default_factory=dict)
    ui_state: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


class SlackError(Exception):
    def __init__(self, code: str, status: int = 200, **extra: Any) -> None:
        super().__init__(code)
        self.code, self.status, self.extra = code, status, extra


class SlackStandIn:
    """Start it, point the app's SLACK_API_URL at `api_url`, and tell it where the app listens."""

    def __init__(
        self,
        *,
        token: str = "xoxb-standin-token",
        app_token: str = "xapp-standin-token",
        signing_secret: str = "standin-signing-secret",
        team_id: str = "T0ATELIER",
        bot_user_id: str = "UATELIERBOT",
        users: dict[str, str] | None = None,
    ) -> None:
        self.token = token
        self.app_token = app_token
        self.signing_secret = signing_secret
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.bot_id = "B0ATELIER"
        self.users = users or {}
        self.admins: set[str] = set()  # workspace admins, as users.info reports them
        self.app_url: str | None = None
        self.ws = Workspace()
        self.failures: dict[str, list[Failure]] = {}
        self._lock = threading.RLock()
        self._last_ts = 0.0
        self._ids = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self.socket_mode: SocketModeEndpoint | None = None  # deliver over it instead of HTTP

    # ---- server -------------------------------------------------------------------------

    def start(self, port: int = 0) -> str:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                return

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                standin._serve_get(self)

            def do_POST(self) -> None:  # noqa: N802
                standin._serve_post(self)

        server = self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        server.daemon_threads = True
        threading.Thread(
            target=lambda: server.serve_forever(poll_interval=0.05),  # quick to stop
            daemon=True,
            name="slack-standin",
        ).start()
        return self.api_url

    def start_socket_mode(self) -> None:
        """Deliver what people do over Socket Mode (`apps.connections.open`) instead of HTTP."""
        from bot.workbench.socket_mode import SocketModeEndpoint

        self.socket_mode = SocketModeEndpoint()

    def stop(self) -> None:
        if self.socket_mode is not None:
            self.socket_mode.stop()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() the stand-in first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def api_url(self) -> str:
        return self.base_url + "/api/"

    def fail(
        self,
        method: str,
        status: int,
        *,
        retry_after: int | None = None,
        delay: float = 0.0,
        times: int = 1,
        late: bool = False,
        error: str | None = None,
    ) -> None:
        """Make the next `times` calls of `method` answer `status` (429 sends Retry-After).

        With status 200 and a delay the call is slow but does its work, as when Slack posts a
        message whose answer the client has stopped waiting for. `late` does the work at once
        and delays only the answer: people see the message before the caller learns its ts.
        `error` answers 200 with `{"ok": false, "error": error}` and does nothing.
        """
        with self._lock:
            self.failures.setdefault(method, []).append(
                Failure(status, retry_after, delay, times, late, error)
            )

    # ---- HTTP plumbing ------------------------------------------------------------------

    def _reply(
        self,
        handler: BaseHTTPRequestHandler,
        status: int,
        body: bytes,
        content_type: str = "application/json; charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> None:
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", content_type)
            handler.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            return  # the client timed out and hung up; the work is done all the same

    def _serve_get(self, handler: BaseHTTPRequestHandler) -> None:
        path = urllib.parse.urlparse(handler.path).path
        if path.startswith("/api/"):
            self._serve_api(handler, path.removeprefix("/api/"), self._params(handler, b""))
            return
        if path.startswith("/files/"):
            if handler.headers.get("Authorization") != f"Bearer {self.token}":
                self._reply(handler, 302, b"", "text/html", {"Location": "/login"})
                return
            file = self.ws.files.get(path.split("/")[2])
            if file is None or not file["complete"]:
                self._reply(handler, 404, b"not found", "text/plain")
                return
            if file.get("redirect"):  # a file host that sends the download elsewhere
                self._reply(handler, 302, b"", "text/html", {"Location": file["redirect"]})
                return
            self._reply(handler, 200, file["data"], file["mimetype"])
            return
        self._reply(handler, 404, b"not found", "text/plain")

    def _serve_post(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        path = urllib.parse.urlparse(handler.path).path
        if path.startswith("/upload/"):
            self._receive_upload(handler, path.split("/")[2], raw)
            return
        if path.startswith("/respond/"):
            self._receive_response_url(handler, path.split("/")[2], raw)
            return
        if not path.startswith("/api/"):
            self._reply(handler, 404, b"not found", "text/plain")
            return
        self._serve_api(handler, path.removeprefix("/api/"), self._params(handler, raw))

    def _serve_api(
        self, handler: BaseHTTPRequestHandler, method: str, params: dict[str, Any]
    ) -> None:
        failure = self._take_failure(method, params)
        if failure is not None and self._fail_early(handler, failure):
            return
        try:
            self._authorize(handler, params, method)
            api = getattr(self, "api_" + method.replace(".", "_"), None)
            if api is None:
                raise SlackError("unknown_method", 404)
            with self._lock:
                result = api(params)
            body = json.dumps({"ok": True, **result}).encode()
            if failure is not None and failure.late:
                time.sleep(failure.delay)
            self._reply(handler, 200, body)
        except SlackError as error:
            payload = {"ok": False, "error": error.code, **error.extra}
            self._reply(handler, error.status, json.dumps(payload).encode())

    def _take_failure(self, method: str, params: dict[str, Any]) -> Failure | None:
        """Record the call, and take the next failure planned for its method, if any."""
        with self._lock:
            self.ws.calls.append((method, params))
            pending = self.failures.get(method)
            if not pending:
                return None
            failure = pending[0]
            failure.times -= 1
            if failure.times <= 0:
                pending.pop(0)
            return failure

    def _fail_early(self, handler: BaseHTTPRequestHandler, failure: Failure) -> bool:
        """Answer as Slack does when it is slow, rate-limiting or down; True if it answered."""
        if failure.delay and not failure.late:
            time.sleep(failure.delay)
        if failure.status == 429:
            body = json.dumps({"ok": False, "error": "ratelimited"}).encode()
            self._reply(handler, 429, body, headers={"Retry-After": str(failure.retry_after or 1)})
            return True
        if failure.status >= 500:
            self._reply(handler, failure.status, b"<html>Internal Server Error</html>", "text/html")
            return True
        if failure.error:
            self._reply(handler, 200, json.dumps({"ok": False, "error": failure.error}).encode())
            return True
        return False

    def _authorize(
        self, handler: BaseHTTPRequestHandler, params: dict[str, Any], method: str
    ) -> None:
        """The bot token for the Web API; the app-level token only opens Socket Mode."""
        auth = handler.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ").strip() or params.get("token")
        if not token:
            raise SlackError("not_authed")
        if token not in (self.token, self.app_token):
            raise SlackError("invalid_auth")
        if (token == self.app_token) != (method == "apps.connections.open"):
            raise SlackError("not_allowed_token_type")

    @staticmethod
    def _params(handler: BaseHTTPRequestHandler, raw: bytes) -> dict[str, Any]:
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(handler.path).query))
        content_type = handler.headers.get("Content-Type", "")
        if "json" in content_type and raw:
            return {**query, **json.loads(raw)}
        form = dict(urllib.parse.parse_qsl(raw.decode())) if raw else {}
        for key in ("blocks", "attachments", "view", "files", "metadata"):
            if isinstance(form.get(key), str):
                try:
                    form[key] = json.loads(form[key])
                except json.JSONDecodeError as error:
                    raise SlackError("invalid_arguments") from error
        return {**query, **form}

    # ---- Web API methods ----------------------------------------------------------------

    def _ts(self) -> str:
        """Slack's ts: the post's time in microseconds, unique in the workspace (a retry's
        lookup reads history from a time on, so a made-up clock would hide real posts)."""
        self._last_ts = max(round(time.time(), 6), self._last_ts + 0.000001)
        return f"{self._last_ts:.6f}"

    def _channel(self, params: dict[str, Any], key: str = "channel") -> str:
        channel = params.get(key)
        if not channel or channel in self.ws.removed:
            raise SlackError("channel_not_found")
        return str(channel)

    def _validate_blocks(self, blocks: Any, limit: int = MAX_BLOCKS) -> None:
        """Block Kit's limits: 50 blocks in a message, 100 in a modal or Home."""
        if blocks is None:
            return
        if not isinstance(blocks, list) or len(blocks) > limit:
            raise SlackError("invalid_blocks", errors=[f"must be no more than {limit} items"])
        for index, block in enumerate(blocks):
            kind = block.get("type")
            if kind == "section":
                text = (block.get("text") or {}).get("text", "")
                if len(text) > MAX_SECTION_TEXT:
                    raise SlackError(
                        "invalid_blocks",
                        errors=[
                            f"must be less than {MAX_SECTION_TEXT + 1} characters [json-pointer:/blocks/{index}/text]"
                        ],
                    )
            if kind == "image":
                file = (block.get("slack_file") or {}).get("id")
                if file is not None and not self.ws.files.get(file, {}).get("complete"):
                    raise SlackError(
                        "invalid_blocks",
                        errors=[f"invalid slack file [json-pointer:/blocks/{index}/slack_file]"],
                    )
            for element in block.get("elements", []) + (
                [block["element"]] if "element" in block else []
            ):
                if (
                    element.get("type") == "checkboxes"
                    and len(element.get("options", [])) > MAX_CHECKBOX_OPTIONS
                ):
                    raise SlackError(
                        "invalid_blocks",
                        errors=[
                            f"must be no more than {MAX_CHECKBOX_OPTIONS} items [json-pointer:/blocks/{index}]"
                        ],
                    )

    def api_auth_test(self, _params: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": "https://atelier-standin.slack.com/",
            "team": "Atelier stand-in",
            "user": "atelier",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def api_apps_connections_open(self, _params: dict[str, Any]) -> dict[str, Any]:
        if self.socket_mode is None:
            raise SlackError("socket_mode_not_enabled")  # not a Slack code: start_socket_mode()
        return {"url": self.socket_mode.url}

    def api_chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802 - Slack's name
        channel = self._channel(params)
        if not params.get("text") and not params.get("blocks") and not params.get("attachments"):
            raise SlackError("no_text")
        self._validate_blocks(params.get("blocks"))
        thread = params.get("thread_ts")
        if thread and not self._find(channel, str(thread)):
            raise SlackError("thread_not_found")
        message = self._add_message(
            channel,
            {
                "type": "message",
                "bot_id": self.bot_id,
                "user": self.bot_user_id,
                "app_id": "A0ATELIER",
                "text": params.get("text", ""),
                "blocks": params.get("blocks") or [],
                "thread_ts": thread,
                "metadata": self._metadata(params.get("metadata")),
            },
        )
        return {"channel": channel, "ts": message["ts"], "message": _shown(message, False)}

    @staticmethod
    def _metadata(metadata: Any) -> dict[str, Any] | None:
        if metadata is None:
            return None
        if isinstance(metadata, str):
            try:
                metadata = json.loads(metadata)
            except json.JSONDecodeError as error:
                raise SlackError("invalid_metadata_format") from error
        if not isinstance(metadata, dict) or not isinstance(metadata.get("event_type"), str):
            raise SlackError("invalid_metadata_format")
        if not isinstance(metadata.get("event_payload", {}), dict):
            raise SlackError("invalid_metadata_format")
        return {
            "event_type": metadata["event_type"],
            "event_payload": metadata.get("event_payload", {}),
        }

    def api_conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        """Top-level messages, newest first, paged by cursor."""
        channel = self._channel(params)
        if channel not in self.ws.messages:
            raise SlackError("channel_not_found")
        oldest, latest = float(params.get("oldest") or 0), float(params.get("latest") or 9e12)
        newest_first = [
            m for m in reversed(self.history(channel)) if oldest < float(m["ts"]) <= latest
        ]
        return self._page(newest_first, params)

    def api_conversations_replies(self, params: dict[str, Any]) -> dict[str, Any]:
        """A thread, its parent first, paged by cursor."""
        channel = self._channel(params)
        ts = str(params.get("ts") or "")
        if self._find(channel, ts) is None:
            raise SlackError("thread_not_found")
        return self._page(self.thread(channel, ts), params)

    @staticmethod
    def _page(messages: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
        limit = min(int(params.get("limit") or 100), 999)
        start = int(params.get("cursor") or 0)
        page = messages[start : start + limit]
        more = start + limit < len(messages)
        metadata = str(params.get("include_all_metadata", "")).lower() in ("1", "true")
        return {
            "messages": [_shown(m, metadata) for m in page],
            "has_more": more,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }

    def api_chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(params)
        message = self._find(channel, str(params.get("ts")))
        if message is None:
            raise SlackError("message_not_found")
        if message.get("bot_id") != self.bot_id:
            raise SlackError("cant_update_message")
        self._validate_blocks(params.get("blocks"))
        if "text" in params:
            message["text"] = params["text"]
        if "blocks" in params:
            message["blocks"] = params["blocks"] or []
        message["edited"] = {"user": self.bot_user_id, "ts": self._ts()}
        self.ws.ui_state.pop(f"{channel}:{message['ts']}", None)
        return {
            "channel": channel,
            "ts": message["ts"],
            "text": message["text"],
            "message": message,
        }

    def api_chat_postEphemeral(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        channel = self._channel(params)
        if not params.get("user"):
            raise SlackError("user_not_in_channel")
        if not params.get("text") and not params.get("blocks"):
            raise SlackError("no_text")
        self._validate_blocks(params.get("blocks"))
        ts = self._add_ephemeral(channel, params["user"], params, params.get("thread_ts"))
        return {"message_ts": ts}

    def api_views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        trigger = params.get("trigger_id")
        issued = self.ws.triggers.pop(str(trigger), None)
        if issued is None:
            raise SlackError("invalid_trigger_id")
        if time.monotonic() - issued > 3:
            raise SlackError("expired_trigger_id")
        view = params.get("view") or {}
        title = (view.get("title") or {}).get("text", "")
        if not title or len(title) > MAX_MODAL_TITLE:
            raise SlackError(
                "invalid_arguments",
                response_metadata={
                    "messages": [
                        f"[ERROR] must be less than {MAX_MODAL_TITLE + 1} characters [json-pointer:/view/title/text]"
                    ]
                },
            )
        self._validate_blocks(view.get("blocks"), MAX_VIEW_BLOCKS)
        view_id = f"V{next(self._ids):08d}"
        stored = {**view, "id": view_id, "state": {"values": {}}, "team_id": self.team_id}
        self.ws.views[view_id] = stored
        return {"view": stored}

    def api_views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        """A person's Home tab, replaced whole; its shape and Block Kit's limits are checked."""
        user = str(params.get("user_id") or "")
        if user not in self.users:
            raise SlackError("user_not_found")
        view = params.get("view") or {}
        if isinstance(view, str):
            view = json.loads(view)
        if view.get("type") != "home":
            raise SlackError(
                "invalid_arguments",
                response_metadata={"messages": ["[ERROR] must be home [json-pointer:/view/type]"]},
            )
        self._validate_blocks(view.get("blocks"), MAX_VIEW_BLOCKS)
        blocks = [  # Slack names each block that came without a block_id
            {"block_id": uuid.uuid4().hex[:5], **block} for block in view.get("blocks", [])
        ]
        stored = {
            **view,
            "blocks": blocks,
            "id": f"V{next(self._ids):08d}",
            "team_id": self.team_id,
        }
        self.ws.homes[user] = stored
        return {"view": stored}

    def api_chat_getPermalink(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        channel = self._channel(params)  # channel_not_found where the bot was removed
        ts = str(params.get("message_ts") or "")
        if self._find(channel, ts) is None:
            raise SlackError("message_not_found")
        return {
            "channel": channel,
            "permalink": f"https://atelier-standin.slack.com/archives/{channel}/p{ts.replace('.', '')}",
        }

    def api_files_getUploadURLExternal(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        filename, length = params.get("filename"), params.get("length")
        if not filename or length is None:
            raise SlackError("invalid_arguments")
        file_id = f"F{next(self._ids):08d}"
        self.ws.files[file_id] = {
            "id": file_id,
            "name": filename,
            "title": filename,
            "length": int(length),
            "data": b"",
            "complete": False,
            "uploaded": False,
            "mimetype": _mimetype(str(filename)),
        }
        return {"upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}

    def _receive_upload(self, handler: BaseHTTPRequestHandler, file_id: str, raw: bytes) -> None:
        with self._lock:
            file = self.ws.files.get(file_id)
            if file is None:
                self._reply(handler, 404, b"file not found", "text/plain")
                return
            file["data"], file["uploaded"] = raw, True
        self._reply(handler, 200, f"OK - {len(raw)}".encode(), "text/plain")

    def api_files_completeUploadExternal(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        items = params.get("files")
        if isinstance(items, str):
            items = json.loads(items)
        if not items:
            raise SlackError("invalid_arguments")
        done = []
        for item in items:
            file = self.ws.files.get(item.get("id"))
            if file is None:
                raise SlackError("file_not_found")
            if not file["uploaded"]:
                raise SlackError("file_upload_size_mismatch" if file["data"] else "file_not_found")
            if len(file["data"]) != file["length"]:
                raise SlackError("file_upload_size_mismatch")
            file["complete"] = True
            file["title"] = item.get("title") or file["name"]
            done.append(self._file_json(file))
        channel = params.get("channel_id")
        if channel:
            self._add_message(
                str(channel),
                {
                    "type": "message",
                    "subtype": None,
                    "bot_id": self.bot_id,
                    "user": self.bot_user_id,
                    "text": params.get("initial_comment", ""),
                    "files": done,
                    "thread_ts": params.get("thread_ts"),
                    "upload": True,
                },
            )
            for file in done:
                self.ws.files[file["id"]]["channels"] = [channel]
        return {"files": done}

    def api_users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user = str(params.get("user"))
        if user not in self.users and user not in self.admins:
            raise SlackError("user_not_found")
        name = self.users.get(user, user.lower())
        return {
            "user": {
                "id": user,
                "team_id": self.team_id,
                "name": name,
                "real_name": name,
                "is_admin": user in self.admins,
                "is_owner": False,
                "is_bot": False,
            }
        }

    def api_files_info(self, params: dict[str, Any]) -> dict[str, Any]:
        file = self.ws.files.get(str(params.get("file")))
        if file is None or not file["complete"]:
            raise SlackError("file_not_found")
        return {"file": self._file_json(file)}

    def _file_json(self, file: dict[str, Any]) -> dict[str, Any]:
        url = (
            file.get("url")
            or f"{self.base_url}/files/{file['id']}/{urllib.parse.quote(file['name'])}"
        )
        return {
            "id": file["id"],
            "name": file["name"],
            "title": file["title"],
            "mimetype": file["mimetype"],
            "filetype": file["name"].rsplit(".", 1)[-1],
            "size": len(file["data"]),
            "url_private": url,
            "url_private_download": url,
            "permalink": url,
            "user": file.get("user", self.bot_user_id),
        }

    def _receive_response_url(self, handler: BaseHTTPRequestHandler, key: str, raw: bytes) -> None:
        channel, user, thread = urllib.parse.unquote(key).split("|")
        payload = json.loads(raw or b"{}")
        with self._lock:
            if payload.get("response_type") == "in_channel":
                self._add_message(
                    channel,
                    {
                        "type": "message",
                        "bot_id": self.bot_id,
                        "user": self.bot_user_id,
                        "text": payload.get("text", ""),
                        "blocks": payload.get("blocks") or [],
                        "thread_ts": thread or None,
                    },
                )
            else:
                self._add_ephemeral(channel, user, payload, thread or None)
        self._reply(handler, 200, b"ok", "text/plain")

    # ---- workspace state ----------------------------------------------------------------

    def _add_message(self, channel: str, message: dict[str, Any]) -> dict[str, Any]:
        message = {k: v for k, v in message.items() if v is not None}
        message["ts"] = self._ts()
        message["channel"] = channel
        self.ws.messages.setdefault(channel, []).append(message)
        return message

    def _add_ephemeral(
        self, channel: str, user: str, content: dict[str, Any], thread: str | None
    ) -> str:
        """A message only `user` sees; `content` carries its text and blocks."""
        ts = self._ts()
        self.ws.ephemerals.append(
            {
                "ephemeral": True,
                "channel": channel,
                "user": user,
                "text": content.get("text", ""),
                "blocks": content.get("blocks") or [],
                "thread_ts": thread,
                "ts": ts,
            }
        )
        return ts

    def _find(self, channel: str, ts: str) -> dict[str, Any] | None:
        return next((m for m in self.ws.messages.get(channel, []) if m["ts"] == ts), None)

    def history(self, channel: str) -> list[dict[str, Any]]:
        with self._lock:
            return [
                m
                for m in self.ws.messages.get(channel, [])
                if not m.get("thread_ts") or m["thread_ts"] == m["ts"]
            ]

    def thread(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        with self._lock:
            return [
                m
                for m in self.ws.messages.get(channel, [])
                if m["ts"] == thread_ts or m.get("thread_ts") == thread_ts
            ]

    def ephemerals_for(self, user: str) -> list[dict[str, Any]]:
        with self._lock:
            return [e for e in self.ws.ephemerals if e["user"] == user]

    def ephemerals_for_channel(self, channel: str) -> list[dict[str, Any]]:
        with self._lock:
            return [e for e in self.ws.ephemerals if e["channel"] == channel]

    def calls_of(self, method: str) -> list[dict[str, Any]]:
        with self._lock:
            return [params for name, params in self.ws.calls if name == method]

    def file_bytes(self, file_id: str) -> bytes:
        return bytes(self.ws.files[file_id]["data"])

    # ---- delivering what people do ------------------------------------------------------

    def _deliver(
        self,
        body: str,
        content_type: str,
        *,
        secret: str | None = None,
        timestamp: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> Delivery:
        if self.socket_mode is not None:
            return self._envelope(body, content_type)
        if self.app_url is None:
            raise RuntimeError("set app_url to where the app listens (…/slack/events)")
        stamp = str(timestamp if timestamp is not None else int(time.time()))
        request = urllib.request.Request(
            self.app_url,
            data=body.encode(),
            method="POST",
            headers={
                "Content-Type": content_type,
                "X-Slack-Request-Timestamp": stamp,
                "X-Slack-Signature": sign(secret or self.signing_secret, stamp, body),
                **(headers or {}),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return Delivery(response.status, response.read().decode())
        except urllib.error.HTTPError as error:
            return Delivery(error.code, error.read().decode())

    def _envelope(self, body: str, content_type: str) -> Delivery:
        """The same request as a Socket Mode envelope; the ack's payload is the answer."""
        assert self.socket_mode is not None
        if "json" in content_type:
            kind, payload = "events_api", json.loads(body)
        else:
            form = dict(urllib.parse.parse_qsl(body))
            kind, payload = (
                ("interactive", json.loads(form["payload"]))
                if "payload" in form
                else ("slash_commands", form)
            )
        ack = self.socket_mode.deliver(kind, payload, timeout=30)
        if ack is None:
            return Delivery(408, "")  # what the person sees: the app did not answer in time
        return Delivery(200, json.dumps(ack.get("payload") or {}))

    def _response_url(self, channel: str, user: str, thread: str) -> str:
        return f"{self.base_url}/respond/{urllib.parse.quote(f'{channel}|{user}|{thread}')}"

    def _trigger(self) -> str:
        trigger = f"{next(self._ids)}.{int(time.time())}.{hashlib.sha1(str(time.time()).encode()).hexdigest()[:16]}"
        self.ws.triggers[trigger] = time.monotonic()
        return trigger

    def command(self, user: str, channel: str, text: str, **signing: Any) -> Delivery:
        """`/atelier <text>` typed by `user` in `channel`; the ack body is shown to them."""
        with self._lock:
            form = {
                "token": "legacy-verification-token",
                "team_id": self.team_id,
                "team_domain": "atelier",
                "channel_id": channel,
                "channel_name": channel.lower(),
                "user_id": user,
                "user_name": self.users.get(user, user.lower()),
                "command": "/atelier",
                "text": text,
                "api_app_id": "A0ATELIER",
                "is_enterprise_install": "false",
                "response_url": self._response_url(channel, user, ""),
                "trigger_id": self._trigger(),
            }
        delivery = self._deliver(
            urllib.parse.urlencode(form), "application/x-www-form-urlencoded", **signing
        )
        self._record_ack(delivery, channel, user, None)
        return delivery

    def _record_ack(self, delivery: Delivery, channel: str, user: str, thread: str | None) -> None:
        data = delivery.json()
        if delivery.status == 200 and (data.get("text") or data.get("blocks")):
            with self._lock:
                self._add_ephemeral(channel, user, data, thread)

    def _event(
        self, event: dict[str, Any], event_id: str | None = None, retry: int | None = None
    ) -> Delivery:
        body = {
            "token": "legacy-verification-token",
            "team_id": self.team_id,
            "api_app_id": "A0ATELIER",
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(self._ids):010d}",
            "event_time": int(time.time()),
            "authorizations": [
                {"team_id": self.team_id, "user_id": self.bot_user_id, "is_bot": True}
            ],
        }
        headers = (
            {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
            if retry
            else None
        )
        return self._deliver(json.dumps(body), "application/json", headers=headers)

    def say(
        self,
        user: str,
        channel: str,
        text: str,
        *,
        thread_ts: str | None = None,
        files: list[dict[str, Any]] | None = None,
        event_id: str | None = None,
    ) -> tuple[dict[str, Any], Delivery]:
        """A person posts a message (in a thread when `thread_ts`); the app gets the event."""
        with self._lock:
            message = self._add_message(
                channel,
                {
                    "type": "message",
                    "user": user,
                    "text": text,
                    "thread_ts": thread_ts,
                    "files": files,
                },
            )
        event = {
            "type": "message",
            "channel": channel,
            "user": user,
            "text": text,
            "ts": message["ts"],
            "event_ts": message["ts"],
            "channel_type": "channel",
        }
        if thread_ts:
            # As Slack does: a reply names its thread and who wrote the thread's first message.
            with self._lock:
                parent = self._find(channel, thread_ts) or {}
            event["thread_ts"] = thread_ts
            if parent.get("user"):
                event["parent_user_id"] = parent["user"]
        if files:
            event["subtype"], event["files"] = "file_share", files
        return message, self._event(event, event_id)

    def upload(
        self,
        user: str,
        channel: str,
        filename: str,
        data: bytes,
        *,
        thread_ts: str | None = None,
        text: str = "",
        url: str | None = None,
        redirect: str | None = None,
    ) -> tuple[dict[str, Any], Delivery]:
        """A person drags a file into the thread (`url`: a forged download link in the event;
        `redirect`: the file host answers the download with a redirect there)."""
        with self._lock:
            file_id = f"F{next(self._ids):08d}"
            self.ws.files[file_id] = {
                "id": file_id,
                "name": filename,
                "title": filename,
                "length": len(data),
                "data": data,
                "complete": True,
                "uploaded": True,
                "mimetype": _mimetype(filename),
                "user": user,
                "url": url,
                "redirect": redirect,
            }
            file = self._file_json(self.ws.files[file_id])
        return self.say(user, channel, text, thread_ts=thread_ts, files=[file])

    def redeliver(self, event: dict[str, Any], event_id: str, retry: int = 1) -> Delivery:
        """Slack's retry of an event it thinks was not received."""
        return self._event(event, event_id, retry)

    def react(self, user: str, channel: str, ts: str, name: str) -> Delivery:
        with self._lock:
            message = self._find(channel, ts)
            if message is None:
                raise KeyError(f"no message {ts} in {channel}")
            message.setdefault("reactions", []).append({"name": name, "users": [user]})
        event = {
            "type": "reaction_added",
            "user": user,
            "reaction": name,
            "item": {"type": "message", "channel": channel, "ts": ts},
            "item_user": message.get("user"),
            "event_ts": self._ts(),
        }
        return self._event(event)

    def mention(self, user: str, channel: str, text: str) -> Delivery:
        with self._lock:
            message = self._add_message(
                channel, {"type": "message", "user": user, "text": f"<@{self.bot_user_id}> {text}"}
            )
        return self._event(
            {
                "type": "app_mention",
                "user": user,
                "text": message["text"],
                "channel": channel,
                "ts": message["ts"],
                "event_ts": message["ts"],
            }
        )

    # ---- interactive elements -----------------------------------------------------------

    def _shown(self, channel: str, ts: str) -> dict[str, Any] | None:
        """A message, or an ephemeral one (whose buttons can be clicked as well)."""
        return self._find(channel, ts) or next(
            (e for e in self.ws.ephemerals if e["channel"] == channel and e["ts"] == ts), None
        )

    def element(
        self, channel: str, ts: str, action_id: str, block_id: str | None = None
    ) -> tuple[str, dict[str, Any]]:
        """The (block_id, element) with this action_id in a message (action ids are unique
        within a block, as Slack requires, so `block_id` picks one of several blocks')."""
        message = self._shown(channel, ts)
        if message is None:
            raise KeyError(f"no message {ts} in {channel}")
        for block in message.get("blocks", []):
            if block_id is not None and block.get("block_id") != block_id:
                continue
            for element in (
                block.get("elements", [])
                + ([block["accessory"]] if "accessory" in block else [])
                + ([block["element"]] if "element" in block else [])
            ):
                if element.get("action_id") == action_id:
                    return block.get("block_id", ""), element
        raise KeyError(f"no element {action_id} in message {ts}")

    def _dispatches(self, channel: str, ts: str, block_id: str) -> bool:
        """An input block with `dispatch_action` sends its value when the person presses Enter."""
        message = self._find(channel, ts) or {}
        blocks: list[dict[str, Any]] = [
            b for b in message.get("blocks", []) if b.get("block_id") == block_id
        ]
        return bool(
            blocks and blocks[0].get("type") == "input" and blocks[0].get("dispatch_action")
        )

    def set_state(
        self, channel: str, ts: str, action_id: str, value: Any, *, dispatch_user: str | None = None
    ) -> Delivery | None:
        """Tick boxes, pick an option or type into an input of a message, as a person would."""
        block_id, element = self.element(channel, ts, action_id)
        state = _state_for(element, value)
        with self._lock:
            self.ws.ui_state.setdefault(f"{channel}:{ts}", {}).setdefault(block_id, {})[
                action_id
            ] = state
        if dispatch_user and (
            element["type"] in ("checkboxes", "static_select", "radio_buttons")
            or self._dispatches(channel, ts, block_id)
        ):
            return self._block_action(
                dispatch_user,
                channel,
                ts,
                block_id,
                {**state, "action_id": action_id, "block_id": block_id},
            )
        return None

    def _interaction(self, kind: str, user: str, **fields: Any) -> dict[str, Any]:
        """What every interaction payload carries: its type, who, the app, the team, a trigger."""
        return {
            "type": kind,
            "user": {
                "id": user,
                "username": self.users.get(user, user.lower()),
                "team_id": self.team_id,
            },
            "api_app_id": "A0ATELIER",
            "token": "legacy-verification-token",
            "team": {"id": self.team_id, "domain": "atelier"},
            "trigger_id": self._trigger(),
            **fields,
        }

    def _interact(self, payload: dict[str, Any]) -> Delivery:
        """An interaction, delivered as Slack does: form-encoded, its JSON in `payload`."""
        return self._deliver(
            urllib.parse.urlencode({"payload": json.dumps(payload)}),
            "application/x-www-form-urlencoded",
        )

    def press(
        self,
        user: str,
        channel: str,
        ts: str,
        action_id: str,
        value: str | None = None,
        *,
        block: str | None = None,
    ) -> Delivery:
        """Click a button (or choose from an overflow/select) in a message."""
        block_id, element = self.element(channel, ts, action_id, block)
        action = {
            "type": element["type"],
            "action_id": action_id,
            "block_id": block_id,
            "action_ts": str(time.time()),
        }
        if element["type"] == "button":
            action["value"] = element.get("value", "")
            action["text"] = element.get("text")
        else:
            action.update(_state_for(element, value))
        return self._block_action(user, channel, ts, block_id, action)

    def _block_action(
        self, user: str, channel: str, ts: str, block_id: str, action: dict[str, Any]
    ) -> Delivery:
        with self._lock:
            message = self._shown(channel, ts)
            assert message is not None
            ephemeral = bool(message.get("ephemeral"))
            payload = self._interaction(
                "block_actions",
                user,
                container={
                    "type": "message",
                    "message_ts": ts,
                    "channel_id": channel,
                    "is_ephemeral": ephemeral,
                    "thread_ts": message.get("thread_ts"),
                },
                channel={"id": channel, "name": channel.lower()},
                message=message,
                state={
                    "values": json.loads(json.dumps(self.ws.ui_state.get(f"{channel}:{ts}", {})))
                },
                response_url=self._response_url(channel, user, message.get("thread_ts") or ts),
                actions=[action],
            )
            if ephemeral:  # Slack sends no copy of an ephemeral message with its clicks
                del payload["message"]
        return self._interact(payload)

    def open_home(self, user: str) -> Delivery:
        """`user` opens Atelier's Home tab: Slack sends app_home_opened (with the view, once one
        was published)."""
        event: dict[str, Any] = {
            "type": "app_home_opened",
            "user": user,
            "channel": f"D{user[1:]}",
            "tab": "home",
            "event_ts": self._ts(),
        }
        if user in self.ws.homes:
            event["view"] = self.ws.homes[user]
        return self._event(event)

    def home(self, user: str) -> dict[str, Any] | None:
        return self.ws.homes.get(user)

    def press_home(self, user: str, action_id: str, value: str | None = None) -> Delivery:
        """Click a button on `user`'s Home tab (a block action from a view, not a message)."""
        with self._lock:
            view = self.ws.homes[user]
            found = [
                (block["block_id"], element)
                for block in view.get("blocks", [])
                for element in block.get("elements", [])
                + ([block["accessory"]] if "accessory" in block else [])
                if element.get("action_id") == action_id
                and (value is None or element.get("value") == value)
            ]
            if not found:
                raise KeyError(f"no {action_id} button on {user}'s Home")
            block_id, element = found[0]
            payload = self._interaction(
                "block_actions",
                user,
                container={"type": "view", "view_id": view["id"]},
                view=view,
                actions=[
                    {
                        "type": "button",
                        "action_id": action_id,
                        "block_id": block_id,
                        "value": element.get("value", ""),
                        "text": element.get("text"),
                        "action_ts": str(time.time()),
                    }
                ],
            )
        return self._interact(payload)

    def shortcut(self, user: str, callback_id: str) -> Delivery:
        """A global shortcut, from the composer or search; no channel comes with it."""
        with self._lock:
            payload = self._interaction(
                "shortcut",
                user,
                callback_id=callback_id,
                action_ts=str(time.time()),
                is_enterprise_install=False,
            )
        return self._interact(payload)

    def message_shortcut(self, user: str, channel: str, ts: str, callback_id: str) -> Delivery:
        """A message shortcut chosen from a message's ⋮ menu; Slack sends the message with it."""
        with self._lock:
            message = self._find(channel, ts)
            if message is None:
                raise KeyError(f"no message {ts} in {channel}")
            payload = self._interaction(
                "message_action",
                user,
                callback_id=callback_id,
                message_ts=ts,
                response_url=self._response_url(channel, user, message.get("thread_ts") or ts),
                channel={"id": channel, "name": channel.lower()},
                message=_shown(message, metadata=False),
                action_ts=str(time.time()),
                is_enterprise_install=False,
            )
        return self._interact(payload)

    def remove_bot(self, channel: str) -> None:
        """Someone removed Atelier from `channel`: Slack answers channel_not_found there."""
        with self._lock:
            self.ws.removed.add(channel)

    def submit(self, user: str, view_id: str, values: dict[str, Any]) -> Delivery:
        """Fill a modal's inputs by action_id and press its submit button."""
        with self._lock:
            view = self.ws.views[view_id]
            state: dict[str, dict[str, Any]] = {}
            for block in view.get("blocks", []):
                element = block.get("element")
                if element and element.get("action_id") in values:
                    state.setdefault(block["block_id"], {})[element["action_id"]] = _state_for(
                        element, values[element["action_id"]]
                    )
            payload = self._interaction(
                "view_submission", user, view={**view, "state": {"values": state}}
            )
        delivery = self._interact(payload)
        if delivery.status == 200 and not delivery.json().get("response_action"):
            with self._lock:
                self.ws.views.pop(view_id, None)
        return delivery

    def latest_view(self) -> dict[str, Any]:
        with self._lock:
            return list(self.ws.views.values())[-1]


def _shown(message: dict[str, Any], metadata: bool) -> dict[str, Any]:
    """A message as the Web API returns it: metadata only when asked for."""
    shown = {k: v for k, v in message.items() if k != "channel"}
    if not metadata:
        shown.pop("metadata", None)
    return shown


def _state_for(element: dict[str, Any], value: Any) -> dict[str, Any]:
    """The state Slack reports for an element given what a person chose or typed."""
    kind = element["type"]
    if kind == "checkboxes":
        ticked = [o for o in element.get("options", []) if o["value"] in (value or [])]
        return {"type": kind, "selected_options": ticked}
    if kind in ("static_select", "radio_buttons", "overflow"):
        options: list[dict[str, Any]] = element.get("options") or [
            o for g in element.get("option_groups", []) for o in g["options"]
        ]
        picked = [o for o in options if o["value"] == value]
        if not picked:
            raise KeyError(f"no option {value!r} in {element.get('action_id')}")
        return {"type": kind, "selected_option": picked[0]}
    if kind == "plain_text_input":
        return {"type": kind, "value": value}
    if kind == "users_select":
        return {"type": kind, "selected_user": value}
    if kind == "conversations_select":
        return {"type": kind, "selected_conversation": value}
    raise KeyError(f"cannot set a {kind}")


def _mimetype(filename: str) -> str:
    ext = filename.rsplit(".", 1)[-1].lower()
    return {
        "png": "image/png",
        "jpg": "image/jpeg",
        "jpeg": "image/jpeg",
        "gif": "image/gif",
        "webp": "image/webp",
        "txt": "text/plain",
        "zip": "application/zip",
    }.get(ext, "application/octet-stream")
