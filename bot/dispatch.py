"""The bot's background loop: fold finished jobs in, show progress, and drain the outbox to Slack."""

from __future__ import annotations

import logging
import threading
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from sqlalchemy.orm import Session, sessionmaker

from bot.playbook.service import PlaybookService
from bot.slack import blocks
from storage import outbox
from storage.files import ImageStore, StoreError
from storage.models import Image, OutboxMessage, Project

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
MAX_ATTEMPTS = 12
# Message metadata that marks a post with the outbox message it came from.
OUTBOX_EVENT = "atelier_outbox"


class NotReady(Exception):
    """The message depends on something not there yet (the project's thread); try again shortly."""


class Dispatcher:
    def __init__(
        self,
        service: PlaybookService,
        sessions: sessionmaker[Session],
        store: ImageStore,
        client: WebClient,
        *,
        interval: float = 0.5,
    ) -> None:
        self.service = service
        self.sessions = sessions
        self.store = store
        self.client = client
        self.interval = interval
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.tick()
            except Exception:
                log.exception("dispatch loop error; retrying")
            self.stop.wait(self.interval)

    def tick(self) -> int:
        """One pass; returns how many Slack messages it sent."""
        for job_id in self.service.unapplied_jobs():
            self.service.apply_job_result(job_id)
        self._queue_progress()
        return self.drain()

    def _queue_progress(self) -> None:
        for job in self.service.active_jobs():
            shown = self.service.progress_message(job.id)
            if shown is None or shown.shown != job.progress_done:
                with self.sessions.begin() as s:
                    outbox.add(
                        s,
                        channel_id=job.channel_id,
                        project_id=job.project_id,
                        kind="progress",
                        payload={"job_id": job.id},
                        dedupe_key=f"progress:{job.id}:{job.progress_done}",
                    )

    def drain(self, limit: int = 20) -> int:
        """Send what is due; no transaction is held while Slack is being called."""
        with self.sessions.begin() as s:
            claimed = outbox.claim(s, limit=limit)
        sent = 0
        for message in claimed:
            result: dict[str, Any] | None = None
            failure: Exception | None = None
            try:
                result = self._send(message)
                sent += 1
            except (NotReady, SlackApiError, SlackRequestError, OSError, StoreError) as error:
                failure = error
            with self.sessions.begin() as s:
                row = s.get(OutboxMessage, message.id)
                if row is not None:
                    self._record(row, result, failure)
        return sent

    def _record(
        self, row: OutboxMessage, result: dict[str, Any] | None, failure: Exception | None
    ) -> None:
        if failure is None:
            outbox.mark_sent(row, {**(row.result or {}), **(result or {})})
        elif isinstance(failure, NotReady):
            outbox.defer(row, str(failure), delay=1.0)
        elif isinstance(failure, SlackApiError):
            self._slack_failure(row, failure)
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

    def _slack_failure(self, message: OutboxMessage, error: SlackApiError) -> None:
        code = error.response.get("error", "")
        status = error.response.status_code
        if code in PERMANENT or message.attempts >= MAX_ATTEMPTS:
            outbox.give_up(message, code or str(status))
            log.error(
                "slack refused a message; gave up",
                extra={"outbox": message.id, "kind": message.kind, "error": code, "status": status},
            )
            return
        retry_after = error.response.headers.get("Retry-After") if status == 429 else None
        delay = float(retry_after) if retry_after else (2.0 if code == "invalid_blocks" else None)
        outbox.retry_later(message, code or f"HTTP {status}", delay=delay)
        log.warning(
            "slack call failed; will retry",
            extra={"outbox": message.id, "kind": message.kind, "error": code, "status": status},
        )

    # ---- rendering and sending ------------------------------------------------------------

    def _send(self, message: OutboxMessage) -> dict[str, Any]:
        with self.sessions() as s:
            if outbox.waits_behind(s, message):
                raise NotReady("an earlier message to this project is not delivered yet")
        project = self.service.project(message.project_id) if message.project_id else None
        kind, payload = message.kind, message.payload
        if kind == "root":
            assert project is not None
            return self._root(message, project)
        if kind == "digest":
            file_id = self._upload(
                message, payload["chart_hash"], "digest-trend.png", "Keep rate and rework, by week"
            )
            chart = blocks.image_block(
                file_id, "Line chart of weekly keep rate and rework after review", "Trend"
            )
            ts = self._chat_post(
                message,
                channel=message.channel_id,
                text=payload["text"],
                blocks=[*payload["blocks"], chart],
            )
            return {"ts": ts}
        if project is None or project.thread_ts is None:
            raise NotReady("the project's thread is not posted yet")
        if kind == "notice":
            return self._post(message, project, payload["text"])
        if kind == "progress":
            return self._progress(message, project, payload["job_id"])
        if kind == "job_result":
            return self._job_result(message, project, payload["job_id"])
        if kind == "gate":
            return self._gate(message, project, payload["number"])
        if kind == "repair":
            image = self.service.image(project.id, payload["number"])
            return self._post_version(message, project, image, f"New version #{image.number}")
        raise ValueError(f"unknown outbox kind {kind!r}")

    def _post(
        self,
        message: OutboxMessage,
        project: Project,
        text: str,
        message_blocks: list[dict[str, Any]] | None = None,
        *,
        kind: str | None = None,
        **ref: Any,
    ) -> dict[str, Any]:
        ts = self._chat_post(
            message,
            channel=project.channel_id,
            thread_ts=project.thread_ts,
            text=text,
            blocks=message_blocks,
        )
        if kind:
            self.service.remember_message(
                project.channel_id, ts, kind, project_id=project.id, **ref
            )
        return {"ts": ts}

    def _chat_post(self, message: OutboxMessage, *, shared: str | None = None, **post: Any) -> str:
        """Post a new message once.

        Each post carries a key in its Slack message metadata: the outbox message's, or `shared`
        when several outbox messages may make the same post (a job's progress line). A retry, or
        any post with a shared key, first reads the conversation for an earlier post with its key.
        """
        key = shared or f"outbox-{message.id}"
        if message.attempts or shared:
            earlier = self._earlier_post(message, key, post["channel"], post.get("thread_ts"))
            if earlier is not None:
                log.info(
                    "found the earlier post; not sending it again", extra={"outbox": message.id}
                )
                return earlier
        response = self.client.chat_postMessage(
            **post, metadata={"event_type": OUTBOX_EVENT, "event_payload": {"key": key}}
        )
        return str(response["ts"])

    def _earlier_post(
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

    def _root(self, message: OutboxMessage, project: Project) -> dict[str, Any]:
        text, root_blocks = blocks.project_root(project, self.service.plays(project.id))
        if project.thread_ts is None:
            ts = self._chat_post(message, channel=project.channel_id, text=text, blocks=root_blocks)
            self.service.attach_thread(project.id, ts)
            self.service.remember_message(project.channel_id, ts, "root", project_id=project.id)
            return {"ts": ts}
        self.client.chat_update(
            channel=project.channel_id, ts=project.thread_ts, text=text, blocks=root_blocks
        )
        return {"ts": project.thread_ts}

    def _progress(self, message: OutboxMessage, project: Project, job_id: int) -> dict[str, Any]:
        job = self.service.job(job_id)
        assert job is not None
        text = blocks.progress_text(job)
        shown = self.service.progress_message(job_id)
        if shown is None:
            ts = self._chat_post(
                message,
                shared=f"progress-{job_id}",
                channel=project.channel_id,
                thread_ts=project.thread_ts,
                text=text,
            )
            self.service.remember_message(
                project.channel_id,
                ts,
                "progress",
                project_id=project.id,
                job_id=job_id,
                shown=job.progress_done,
            )
            return {"ts": ts}
        self.client.chat_update(channel=project.channel_id, ts=shown.ts, text=text)
        self.service.mark_shown(shown.id, job.progress_done)
        return {"ts": shown.ts}

    def _upload(self, message: OutboxMessage, digest: str, filename: str, title: str) -> str:
        """Upload once per outbox message (files_upload_v2); a retry reuses the file."""
        uploaded = dict(message.result or {})
        if digest in uploaded:
            return str(uploaded[digest])
        response = self.client.files_upload_v2(
            content=self.store.get(digest), filename=filename, title=title
        )
        file_id = str(response["file"]["id"])
        message.result = {**uploaded, digest: file_id}
        with self.sessions.begin() as s:
            row = s.get(OutboxMessage, message.id)
            if row is not None:
                row.result = message.result
        return file_id

    def _job_result(self, message: OutboxMessage, project: Project, job_id: int) -> dict[str, Any]:
        job = self.service.job(job_id)
        assert job is not None
        shown = self.service.progress_message(job_id)
        if shown is not None:
            self.client.chat_update(
                channel=project.channel_id, ts=shown.ts, text=blocks.progress_text(job)
            )
        self.service.refresh_root(project.id)
        if job.status == "failed":
            return self._post(
                message,
                project,
                f":warning: Job {job.id} ({blocks.JOB_LABEL.get(job.kind, job.kind)}) failed: {job.error}. Nothing already made was lost; run it again when the cause is fixed.",
            )
        images = self.service.job_images(job_id)
        result = job.result or {}
        cut = [blocks.context(f":warning: {warning}") for warning in result.get("warnings", [])]
        if job.kind == "sprint":
            file_id = self._upload(
                message, result["sheet_hash"], f"moodboard-p{project.id}.png", "Moodboard"
            )
            return self._post(
                message,
                project,
                f"Moodboard: {len(images)} variations",
                blocks.moodboard(project, images, file_id) + cut,
                kind="moodboard",
                job_id=job.id,
            )
        if job.kind == "hero":
            recipe = next(
                r for r in self.service.recipes(project.id) if r.id == job.params["recipe_id"]
            )
            hero = self.service.image_by_id(result["hero_image_id"])
            assert hero is not None
            file_id = self._upload(
                message, hero.file_hash, f"hero-{hero.number}.png", f"Hero #{hero.number}"
            )
            return self._post(
                message,
                project,
                f"Hero #{hero.number}",
                blocks.hero(project, recipe, hero, file_id),
                kind="hero",
                job_id=job.id,
                image_id=hero.id,
                recipe_id=recipe.id,
            )
        if job.kind == "volume":
            file_id = self._upload(
                message, result["sheet_hash"], f"batch-job{job.id}.png", "Volume batch"
            )
            return self._post(
                message,
                project,
                f"Volume batch: {len(images)} images",
                blocks.batch(project, images, file_id, "Volume batch") + cut,
                kind="batch",
                job_id=job.id,
            )
        if job.kind == "upscale":
            file_id = self._upload(
                message, result["sheet_hash"], f"upscaled-job{job.id}.png", "Upscaled keepers"
            )
            return self._post(
                message,
                project,
                "Upscaled keepers",
                blocks.sheet_only("Upscaled keepers", images, file_id)
                + [blocks.context("Send one to the gate with `review N`.")],
                kind="sheet",
                job_id=job.id,
            )
        if job.kind == "fix":
            return self._post_version(
                message, project, images[0], f"Repaired #{images[0].number}", job_id=job.id
            )
        raise ValueError(f"unknown job kind {job.kind!r}")

    def _post_version(
        self,
        message: OutboxMessage,
        project: Project,
        image: Image,
        text: str,
        *,
        job_id: int | None = None,
    ) -> dict[str, Any]:
        """A new version of an image (a repair or an editor's file), with its way to the gate."""
        parent = self.service.image_by_id(image.parent_id) if image.parent_id else None
        file_id = self._upload(
            message, image.file_hash, f"image-{image.number}.png", f"#{image.number}"
        )
        return self._post(
            message,
            project,
            text,
            blocks.repaired(project, image, parent, file_id),
            kind="repair",
            job_id=job_id,
            image_id=image.id,
        )

    def _gate(self, message: OutboxMessage, project: Project, number: int) -> dict[str, Any]:
        view = self.service.gate_view(project.id, number)
        file_id = self._upload(message, view.image.file_hash, f"gate-{number}.png", f"#{number}")
        draft = self.service.gate_draft(project.id, number)
        return self._post(
            message,
            project,
            f"Review gate: #{number}",
            blocks.gate(project, view, file_id, draft),
            kind="gate",
            image_id=view.image.id,
        )
