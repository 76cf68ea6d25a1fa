"""Nothing acked is lost: record each Slack request before the 200, apply it from the inbox.

Slack takes a 200 as "done" and never sends a slash command again, so the ack must come after
the request is safe. The front app's middleware commits an inbox row (keyed by the delivery,
so Slack's retry is recorded once) and acks; `InboxWorkers`, in every serve process, claim
rows and run them through a second Bolt app that runs listeners to the end before returning.
A row whose applier died is claimed again after a short lease. It cannot apply twice: every
decision's audit entry carries the request key, and a row whose key is in the audit log is
marked applied without running again.

View submissions are the exception: Slack shows their validation errors only from the ack, so
they are decided before the ack, and the ack is sent only after the decision committed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltResponse
from slack_bolt.request import BoltRequest
from sqlalchemy.orm import Session, sessionmaker

from storage import inbox

log = logging.getLogger("atelier.inbox")
# Answered inside the ack, so they are decided before it and never queued.
DECIDED_IN_ACK = {"view_submission", "block_suggestion"}
# How long an idle worker waits before looking for rows other processes left behind.
POLL_SECONDS = 0.5
PRUNE_EVERY_SECONDS = 600.0
# How a set-aside request is named to the person who sent it.
WHAT = {
    "slash_command": "your `/atelier` command",
    "event_callback": "your message or reaction",
    "block_actions": "your click",
}


def request_key(body: dict[str, Any]) -> str:
    """One key per Slack request: its event id or trigger id, else a hash of the signed body."""
    for name in ("event_id", "trigger_id"):
        if body.get(name):
            return f"{name[0]}:{body[name]}"[:64]
    return "h:" + hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:40]


def sender(body: dict[str, Any]) -> tuple[str, str]:
    """(channel, user) of a slash command, an event or an interaction; "" where it has none."""
    if "command" in body:
        return str(body.get("channel_id") or ""), str(body.get("user_id") or "")
    event = body.get("event") or {}
    if event:
        return str(event.get("channel") or event.get("item", {}).get("channel") or ""), str(
            event.get("user") or ""
        )
    return str((body.get("channel") or {}).get("id") or ""), str(
        (body.get("user") or {}).get("id") or ""
    )


def kind_of(body: dict[str, Any]) -> str:
    if "command" in body:
        return "slash_command"
    return str(body.get("type") or "unknown")[:32]


class InboxWorkers:
    """The front app's recording middleware, and the threads that apply what it recorded."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        replay: App,
        applied: Callable[[str], bool],
        *,
        keeps: Callable[[dict[str, Any]], bool] = lambda _body: True,
        tell: Callable[[str, str, str], None] | None = None,
        threads: int = 4,
    ) -> None:
        """`keeps`: whether Atelier acts on a request (the rest are acked and not stored);
        `tell(channel, user, text)`: a private word to whoever sent a request set aside."""
        self.sessions = sessions
        self.replay = replay
        self.applied = applied
        self.keeps = keeps
        self.tell = tell
        self.threads = threads
        self.owner = f"{socket.gethostname()}:{os.getpid()}"
        self.stop = threading.Event()
        self._work = threading.Semaphore(0)
        self._held: set[int] = set()
        self._lock = threading.Lock()

    # ---- taking requests ----------------------------------------------------------------

    def middleware(self, body: dict[str, Any], next: Callable[[], Any]) -> BoltResponse | None:  # noqa: A002 - Bolt's name
        """Record, then ack with an empty 200; the listener runs when a worker applies the row.

        Slack's legacy verification token is dropped from what is kept: nothing needs it once
        the signature was checked, and the database is no place for it."""
        kind = kind_of(body)
        if kind in DECIDED_IN_ACK:
            return next()  # type: ignore[no-any-return]
        if not self.keeps(body):
            return BoltResponse(status=200, body="")  # chat Atelier does not act on: not stored
        kept = {name: value for name, value in body.items() if name != "token"}
        with self.sessions.begin() as s:
            fresh = inbox.record(s, key=request_key(kept), kind=kind, body=kept)
        if fresh:
            self._work.release()
        else:
            log.info("a delivery recorded already; acked again", extra={"kind": kind})
        return BoltResponse(status=200, body="")

    # ---- applying them ------------------------------------------------------------------

    def start(self) -> list[threading.Thread]:
        threads = [
            threading.Thread(target=self.run, name=f"inbox-{n}", daemon=True)
            for n in range(self.threads)
        ]
        threads.append(threading.Thread(target=self._keep_leases, name="inbox-lease", daemon=True))
        for thread in threads:
            thread.start()
        return threads

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                while not self.stop.is_set() and self.apply_one():
                    pass
            except Exception:
                log.exception("inbox loop error; retrying")
            self._work.acquire(timeout=POLL_SECONDS)

    def apply_one(self) -> bool:
        """Claim one request and apply it; False when none is due."""
        with self.sessions.begin() as s:
            aside = [(row.id, row.kind, dict(row.body)) for row in inbox.set_aside(s)]
        for row_id, kind, body in aside:
            self._set_aside(row_id, kind, body)
        with self.sessions.begin() as s:
            taken = inbox.claim(s, self.owner)
            if not taken:
                return bool(aside)
            row_id, key, body = taken[0].id, taken[0].key, dict(taken[0].body)
        with self._lock:
            self._held.add(row_id)
        try:
            if self.applied(key):
                log.info(
                    "its decision had committed; not applying it again", extra={"inbox": row_id}
                )
            else:
                # Socket Mode's form: the body as Slack sent it, its signature checked at the ack.
                self.replay.dispatch(BoltRequest(body=body, mode="socket_mode"))
            with self.sessions.begin() as s:
                inbox.finish(s, row_id)
        finally:
            with self._lock:
                self._held.discard(row_id)
        return True

    def _set_aside(self, row_id: int, kind: str, body: dict[str, Any]) -> None:
        """Logged, and the person is told: a request never just vanishes."""
        channel, user = sender(body)
        log.error(
            "request set aside after repeated failures",
            extra={"inbox": row_id, "kind": kind, "attempts": inbox.MAX_ATTEMPTS},
        )
        if self.tell is not None and channel and user:
            self.tell(
                channel,
                user,
                f":warning: Atelier could not finish {WHAT.get(kind, 'your request')} after "
                f"{inbox.MAX_ATTEMPTS} tries and set it aside, so nothing more will come of it. "
                f"Please try again; if it fails again, tell whoever runs Atelier (reference inbox-{row_id}).",
            )

    def _keep_leases(self) -> None:
        """Renew the leases of what is being applied; now and then drop long-applied rows."""
        pruned = 0.0
        while not self.stop.wait(inbox.LEASE_SECONDS / 3):
            with self._lock:
                held = sorted(self._held)
            try:
                with self.sessions.begin() as s:
                    if held:
                        inbox.renew(s, held, self.owner)
                    if time.monotonic() - pruned > PRUNE_EVERY_SECONDS:
                        dropped = inbox.prune(s)
                        pruned = time.monotonic()
                        log.info("inbox pruned", extra={"rows": dropped})
            except Exception:
                log.warning("inbox lease renewal failed; will retry", exc_info=True)

    def hand_back(self) -> int:
        """At shutdown: what is still being applied goes back for another process at once."""
        with self._lock:
            held = sorted(self._held)
        if held:
            with self.sessions.begin() as s:
                inbox.hand_back(s, held, self.owner)
            log.warning("handed back unfinished requests", extra={"inbox": held})
        return len(held)
