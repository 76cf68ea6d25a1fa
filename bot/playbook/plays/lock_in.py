"""Play 2, the lock-in pass: a recipe card, a hero rendered twice, the Director's approval."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.playbook import errors
from bot.playbook import notices as N
from bot.playbook.aspect import check_size, size_for
from bot.playbook.loras import LoraChoice, check_loras
from bot.playbook.plays.base import Outcome, UseCases, in_range
from bot.playbook.presets import ModelPreset
from bot.playbook.recipe import RecipeCard, check_template, lora_tuples, slot_in, slot_of
from bot.playbook.roles import May, Role
from bot.playbook.sequence import Play
from storage.models import Image, Project, Ranking, Recipe
from storage.states import KEEPERS, ImageKind, ImageStatus

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
        loras=lora_tuples(recipe.loras),
    )


def _size(
    preset: ModelPreset, source: Image | None, size: int | tuple[int, int] | None, ar: str | None
) -> tuple[int, int]:
    """The card's size: a ratio, an explicit size, else the source's own (square at least the preset's)."""
    if ar is not None and size is not None:
        raise errors.InvalidInput("Give a ratio (`ar 16:9`) or a size (`size 640x384`), not both.")
    if ar is not None:
        return size_for(preset, ar)
    if isinstance(size, int):
        return size, size
    if size is not None:
        return size
    if source is not None and source.width != source.height:
        return source.width, source.height
    side = max(source.width if source else 0, preset.size)
    return side, side


def hero_params(recipe: Recipe, source_id: int | None) -> dict[str, Any]:
    """What the hero job renders from: the card as locked (and the image it came from, if any)."""
    return {"recipe_id": recipe.id, "card": card_of(recipe).as_dict(), "parent_id": source_id}


def _without_image(template: str | None, value: str | None, style: str | None) -> tuple[str, str]:
    """`lock template a {subject} at dawn seed 7 style watercolor value a courier`, no image."""
    if template is None or value is None:
        raise errors.InvalidInput(
            "There is no image to lock (the sprint was skipped), so give the whole recipe: "
            "`lock template a {subject} at dawn seed 1234 style watercolor value a courier` "
            "(`value` fills the slot for the hero)."
        )
    return (f"{template}, {style}" if style else template), value


def _template(source: Image, template: str | None, slot: str | None) -> tuple[str, str, bool]:
    """The prompt template, its slot value, and whether the whole subject became the slot.

    Given: as typed (the slot value named, else the source's). `slot red bike`: those words of
    the source's prompt. Neither: the source's subject, with a hint on how to narrow it.
    """
    if template is not None:
        value = slot if slot is not None else (source.slot_value or "")
        check_template(template, value)
        return template, value, False
    if slot is not None:
        return (*slot_in(source.prompt, slot, source.number), False)
    if not source.slot_value or source.slot_value not in source.prompt:
        raise errors.InvalidInput(
            f"Image #{source.number} has no subject to turn into a slot. Name the words that vary: "
            f"`lock {source.number} slot <words of its prompt>`, or give a template: "
            f"`lock {source.number} template a {{subject}} at dawn, watercolor`."
        )
    return source.prompt.replace(source.slot_value, "{subject}", 1), source.slot_value, True


def _check_lockable(s: Session, project: Project, image: Image) -> None:
    """A lock takes a ranked candidate of the approved direction, a kept volume image (a new
    recipe version), or a hero (a re-lock); anything else is refused, naming what would do."""
    if image.play == Play.VOLUME and image.status in KEEPERS:
        return
    if image.play == Play.LOCK and image.kind != ImageKind.REPRO:
        return
    if project.direction_image_id is None:
        return  # no direction yet: the sprint's order check speaks for itself
    ranking = s.scalars(
        select(Ranking).where(Ranking.project_id == project.id).order_by(Ranking.id.desc())
    ).first()
    ranked = list(ranking.image_ids) if ranking else [project.direction_image_id]
    if image.id in ranked and image.status != ImageStatus.CULLED:
        return
    direction = s.get(Image, project.direction_image_id)
    others = s.scalars(select(Image.number).where(Image.id.in_(ranked))).all()
    also = sorted(set(others) - {direction.number if direction else 0})
    raise errors.InvalidInput(
        f"#{image.number} is not part of the approved direction. The Director approved "
        f"#{direction.number if direction else '?'}"
        + (f" (also ranked: {', '.join(f'#{n}' for n in also)})" if also else "")
        + f"; lock that: `lock {direction.number if direction else 'N'}`, or a kept volume image "
        "for a new recipe version. To change the direction, the Director re-opens the sprint: "
        "`reopen sprint <reason>`, then ranks and approves again."
    )


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


class LockInUseCases(UseCases):
    # Who may take the decisions this module opens (roles.WHO_MAY gathers every module's).
    MAY = {
        "lock_recipe": May((Role.OPERATOR,), "lock a recipe"),
        "approve_hero": May((Role.DIRECTOR,), "approve the hero"),
    }

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
        size: int | tuple[int, int] | None = None,
        ar: str | None = None,
        style: str | None = None,
        value: str | None = None,
        slot: str | None = None,
        loras: list[LoraChoice] | None = None,
    ) -> Outcome:
        self._check_words(user, [template, style, value], "lock", project_id=project_id)
        with self._decide(
            project_id,
            user,
            "lock_recipe",
            resolving=("reproducibility", "recurring_sendback"),
            after=Play.LOCK,
        ) as d:
            project = d.project
            source = self._lock_source(d.s, project, number, template)
            preset = self.preset(project.model)
            whole_subject = False
            if source is None:
                template, slot_value = _without_image(template, value or slot, style)
                check_template(template, slot_value)
            else:
                template, slot_value, whole_subject = _template(source, template, slot)
            steps = preset.quality_steps if steps is None else steps
            width, height = _size(preset, source, size, ar)
            guidance = preset.guidance if guidance is None else guidance
            in_range("steps", steps, (1, preset.max_steps))
            check_size(preset, width, height)
            on_card = check_loras(loras or [], preset)
            in_range("guidance", guidance, (0, 30))
            settings = self._settings(d.s, project.channel_id)
            version = (
                d.s.scalar(select(func.max(Recipe.version)).where(Recipe.project_id == project.id))
                or 0
            ) + 1
            recipe = Recipe(
                project_id=project.id,
                version=version,
                source_image_id=source.id if source else None,
                model_id=project.model,
                scheduler=preset.scheduler,
                steps=steps,
                guidance=guidance,
                width=width,
                height=height,
                seed=source.seed if seed is None and source else seed,
                prompt_template=template,
                slot_name=slot_of(template),
                slot_value=slot_value,
                negative_prompt=DEFAULT_NEGATIVE if negative is None else negative,
                loras=on_card,
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
            params = hero_params(recipe, source.id if source else None)
            job = self._enqueue(d.s, project, user, "hero", params, total=2)
            self._start(self._play(d.s, project, Play.LOCK), user, d.hat, self.clock())
            d.detail = {"version": version, "card": params["card"]}
            d.say(
                N.Locked(
                    user=user,
                    version=version,
                    number=source.number if source else None,
                    template=template,
                    value=slot_value,
                    whole_subject=whole_subject,
                )
            )
            return Outcome(project, job)

    def _lock_source(
        self, s: Session, project: Project, number: int | None, template: str | None
    ) -> Image | None:
        """The image a lock starts from: named, else the direction; none for a whole recipe typed out."""
        if number is not None:
            image = self._image(s, project, number)
            _check_lockable(s, project, image)
            return image
        if project.direction_image_id is not None:
            return s.get(Image, project.direction_image_id)
        if template is None:
            raise errors.InvalidInput(
                "Name the image to lock, e.g. `lock 7`; with no image (the sprint was skipped), "
                "give the whole recipe: `lock template a {subject} at dawn seed 1234 value a courier`."
            )
        return None

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
        with self._decide(project_id, user, "approve_hero") as d:
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
            d.say(N.Hero(user=user))
            return Outcome(d.project)
