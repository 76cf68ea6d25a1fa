"""Finished jobs folded into the playbook, cancelling, and what the queue and images hold."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from bot.playbook import errors
from bot.playbook import notices as N
from bot.playbook.plays.base import UseCases, refresh_root
from bot.playbook.plays.lock_in import record_reproducibility
from bot.playbook.roles import May, Role
from bot.playbook.sequence import Play
from storage import outbox, queue, queue_forecast
from storage.models import Image, Job, Project, Recipe
from storage.queue_forecast import Forecast
from storage.states import ImageStatus


@dataclass(frozen=True)
class Applied:
    """A finished job as the playbook understood it."""

    job: Job
    project: Project | None
    images: list[Image]
    recipe: Recipe | None = None
    paused: bool = False


class JobUseCases(UseCases):
    # Who may take the decisions this module opens (roles.WHO_MAY gathers every module's).
    MAY = {
        "cancel": May((Role.OPERATOR,), "cancel jobs"),
    }

    def apply_job_result(self, job_id: int) -> Applied | None:
        """Fold a finished job into the playbook once (stamps applied_at); None if nothing to do."""
        with self._tx() as s:
            job = s.get(Job, job_id, with_for_update=s.get_bind().dialect.name == "postgresql")
            if job is None or job.applied_at is not None or job.status not in ("done", "failed"):
                return None
            job.applied_at = self.clock()
            project = s.get(Project, job.project_id) if job.project_id else None
            images = list(
                s.scalars(select(Image).where(Image.job_id == job.id).order_by(Image.job_index))
            )
            if project is None:
                return Applied(job, project, images)
            outbox.add(
                s,
                channel_id=job.channel_id,
                project_id=project.id,
                kind="job_result",
                payload={"job_id": job.id},
                dedupe_key=f"job:{job.id}",
            )
            held = [image.number for image in images if image.status == ImageStatus.HELD]
            if held:  # for the Reviewer, blurred, with release and cull
                outbox.add(
                    s,
                    channel_id=job.channel_id,
                    project_id=project.id,
                    kind="held",
                    payload={"numbers": held},
                    dedupe_key=f"held:{job.id}",
                )
            refresh_root(s, project)
            if job.status == "failed":
                return Applied(job, project, images)
            recipe, paused = None, False
            if job.kind == "hero":
                recipe = s.get(Recipe, job.params["recipe_id"])
                assert recipe is not None
                if not record_reproducibility(recipe, job.result or {}):
                    self._pause(
                        s,
                        project,
                        "reproducibility",
                        f"the hero does not reproduce from recipe v{recipe.version} "
                        f"(mean diff {recipe.repro_mean_diff}, max {recipe.repro_max_diff}) — the recipe isn't real yet",
                    )
                    paused = True
                elif project.pause_reason in ("reproducibility", "recurring_sendback"):
                    self._resume(s, project, job.created_by, "operator")
            elif job.kind == "fix":
                self._finish(s, project, Play.FIX)
            return Applied(job, project, images, recipe, paused)

    def cancel(self, project_id: int, user: str, job_id: int | None = None) -> list[Job]:
        with self._decide(project_id, user, "cancel", running=False) as d:
            stmt = select(Job).where(
                Job.project_id == d.project.id, Job.status.in_(("queued", "running"))
            )
            if job_id is not None:
                stmt = stmt.where(Job.id == job_id)
            jobs = list(d.s.scalars(stmt))
            if not jobs:
                which = f"Job {job_id} is not" if job_id is not None else "Nothing is"
                raise errors.InvalidInput(
                    f"{which} queued or running in this project, so nothing was cancelled."
                )
            for job in jobs:
                queue.cancel(d.s, job)
            d.detail = {"jobs": [job.id for job in jobs]}
            d.say(N.Cancelled(jobs=[job.id for job in jobs], user=user))
            return jobs

    def jobs(self, channel_id: str | None = None) -> list[tuple[Job, Forecast]]:
        """Jobs queued and running (in a channel, or everywhere), each with its place and time,
        rendering first, then in the order they get their turns."""
        with self._tx() as s:
            ahead = queue_forecast.forecast(s)
            stmt = select(Job).where(Job.status.in_(("queued", "running")))
            if channel_id is not None:
                stmt = stmt.where(Job.channel_id == channel_id)
            jobs = [(job, ahead[job.id]) for job in s.scalars(stmt) if job.id in ahead]
            return sorted(jobs, key=lambda pair: (pair[1].position, pair[0].id))

    def forecast(self) -> dict[int, Forecast]:
        with self._tx() as s:
            return queue_forecast.forecast(s)

    def job(self, job_id: int) -> Job | None:
        with self._tx() as s:
            return s.get(Job, job_id)

    def active_jobs(self) -> list[Job]:
        with self._tx() as s:
            return list(
                s.scalars(
                    select(Job).where(
                        Job.status.in_(("queued", "running")), Job.project_id.is_not(None)
                    )
                )
            )

    def unapplied_jobs(self) -> list[int]:
        with self._tx() as s:
            stmt = (
                select(Job.id)
                .where(Job.applied_at.is_(None), Job.status.in_(("done", "failed")))
                .order_by(Job.id)
            )
            return list(s.scalars(stmt))

    def images(self, project_id: int) -> list[Image]:
        with self._tx() as s:
            return list(
                s.scalars(
                    select(Image).where(Image.project_id == project_id).order_by(Image.number)
                )
            )

    def job_images(self, job_id: int) -> list[Image]:
        with self._tx() as s:
            return list(
                s.scalars(select(Image).where(Image.job_id == job_id).order_by(Image.job_index))
            )

    def image(self, project_id: int, number: int) -> Image:
        with self._tx() as s:
            return self._image(s, self._project(s, project_id), number)

    def image_by_id(self, image_id: int) -> Image | None:
        with self._tx() as s:
            return s.get(Image, image_id)
