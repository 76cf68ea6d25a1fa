"""What every use case shares: the unit of work, the one opener, and the rules they all apply.

A use case is a method on one play's class. It opens with `_decide` (load and row-lock the
project, check the role, the pause state and the play order), changes rows, and records the
messages it causes as outbox rows. The decision, its audit entry and its messages commit in
one transaction, so a retry after a dropped connection never applies a decision twice: either
nothing was committed, or the audit entry carries the request's key and `applied` says so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.playbook import blocklist, errors, gpu_cap
from bot.playbook import notices as N
from bot.playbook.presets import ModelPreset, preset_for
from bot.playbook.rates import RateLimits
from bot.playbook.roles import WHO_MAY, May, Roles, declare
from bot.playbook.sequence import Play, PlayStatus, earlier, info
from storage import channels, outbox, queries, queue
from storage.models import (
    AuditEntry,
    ChannelSettings,
    Image,
    Job,
    PlayRun,
    Project,
    Recipe,
    utcnow,
)
from storage.states import PauseReason, ProjectState

PAUSE_HOW_TO_RESUME = {
    "intent": "The Director resumes it by restating the intent in one sentence: `intent <one sentence>`.",
    "reproducibility": "The Operator resumes it by locking a recipe that reproduces: `lock N` with a fixed recipe.",
    "recurring_sendback": "The Operator resumes it by fixing that item in the recipe: lock a new recipe version.",
}
# The Slack request a use case runs for; written on its audit entry so a retry can tell
# whether the first try's transaction committed after all.
REQUEST_KEY: ContextVar[str | None] = ContextVar("atelier_request_key", default=None)


def in_range(name: str, value: float, bounds: tuple[float, float]) -> None:
    low, high = bounds
    if not low <= value <= high:
        raise errors.InvalidInput(f"{name} must be between {low:g} and {high:g} (got {value:g}).")


@dataclass(frozen=True)
class Outcome:
    """What a use case did, plus warnings the person should see."""

    project: Project
    job: Job | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass
class Decision:
    """One use case in flight: its transaction, project, actor and hat, and what it will audit."""

    s: Session
    project: Project
    user: str
    hat: str
    action: str
    detail: dict[str, Any] = field(default_factory=dict)

    def say(self, said: N.Notice) -> None:
        """A notice in the project's thread; bot.slack.notices renders it into words."""
        notice(self.s, self.project, said)

    def post(self, kind: str, **payload: Any) -> None:
        """Any other message the decision causes (a gate message, a new version)."""
        post(self.s, self.project, kind, **payload)


def post(s: Session, project: Project, kind: str, **payload: Any) -> None:
    """Queue a message to the project's thread, in the caller's transaction."""
    outbox.add(s, channel_id=project.channel_id, project_id=project.id, kind=kind, payload=payload)


def post_once(s: Session, project: Project, kind: str, **payload: Any) -> None:
    """A post asked for by a request that decides nothing (so has no audit entry): keyed by
    the request, so an applier that died after its COMMIT can run it again and add nothing."""
    key = REQUEST_KEY.get()
    dedupe = f"request:{key}" if key else None
    outbox.add(
        s,
        channel_id=project.channel_id,
        project_id=project.id,
        kind=kind,
        payload=payload,
        dedupe_key=dedupe,
    )


def notice(s: Session, project: Project, said: N.Notice) -> None:
    post(s, project, "notice", **said.payload())


def refresh_root(s: Session, project: Project) -> None:
    """Queue an in-place update of the project's root message (the play tracker)."""
    post(s, project, "root")


class UseCases:
    """The unit of work and the checks every play's use cases open with.

    Naming: each module's class is `<Module>UseCases` (SprintUseCases, ShipUseCases, …), and
    PlaybookService joins them all under one name.
    """

    # Who may take the decisions this class opens, by the key `_decide` names (roles.WHO_MAY).
    MAY: ClassVar[dict[str, May]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        declare(cls.__name__, cls.__dict__.get("MAY", {}))

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        clock: Callable[[], datetime] = utcnow,
        models: Iterable[str] = ("tiny",),
        families: Mapping[str, str] | None = None,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        # The model names a channel may pick (the runners' registry); never a path.
        self.models = tuple(models)
        self.families = dict(families or {})
        self.rates = RateLimits()

    def preset(self, model: str) -> ModelPreset:
        """A registered model's preset: by the family its entry names, else by its name."""
        return preset_for(model, self.families.get(model))

    @contextmanager
    def _tx(self) -> Iterator[Session]:
        with self.sessions.begin() as session:
            yield session

    @contextmanager
    def _decide(
        self,
        project_id: int,
        user: str,
        action: str,
        *,
        may: str | None = None,
        running: bool = True,
        resolving: tuple[str, ...] = (),
        after: Play | None = None,
    ) -> Iterator[Decision]:
        """Open a decision: row-lock the project, authorize, check pause and order; audit at the end.

        Who may is WHO_MAY[may or action], said nowhere else. The root message is refreshed in
        the same transaction, so the tracker never lags a decision.
        """
        with self._tx() as s:
            project = self._project(s, project_id)
            hat = self._require(project, user, may or action)
            if running:
                self._require_running(project, resolving)
            if after is not None:
                self._require_order(s, project, after)
            decision = Decision(s, project, user, hat, action)
            yield decision
            self._audit(s, project, project.channel_id, user, decision.hat, action, decision.detail)
            refresh_root(s, project)

    def _check_words(self, user: str, texts: Iterable[str | None], action: str, **at: Any) -> None:
        """Prompt text holding the channel's blocked words is refused (bot.playbook.blocklist)."""
        blocklist.guard(self.sessions, self.clock, user=user, texts=texts, action=action, **at)

    def authorize(self, project_id: int, user: str, action: str) -> None:
        """Refuse early, before an adapter downloads or decodes anything for someone without the role."""
        with self._tx() as s:
            self._require(self._project(s, project_id), user, action)

    def applied(self, request_key: str) -> bool:
        """Whether a decision for this Slack request already committed (see REQUEST_KEY)."""
        with self._tx() as s:
            found = s.scalars(
                select(AuditEntry.id).where(AuditEntry.request_key == request_key).limit(1)
            ).first()
            return found is not None

    # ---- loading ------------------------------------------------------------------------

    def _settings(self, s: Session, channel_id: str) -> ChannelSettings:
        return channels.ensure(s, channel_id)

    def _project(self, s: Session, project_id: int) -> Project:
        """The project, row-locked: decisions in one project are serialized (lost updates otherwise)."""
        project = s.get(Project, project_id, with_for_update=True, populate_existing=True)
        if project is None:
            raise errors.NotFound(
                f"There is no project {project_id}. `/atelier status` lists this channel's projects."
            )
        return project

    def _play(self, s: Session, project: Project, play: Play) -> PlayRun:
        return s.scalars(
            select(PlayRun).where(PlayRun.project_id == project.id, PlayRun.play == play.value)
        ).one()

    def _image(self, s: Session, project: Project, number: int) -> Image:
        image = s.scalars(
            select(Image).where(Image.project_id == project.id, Image.number == number)
        ).first()
        if image is None:
            raise errors.NotFound(
                f"This project has no image #{number}. Numbers are on the tiles of each contact sheet."
            )
        return image

    def _latest_recipe(self, s: Session, project_id: int) -> Recipe | None:
        return s.scalars(
            select(Recipe).where(Recipe.project_id == project_id).order_by(Recipe.version.desc())
        ).first()

    @staticmethod
    def _root_of(image: Image) -> Image:
        """The first generation of the image's lineage: budgets and recipes are counted there."""
        return image.root or image

    # ---- rules --------------------------------------------------------------------------

    @staticmethod
    def _roles(project: Project) -> Roles:
        return Roles(project.director, project.operator, project.reviewer)

    def _require(self, project: Project, user: str, action: str) -> str:
        """Authorize in the service, by WHO_MAY[action]; returns the hat to record."""
        may, roles = WHO_MAY[action], self._roles(project)
        held = [role for role in may.roles if roles.holder(role) == user]
        if not held:
            raise errors.NotAuthorized(may.refusal(roles, user))
        return held[0].value

    def _require_running(self, project: Project, resolving: tuple[str, ...] = ()) -> None:
        if project.state == "paused" and project.pause_reason not in resolving:
            raise errors.ProjectPaused(
                f"This project is paused: {project.pause_detail}. "
                + PAUSE_HOW_TO_RESUME.get(project.pause_reason or "", "")
            )

    def _require_order(self, s: Session, project: Project, play: Play) -> None:
        for before in earlier(play):
            run = self._play(s, project, before)
            if run.status not in (PlayStatus.DONE, PlayStatus.SKIPPED):
                raise errors.OutOfOrder(
                    f"The {info(play).title} comes after the {info(before).title}, which is {run.status}: "
                    f"it is done when {info(before).done_when}. The Director may skip it deliberately: "
                    f"`skip {before.value} <reason>`."
                )

    def _require_cooloff(self, s: Session, project: Project, user: str) -> None:
        last = queries.last_generation_at(s, project.id, user)
        if last is None:
            return
        ready = last + timedelta(minutes=project.review_cooloff_minutes)
        now = self.clock()
        if now < ready:
            minutes = int((ready - now).total_seconds() // 60) + 1
            raise errors.CooloffActive(
                f"You generated in this project {int((now - last).total_seconds() // 60)} min ago. "
                f"Reviewing is a separate decision: switch hats in {minutes} min, or ask another Reviewer."
            )

    def _spend_budget(
        self, s: Session, project: Project, image: Image, count: int = 1
    ) -> list[str]:
        """Refuse `count` more generations in the image's lineage past its budget; warn at 80 %.

        Spent is what is stored plus what queued and running jobs of the lineage will make
        (`lineage` tags them), under the project's row lock: ten quick clicks count ten times."""
        root = self._root_of(image)
        budget = root.budget or project.iteration_budget
        spent = queries.lineage_attempts(s, root.id) + queries.lineage_pending(
            s, project.id, root.id
        )
        if spent + count > budget:
            raise errors.BudgetExhausted(
                f"#{image.number} has used {spent} of its iteration budget of {budget} generations"
                f"{f'; {count} more would pass it' if spent < budget else ''}. "
                f"The Director can raise it: `budget {image.number} {max(budget + 4, spent + count)}`."
            )
        if spent + count >= 0.8 * budget:
            return [f"#{image.number} will have used {spent + count} of its {budget} iterations."]
        return []

    def lineage(self, image: Image) -> dict[str, int]:
        """The params that tie a job to the lineage whose budget it spends (see _spend_budget)."""
        return {queries.LINEAGE: self._root_of(image).id}

    # ---- effects ------------------------------------------------------------------------

    @staticmethod
    def _start(run: PlayRun, user: str, hat: str, now: datetime) -> None:
        if run.status in (PlayStatus.PENDING, PlayStatus.SKIPPED):
            run.status, run.actor, run.hat, run.started_at = PlayStatus.ACTIVE, user, hat, now

    def _finish(self, s: Session, project: Project, play: Play) -> PlayRun:
        run = self._play(s, project, play)
        run.status, run.finished_at = PlayStatus.DONE, self.clock()
        return run

    def _enqueue(
        self,
        s: Session,
        project: Project,
        user: str,
        kind: str,
        params: dict[str, Any],
        *,
        total: int | None = None,
        batch_key: str = "",
    ) -> Job:
        count = total if total is not None else len(params.get("images", [])) or 1
        settings = self._settings(s, project.channel_id)
        limit = settings.queue_limit_per_user
        queries.lock_user(s, user)  # two projects' requests from one person count one at a time
        queued = queries.queued_images_for(s, user)
        if queued + count > limit:
            raise errors.QueueLimit(
                f"You have {queued} images queued; this would make {queued + count}, over your limit of {limit}. "
                "Wait for them to finish or `cancel` some."
            )
        gpu_cap.check(s, settings, params, count, self.clock())
        job = queue.enqueue(
            s,
            channel_id=project.channel_id,
            project_id=project.id,
            kind=kind,
            params=params,
            created_by=user,
            total=count,
            batch_key=batch_key,
        )
        job.created_at = self.clock()
        return job

    def _pause(self, s: Session, project: Project, reason: str, detail: str) -> None:
        project.state = ProjectState.PAUSED
        project.pause_reason, project.pause_detail = PauseReason(reason), detail
        project.paused_at = self.clock()
        why = {"reason": reason, "detail": detail}
        self._audit(s, project, project.channel_id, "atelier", "system", "pause", why)
        resume = PAUSE_HOW_TO_RESUME.get(reason, "")
        notice(s, project, N.Text(text=f":double_vertical_bar: Paused: {detail}. {resume}"))

    def _resume(self, s: Session, project: Project, user: str, hat: str) -> None:
        reason = project.pause_reason
        project.state = ProjectState.ACTIVE
        project.pause_reason = project.pause_detail = project.paused_at = None
        self._audit(s, project, project.channel_id, user, hat, "resume", {"reason": reason})
        notice(s, project, N.Text(text=":arrow_forward: Resumed: the pause is resolved."))

    def _audit(
        self,
        s: Session,
        project: Project | None,
        channel_id: str,
        user: str,
        hat: str,
        action: str,
        detail: dict[str, Any],
    ) -> None:
        s.add(
            AuditEntry(
                project_id=project.id if project else None,
                channel_id=channel_id,
                actor=user,
                hat=hat,
                action=action,
                detail=detail,
                request_key=REQUEST_KEY.get(),
                created_at=self.clock(),
            )
        )
