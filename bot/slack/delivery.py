"""The bot's background loop: fold finished jobs in, show progress, and drain the outbox to Slack.

Delivery is here: claiming outbox rows, posting each exactly once, retrying what Slack refused
for now, giving up on what it refused for good. What each kind of message says and shows is
in bot.slack.posts, one renderer per outbox kind.
"""

from __future__ import annotations

import logging
import threading
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from sqlalchemy.orm import Session, sessionmaker

from bot.leases import renewing
from bot.playbook import notices as N
from bot.playbook.service import PlaybookService
from bot.slack import blocks
from bot.slack.home import HomeTab
from bot.slack.index import MessageIndex
from bot.slack.posts import RENDERERS
from bot.slack.threads import NotReady
from storage import outbox
from storage.content_credentials import Credentials
from storage.files import ImageStore, StoreError
from storage.models import OutboxMessage

log = logging.getLogger("atelier.dispatch")
# Errors that retrying cannot fix: say so in the log and stop.
PERMANENT = {
    "channel_not_found",
    "not_in_channel",
    "is_archived",
    "invalid_auth",
    "account_inactive",
    "token_revoked",
    "missing_scope",
    "no_permission",
    "msg_too_long",
    "cant_update_message",
}
# Refusals that mean the thread can't be reached: telling it what failed would fail too.
UNREACHABLE = PERMANENT - {"msg_too_long", "cant_update_message"}
# The outbox result key of a file being shared (see Dispatcher.share_file).
SHARING = "sharing_file"
# Message metadata that marks a post with the outbox message it came from.
OUTBOX_EVENT = "atelier_outbox"


class Dispatcher:
    def __init__(
        self,
        service: PlaybookService,
        index: MessageIndex,
        sessions: sessionmaker[Session],
        store: ImageStore,
        client: WebClient,
        *,
        interval: float = 0.5,
        file_limit: int = 1000 * 1024 * 1024,
        home: HomeTab | None = None,
        credentials: Credentials | None = None,
    ) -> None:
        self.service = service
        self.home = home  # refreshed after each pass, when serve has Slack's Home tab
        self.file_limit = file_limit  # bytes Slack takes in one file
        self.index = index
        self.sessions = sessions
        self.store = store
        self.credentials = credentials  # signs the comparisons it draws
        self.client = client
        self.interval = interval
        self.stop = threading.Event()

    def run(self) -> None:
        self._loop(self.tick)

    def run_bulky(self) -> None:
        """The sender of large uploads (outbox.BULKY): a long one holds up no other message."""
        self._loop(lambda: self.drain(bulky=True))

    def _loop(self, step: Callable[[], int]) -> None:
        while not self.stop.is_set():
            try:
                step()
            except Exception:
                log.exception("dispatch loop error; retrying")
            self.stop.wait(self.interval)

    def tick(self) -> int:
        """One pass; returns how many Slack messages it sent."""
        for job_id in self.service.unapplied_jobs():
            self.service.apply_job_result(job_id)
        self._queue_progress()
        sent = self.drain()
        if self.home is not None:
            self.home.refresh()
        return sent

    def _queue_progress(self) -> None:
        """A progress message per active job, edited when its images or its place change."""
        active = self.service.active_jobs()
        ahead = self.service.forecast() if active else {}
        for job in active:
            state = blocks.progress_shown(job, ahead.get(job.id))
            shown = self.index.progress_message(job.id)
            if shown is None or shown.shown != state:
                with self.sessions.begin() as s:
                    outbox.add(
                        s,
                        channel_id=job.channel_id,
                        project_id=job.project_id,
                        kind="progress",
                        payload={"job_id": job.id},
                        dedupe_key=f"progress:{job.id}:{state}",
                    )

    def drain(self, limit: int = 20, *, bulky: bool = False) -> int:
        """Send what is due; no transaction is held while Slack is being called.

        The claim's lease is short and renewed while this sender works through the messages,
        so after a crash another process takes them over within seconds; a stop hands the
        ones not yet tried straight back.
        """
        with self.sessions.begin() as s:
            claimed = outbox.claim(s, limit=limit, bulky=bulky)
        if not claimed:
            return 0
        sent = 0
        with self._leases({message.id for message in claimed}) as holding:
            for message in claimed:
                if self.stop.is_set():
                    with self.sessions.begin() as s:
                        outbox.hand_back(s, sorted(holding))
                    break
                sent += self._deliver(message)
                holding.discard(message.id)
        return sent

    @contextmanager
    def _leases(self, ids: set[int]) -> Iterator[set[int]]:
        """Renew the outbox lease on `ids` (the caller discards what it finishes) until done."""

        def renew() -> None:
            with self.sessions.begin() as s:
                outbox.renew(s, list(ids))

        with renewing(renew, outbox.LEASE_SECONDS / 3, "outbox-lease"):
            yield ids

    def _deliver(self, message: OutboxMessage) -> int:
        """Send one claimed message and record how it went; 1 if it was sent."""
        result: dict[str, Any] | None = None
        failure: Exception | None = None
        try:
            result = self._send(message)
        except (NotReady, SlackApiError, SlackRequestError, OSError, StoreError) as error:
            failure = error
        with self.sessions.begin() as s:
            row = s.get(OutboxMessage, message.id)
            if row is not None:
                self._record(s, row, result, failure)
        return 1 if failure is None else 0

    def _record(
        self,
        s: Session,
        row: OutboxMessage,
        result: dict[str, Any] | None,
        failure: Exception | None,
    ) -> None:
        if failure is None:
            outbox.mark_sent(row, {**(row.result or {}), **(result or {})})
        elif isinstance(failure, NotReady):
            outbox.defer(row, str(failure), delay=1.0)
        elif isinstance(failure, SlackApiError):
            self._slack_failure(s, row, failure)
        elif row.attempts + 1 >= outbox.MAX_ATTEMPTS:
            self._give_up(s, row, f"{type(failure).__name__}: {failure}")
        elif isinstance(failure, TimeoutError):
            # Slack may still finish the call; wait it out so the retry can find the post.
            outbox.retry_later(
                row, "Slack did not answer in time", delay=float(self.client.timeout)
            )
        else:
            log.warning(
                "send failed; will retry",
                extra={"outbox": row.id, "kind": row.kind, "error": str(failure)},
            )
            outbox.retry_later(row, f"{type(failure).__name__}: {failure}")

    def _slack_failure(self, s: Session, message: OutboxMessage, error: SlackApiError) -> None:
        code = error.response.get("error", "")
        status = error.response.status_code
        if code in PERMANENT or message.attempts + 1 >= outbox.MAX_ATTEMPTS:
            self._give_up(s, message, code or f"HTTP {status}", tell=code not in UNREACHABLE)
            return
        retry_after = error.response.headers.get("Retry-After") if status == 429 else None
        delay = float(retry_after) if retry_after else (2.0 if code == "invalid_blocks" else None)
        outbox.retry_later(message, code or f"HTTP {status}", delay=delay)
        log.warning(
            "slack call failed; will retry",
            extra={"outbox": message.id, "kind": message.kind, "error": code, "status": status},
        )

    def _give_up(
        self, s: Session, message: OutboxMessage, reason: str, *, tell: bool = True
    ) -> None:
        """Stop retrying: the thread's later messages go on, `queue` lists this one, and the
        thread is told what could not be posted (unless the thread itself is out of reach)."""
        outbox.give_up(message, reason)
        log.error(
            "gave up on a message",
            extra={"outbox": message.id, "kind": message.kind, "error": reason},
        )
        about_a_failure = message.payload.get("event") == "undelivered"
        if tell and message.project_id is not None and not about_a_failure:
            outbox.add(
                s,
                channel_id=message.channel_id,
                project_id=message.project_id,
                kind="notice",
                payload=N.Undelivered(kind=message.kind, reason=reason).payload(),
            )

    def _send(self, message: OutboxMessage) -> dict[str, Any]:
        with self.sessions() as s:
            if outbox.waits_behind(s, message):
                raise NotReady("an earlier message to this project is not delivered yet")
        project = self.service.project(message.project_id) if message.project_id else None
        if message.kind not in RENDERERS:
            raise ValueError(f"unknown outbox kind {message.kind!r}")
        return RENDERERS[message.kind](self, message, project)

    def chat_post(self, message: OutboxMessage, *, shared: str | None = None, **post: Any) -> str:
        """Post a new message once.

        Each post carries a key in its Slack message metadata: the outbox message's, or `shared`
        when several outbox messages may make the same post (a job's progress line). A retry, or
        any post with a shared key, first reads the conversation for an earlier post with its key.
        """
        key = shared or f"outbox-{message.id}"
        if message.attempts or shared:
            earlier = self.earlier_post(message, key, post["channel"], post.get("thread_ts"))
            if earlier is not None:
                log.info(
                    "found the earlier post; not sending it again", extra={"outbox": message.id}
                )
                return earlier
        response = self.client.chat_postMessage(
            **post, metadata={"event_type": OUTBOX_EVENT, "event_payload": {"key": key}}
        )
        return str(response["ts"])

    def earlier_post(
        self, message: OutboxMessage, key: str, channel: str, thread_ts: str | None
    ) -> str | None:
        """The ts of a post already made under `key`, read back from its metadata."""
        cursor = None
        while True:
            if thread_ts:
                page = self.client.conversations_replies(
                    channel=channel,
                    ts=thread_ts,
                    cursor=cursor,
                    limit=200,
                    include_all_metadata=True,
                )
            else:  # a channel's history is long: only what came after this message was queued
                page = self.client.conversations_history(
                    channel=channel,
                    oldest=f"{message.created_at.timestamp() - 60:.6f}",
                    cursor=cursor,
                    limit=200,
                    include_all_metadata=True,
                )
            for found in page["messages"]:
                metadata = found.get("metadata") or {}
                if (
                    metadata.get("event_type") == OUTBOX_EVENT
                    and metadata.get("event_payload", {}).get("key") == key
                ):
                    return str(found["ts"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None

    def upload(
        self,
        message: OutboxMessage,
        digest: str,
        filename: str,
        title: str,
        **share: Any,
    ) -> str:
        """Upload once per outbox message (files_upload_v2); a retry reuses the file.

        With `share` (channel, thread_ts, initial_comment) the file is posted in the thread,
        where everyone in the channel can open it; without, it is shown by image blocks only.
        """
        uploaded = dict(message.result or {})
        if digest in uploaded:
            return str(uploaded[digest])
        response = self.client.files_upload_v2(
            content=self.store.get(digest), filename=filename, title=title, **share
        )
        file_id = str(response["file"]["id"])
        self._remember(message, {digest: file_id})
        return file_id

    def share_file(self, message: OutboxMessage, path: Path, *, title: str, **share: str) -> str:
        """Post a file in a thread once (channel, thread_ts, initial_comment in `share`).

        A shared upload is a post, so it is made as messages are: the file id is recorded
        before the upload, and any later try first looks for a message in the thread that
        already carries that file (Slack may have finished a call whose answer was lost, or a
        process may have died mid-upload). Slack's three steps are made here so the bytes
        stream from `path` instead of sitting in memory.
        """
        earlier = (message.result or {}).get(SHARING)
        if earlier and self._shared_in(share["channel"], share["thread_ts"], str(earlier)):
            log.info("found the earlier share; not sharing again", extra={"outbox": message.id})
            return str(earlier)
        size = path.stat().st_size
        target = self.client.files_getUploadURLExternal(filename=path.name, length=size)
        file_id = str(target["file_id"])
        self._remember(message, {SHARING: file_id})
        with path.open("rb") as body:
            request = urllib.request.Request(
                str(target["upload_url"]),
                data=body,
                method="POST",
                headers={"Content-Length": str(size), "Content-Type": "application/octet-stream"},
            )
            with urllib.request.urlopen(request, timeout=self.client.timeout) as answer:
                answer.read()
        self.client.files_completeUploadExternal(
            files=[{"id": file_id, "title": title}],
            channel_id=share["channel"],
            thread_ts=share["thread_ts"],
            initial_comment=share.get("initial_comment"),
        )
        return file_id

    def _shared_in(self, channel: str, thread_ts: str, file_id: str) -> bool:
        cursor = None
        while True:
            page = self.client.conversations_replies(
                channel=channel, ts=thread_ts, cursor=cursor, limit=200
            )
            for found in page["messages"]:
                if any(file.get("id") == file_id for file in found.get("files") or []):
                    return True
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return False

    def _remember(self, message: OutboxMessage, changes: dict[str, Any]) -> None:
        """Record part of a message's result now, in case the process dies before it is sent."""
        message.result = {**(message.result or {}), **changes}
        with self.sessions.begin() as s:
            row = s.get(OutboxMessage, message.id)
            if row is not None:
                row.result = message.result
