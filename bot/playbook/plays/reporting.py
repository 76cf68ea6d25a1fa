"""Reporting: metrics, the export, the digest's data, and what reminders look for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.playbook import notices as N
from bot.playbook.metrics import Metric, all_metrics
from bot.playbook.plays.base import UseCases, notice
from bot.playbook.plays.lock_in import card_of
from bot.playbook.sequence import PlayStatus
from storage import gpu_time, outbox, queries
from storage.gpu_time import GpuTime
from storage.metric_windows import metric_inputs, metric_inputs_by_window
from storage.models import (
    AuditEntry,
    ChannelSettings,
    DigestRun,
    Image,
    Nudge,
    PlayRun,
    Project,
    Recipe,
    SlackMessage,
)
from storage.queries import PromptKeepers
from storage.states import ImageStatus, Play


@dataclass(frozen=True)
class DigestData:
    channel_id: str
    now: datetime
    days: int
    current: list[Metric]
    previous: list[Metric]
    trend: list[tuple[datetime, float | None, float | None]]
    moved: list[tuple[Project, int, list[Play]]]
    paused: list[Project]
    gpu: GpuTime
    gpu_before: GpuTime


class ReportingUseCases(UseCases):
    def metrics(
        self,
        *,
        since: datetime,
        until: datetime,
        channel_id: str | None = None,
        project_id: int | None = None,
    ) -> list[Metric]:
        with self._tx() as s:
            inputs = metric_inputs(
                s, since=since, until=until, channel_id=channel_id, project_id=project_id
            )
            return all_metrics(inputs)

    def gpu_time(
        self,
        *,
        since: datetime,
        until: datetime,
        channel_id: str | None = None,
        project_id: int | None = None,
    ) -> GpuTime:
        """Runner seconds of the work asked for in the window, by who asked."""
        with self._tx() as s:
            return gpu_time.used(
                s, since=since, until=until, channel_id=channel_id, project_id=project_id
            )

    def keepers(self, project_id: int) -> tuple[list[PromptKeepers], list[PromptKeepers]]:
        """Keep rate per sprint style and per volume slot value (see queries.keepers_by_prompt)."""
        with self._tx() as s:
            return queries.keepers_by_prompt(s, self._project(s, project_id).id)

    def export(self, project_id: int) -> dict[str, Any]:
        """The recipe cards and the prompt log, for reproduction outside Atelier."""
        with self._tx() as s:
            project = self._project(s, project_id)
            images = s.scalars(
                select(Image).where(Image.project_id == project.id).order_by(Image.number)
            )
            styles, slots = queries.keepers_by_prompt(s, project.id)
            numbers = {
                image.id: image.number
                for image in s.scalars(select(Image).where(Image.project_id == project.id))
            }
            return {
                "project": {
                    "id": project.id,
                    "channel": project.channel_id,
                    "thread_ts": project.thread_ts,
                    "intent": project.intent,
                    "state": project.state,
                    "pause_reason": project.pause_reason,
                    "roles": {
                        "director": project.director,
                        "operator": project.operator,
                        "reviewer": project.reviewer,
                    },
                },
                "recipes": recipe_rows(s, project.id, numbers),
                "prompt_log": [
                    {
                        "number": i.number,
                        "play": i.play,
                        "kind": i.kind,
                        "status": i.status,
                        "prompt": i.prompt,
                        "negative_prompt": i.negative_prompt,
                        "seed": i.seed,
                        "steps": i.steps,
                        "guidance": i.guidance,
                        "width": i.width,
                        "height": i.height,
                        "scheduler": i.scheduler,
                        "model_id": i.model_id,
                        "model_hash": i.model_hash,
                        "strength": i.strength,
                        "mask_hash": i.mask_hash,
                        "parent": numbers.get(i.parent_id or -1),
                        "file_hash": i.file_hash,
                        "created_by": i.created_by,
                        "created_at": i.created_at.isoformat(),
                        "alt_text": i.alt_text,
                    }
                    for i in images
                ],
                "keepers": {
                    "sprint_styles": [k.as_dict() for k in styles],
                    "volume_slot_values": [k.as_dict() for k in slots],
                },
            }

    def audit(self, project_id: int) -> list[AuditEntry]:
        with self._tx() as s:
            return list(
                s.scalars(
                    select(AuditEntry)
                    .where(AuditEntry.project_id == project_id)
                    .order_by(AuditEntry.id)
                )
            )

    def digest_data(
        self, channel_id: str, now: datetime, *, days: int = 7, weeks: int = 8
    ) -> DigestData:
        """What a channel's daily digest reports: metrics, movement, pauses and the weekly trend."""
        window = timedelta(days=days)
        weeks_back = [now - timedelta(weeks=week) for week in range(weeks, -1, -1)]
        windows = [(now - window, now), (now - 2 * window, now - window)]
        windows += list(zip(weeks_back, weeks_back[1:], strict=False))
        with self._tx() as s:
            current, previous, *weekly = (
                all_metrics(inputs)
                for inputs in metric_inputs_by_window(s, windows, channel_id=channel_id)
            )
            trend = [
                (until, keep.value, rework.value)
                for (_, until), (keep, _, rework, *_) in zip(windows[2:], weekly, strict=True)
            ]
            moved_rows = s.execute(
                select(AuditEntry.project_id, func.count(AuditEntry.id))
                .where(
                    AuditEntry.channel_id == channel_id,
                    AuditEntry.project_id.is_not(None),
                    AuditEntry.created_at >= now - timedelta(days=1),
                )
                .group_by(AuditEntry.project_id)
            ).all()
            moved = []
            for project_id, actions in moved_rows:
                project = s.get(Project, project_id)
                if project is not None:
                    done = [
                        run.play
                        for run in s.scalars(
                            select(PlayRun).where(
                                PlayRun.project_id == project.id, PlayRun.status == PlayStatus.DONE
                            )
                        )
                    ]
                    moved.append((project, int(actions), done))
            paused = list(
                s.scalars(
                    select(Project)
                    .where(Project.channel_id == channel_id, Project.state == "paused")
                    .order_by(Project.id)
                )
            )
            gpu = gpu_time.used(s, since=now - window, until=now, channel_id=channel_id)
            before = gpu_time.used(
                s, since=now - 2 * window, until=now - window, channel_id=channel_id
            )
            return DigestData(
                channel_id, now, days, current, previous, trend, moved, paused, gpu, before
            )

    def claim_digest(self, channel_id: str, day: str) -> bool:
        """True for exactly one caller per channel and local day, however many processes ask."""
        return self._claim_once(DigestRun(channel_id=channel_id, day=day, created_at=self.clock()))

    def nudge(self, kind: str, ref_id: int, day: str, project_id: int, said: N.Notice) -> bool:
        """A reminder in a project's thread at most once per thing per day, however many ask.

        The claim and its notice commit together: a crash never leaves a claim with no reminder.
        """
        try:
            with self._tx() as s:
                s.add(Nudge(kind=kind, ref_id=ref_id, day=day, created_at=self.clock()))
                s.flush()
                notice(s, self._project(s, project_id), said)
            return True
        except IntegrityError:
            return False

    def _claim_once(self, row: DigestRun) -> bool:
        try:
            with self._tx() as s:
                s.add(row)
                s.flush()
            return True
        except IntegrityError:
            return False

    def waiting_at_gate(self, now: datetime) -> list[tuple[Project, Image, float, float]]:
        """Images waiting at the gate (stored status) longer than the channel's limit since posted there."""
        with self._tx() as s:
            rows = s.execute(
                select(SlackMessage, Image, Project, ChannelSettings)
                .join(Image, Image.id == SlackMessage.image_id)
                .join(Project, Project.id == Image.project_id)
                .join(
                    ChannelSettings, ChannelSettings.channel_id == Project.channel_id, isouter=True
                )
                .where(
                    SlackMessage.kind == "gate",
                    Image.status == ImageStatus.AT_GATE,
                )
            ).all()
            # An image sent back and submitted again has waited since its latest gate message.
            latest: dict[int, tuple[datetime, Image, Project, ChannelSettings | None]] = {}
            for message, image, project, settings in rows:
                if image.id not in latest or message.created_at > latest[image.id][0]:
                    latest[image.id] = (message.created_at, image, project, settings)
            waiting = []
            for posted, image, project, channel in latest.values():
                hours = (now - posted).total_seconds() / 3600
                limit = float(channel.gate_wait_hours if channel else 24)
                if hours >= limit:
                    waiting.append((project, image, hours, limit))
            return waiting

    def paused_longer_than(self, now: datetime, limit: timedelta) -> list[Project]:
        with self._tx() as s:
            stmt = select(Project).where(
                Project.state == "paused", Project.paused_at <= now - limit
            )
            return list(s.scalars(stmt))

    def channels(self) -> list[ChannelSettings]:
        with self._tx() as s:
            return list(s.scalars(select(ChannelSettings).order_by(ChannelSettings.channel_id)))

    def post_digest(self, channel_id: str, payload: dict[str, Any]) -> None:
        """Queue a digest for the channel (not a project thread)."""
        with self._tx() as s:
            outbox.add(s, channel_id=channel_id, kind="digest", payload=payload)


def recipe_rows(s: Session, project_id: int, numbers: dict[int, int]) -> list[dict[str, Any]]:
    """Each recipe version as its card plus how it checked out: the export's and the pack's."""
    recipes = s.scalars(
        select(Recipe).where(Recipe.project_id == project_id).order_by(Recipe.version)
    )
    return [
        {
            "version": r.version,
            **card_of(r).as_dict(),
            "reproducible": r.reproducible,
            "repro_mean_diff": r.repro_mean_diff,
            "repro_max_diff": r.repro_max_diff,
            "hero": numbers.get(r.hero_image_id or -1),
            "locked_by": r.locked_by,
            "locked_at": r.locked_at.isoformat(),
        }
        for r in recipes
    ]
