"""Play 3, the volume run: the locked recipe with only its slot changed, kept or culled hard."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.playbook import errors
from bot.playbook import notices as N
from bot.playbook.aspect import parse_size, size_for
from bot.playbook.image_rules import not_culled, not_held
from bot.playbook.plays.base import Decision, Outcome, UseCases, in_range
from bot.playbook.plays.lock_in import card_of
from bot.playbook.presets import ModelPreset
from bot.playbook.recipe import check_drift, render
from bot.playbook.roles import May, Role
from bot.playbook.sequence import Play, PlayStatus
from storage.models import Image, Job, Project, Recipe
from storage.states import KEEPERS, ImageStatus, JobStatus

VOLUME_VALUES = (1, 20)
VOLUME_PER_VALUE = (1, 16)
VOLUME_MAX_IMAGES = 200
MAX_SLOT_VALUE = 200


def _hash(data: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:32]


def _check_values(values: list[str], per_value: int) -> None:
    in_range("The number of slot values", len(values), VOLUME_VALUES)
    in_range("Images per value", per_value, VOLUME_PER_VALUE)
    if len(values) * per_value > VOLUME_MAX_IMAGES:
        raise errors.InvalidInput(f"A volume run is at most {VOLUME_MAX_IMAGES} images; split it.")
    too_long = next((value for value in values if len(value) > MAX_SLOT_VALUE), None)
    if too_long is not None:
        raise errors.InvalidInput(
            f"A slot value is at most {MAX_SLOT_VALUE} characters; “{too_long[:40]}…” is {len(too_long)}."
        )
    if any("{" in value or "}" in value for value in values):
        raise errors.InvalidInput("Slot values are plain text; braces belong to the template.")


def _check_recipe(recipe: Recipe | None) -> Recipe:
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
    return recipe


def _fits_twice(image: Image, largest: int) -> bool:
    return max(image.width, image.height) * 2 <= largest


def _check_upscalable(images: list[Image], taken: set[int], largest: int) -> None:
    for image in images:
        not_culled(image, "upscaled")
        if image.status not in KEEPERS:
            raise errors.InvalidInput(f"Only keepers are upscaled; keep #{image.number} first.")
        if image.id in taken:
            raise errors.InvalidInput(f"#{image.number} is upscaled already (or on its way).")
        if not _fits_twice(image, largest):
            raise errors.InvalidInput(
                f"#{image.number} is {image.width}×{image.height}; twice that passes this model's "
                f"largest size, {largest} px. Upscale a smaller version instead."
            )


def _sized(preset: ModelPreset, overrides: dict[str, Any]) -> dict[str, Any]:
    """`size=640x384` and `ar=16:9` as the width and height they mean, so the drift guard sees them."""
    overrides = dict(overrides)
    if "ar" in overrides:
        overrides["width"], overrides["height"] = size_for(preset, str(overrides.pop("ar")))
    if "size" in overrides:
        overrides["width"], overrides["height"] = parse_size(str(overrides.pop("size")))
    return overrides


class VolumeUseCases(UseCases):
    # Who may take the decisions this module opens (roles.WHO_MAY gathers every module's).
    MAY = {
        "run_volume": May((Role.OPERATOR,), "run a volume batch"),
        "mark": May((Role.OPERATOR,), "keep or cull images"),
        "upscale": May((Role.OPERATOR,), "upscale keepers"),
    }

    def run_volume(
        self,
        project_id: int,
        user: str,
        values: list[str],
        per_value: int = 1,
        overrides: dict[str, Any] | None = None,
    ) -> Outcome:
        values = [" ".join(value.split()) for value in values if value.strip()]
        _check_values(values, per_value)
        self._check_words(user, values, "volume", project_id=project_id)
        with self._decide(project_id, user, "run_volume") as d:
            recipe = _check_recipe(self._latest_recipe(d.s, d.project.id))
            if recipe.approved_at is None:
                raise errors.OutOfOrder(
                    f"The Director hasn't approved the hero of recipe v{recipe.version} yet; "
                    "volume waits for that approval (each new recipe version needs its own)."
                )
            self._require_order(d.s, d.project, Play.VOLUME)
            check_drift(card_of(recipe), _sized(self.preset(recipe.model_id), overrides or {}))
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
                "loras": recipe.loras or [],
            }
            job = self._enqueue(
                d.s,
                d.project,
                user,
                "volume",
                {"settings": settings, "images": images, "recipe_id": recipe.id},
                batch_key=_hash(settings),
            )
            self._start(self._play(d.s, d.project, Play.VOLUME), user, d.hat, self.clock())
            d.detail = {"job": job.id, "values": values, "per_value": per_value}
            prompts = list(dict.fromkeys(str(image["prompt"]) for image in images))
            d.say(
                N.Volume(user=user, count=len(images), prompts=prompts[:3], more=len(prompts) > 3)
            )
            return Outcome(d.project, job)

    def mark(
        self, project_id: int, user: str, *, keep: list[int], cull: list[int], batch: bool = False
    ) -> Outcome:
        """Keep or cull images; the Operator culls aggressively. `batch`: saved from a batch's ticks."""
        if set(keep) & set(cull):
            raise errors.InvalidInput("An image cannot be both kept and culled.")
        with self._decide(project_id, user, "mark") as d:
            batches = self._keep(d, keep)
            for number in cull:
                image = self._image(d.s, d.project, number)
                not_held(image, "culled by anyone but the Reviewer")
                if image.status == ImageStatus.SHIPPED:
                    raise errors.InvalidInput(f"#{number} has shipped; it cannot be culled.")
                image.status, image.kept_at = ImageStatus.CULLED, None
            if batches:  # a volume keeper finishes the volume run
                run = self._play(d.s, d.project, Play.VOLUME)
                if run.status == PlayStatus.ACTIVE:
                    run.status, run.finished_at = PlayStatus.DONE, self.clock()
            d.detail = {"keep": keep, "cull": cull}
            d.say(N.Marked(keep=keep, cull=cull, batch=batch, user=d.user))
            for job_id in sorted(batches):
                self._nudge_to_cull(d, job_id)
            return Outcome(d.project)

    def _keep(self, d: Decision, numbers: list[int]) -> set[int]:
        """Mark keepers; returns the volume batches (job ids) they came from."""
        batches: set[int] = set()
        for number in numbers:
            image = self._image(d.s, d.project, number)
            not_held(image, "kept")
            if image.status in (ImageStatus.SHIPPED, ImageStatus.WITH_EDITOR):
                continue
            if image.status != ImageStatus.AT_GATE:  # already a keeper, and waiting there
                image.status = ImageStatus.KEPT
            image.kept_at = image.kept_at or self.clock()
            if image.play == Play.VOLUME and image.job_id is not None:
                batches.add(image.job_id)
        return batches

    def _nudge_to_cull(self, d: Decision, job_id: int) -> None:
        """Keeping more than 1 in 4 of a batch earns a nudge with the playbook's words; no block."""
        d.s.flush()
        images = list(d.s.scalars(select(Image).where(Image.job_id == job_id)))
        kept = sum(1 for image in images if image.kept_at is not None)
        if images and kept * 4 > len(images):
            d.say(N.CullHard(kept=kept, total=len(images), user=d.user))

    def upscale_keepers(
        self, project_id: int, user: str, numbers: list[int] | None = None
    ) -> Outcome:
        with self._decide(project_id, user, "upscale") as d:
            images = self._keepers(d.s, d.project, numbers)
            job = self._enqueue(
                d.s,
                d.project,
                user,
                "upscale",
                {
                    "images": [{"parent_id": image.id, "scale": 2} for image in images],
                    "numbers": [image.number for image in images],
                },
                total=len(images),
            )
            d.detail = {"numbers": [i.number for i in images]}
            return Outcome(d.project, job)

    def _keepers(self, s: Session, project: Project, numbers: list[int] | None) -> list[Image]:
        """The keepers named, or every volume keeper not upscaled yet, within the model's size."""
        taken = self._upscaled_or_queued(s, project)
        largest = self.preset(project.model).max_size
        if numbers:
            images = [self._image(s, project, number) for number in numbers]
            _check_upscalable(images, taken, largest)
            return images
        images = list(
            s.scalars(
                select(Image)
                .where(
                    Image.project_id == project.id,
                    Image.status.in_(KEEPERS),
                    Image.play == Play.VOLUME,
                )
                .order_by(Image.number)
            )
        )
        images = [i for i in images if i.id not in taken and _fits_twice(i, largest)]
        if not images:
            raise errors.InvalidInput(
                "There are no keepers left to upscale. Keep some with the batch's checkboxes first."
            )
        return images

    @staticmethod
    def _upscaled_or_queued(s: Session, project: Project) -> set[int]:
        """Images with an upscale made or on its way: a second click must not make another."""
        made = s.scalars(
            select(Image.parent_id).where(
                Image.project_id == project.id,
                Image.kind == "upscale",
                Image.parent_id.is_not(None),
            )
        )
        waiting = s.scalars(
            select(Job).where(
                Job.project_id == project.id,
                Job.kind == "upscale",
                Job.status.in_((JobStatus.QUEUED, JobStatus.RUNNING)),
            )
        )
        queued = {item["parent_id"] for job in waiting for item in job.params["images"]}
        return {parent for parent in made if parent is not None} | queued
