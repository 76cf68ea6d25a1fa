"""The recipe library: the channel's approved recipes, and new projects started from one.

`/atelier recipes` lists them; `/atelier new <intent> from recipe P3[v2]` starts a project from
one. Its sprint is skipped with the reason recorded, and the hero is rendered again and checked
on today's model before any volume run, as the lock-in play asks of every recipe.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from bot.playbook import errors
from bot.playbook import notices as N
from bot.playbook.intent import is_one_sentence
from bot.playbook.plays.base import Outcome, notice
from bot.playbook.plays.lock_in import hero_params
from bot.playbook.plays.project import ProjectUseCases
from bot.playbook.roles import May, Role
from bot.playbook.sequence import Play, PlayStatus
from storage.models import Image, Project, Recipe
from storage.states import ATTEMPT_KINDS, ImageStatus

LISTED = 20  # the newest recipes `recipes` shows


@dataclass(frozen=True)
class LibraryEntry:
    """One approved recipe as the library lists it."""

    recipe: Recipe
    intent: str
    hero: Image | None
    generated: int
    kept: int
    finals: int

    @property
    def name(self) -> str:
        return f"P{self.recipe.project_id}v{self.recipe.version}"


class LibraryUseCases(ProjectUseCases):
    # Who may take the decisions this module opens (roles.WHO_MAY gathers every module's).
    MAY = {
        "start_from_recipe": May(
            (Role.DIRECTOR, Role.OPERATOR), "start it from a recipe: its hero is rendered at once"
        ),
    }

    def recipe_library(self, channel_id: str, user: str) -> list[LibraryEntry]:
        """The listing costs a contact sheet of heroes, so a person may ask a few times a minute."""
        self.rates.take(user, "recipes")
        with self._tx() as s:
            rows = s.execute(
                select(Recipe, Project.intent)
                .join(Project, Project.id == Recipe.project_id)
                .where(Project.channel_id == channel_id, Recipe.approved_at.is_not(None))
                .order_by(Recipe.id.desc())
                .limit(LISTED)
            ).all()
            return [_entry(s, recipe, intent) for recipe, intent in rows]

    def start_from_recipe(
        self, channel_id: str, user: str, intent: str, project_id: int, version: int | None
    ) -> Outcome:
        self._check_words(user, [intent], "new", channel_id=channel_id)
        with self._tx() as s:
            source = _source_recipe(s, channel_id, project_id, version)
            if source.model_id not in self.models:
                raise errors.InvalidInput(
                    f"Recipe P{project_id}v{source.version} renders with `{source.model_id}`, which "
                    f"the runners no longer offer (registered: {', '.join(self.models)}). Start a "
                    "new project and lock a new recipe."
                )
            if not is_one_sentence(" ".join(intent.split())):
                raise errors.InvalidInput(
                    "Starting from a recipe renders its hero at once, so the intent must be one "
                    "sentence first; nothing was created. Say what the images are for in a single "
                    "sentence."
                )
            project, warnings = self._open_project(s, channel_id, user, intent)
            # The hero renders at once, in the starter's name: a role that may render is needed.
            self._require(project, user, "start_from_recipe")
            project.model = source.model_id
            recipe = _copy(source, project, user, self.clock())
            s.add(recipe)
            s.flush()
            reason = f"started from recipe P{project_id}v{source.version}"
            self._skip_sprint(s, project, user, reason)
            job = self._enqueue(s, project, user, "hero", hero_params(recipe, None), total=2)
            self._start(self._play(s, project, Play.LOCK), user, "member", self.clock())
            self._audit(
                s,
                project,
                channel_id,
                user,
                "member",
                "start_from_recipe",
                {"project": project_id, "version": source.version, "job": job.id},
            )
            notice(s, project, N.FromRecipe(name=f"P{project_id}v{source.version}"))
            return Outcome(project, job, warnings)

    def _skip_sprint(self, s: Session, project: Project, user: str, reason: str) -> None:
        run = self._play(s, project, Play.SPRINT)
        run.status, run.skip_reason = PlayStatus.SKIPPED, reason
        run.actor, run.hat, run.finished_at = user, "member", self.clock()


def _source_recipe(s: Session, channel_id: str, project_id: int, version: int | None) -> Recipe:
    stmt = (
        select(Recipe)
        .join(Project, Project.id == Recipe.project_id)
        .where(
            Recipe.project_id == project_id,
            Project.channel_id == channel_id,
            Recipe.approved_at.is_not(None),
        )
    )
    if version is not None:
        stmt = stmt.where(Recipe.version == version)
    recipe = s.scalars(stmt.order_by(Recipe.version.desc())).first()
    if recipe is None:
        named = f"P{project_id}v{version}" if version else f"P{project_id}"
        raise errors.NotFound(
            f"This channel has no approved recipe {named}. `/atelier recipes` lists the ones it has."
        )
    return recipe


# What a copied card does not take from its source: identity, and what is checked afresh
# (hero, reproducibility, approval). Every other column is copied, so a new card field is too.
FRESH = frozenset(
    {
        "id",
        "project_id",
        "version",
        "source_image_id",
        "hero_image_id",
        "repro_mean_diff",
        "repro_max_diff",
        "reproducible",
        "locked_by",
        "locked_at",
        "approved_by",
        "approved_at",
    }
)


def _copy(source: Recipe, project: Project, user: str, now: datetime) -> Recipe:
    """The card as v1 of the new project; its hero and reproducibility are checked afresh."""
    card = {
        column.key: getattr(source, column.key)
        for column in Recipe.__table__.columns
        if column.key not in FRESH
    }
    return Recipe(**card, project_id=project.id, version=1, locked_by=user, locked_at=now)


def _entry(s: Session, recipe: Recipe, intent: str) -> LibraryEntry:
    def count(*conditions: ColumnElement[bool]) -> int:
        stmt = select(func.count(Image.id)).where(Image.recipe_id == recipe.id, *conditions)
        return int(s.scalar(stmt) or 0)

    volume = (Image.play == Play.VOLUME.value, Image.kind.in_(ATTEMPT_KINDS))
    return LibraryEntry(
        recipe=recipe,
        intent=intent,
        hero=s.get(Image, recipe.hero_image_id) if recipe.hero_image_id else None,
        generated=count(*volume),
        kept=count(*volume, Image.kept_at.is_not(None)),
        finals=count(Image.status == ImageStatus.SHIPPED),
    )
