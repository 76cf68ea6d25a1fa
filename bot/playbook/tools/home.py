"""App Home: one person's place across channels — what waits on them, their projects, their
jobs in the queue, and their channels' week.

Everything in Atelier happens in threads, so a person has to remember where their turn is;
this gathers it. What waits on someone is the next step of each project (bot.playbook.next_step)
whose hat they wear there, so Home and the thread's hint never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bot.playbook.next_step import Step
from bot.playbook.plays.project import ProjectUseCases
from bot.playbook.roles import Role
from storage import gpu_time, queue_forecast
from storage.gate_models import GateReview
from storage.models import Image, Job, OutboxMessage, Project
from storage.queue_forecast import Forecast
from storage.states import ImageStatus, PlayStatus

# The most recent projects a person's Home reads; older ones are reached from their channel.
PROJECTS = 60
WEEK = timedelta(days=7)


@dataclass(frozen=True)
class HomeProject:
    project: Project
    play: str  # the play under way ("finished" once all five have run)
    step: Step
    theirs: bool  # the next step waits on this person


@dataclass(frozen=True)
class ChannelWeek:
    channel_id: str
    cleared: int
    gpu_minutes: float


@dataclass(frozen=True)
class Handoff:
    """An image handed to this person to edit: their upload in the thread is its next version."""

    project: Project
    number: int


@dataclass(frozen=True)
class Home:
    user: str
    projects: list[HomeProject]
    queue: list[tuple[Job, Forecast]]
    week: list[ChannelWeek]
    handoffs: list[Handoff] = field(default_factory=list)

    @property
    def turn(self) -> list[HomeProject]:
        return [item for item in self.projects if item.theirs]

    def without(self, channels: set[str]) -> Home:
        """Home less the channels Atelier can no longer reach (removed from, archived)."""
        return Home(
            self.user,
            [item for item in self.projects if item.project.channel_id not in channels],
            [pair for pair in self.queue if pair[0].channel_id not in channels],
            [row for row in self.week if row.channel_id not in channels],
            [each for each in self.handoffs if each.project.channel_id not in channels],
        )


class HomeUseCases(ProjectUseCases):
    def home(self, user: str) -> Home:
        projects = self._projects_of(user)
        items = [self._home_project(project, user) for project in projects]
        with self._tx() as s:
            ahead = queue_forecast.forecast(s)
            mine = s.scalars(
                select(Job).where(Job.created_by == user, Job.status.in_(("queued", "running")))
            )
            jobs = sorted(
                ((job, ahead[job.id]) for job in mine if job.id in ahead),
                key=lambda pair: (pair[1].position, pair[0].id),
            )
            handed = s.execute(
                select(Project, Image.number)
                .join(Image, Image.project_id == Project.id)
                .where(Image.editor == user, Image.status == ImageStatus.WITH_EDITOR)
                .order_by(Image.id)
            ).all()
            now = self.clock()
            channels = sorted({project.channel_id for project in projects})
            week = [
                ChannelWeek(
                    channel,
                    _cleared(s, channel, now - WEEK),
                    gpu_time.used(
                        s, since=now - WEEK, until=now + WEEK, channel_id=channel
                    ).minutes,
                )
                for channel in channels
            ]
        return Home(user, items, jobs, week, [Handoff(p, n) for p, n in handed])

    def _projects_of(self, user: str) -> list[Project]:
        with self._tx() as s:
            return list(
                s.scalars(
                    select(Project)
                    .where(
                        or_(
                            Project.director == user,
                            Project.operator == user,
                            Project.reviewer == user,
                        )
                    )
                    .order_by(Project.id.desc())
                    .limit(PROJECTS)
                )
            )

    def _home_project(self, project: Project, user: str) -> HomeProject:
        standing = self.standing(project.id)
        under_way = next(
            (
                run.play
                for run in standing.plays
                if run.status in (PlayStatus.ACTIVE, PlayStatus.PENDING)
            ),
            "finished",
        )
        role = standing.step.role
        theirs = role is not None and _wears(standing.project, user, role)
        return HomeProject(standing.project, str(under_way), standing.step, theirs)

    def home_changes(self, after: int) -> tuple[int, set[str]]:
        """Who may see something new on Home since outbox message `after`: the role holders (and
        editors) of every project with a new notice (a decision, a job's result), progress edits
        aside.
        Returns the newest message id seen, to pass next time; `after` < 0 asks only for that."""
        with self._tx() as s:
            if after < 0:
                return int(s.scalar(select(func.max(OutboxMessage.id))) or 0), set()
            rows = s.execute(
                select(OutboxMessage.id, OutboxMessage.project_id).where(
                    OutboxMessage.id > after, OutboxMessage.kind != "progress"
                )
            ).all()
            newest = max((row.id for row in rows), default=after)
            ids = {row.project_id for row in rows if row.project_id is not None}
            people: set[str] = set()
            for project in s.scalars(select(Project).where(Project.id.in_(ids))):
                people |= {project.director, project.operator, project.reviewer}
            editors = select(Image.editor).where(
                Image.project_id.in_(ids), Image.status == ImageStatus.WITH_EDITOR
            )
            people |= {editor for editor in s.scalars(editors) if editor}
            return newest, people


def _wears(project: Project, user: str, role: Role) -> bool:
    return bool(getattr(project, role.value) == user)


def _cleared(s: Session, channel_id: str, since: datetime) -> int:
    stmt = (
        select(func.count(GateReview.id))
        .join(Project, Project.id == GateReview.project_id)
        .where(
            Project.channel_id == channel_id,
            GateReview.decision == "cleared",
            GateReview.created_at >= since,
        )
    )
    return int(s.scalar(stmt) or 0)
