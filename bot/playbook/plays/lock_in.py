"""Play 2, the lock-in pass: a recipe card, a hero rendered twice, the Director's approval."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from bot.playbook import errors
from bot.playbook.plays.base import Outcome, UseCases, in_range
from bot.playbook.presets import preset_for
from bot.playbook.recipe import RecipeCard, slot_of
from bot.playbook.roles import Role
from bot.playbook.sequence import Play
from storage.models import Image, Recipe
from storage.states import ImageStatus

DEFAULT_NEGATIVE = "blurry, lowres, jpeg artifacts, watermark, text, deformed"
MAX_SEED = 2**32 - 1


def card_of(recipe: Recipe) -> RecipeCard:
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


def _template(source: Image, template: str | None) -> tuple[str, str]:
    """The prompt template and its slot value: given, or the source's prompt with its subject cut out."""
    if template is not None:
        return template, source.slot_value or ""
    if not source.slot_value or source.slot_value not in source.prompt:
        raise errors.InvalidInput(
            f"Image #{source.number} has no subject to turn into a slot. Give a template: "
            f"`lock {source.number} template a {{subject}} at dawn, watercolor`."
        )
    return source.prompt.replace(source.slot_value, "{subject}", 1), source.slot_value


def record_reproducibility(recipe: Recipe, result: dict[str, Any]) -> bool:
    """Record the hero's reproducibility check on its recipe; True when it reproduced."""
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
    return recipe.reproducible


class LockInPlays(UseCases):
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
        with self._decide(
            project_id,
            user,
            Role.OPERATOR,
            "lock a recipe",
            "lock_recipe",
            resolving=("reproducibility", "recurring_sendback"),
            after=Play.LOCK,
        ) as d:
            project = d.project
            if number is None and project.direction_image_id is None:
                raise errors.InvalidInput("Name the image to lock, e.g. `lock 7`.")
            source = (
                self._image(d.s, project, number)
                if number is not None
                else d.s.get(Image, project.direction_image_id)
            )
            assert source is not None
            preset = preset_for(project.model)
            template, slot_value = _template(source, template)
            steps = preset.quality_steps if steps is None else steps
            size = size or max(source.width, source.height, preset.size)
            guidance = preset.guidance if guidance is None else guidance
            in_range("steps", steps, (1, preset.max_steps))
            in_range("size", size, (64, preset.max_size))
            in_range("guidance", guidance, (0, 30))
            if size % 8:
                raise errors.InvalidInput(f"size must be a multiple of 8 (got {size}).")
            settings = self._settings(d.s, project.channel_id)
            version = (
                d.s.scalar(select(func.max(Recipe.version)).where(Recipe.project_id == project.id))
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
                slot_name=slot_of(template),
                slot_value=slot_value,
                negative_prompt=DEFAULT_NEGATIVE if negative is None else negative,
                tolerance=settings.repro_tolerance,
                max_tolerance=settings.repro_max_tolerance,
                locked_by=user,
                locked_at=self.clock(),
            )
            if recipe.seed is None:
                raise errors.InvalidInput("This image has no seed; give one: `lock 7 seed 1234`.")
            if not 0 <= recipe.seed <= MAX_SEED:
                raise errors.InvalidInput(
                    f"A seed is a whole number from 0 to {MAX_SEED} (got {recipe.seed})."
                )
            d.s.add(recipe)
            d.s.flush()
            card = card_of(recipe).as_dict()
            job = self._enqueue(
                d.s,
                project,
                user,
                "hero",
                {"recipe_id": recipe.id, "card": card, "parent_id": source.id},
                total=2,
            )
            self._start(self._play(d.s, project, Play.LOCK), user, d.hat, self.clock())
            d.detail = {"version": version, "card": card}
            return Outcome(project, job)

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
        with self._decide(project_id, user, Role.DIRECTOR, "approve the hero", "approve_hero") as d:
            recipe = self._latest_recipe(d.s, d.project.id)
            if recipe is None or recipe.hero_image_id is None:
                raise errors.OutOfOrder(
                    "There is no hero yet. The Operator renders one with `lock N`."
                )
            if not recipe.reproducible:
                raise errors.OutOfOrder(
                    "This hero did not reproduce from its recipe card, so it cannot be approved. "
                    "The recipe isn't real yet: fix it and lock again."
                )
            now = self._finish(d.s, d.project, Play.LOCK).finished_at
            if d.project.hero_approved_at is None:
                d.project.hero_approved_at = now
            recipe.approved_by, recipe.approved_at = user, now
            hero = d.s.get(Image, recipe.hero_image_id)
            if hero is not None and hero.kept_at is None:
                hero.status, hero.kept_at = ImageStatus.KEPT, now
            d.detail = {"recipe": recipe.version}
            d.say("hero", user=user)
            return Outcome(d.project)
