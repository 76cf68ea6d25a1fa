"""A project's life outside the plays: start, intent, skips, approvals, and where it stands."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.playbook import errors
from bot.playbook import notices as N
from bot.playbook.intent import is_one_sentence
from bot.playbook.next_step import Facts, Step, next_step
from bot.playbook.plays.base import (
    PAUSE_HOW_TO_RESUME,
    Outcome,
    UseCases,
    notice,
    refresh_root,
)
from bot.playbook.roles import May, Role
from bot.playbook.sequence import ORDER, Play, PlayStatus, info
from storage.models import Image, PlayRun, Project, Ranking
from storage.states import ImageStatus, ProjectState


@dataclass(frozen=True)
class Standing:
    """Where a project stands: its plays in order and the next step, read in one transaction."""

    project: Project
    plays: list[PlayRun]
    step: Step
    cleared: int = 0  # finals cleared to ship: the root offers their ship pack


class ProjectUseCases(UseCases):
    # Who may take the decisions this module opens (roles.WHO_MAY gathers every module's).
    MAY = {
        "set_intent": May((Role.DIRECTOR,), "restate the intent"),
        "skip_play": May((Role.DIRECTOR,), "skip a play"),
    }

    def start_project(
        self,
        channel_id: str,
        user: str,
        intent: str,
        *,
        director: str | None = None,
        operator: str | None = None,
        reviewer: str | None = None,
    ) -> Outcome:
        self._check_words(user, [intent], "new", channel_id=channel_id)
        with self._tx() as s:
            project, warnings = self._open_project(
                s, channel_id, user, intent, director=director, operator=operator, reviewer=reviewer
            )
            return Outcome(project, warnings=warnings)

    def _open_project(
        self,
        s: Session,
        channel_id: str,
        user: str,
        intent: str,
        *,
        director: str | None = None,
        operator: str | None = None,
        reviewer: str | None = None,
    ) -> tuple[Project, list[str]]:
        """A new project with its plays, audit entry and root message; paused if the intent rambles."""
        intent = " ".join(intent.split())
        if not intent:
            raise errors.InvalidInput(
                "Start a project with its intent in one sentence, e.g. "
                "`/atelier new Hero art for the spring courier campaign, warm and hopeful`."
            )
        settings = self._settings(s, channel_id)
        project = Project(
            channel_id=channel_id,
            intent=intent,
            director=director or settings.director or user,
            operator=operator or settings.operator or user,
            reviewer=reviewer or settings.reviewer or user,
            model=settings.model,
            iteration_budget=settings.iteration_budget,
            review_cooloff_minutes=settings.review_cooloff_minutes,
            created_by=user,
            created_at=self.clock(),
        )
        s.add(project)
        s.flush()
        for play in ORDER:
            s.add(PlayRun(project_id=project.id, play=play.value))
        hat = "director" if project.director == user else "member"
        self._audit(s, project, channel_id, user, hat, "start_project", {"intent": intent})
        # The root message first: it opens the thread every later message goes into.
        refresh_root(s, project)
        if project.director == project.operator == project.reviewer:
            said = N.OnePerson(cooloff=project.review_cooloff_minutes, user=project.director)
            notice(s, project, said)
        warnings = []
        if not is_one_sentence(intent):
            self._pause(
                s, project, "intent", "the intent is not one sentence — go back to the brief"
            )
            warnings.append(
                "The intent is more than one sentence, so the project is paused. "
                + PAUSE_HOW_TO_RESUME["intent"]
            )
        return project, warnings

    def set_intent(self, project_id: int, user: str, intent: str) -> Outcome:
        intent = " ".join(intent.split())
        self._check_words(user, [intent], "intent", project_id=project_id)
        with self._decide(project_id, user, "set_intent", running=False) as d:
            if not is_one_sentence(intent):
                raise errors.InvalidInput(
                    "Still not one sentence. Say what the images are for in a single sentence."
                )
            d.project.intent = intent
            d.detail = {"intent": intent}
            d.say(N.Intent(intent=intent))
            if d.project.pause_reason == "intent":
                self._resume(d.s, d.project, user, d.hat)
            return Outcome(d.project)

    def skip_play(self, project_id: int, user: str, play: Play, reason: str) -> Outcome:
        reason = reason.strip()
        with self._decide(project_id, user, "skip_play") as d:
            if len(reason) < 3:
                raise errors.InvalidInput(
                    f"Say why you skip the {info(play).title}, e.g. "
                    f"`skip {play.value} quick social graphic: sprint + gate only`."
                )
            run = self._play(d.s, d.project, play)
            if run.status == PlayStatus.DONE:
                raise errors.OutOfOrder(
                    f"The {info(play).title} is already done; there is nothing to skip."
                )
            run.status = PlayStatus.SKIPPED
            run.skip_reason = reason
            run.actor, run.hat, run.finished_at = user, d.hat, self.clock()
            d.detail = {"play": play.value, "reason": reason}
            d.say(N.Skipped(user=user, play=play.value, reason=reason))
            return Outcome(d.project)

    def attach_thread(self, project_id: int, thread_ts: str) -> None:
        with self._tx() as s:
            self._project(s, project_id).thread_ts = thread_ts

    def project_in_thread(self, channel_id: str, thread_ts: str) -> Project | None:
        with self._tx() as s:
            stmt = select(Project).where(
                Project.channel_id == channel_id, Project.thread_ts == thread_ts
            )
            return s.scalars(stmt).first()

    def project(self, project_id: int) -> Project:
        with self._tx() as s:
            return self._project(s, project_id)

    def projects_keeping_roles(self, channel_id: str) -> list[Project]:
        """Open projects (a play still to run) whose roles differ from the channel's defaults."""
        with self._tx() as s:
            settings = self._settings(s, channel_id)
            wanted = (settings.director, settings.operator, settings.reviewer)
            open_ids = select(PlayRun.project_id).where(
                PlayRun.status.in_((PlayStatus.PENDING, PlayStatus.ACTIVE))
            )
            stmt = (
                select(Project)
                .where(Project.channel_id == channel_id, Project.id.in_(open_ids))
                .order_by(Project.id)
            )
            return [
                p
                for p in s.scalars(stmt)
                if (p.director, p.operator, p.reviewer) != wanted and any(wanted)
            ]

    def projects(self, channel_id: str) -> list[Project]:
        with self._tx() as s:
            stmt = select(Project).where(Project.channel_id == channel_id).order_by(Project.id)
            return list(s.scalars(stmt))

    def latest_project(self, channel_id: str) -> Project | None:
        with self._tx() as s:
            stmt = (
                select(Project).where(Project.channel_id == channel_id).order_by(Project.id.desc())
            )
            return s.scalars(stmt).first()

    def standing(self, project_id: int) -> Standing:
        with self._tx() as s:
            project = s.get(Project, project_id)
            if project is None:
                raise errors.NotFound(f"There is no project {project_id}.")
            runs = {run.play: run for run in project.plays}
            recipe = self._latest_recipe(s, project.id)
            direction = (
                s.get(Image, project.direction_image_id) if project.direction_image_id else None
            )
            ranked = s.scalars(select(Ranking.id).where(Ranking.project_id == project.id)).first()
            at_gate = s.scalars(
                select(Image.number)
                .where(Image.project_id == project.id, Image.status == ImageStatus.AT_GATE)
                .order_by(Image.number)
            )
            facts = Facts(
                paused_for=project.pause_reason if project.state == ProjectState.PAUSED else None,
                plays={play: runs[play].status for play in ORDER},
                ranked=ranked is not None,
                direction=direction.number if direction else None,
                recipe_version=recipe.version if recipe else None,
                reproducible=recipe.reproducible if recipe else None,
                hero_approved=recipe is not None and recipe.approved_at is not None,
                at_gate=list(at_gate),
            )
            cleared = s.scalar(
                select(func.count(Image.id)).where(
                    Image.project_id == project.id, Image.status == ImageStatus.SHIPPED
                )
            )
            return Standing(
                project, [runs[play] for play in ORDER], next_step(facts), int(cleared or 0)
            )

    def plays(self, project_id: int) -> list[PlayRun]:
        """The five plays' runs, in the playbook's order."""
        with self._tx() as s:
            project = s.get(Project, project_id)
            if project is None:
                raise errors.NotFound(f"There is no project {project_id}.")
            runs = {run.play: run for run in project.plays}
            return [runs[play] for play in ORDER]
