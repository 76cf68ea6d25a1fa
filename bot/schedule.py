"""APScheduler in every bot process: a digest per channel at its local time, reminders, and re-sync.

The job store is the app's own database, so schedules survive restarts. Several bot processes may
each fire the same digest; `DigestRun` lets exactly one of them post it.
"""

from __future__ import annotations

import logging
from datetime import UTC
from zoneinfo import ZoneInfo

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.engine import Engine

from bot import digest
from bot.playbook.service import PlaybookService
from storage.files import ImageStore

log = logging.getLogger("atelier.schedule")
_runtime: dict[str, tuple[PlaybookService, ImageStore]] = {}


def digest_trigger(time_of_day: str, zone: str) -> CronTrigger:
    """Every day at `HH:MM` in the channel's own time zone (DST handled by zoneinfo)."""
    hour, minute = (int(part) for part in time_of_day.split(":"))
    return CronTrigger(hour=hour, minute=minute, timezone=ZoneInfo(zone))


def run_digest(instance: str, channel_id: str) -> None:
    service, store = _runtime[instance]
    digest.post_digest(service, store, channel_id)


def run_reminders(instance: str) -> None:
    service, _ = _runtime[instance]
    digest.send_reminders(service)


def run_sync(instance: str) -> None:
    Schedules.instances[instance].sync()


class Schedules:
    instances: dict[str, Schedules] = {}

    def __init__(
        self,
        service: PlaybookService,
        store: ImageStore,
        engine: Engine,
        *,
        instance: str = "main",
        reminder_minutes: float = 10,
        sync_seconds: float = 60,
    ) -> None:
        self.service = service
        self.instance = instance
        self.scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename="apscheduler_jobs")},
            timezone=UTC,
        )
        self.reminder_minutes = reminder_minutes
        self.sync_seconds = sync_seconds
        _runtime[instance] = (service, store)
        Schedules.instances[instance] = self

    def start(self) -> None:
        self.scheduler.start()
        self.scheduler.add_job(
            run_reminders,
            "interval",
            args=[self.instance],
            minutes=self.reminder_minutes,
            id="atelier:reminders",
            replace_existing=True,
            coalesce=True,
        )
        self.scheduler.add_job(
            run_sync,
            "interval",
            args=[self.instance],
            seconds=self.sync_seconds,
            id="atelier:sync",
            replace_existing=True,
            coalesce=True,
        )
        self.sync()

    def stop(self) -> None:
        self.scheduler.shutdown(wait=False)

    def sync(self) -> None:
        """One digest job per channel; replaced only when its time or zone changed."""
        for settings in self.service.channels():
            job_id, name = (
                f"digest:{settings.channel_id}",
                f"{settings.digest_time} {settings.digest_tz}",
            )
            job = self.scheduler.get_job(job_id)
            if job is not None and job.name == name:
                continue
            self.scheduler.add_job(
                run_digest,
                digest_trigger(settings.digest_time, settings.digest_tz),
                args=[self.instance, settings.channel_id],
                id=job_id,
                name=name,
                replace_existing=True,
                coalesce=True,
                misfire_grace_time=3600,
            )
            log.info("digest scheduled", extra={"channel": settings.channel_id, "at": name})
