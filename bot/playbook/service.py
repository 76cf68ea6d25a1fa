"""The playbook's use cases; every rule of the design is enforced here, not in the UI."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.playbook import errors
from bot.playbook.gate import CHECKLIST, REVIEWER_ITEMS, SHORT, GateItem, Hint, hints
from bot.playbook.intent import is_one_sentence
from bot.playbook.metrics import Metric, all_metrics
from bot.playbook.plays import ORDER, Play, PlayStatus, earlier, info
from bot.playbook.presets import preset_for
from bot.playbook.recipe import RecipeCard, check_drift, render, slot_of
from bot.playbook.roles import Role, Roles
from storage import channels, outbox, prompt_log, queries, queue
from storage.models import (
    AuditEntry,
    ChannelSettings,
    DigestRun,
    GateDraft,
    GateReview,
    Image,
    Job,
    Nudge,
    PlayRun,
    ProcessedEvent,
    Project,
    Ranking,
    Recipe,
    SlackMessage,
    utcnow,
)

PAUSE_HOW_TO_RESUME = {
    "intent": "The Director resumes it by restating the intent in one sentence: `intent <one sentence>`.",
    "reproducibility": "The Operator resumes it by locking a recipe that reproduces: `lock N` with a fixed recipe.",
    "recurring_sendback": "The Operator resumes it by fixing that item in the recipe: lock a new recipe version.",
}
DEFAULT_NEGATIVE = "blurry, lowres, jpeg artifacts, watermark, text, deformed"
SPRINT_IMAGES = (15, 30)
SPRINT_STYLES = (3, 5)
RANKED = (3, 5)
VOLUME_VALUES = (1, 20)
VOLUME_PER_VALUE = (1, 16)
VOLUME_MAX_IMAGES = 200
REFINE_STRENGTH = (0.05, 0.5)
INPAINT_STRENGTH = (0.3, 1.0)
GRID = 3


@dataclass(frozen=True)
class Outcome:
    """What a use case did, plus warnings the person should see."""

    project: Project
    job: Job | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class GateView:
    image: Image
    hints: list[Hint]
    logged: bool
    checklist: dict[GateItem, str]


@dataclass(frozen=True)
class DigestData:
    channel_id: str
    now: datetime
    days: int
    current: list[Metric]
    previous: list[Metric]
    trend: list[tuple[datetime, float | None, float | None]]
    moved: list[tuple[Project, int, list[str]]]
    paused: list[Project]


@dataclass(frozen=True)
class Applied:
    """A finished job as the playbook understood it."""

    job: Job
    project: Project | None
    images: list[Image]
    recipe: Recipe | None = None
    paused: bool = False


def _hash(data: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:32]


def parse_cells(text: str) -> list[int]:
    """Grid cells as `a1 b2` (column letter, row number) or `1 5 9`; returns 0-based indexes."""
    cells: list[int] = []
    for token in text.replace(",", " ").split():
        token = token.strip().lower()
        if len(token) == 2 and token[0] in "abc" and token[1] in "123":
            cells.append((int(token[1]) - 1) * GRID + "abc".index(token[0]))
        elif token.isdigit() and 1 <= int(token) <= GRID * GRID:
            cells.append(int(token) - 1)
        else:
            raise errors.InvalidInput(
                f"`{token}` is not a grid cell. Use a1–c3 (column a–c, row 1–3) or 1–9."
            )
    if not cells:
        raise errors.InvalidInput("Pick at least one grid cell to repair, e.g. `a1 b1`.")
    return sorted(set(cells))


def _in_range(name: str, value: float, bounds: tuple[float, float]) -> None:
    low, high = bounds
    if not low <= value <= high:
        raise errors.InvalidInput(f"{name} must be between {low:g} and {high:g} (got {value:g}).")


class PlaybookService:
    """One method per use case; each runs in its own transaction."""

    def __init__(
        self, sessions: sessionmaker[Session], *, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.sessions = sessions
        self.clock = clock

    @contextmanager
    def _tx(self) -> Iterator[Session]:
        with self.sessions.begin() as session:
            yield session

    # ---- settings and roles -------------------------------------------------------------

    def settings(self, channel_id: str) -> ChannelSettings:
        with self._tx() as s:
            return self._settings(s, channel_id)

    def _settings(self, s: Session, channel_id: str) -> ChannelSettings:
        return channels.ensure(s, channel_id)

    def update_settings(self, channel_id: str, user: str, **changes: Any) -> ChannelSettings:
        """Channel defaults; once a Director is set, only they may change them."""
        allowed = {
            "director",
            "operator",
            "reviewer",
            "iteration_budget",
            "review_cooloff_minutes",
            "gate_wait_hours",
            "digest_time",
            "digest_tz",
            "model",
            "queue_limit_per_user",
            "repro_tolerance",
            "repro_max_tolerance",
        }
        unknown = set(changes) - allowed
        if unknown:
            raise errors.InvalidInput(
                f"Unknown setting {', '.join(sorted(unknown))}. Settings: {', '.join(sorted(allowed))}."
            )
        with self._tx() as s:
            current = self._settings(s, channel_id)
            if current.director and current.director != user:
                raise errors.NotAuthorized(
                    f"Only the channel's Director (<@{current.director}>) can change its settings."
                )
            for name in (
                "iteration_budget",
                "review_cooloff_minutes",
                "gate_wait_hours",
                "queue_limit_per_user",
            ):
                if name in changes:
                    changes[name] = int(changes[name])
                    _in_range(
                        name, changes[name], (0 if name == "review_cooloff_minutes" else 1, 10_000)
                    )
            for name, value in changes.items():
                setattr(current, name, value)
            self._audit(s, None, channel_id, user, "director", "update_settings", changes)
            return current

    def set_roles(
        self,
        project_id: int,
        user: str,
        *,
        director: str | None = None,
        operator: str | None = None,
        reviewer: str | None = None,
    ) -> Project:
        with self._tx() as s:
            project = self._project(s, project_id)
            hat = self._require(project, user, Role.DIRECTOR, "reassign roles")
            changes = {
                k: v
                for k, v in {
                    "director": director,
                    "operator": operator,
                    "reviewer": reviewer,
                }.items()
                if v
            }
            for name, value in changes.items():
                setattr(project, name, value)
            self._audit(s, project, project.channel_id, user, hat, "set_roles", changes)
            return project

    # ---- project ------------------------------------------------------------------------

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
        intent = " ".join(intent.split())
        if not intent:
            raise errors.InvalidInput(
                "Start a project with its intent in one sentence, e.g. "
                "`/atelier new Hero art for the spring courier campaign, warm and hopeful`."
            )
        with self._tx() as s:
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
            warnings = []
            if not is_one_sentence(intent):
                self._pause(
                    s, project, "intent", "the intent is not one sentence — go back to the brief"
                )
                warnings.append(
                    "The intent is more than one sentence, so the project is paused. "
                    + PAUSE_HOW_TO_RESUME["intent"]
                )
            return Outcome(project, warnings=warnings)

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

    def projects(self, channel_id: str) -> list[Project]:
        with self._tx() as s:
            stmt = select(Project).where(Project.channel_id == channel_id).order_by(Project.id)
            return list(s.scalars(stmt))

    def set_intent(self, project_id: int, user: str, intent: str) -> Outcome:
        intent = " ".join(intent.split())
        with self._tx() as s:
            project = self._project(s, project_id)
            hat = self._require(project, user, Role.DIRECTOR, "restate the intent")
            if not is_one_sentence(intent):
                raise errors.InvalidInput(
                    "Still not one sentence. Say what the images are for in a single sentence."
                )
            project.intent = intent
            self._audit(s, project, project.channel_id, user, hat, "set_intent", {"intent": intent})
            if project.pause_reason == "intent":
                self._resume(s, project, user, hat)
            return Outcome(project)

    def plays(self, project_id: int) -> list[PlayRun]:
        with self._tx() as s:
            stmt = select(PlayRun).where(PlayRun.project_id == project_id)
            runs = {run.play: run for run in s.scalars(stmt)}
            return [runs[play.value] for play in ORDER]

    def skip_play(self, project_id: int, user: str, play: Play, reason: str) -> Outcome:
        reason = reason.strip()
        with self._tx() as s:
            project = self._project(s, project_id)
            hat = self._require(project, user, Role.DIRECTOR, f"skip the {info(play).title}")
            self._require_running(project)
            if len(reason) < 3:
                raise errors.InvalidInput(
                    f"Say why you skip the {info(play).title}, e.g. "
                    f"`skip {play.value} quick social graphic: sprint + gate only`."
                )
            run = self._play(s, project, play)
            if run.status == PlayStatus.DONE:
                raise errors.OutOfOrder(
                    f"The {info(play).title} is already done; there is nothing to skip."
                )
            run.status = PlayStatus.SKIPPED
            run.skip_reason = reason
            run.actor, run.hat, run.finished_at = user, hat, self.clock()
            self._audit(
                s,
                project,
                project.channel_id,
                user,
                hat,
                "skip_play",
                {"play": play.value, "reason": reason},
            )
            return Outcome(project)

    # ---- play 1: concept sprint -----------------------------------------------------------

    def run_sprint(
        self, project_id: int, user: str, subject: str, styles: list[str], count: int = 15
    ) -> Outcome:
        subject = " ".join(subject.split())
        styles = [" ".join(style.split()) for style in styles if style.strip()]
        if not subject:
            raise errors.InvalidInput(
                "Name the subject after the styles: `sprint watercolor | flat vector | film photo — a courier at dawn`."
            )
        if not SPRINT_STYLES[0] <= len(styles) <= SPRINT_STYLES[1]:
            raise errors.InvalidInput(
                f"A concept sprint explores 3 to 5 distinct styles (you gave {len(styles)}), separated by `|`."
            )
        if len({style.lower() for style in styles}) != len(styles):
            raise errors.InvalidInput(
                "The styles must be distinct; breadth is the point of a sprint."
            )
        _in_range("The number of variations", count, SPRINT_IMAGES)
        with self._tx() as s:
            project = self._project(s, project_id)
            hat = self._require(project, user, Role.OPERATOR, "run a concept sprint")
            self._require_running(project)
            run = self._play(s, project, Play.SPRINT)
            if project.direction_approved_at is not None:
                raise errors.OutOfOrder(
                    "The Director already approved a direction. Turn it into a recipe with `lock`."
                )
            preset = preset_for(project.model)
            base_seed = secrets.randbelow(2**31 - count)
            images = [
                {
                    "prompt": f"{subject}, {styles[i % len(styles)]}",
                    "negative_prompt": "",
                    "style": styles[i % len(styles)],
                    "slot_value": subject,
                    "seed": base_seed + i,
                }
                for i in range(count)
            ]
            settings = {
                "model": project.model,
                "scheduler": preset.scheduler,
                "steps": preset.draft_steps,
                "guidance": preset.guidance,
                "width": preset.size,
                "height": preset.size,
            }
            job = self._enqueue(
                s,
                project,
                user,
                "sprint",
                {"settings": settings, "images": images, "subject": subject, "styles": styles},
            )
            self._start(run, user, hat, self.clock())
            self._audit(
                s,
                project,
                project.channel_id,
                user,
                hat,
                "run_sprint",
                {"job": job.id, "count": count, "styles": styles},
            )
            return Outcome(project, job)

    def rank(self, project_id: int, user: str, numbers: list[int]) -> Ranking:
        if len(set(numbers)) != len(numbers):
            raise errors.InvalidInput("Each candidate can be ranked once.")
        if not RANKED[0] <= len(numbers) <= RANKED[1]:
            raise errors.InvalidInput(
                f"Rank 3 to 5 candidates, best first (you gave {len(numbers)}), e.g. `rank 7 2 11`."
            )
        with self._tx() as s:
            project = self._project(s, project_id)
            hat = self._require(project, user, Role.DIRECTOR, "rank the moodboard")
            self._require_running(project)
            images = [self._image(s, project, number) for number in numbers]
            not_sprint = [image.number for image in images if image.play != Play.SPRINT]
            if not_sprint:
                raise errors.InvalidInput(
                    f"Only sprint candidates can be ranked; #{', #'.join(map(str, not_sprint))} are not."
                )
            ranking = Ranking(
                project_id=project.id,
                image_ids=[image.id for image in images],
                ranked_by=user,
                created_at=self.clock(),
            )
            s.add(ranking)
            self._audit(s, project, project.channel_id, user, hat, "rank", {"numbers": numbers})
            return ranking

    def approve_direction(self, project_id: int, user: str) -> Outcome:
        with self._tx() as s:
            project = self._project(s, project_id)
            hat = self._require(project, user, Role.DIRECTOR, "approve a direction")
            self._require_running(project)
            ranking = s.scalars(
                select(Ranking).where(Ranking.project_id == project.id).order_by(Ranking.id.desc())
            ).first()
            if ranking is None:
                raise errors.OutOfOrder(
                    "Rank 3–5 candidates first (`rank 7 2 11`); the top one becomes the direction."
                )
            if project.direction_approved_at is not None:
                raise errors.OutOfOrder("A direction is already approved.")
            now = self.clock()
            project.direction_image_id = ranking.image_ids[0]
            project.direction_approved_at = now
            run = self._play(s, project, Play.SPRINT)
            run.status, run.finished_at = PlayStatus.DONE, now
            image = s.get(Image, ranking.image_ids[0])
            self._audit(
                s,
                project,
                project.channel_id,
                user,
                hat,
                "approve_direction",
                {"image": image.number if image else None},
            )
            return Outcome(project)

    # ---- play 2: lock-in pass -----------------------------------------------------------

    def lock_recipe(
        self,
        project_id: int,
        user: str,
        *,
        number: int | None = None,
        template: str | None = None,
        negative: str | None = None,
        steps: int | None = None,
        guidance: float | None = None,
        seed: int | None = None,
        size: int | None = None,
    ) -> Outcome:
        with self._tx() as s:
            project = self._project(s, project_id)
            hat = self._require(project, user, Role.OPERATOR, "lock a recipe")
            self._require_running(project, resolving=("reproducibility", "recurring_sendback"))
            self._require_order(s, project, Play.LOCK)
            if number is None and project.direction_image_id is None:
                raise errors.InvalidInput("Name the image to lock, e.g. `lock 7`.")
            source = (
                self._image(s, project, number)
                if number is not None
                else s.get(Image, project.direction_image_id)
            )
            assert source is not None
            preset = preset_for(project.model)
            if template is None:
                if not source.slot_value or source.slot_value not in source.prompt:
                    raise errors.InvalidInput(
                        f"Image #{source.number} has no subject to turn into a slot. Give a template: "
                        f"`lock {source.number} template a {{subject}} at dawn, watercolor`."
                    )
                template = source.prompt.replace(source.slot_value, "{subject}", 1)
                slot_value = source.slot_value
            else:
                slot_value = source.slot_value or ""
            slot_name = slot_of(template)
            steps = preset.quality_steps if steps is None else steps
            size = size or max(source.width, source.height, preset.size)
            guidance = preset.guidance if guidance is None else guidance
            _in_range("steps", steps, (1, preset.max_steps))
            _in_range("size", size, (64, preset.max_size))
            _in_range("guidance", guidance, (0, 30))
            if size % 8:
                raise errors.InvalidInput(f"size must be a multiple of 8 (got {size}).")
            settings = self._settings(s, project.channel_id)
            version = (
                s.scalar(select(func.max(Recipe.version)).where(Recipe.project_id == project.id))
                or 0
            ) + 1
            recipe = Recipe(
                project_id=project.id,
                version=version,
                source_image_id=source.id,
                model_id=project.model,
                scheduler=preset.scheduler,
                steps=steps,
                guidance=guidance,
                width=size,
                height=size,
                seed=source.seed if seed is None else seed,
                prompt_template=template,
                slot_name=slot_name,
                slot_value=slot_value,
                negative_prompt=DEFAULT_NEGATIVE if negative is None else negative,
                tolerance=settings.repro_tolerance,
                max_tolerance=settings.repro_max_tolerance,
                locked_by=user,
                locked_at=self.clock(),
            )
            if recipe.seed is None:
                raise errors.InvalidInput("This image has no seed; give one: `lock 7 seed 1234`.")
            s.add(recipe)
            s.flush()
            card = self.card(recipe)
            job = self._enqueue(
                s,
                project,
                user,
                "hero",
                {"recipe_id": recipe.id, "card": card.as_dict(), "parent_id": source.id},
                total=2,
            )
            self._start(self._play(s, project, Play.LOCK), user, hat, self.clock())
            self._audit(
                s,
                project,
                project.channel_id,
                user,
                hat,
                "lock_recipe",
                {"version": version, "card": card.as_dict()},
            )
            return Outcome(project, job)

    @staticmethod
    def card(recipe: Recipe) -> RecipeCard:
        return RecipeCard(
            model_id=recipe.model_id,
            model_hash=recipe.model_hash,
            scheduler=recipe.scheduler,
            steps=recipe.steps,
            guidance=recipe.guidance,
            width=recipe.width,
            height=recipe.height,
            seed=recipe.seed,
            prompt_template=recipe.prompt_template,
            slot_name=recipe.slot_name,
            slot_value=recipe.slot_value,
            negative_prompt=recipe.negative_prompt,
        )

    def recipe(self, project_id: int) -> Recipe | None:
        with self._tx() as s:
            return self._latest_recipe(s, project_id)

    def recipes(self, project_id: int) -> list[Recipe]:
        with self._tx() as s:
            return list(
                s.scalars(
                    select(Recipe).where(Recipe.project_id == project_id).order_by(Recipe.version)
                )
            )

    def approve_hero(self, project_id: int, user: str) -> Outcome:
        with self._tx() as s:
            project = self._project(s, project_id)
            hat = self._require(project, user, Role.DIRECTOR, "approve the hero")
            self._require_running(project)
            recipe = self._latest_recipe(s, project.id)
            if recipe is None or recipe.hero_image_id is None:
                raise errors.OutOfOrder(
                    "There is no hero yet. The Operator renders one with `lock N`."
                )
            if not recipe.reproducible:
                raise errors.OutOfOrder(
                    "This hero did not reproduce from its recipe card, so it cannot be approved. "
                    "The recipe isn't real yet: fix it and lock again."
                )
            now = self.clock()
            if project.hero_approved_at is None:
                project.hero_approved_at = now
            run = self._play(s, project, Play.LOCK)
            run.status, run.finished_at = PlayStatus.DONE, now
            hero = s.get(Image, recipe.hero_image_id)
            if hero is not None and hero.kept_at is None:
                hero.status, hero.kept_at = "kept", now
            self._audit(
                s,
                project,
                project.channel_id,
                user,
                hat,
                "approve_hero",
                {"recipe": recipe.version},
            )
            return Outcome(project)

    # ---- play 3: volume run -------------------------------------------------------------

    def run_volume(
        self,
        project_id: int,
        user: str,
        values: list[str],
        per_value: int = 1,
        overrides: dict[str, Any] | None = None,
    ) -> Outcome:
        values = [" ".join(value.split()) for value in values if value.strip()]
        _in_range("The number of slot values", len(values), VOLUME_VALUES)
        _in_range("Images per value", per_value, VOLUME_PER_VALUE)
        if len(values) * per_value > VOLUME_MAX_IMAGES:
            raise errors.InvalidInput(
                f"A volume run is at most {VOLUME_MAX_IMAGES} images; split it."
            )
        if any("{" in value or "}" in value for value in values):
            raise errors.InvalidInput("Slot values are plain text; braces belong to the template.")
        with self._tx() as s:
            project = self._project(s, project_id)
            hat = self._require(project, user, Role.OPERATOR, "run a volume batch")
            self._require_running(project)
            recipe = self._latest_recipe(s, project.id)
            if recipe is None:
                raise errors.OutOfOrder(
                    "A volume run needs a locked recipe, and this project has none. "
                    "Lock one first with `lock N` (the lock-in pass)."
                )
            if recipe.reproducible is None:
                raise errors.OutOfOrder(
                    "The recipe's reproducibility check is still running; try again when the hero posts."
                )
            if not recipe.reproducible:
                raise errors.OutOfOrder(
                    "The locked recipe does not reproduce its hero, so it isn't real yet. Lock a fixed one."
                )
            if self._play(s, project, Play.LOCK).status != PlayStatus.DONE:
                raise errors.OutOfOrder(
                    "The Director hasn't approved the hero yet; volume waits for that approval."
                )
            self._require_order(s, project, Play.VOLUME)
            card = self.card(recipe)
            check_drift(card, overrides or {})
            images = [
                {
                    "prompt": render(recipe.prompt_template, value),
                    "negative_prompt": recipe.negative_prompt,
                    "slot_value": value,
                    "seed": recipe.seed + i,
                }
                for value in values
                for i in range(per_value)
            ]
            settings = {
                "model": recipe.model_id,
                "scheduler": recipe.scheduler,
                "steps": recipe.steps,
                "guidance": recipe.guidance,
                "width": recipe.width,
                "height": recipe.height,
            }
            job = self._enqueue(
                s,
                project,
                user,
                "volume",
                {"settings": settings, "images": images, "recipe_id": recipe.id},
                batch_key=_hash(settings),
            )
            self._start(self._play(s, project, Play.VOLUME), user, hat, self.clock())
            self._audit(
                s,
                project,
                project.channel_id,
                user,
                hat,
                "run_volume",
                {"job": job.id, "values": values, "per_value": per_value},
            )
            return Outcome(project, job)

    def mark(self, project_id: int, user: str, *, keep: list[int], cull: list[int]) -> Outcome:
        """Keep or cull images; the Operator culls aggressively."""
        if set(keep) & set(cull):
            raise errors.InvalidInput("An image cannot be both kept and culled.")
        with self._tx() as s:
            project = self._project(s, project_id)
            hat = self._require(project, user, Role.OPERATOR, "keep or cull images")
            self._require_running(project)
            now = self.clock()
            kept_volume = False
            for number in keep:
                image = self._image(s, project, number)
                if image.status in ("shipped", "with_editor"):
                    continue
                image.status = "kept"
                image.kept_at = image.kept_at or now
                kept_volume = kept_volume or image.play == Play.VOLUME
            for number in cull:
                image = self._image(s, project, number)
                if image.status == "shipped":
                    raise errors.InvalidInput(f"#{number} has shipped; it cannot be culled.")
                image.status, image.kept_at = "culled", None
            if kept_volume:
                run = self._play(s, project, Play.VOLUME)
                if run.status == PlayStatus.ACTIVE:
                    run.status, run.finished_at = PlayStatus.DONE, now
            self._audit(
                s, project, project.channel_id, user, hat, "mark", {"keep": keep, "cull": cull}
            )
            return Outcome(project)

    def upscale_keepers(
        self, project_id: int, user: str, numbers: list[int] | None = None
    ) -> Outcome:
        with self._tx() as s:
            project = self._project(s, project_id)
            hat = self._require(project, user, Role.OPERATOR, "upscale keepers")
            self._require_running(project)
            if numbers:
                images = [self._image(s, project, number) for number in numbers]
                not_kept = [image.number for image in images if image.status != "kept"]
                if not_kept:
                    raise errors.InvalidInput(
                        f"Only keepers are upscaled; keep #{', #'.join(map(str, not_kept))} first."
                    )
            else:
                upscaled = select(Image.parent_id).where(
                    Image.kind == "upscale", Image.parent_id.is_not(None)
                )
                images = list(
                    s.scalars(
                        select(Image)
                        .where(
                            Image.project_id == project.id,
                            Image.status == "kept",
                            Image.play == Play.VOLUME,
                            Image.id.not_in(upscaled),
                        )
                        .order_by(Image.number)
                    )
                )
            if not images:
                raise errors.InvalidInput(
                    "There are no keepers left to upscale. Keep some with the batch's checkboxes first."
                )
            job = self._enqueue(
                s,
                project,
                user,
                "upscale",
                {"images": [{"parent_id": image.id, "scale": 2} for image in images]},
                total=len(images),
            )
            self._audit(
                s,
                project,
                project.channel_id,
                user,
                hat,
                "upscale",
                {"numbers": [i.number for i in images]},
            )
            return Outcome(project, job)

    # ---- play 4: fix-and-finish ---------------------------------------------------------

    def fix_image(
        self,
        project_id: int,
        user: str,
        number: int,
        *,
        mode: str,
        instruction: str = "",
        cells: list[int] | None = None,
        mask_hash: str | None = None,
        mask_coverage: float | None = None,
        strength: float | None = None,
    ) -> Outcome:
        if mode not in ("inpaint", "refine"):
            raise errors.InvalidInput(
                "A fix is `inpaint` (a region) or `refine` (low-strength image-to-image)."
            )
        warnings: list[str] = []
        if mode == "refine":
            strength = 0.3 if strength is None else strength
            _in_range("Refine strength", strength, REFINE_STRENGTH)
            coverage = None
        else:
            strength = 0.85 if strength is None else strength
            _in_range("Inpaint strength", strength, INPAINT_STRENGTH)
            if mask_hash is None and not cells:
                raise errors.InvalidInput(
                    "Say which region to repair: grid cells like `a1 b1`, or upload a mask."
                )
            coverage = mask_coverage if mask_hash else len(cells or []) / (GRID * GRID)
            if coverage is not None and coverage > 1 / 3:
                warnings.append(
                    f"The region covers {coverage:.0%} of the image — more than a third. "
                    "The playbook's rule: regenerate rather than repair."
                )
        with self._tx() as s:
            project = self._project(s, project_id)
            hat = self._require(project, user, Role.OPERATOR, "repair an image")
            self._require_running(project)
            self._require_order(s, project, Play.FIX)
            image = self._image(s, project, number)
            if image.status == "culled":
                raise errors.InvalidInput(
                    f"#{number} was culled; keep it again before repairing it."
                )
            warnings += self._spend_budget(s, project, image)
            job = self._enqueue(
                s,
                project,
                user,
                "fix",
                {
                    "parent_id": image.id,
                    "mode": mode,
                    "instruction": instruction.strip(),
                    "cells": cells or [],
                    "mask_hash": mask_hash,
                    "strength": strength,
                    "coverage": coverage,
                },
            )
            self._start(self._play(s, project, Play.FIX), user, hat, self.clock())
            self._audit(
                s,
                project,
                project.channel_id,
                user,
                hat,
                "fix_image",
                {"image": number, "mode": mode, "strength": strength},
            )
            return Outcome(project, job, warnings)

    def raise_budget(self, project_id: int, user: str, number: int, budget: int) -> Outcome:
        with self._tx() as s:
            project = self._project(s, project_id)
            hat = self._require(project, user, Role.DIRECTOR, "raise an iteration budget")
            image = self._image(s, project, number)
            root = s.get(Image, image.root_id) or image
            spent = queries.lineage_attempts(s, root.id)
            if budget <= spent:
                raise errors.InvalidInput(
                    f"#{number} has already spent {spent}; a new budget must be higher."
                )
            root.budget = budget
            self._audit(
                s,
                project,
                project.channel_id,
                user,
                hat,
                "raise_budget",
                {"image": number, "budget": budget},
            )
            return Outcome(project)

    def budget_of(self, project_id: int, number: int) -> tuple[int, int]:
        """(spent, budget) for the lineage an image belongs to."""
        with self._tx() as s:
            project = self._project(s, project_id)
            image = self._image(s, project, number)
            root = s.get(Image, image.root_id) or image
            return queries.lineage_attempts(s, root.id), root.budget or project.iteration_budget

    def hand_off(self, project_id: int, user: str, number: int, editor: str) -> Outcome:
        with self._tx() as s:
            project = self._project(s, project_id)
            hat = self._require(project, user, Role.OPERATOR, "hand an image to an editor")
            self._require_running(project)
            image = self._image(s, project, number)
            if image.status in ("culled", "shipped"):
                raise errors.InvalidInput(f"#{number} is {image.status}; hand off a kept image.")
            image.status, image.editor = "with_editor", editor
            self._start(self._play(s, project, Play.FIX), user, hat, self.clock())
            self._audit(
                s,
                project,
                project.channel_id,
                user,
                hat,
                "hand_off",
                {"image": number, "editor": editor},
            )
            return Outcome(project)

    def record_editor_file(
        self,
        project_id: int,
        user: str,
        *,
        file_hash: str,
        width: int,
        height: int,
        number: int | None = None,
    ) -> Image:
        """A file the assigned editor uploads in the thread becomes the image's next version."""
        with self._tx() as s:
            project = self._project(s, project_id)
            stmt = select(Image).where(
                Image.project_id == project.id, Image.status == "with_editor", Image.editor == user
            )
            if number is not None:
                stmt = stmt.where(Image.number == number)
            waiting = list(s.scalars(stmt))
            if not waiting:
                raise errors.NotAuthorized(
                    "No image is handed to you in this project, so this file was not taken as a new version."
                )
            if len(waiting) > 1:
                raise errors.InvalidInput(
                    "Several images are with you; say which this file is for: reply `version #N` with the file."
                )
            original = waiting[0]
            if (width, height) != (original.width, original.height):
                raise errors.InvalidInput(
                    f"The file is {width}×{height}, but #{original.number} is {original.width}×{original.height}. "
                    "Export it at the same size."
                )
            version = prompt_log.add_image(
                s,
                project.id,
                parent=original,
                play=Play.FIX.value,
                kind="editor",
                status="kept",
                file_hash=file_hash,
                created_by=user,
                width=width,
                height=height,
                prompt=original.prompt,
                negative_prompt=original.negative_prompt,
                recipe_id=original.recipe_id,
                slot_value=original.slot_value,
                created_at=self.clock(),
            )
            version.kept_at = self.clock()
            original.status = "kept"
            run = self._play(s, project, Play.FIX)
            run.status, run.finished_at = PlayStatus.DONE, self.clock()
            self._audit(
                s,
                project,
                project.channel_id,
                user,
                "editor",
                "editor_version",
                {"image": original.number, "version": version.number},
            )
            return version

    # ---- play 5: review gate ------------------------------------------------------------

    def submit_for_review(self, project_id: int, user: str, number: int) -> GateView:
        with self._tx() as s:
            project = self._project(s, project_id)
            roles = self._roles(project)
            if not roles.of(user):
                raise errors.NotAuthorized(
                    "Only the project's Director, Operator or Reviewer can send an image to the gate."
                )
            self._require_running(project)
            self._require_order(s, project, Play.GATE)
            image = self._image(s, project, number)
            if image.status in ("culled", "shipped"):
                raise errors.InvalidInput(
                    f"#{number} is {image.status}; only candidates go to the gate."
                )
            run = self._play(s, project, Play.GATE)
            if run.status == PlayStatus.PENDING:
                self._start(run, user, roles.of(user)[0].value, self.clock())
            self._audit(
                s,
                project,
                project.channel_id,
                user,
                roles.of(user)[0].value,
                "submit_for_review",
                {"image": number},
            )
            return GateView(image, hints(image.prompt), self._logged(s, image), CHECKLIST)

    def review(
        self,
        project_id: int,
        user: str,
        number: int,
        *,
        decision: str,
        ticked: set[GateItem] | None = None,
        alt_text: str = "",
        reason_item: GateItem | None = None,
        note: str = "",
    ) -> Outcome:
        """Clear needs every box and alt text; send back needs a reason item and counts as rework."""
        ticked = set(ticked or ())
        alt_text = alt_text.strip()
        with self._tx() as s:
            project = self._project(s, project_id)
            hat = self._require(project, user, Role.REVIEWER, "pass the review gate")
            self._require_running(project)
            self._require_order(s, project, Play.GATE)
            image = self._image(s, project, number)
            if image.status in ("culled", "shipped"):
                raise errors.InvalidInput(
                    f"#{number} is {image.status}; there is nothing to review."
                )
            self._require_cooloff(s, project, user)
            logged = self._logged(s, image)
            now = self.clock()
            row = GateReview(
                project_id=project.id,
                image_id=image.id,
                reviewer=user,
                hat=hat,
                clear_of_people_logos_artists=GateItem.PEOPLE_LOGOS_ARTISTS in ticked,
                license_permits_use=GateItem.LICENSE in ticked,
                no_offensive_content=GateItem.CONTENT in ticked,
                alt_text_written=GateItem.ALT_TEXT in ticked and bool(alt_text),
                logged_with_recipe=logged,
                alt_text=alt_text or None,
                created_at=now,
            )
            if decision == "clear":
                missing = [SHORT[item] for item in REVIEWER_ITEMS if item not in ticked]
                if not alt_text:
                    missing.append("alt text (write it)")
                if not logged:
                    missing.append("logged with its recipe")
                if missing:
                    raise errors.GateIncomplete(
                        "Clear to ship needs every box. Still open: "
                        + ", ".join(dict.fromkeys(missing))
                        + "."
                    )
                row.decision = "cleared"
                image.status, image.alt_text = "shipped", alt_text
                run = self._play(s, project, Play.GATE)
                run.status, run.finished_at = PlayStatus.DONE, now
            elif decision == "send_back":
                if reason_item is None:
                    raise errors.InvalidInput(
                        "Send back needs the checklist item it fails: people/logos/artists, license, content, alt text or logged."
                    )
                row.decision, row.reason_item, row.reason_note = (
                    "sent_back",
                    reason_item.value,
                    note.strip() or None,
                )
                image.status = "sent_back"
            else:
                raise errors.InvalidInput("A review decision is `clear` or `send_back`.")
            s.add(row)
            self._audit(
                s,
                project,
                project.channel_id,
                user,
                hat,
                "review",
                {
                    "image": number,
                    "decision": row.decision,
                    "reason": row.reason_item,
                    "ticked": sorted(item.value for item in ticked),
                },
            )
            warnings = []
            if row.decision == "sent_back":
                warnings += self._check_recurring(s, project, reason_item)
            return Outcome(project, warnings=warnings)

    def _check_recurring(self, s: Session, project: Project, item: GateItem | None) -> list[str]:
        s.flush()
        recipe = self._latest_recipe(s, project.id)
        since = recipe.locked_at if recipe else project.created_at
        count = (
            s.scalar(
                select(func.count(GateReview.id)).where(
                    GateReview.project_id == project.id,
                    GateReview.decision == "sent_back",
                    GateReview.reason_item == (item.value if item else None),
                    GateReview.created_at >= since,
                )
            )
            or 0
        )
        if item is not None and count >= 3:
            self._pause(
                s,
                project,
                "recurring_sendback",
                f"the Reviewer sent back images for “{SHORT[item]}” {count} times — fix it in the recipe, not per image",
            )
            return [
                "The same checklist item failed three times, so the project is paused. "
                + PAUSE_HOW_TO_RESUME["recurring_sendback"]
            ]
        return []

    def gate_view(self, project_id: int, number: int) -> GateView:
        with self._tx() as s:
            project = self._project(s, project_id)
            image = self._image(s, project, number)
            return GateView(image, hints(image.prompt), self._logged(s, image), CHECKLIST)

    # ---- jobs ---------------------------------------------------------------------------

    def apply_job_result(self, job_id: int) -> Applied | None:
        """Fold a finished job into the playbook once (stamps applied_at); None if nothing to do."""
        with self._tx() as s:
            job = s.get(Job, job_id, with_for_update=s.get_bind().dialect.name == "postgresql")
            if job is None or job.applied_at is not None or job.status not in ("done", "failed"):
                return None
            job.applied_at = self.clock()
            outbox.add(
                s,
                channel_id=job.channel_id,
                project_id=job.project_id,
                kind="job_result",
                payload={"job_id": job.id},
                dedupe_key=f"job:{job.id}",
            )
            project = s.get(Project, job.project_id) if job.project_id else None
            images = list(
                s.scalars(select(Image).where(Image.job_id == job.id).order_by(Image.job_index))
            )
            if job.status == "failed" or project is None:
                return Applied(job, project, images)
            recipe = None
            paused = False
            if job.kind == "hero":
                recipe = s.get(Recipe, job.params["recipe_id"])
                assert recipe is not None
                result = job.result or {}
                recipe.hero_image_id = result.get("hero_image_id")
                recipe.model_hash = result.get("model_hash")
                recipe.repro_mean_diff = result.get("mean_diff")
                recipe.repro_max_diff = result.get("max_diff")
                recipe.reproducible = (
                    recipe.repro_mean_diff is not None
                    and recipe.repro_max_diff is not None
                    and recipe.repro_mean_diff <= recipe.tolerance
                    and recipe.repro_max_diff <= recipe.max_tolerance
                )
                if not recipe.reproducible:
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
                run = self._play(s, project, Play.FIX)
                run.status, run.finished_at = PlayStatus.DONE, self.clock()
            return Applied(job, project, images, recipe, paused)

    def cancel(self, project_id: int, user: str, job_id: int | None = None) -> list[Job]:
        with self._tx() as s:
            project = self._project(s, project_id)
            hat = self._require(project, user, Role.OPERATOR, "cancel jobs")
            stmt = select(Job).where(
                Job.project_id == project.id, Job.status.in_(("queued", "running"))
            )
            if job_id is not None:
                stmt = stmt.where(Job.id == job_id)
            jobs = list(s.scalars(stmt))
            for job in jobs:
                queue.cancel(s, job)
            self._audit(
                s,
                project,
                project.channel_id,
                user,
                hat,
                "cancel",
                {"jobs": [job.id for job in jobs]},
            )
            return jobs

    def jobs(self, channel_id: str) -> list[Job]:
        with self._tx() as s:
            stmt = (
                select(Job)
                .where(Job.channel_id == channel_id, Job.status.in_(("queued", "running")))
                .order_by(Job.priority, Job.id)
            )
            return list(s.scalars(stmt))

    def images(self, project_id: int) -> list[Image]:
        with self._tx() as s:
            return list(
                s.scalars(
                    select(Image).where(Image.project_id == project_id).order_by(Image.number)
                )
            )

    # ---- metrics and export -------------------------------------------------------------

    def metrics(
        self,
        *,
        since: datetime,
        until: datetime,
        channel_id: str | None = None,
        project_id: int | None = None,
    ) -> list[Metric]:
        with self._tx() as s:
            inputs = queries.metric_inputs(
                s, since=since, until=until, channel_id=channel_id, project_id=project_id
            )
            return all_metrics(inputs)

    def export(self, project_id: int) -> dict[str, Any]:
        """The recipe cards and the prompt log, for reproduction outside Atelier."""
        with self._tx() as s:
            project = self._project(s, project_id)
            recipes = s.scalars(
                select(Recipe).where(Recipe.project_id == project.id).order_by(Recipe.version)
            )
            images = s.scalars(
                select(Image).where(Image.project_id == project.id).order_by(Image.number)
            )
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
                "recipes": [
                    {
                        "version": r.version,
                        **self.card(r).as_dict(),
                        "reproducible": r.reproducible,
                        "repro_mean_diff": r.repro_mean_diff,
                        "repro_max_diff": r.repro_max_diff,
                        "hero": numbers.get(r.hero_image_id or -1),
                        "locked_by": r.locked_by,
                        "locked_at": r.locked_at.isoformat(),
                    }
                    for r in recipes
                ],
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

    # ---- digests and reminders --------------------------------------------------------------

    def digest_data(
        self, channel_id: str, now: datetime, *, days: int = 7, weeks: int = 8
    ) -> DigestData:
        """What a channel's daily digest reports: metrics, movement, pauses and the weekly trend."""
        window = timedelta(days=days)
        with self._tx() as s:
            current = all_metrics(
                queries.metric_inputs(s, since=now - window, until=now, channel_id=channel_id)
            )
            previous = all_metrics(
                queries.metric_inputs(
                    s, since=now - 2 * window, until=now - window, channel_id=channel_id
                )
            )
            trend = []
            for week in range(weeks, 0, -1):
                start = now - timedelta(weeks=week)
                inputs = queries.metric_inputs(
                    s, since=start, until=start + timedelta(weeks=1), channel_id=channel_id
                )
                keep, _, rework, _ = all_metrics(inputs)
                trend.append((start + timedelta(weeks=1), keep.value, rework.value))
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
            return DigestData(channel_id, now, days, current, previous, trend, moved, paused)

    def claim_digest(self, channel_id: str, day: str) -> bool:
        """True for exactly one caller per channel and local day, however many processes ask."""
        return self._claim_once(DigestRun(channel_id=channel_id, day=day, created_at=self.clock()))

    def claim_nudge(self, kind: str, ref_id: int, day: str) -> bool:
        return self._claim_once(Nudge(kind=kind, ref_id=ref_id, day=day, created_at=self.clock()))

    def _claim_once(self, row: DigestRun | Nudge) -> bool:
        try:
            with self._tx() as s:
                s.add(row)
                s.flush()
            return True
        except IntegrityError:
            return False

    def waiting_at_gate(self, now: datetime) -> list[tuple[Project, Image, float, float]]:
        """Images on a gate message with no decision, waiting longer than the channel's limit."""
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
                    Image.status.not_in(("shipped", "sent_back", "culled")),
                )
            ).all()
            waiting = []
            for message, image, project, settings in rows:
                hours = (now - message.created_at).total_seconds() / 3600
                limit = float(settings.gate_wait_hours if settings else 24)
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

    # ---- conversation plumbing (what the Slack adapter needs remembered) ------------------

    def first_delivery(self, event_id: str) -> bool:
        """True the first time an event id is seen; Slack's retries of it return False."""
        try:
            with self._tx() as s:
                s.add(ProcessedEvent(event_id=event_id, received_at=self.clock()))
                s.flush()
            return True
        except IntegrityError:
            return False

    def remember_message(
        self,
        channel_id: str,
        ts: str,
        kind: str,
        *,
        project_id: int | None = None,
        job_id: int | None = None,
        image_id: int | None = None,
        recipe_id: int | None = None,
        shown: int = 0,
    ) -> None:
        """Index a posted message; indexing one twice (a resent outbox message) keeps the first."""
        with self._tx() as s:
            known = s.scalars(
                select(SlackMessage.id).where(
                    SlackMessage.channel_id == channel_id, SlackMessage.ts == ts
                )
            ).first()
            if known is not None:
                return
            s.add(
                SlackMessage(
                    channel_id=channel_id,
                    ts=ts,
                    kind=kind,
                    project_id=project_id,
                    job_id=job_id,
                    image_id=image_id,
                    recipe_id=recipe_id,
                    shown=shown,
                    created_at=self.clock(),
                )
            )

    def message(self, channel_id: str, ts: str) -> SlackMessage | None:
        with self._tx() as s:
            return s.scalars(
                select(SlackMessage).where(
                    SlackMessage.channel_id == channel_id, SlackMessage.ts == ts
                )
            ).first()

    def progress_message(self, job_id: int) -> SlackMessage | None:
        with self._tx() as s:
            return s.scalars(
                select(SlackMessage).where(
                    SlackMessage.job_id == job_id, SlackMessage.kind == "progress"
                )
            ).first()

    def mark_shown(self, message_id: int, shown: int) -> None:
        with self._tx() as s:
            row = s.get(SlackMessage, message_id)
            if row is not None:
                row.shown = shown

    def save_gate_draft(
        self,
        project_id: int,
        user: str,
        number: int,
        *,
        ticked: set[GateItem] | None = None,
        alt_text: str | None = None,
    ) -> GateDraft:
        """The Reviewer's boxes and alt text so far, so an emoji decision can use them."""
        with self._tx() as s:
            project = self._project(s, project_id)
            self._require(project, user, Role.REVIEWER, "tick the gate checklist")
            image = self._image(s, project, number)
            draft = s.get(GateDraft, image.id) or GateDraft(image_id=image.id, ticked=[])
            if ticked is not None:
                draft.ticked = sorted(item.value for item in ticked)
            if alt_text is not None:
                draft.alt_text = alt_text
            s.add(draft)
            return draft

    def gate_draft(self, project_id: int, number: int) -> GateDraft | None:
        with self._tx() as s:
            image = self._image(s, self._project(s, project_id), number)
            return s.get(GateDraft, image.id)

    def job(self, job_id: int) -> Job | None:
        with self._tx() as s:
            return s.get(Job, job_id)

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

    def latest_project(self, channel_id: str) -> Project | None:
        with self._tx() as s:
            stmt = (
                select(Project).where(Project.channel_id == channel_id).order_by(Project.id.desc())
            )
            return s.scalars(stmt).first()

    def notify(self, project: Project, text: str) -> None:
        """Say something in the project's thread, through the outbox."""
        self._queue(project.id, "notice", {"text": text})

    def post_gate(self, project_id: int, number: int) -> None:
        """Queue the gate message for an image."""
        self._queue(project_id, "gate", {"number": number})

    def post_repair(self, project_id: int, number: int) -> None:
        """Queue the message showing a new version of an image."""
        self._queue(project_id, "repair", {"number": number})

    def refresh_root(self, project_id: int) -> None:
        """Queue an in-place update of the project's root message (the play tracker)."""
        self._queue(project_id, "root", {})

    def _queue(self, project_id: int, kind: str, payload: dict[str, Any]) -> None:
        with self._tx() as s:
            project = self._project(s, project_id)
            outbox.add(
                s, channel_id=project.channel_id, project_id=project.id, kind=kind, payload=payload
            )

    # ---- internals ----------------------------------------------------------------------

    def _project(self, s: Session, project_id: int) -> Project:
        """The project, row-locked: decisions in one project are serialized (lost updates otherwise)."""
        project = s.get(Project, project_id, with_for_update=True, populate_existing=True)
        if project is None:
            raise errors.NotFound(
                f"There is no project {project_id}. `/atelier status` lists this channel's projects."
            )
        return project

    @staticmethod
    def _roles(project: Project) -> Roles:
        return Roles(project.director, project.operator, project.reviewer)

    def _require(self, project: Project, user: str, role: Role, action: str) -> str:
        """Authorize in the service: only the role holder may act; the hat is recorded."""
        roles = self._roles(project)
        if roles.holder(role) != user:
            held = ", ".join(r.value.title() for r in roles.of(user)) or "no role"
            raise errors.NotAuthorized(
                f"Only the {role.value.title()} (<@{roles.holder(role)}>) can {action}. "
                f"You hold {held} on this project; nothing was changed."
            )
        return role.value

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

    def _play(self, s: Session, project: Project, play: Play) -> PlayRun:
        run = s.scalars(
            select(PlayRun).where(PlayRun.project_id == project.id, PlayRun.play == play.value)
        ).one()
        return run

    @staticmethod
    def _start(run: PlayRun, user: str, hat: str, now: datetime) -> None:
        if run.status in (PlayStatus.PENDING, PlayStatus.SKIPPED):
            run.status, run.actor, run.hat, run.started_at = PlayStatus.ACTIVE, user, hat, now

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

    def _logged(self, s: Session, image: Image) -> bool:
        """Logged with its recipe: the lineage root is a generation whose parameters are all on file."""
        root = s.get(Image, image.root_id) if image.root_id else image
        root = root or image
        return bool(root.file_hash and root.model_hash and root.seed is not None and root.prompt)

    def _spend_budget(self, s: Session, project: Project, image: Image) -> list[str]:
        root = s.get(Image, image.root_id) if image.root_id else image
        root = root or image
        budget = root.budget or project.iteration_budget
        spent = queries.lineage_attempts(s, root.id)
        if spent >= budget:
            raise errors.BudgetExhausted(
                f"#{image.number} has used its iteration budget ({spent}/{budget} generations). "
                f"The Director can raise it: `budget {image.number} {budget + 4}`."
            )
        if spent + 1 >= 0.8 * budget:
            return [f"#{image.number} will have used {spent + 1} of its {budget} iterations."]
        return []

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
        limit = self._settings(s, project.channel_id).queue_limit_per_user
        queued = queries.queued_images_for(s, user)
        if queued + count > limit:
            raise errors.QueueLimit(
                f"You have {queued} images queued; this would make {queued + count}, over your limit of {limit}. "
                "Wait for them to finish or `cancel` some."
            )
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
        project.state, project.pause_reason, project.pause_detail = "paused", reason, detail
        project.paused_at = self.clock()
        self._audit(
            s,
            project,
            project.channel_id,
            "atelier",
            "system",
            "pause",
            {"reason": reason, "detail": detail},
        )
        outbox.add(
            s,
            channel_id=project.channel_id,
            project_id=project.id,
            kind="notice",
            payload={
                "text": f":double_vertical_bar: Paused: {detail}. {PAUSE_HOW_TO_RESUME.get(reason, '')}"
            },
        )

    def _resume(self, s: Session, project: Project, user: str, hat: str) -> None:
        reason = project.pause_reason
        project.state, project.pause_reason, project.pause_detail, project.paused_at = (
            "active",
            None,
            None,
            None,
        )
        self._audit(s, project, project.channel_id, user, hat, "resume", {"reason": reason})
        outbox.add(
            s,
            channel_id=project.channel_id,
            project_id=project.id,
            kind="notice",
            payload={"text": ":arrow_forward: Resumed: the pause is resolved."},
        )

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
                created_at=self.clock(),
            )
        )
