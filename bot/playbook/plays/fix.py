"""Play 4, fix-and-finish: inpaint or refine one image, hand it to an editor, keep its lineage."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.playbook import errors, pins
from bot.playbook import notices as N
from bot.playbook.image_rules import not_culled
from bot.playbook.instructions import repair_prompts
from bot.playbook.plays.base import Outcome, UseCases, in_range, post, refresh_root
from bot.playbook.roles import May, Role
from bot.playbook.sequence import Play
from storage import prompt_log, queries
from storage.models import Image
from storage.states import ImageStatus

REFINE_STRENGTH = (0.05, 0.5)
INPAINT_STRENGTH = (0.3, 1.0)
GRID = 3


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


def _region(
    mode: str,
    strength: float | None,
    cells: list[int] | None,
    mask_hash: str | None,
    mask_coverage: float | None,
) -> tuple[float, float | None]:
    """The strength, and the share of the image to repair (None for a whole-image refine)."""
    if mode not in ("inpaint", "refine"):
        raise errors.InvalidInput(
            "A fix is `inpaint` (a region) or `refine` (low-strength image-to-image)."
        )
    if mode == "refine":
        strength = 0.3 if strength is None else strength
        in_range("Refine strength", strength, REFINE_STRENGTH)
        return strength, None
    strength = 0.85 if strength is None else strength
    in_range("Inpaint strength", strength, INPAINT_STRENGTH)
    if mask_hash is None and not cells:
        raise errors.InvalidInput(
            "Say which region to repair: grid cells like `a1 b1` (nothing is pinned on it by a "
            "send-back), `refine` for the whole picture, or upload a mask."
        )
    coverage = mask_coverage if mask_hash else len(cells or []) / (GRID * GRID)
    return strength, coverage


def _too_large(coverage: float | None) -> bool:
    """The playbook: a fix over a third of the image is a regeneration, not a repair."""
    return coverage is not None and coverage > 1 / 3


class RegenerateInstead(errors.InvalidInput):
    """A repair refused for its size; the adapter offers *Regenerate #N* beside the reason."""

    def __init__(self, number: int, coverage: float) -> None:
        self.number = number
        super().__init__(
            f"The region covers {coverage:.0%} of #{number}, more than a third, so the playbook says "
            f"regenerate rather than repair: `regenerate {number}` re-rolls it for keep/cull. "
            f"Only the Director may repair it anyway: `fix {number} … force`. Nothing was changed."
        )


class FixUseCases(UseCases):
    # Who may take the decisions this module opens (roles.WHO_MAY gathers every module's).
    MAY = {
        "fix_image": May((Role.OPERATOR,), "repair an image"),
        "force_fix": May((Role.DIRECTOR,), "repair more than a third of an image"),
        "hand_off": May((Role.OPERATOR,), "hand an image to an editor"),
        "raise_budget": May((Role.DIRECTOR,), "raise an iteration budget"),
    }

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
        force: bool = False,
    ) -> Outcome:
        """A repair; one over a third of the image is refused unless the Director forces it."""
        self._check_words(user, [instruction], "fix", project_id=project_id)
        if mode == "inpaint" and not cells and mask_hash is None:
            cells = self._pinned_cells(project_id, number)
        strength, coverage = _region(mode, strength, cells, mask_hash, mask_coverage)
        forced = _too_large(coverage)
        if forced and not force:
            raise RegenerateInstead(number, coverage or 0)
        may = "force_fix" if forced else "fix_image"
        with self._decide(project_id, user, "fix_image", may=may, after=Play.FIX) as d:
            image = self._image(d.s, d.project, number)
            not_culled(image, "repaired")
            warnings = self._spend_budget(d.s, d.project, image)
            prompts = repair_prompts(
                instruction,
                image.prompt or "",
                image.negative_prompt or "",
                region=mode == "inpaint",
            )
            job = self._enqueue(
                d.s,
                d.project,
                user,
                "fix",
                {
                    "parent_id": image.id,
                    "number": number,
                    "mode": mode,
                    "instruction": instruction.strip(),
                    "prompt": prompts.prompt,
                    "negative_prompt": prompts.negative_prompt,
                    "cells": cells or [],
                    "mask_hash": mask_hash,
                    "strength": strength,
                    "coverage": coverage,
                    **self.lineage(image),
                },
            )
            self._start(self._play(d.s, d.project, Play.FIX), user, d.hat, self.clock())
            d.detail = {"image": number, "mode": mode, "strength": strength, "coverage": coverage}
            if forced:
                d.detail["forced"] = True
                d.say(N.ForcedFix(number=number, coverage=coverage or 0.0, user=user))
            for warning in warnings:
                d.say(N.Warned(text=warning))
            return Outcome(d.project, job, warnings)

    def _pinned_cells(self, project_id: int, number: int) -> list[int]:
        """The cells a send-back pinned on the image's history and no clearing resolved (none
        for an image that is not there: the repair's own checks say what is wrong)."""
        with self._tx() as s:
            project = self._project(s, project_id)
            image = s.scalars(
                select(Image).where(Image.project_id == project.id, Image.number == number)
            ).first()
            return pins.open_cells(s, image) if image else []

    def raise_budget(self, project_id: int, user: str, number: int, budget: int) -> Outcome:
        with self._decide(
            project_id,
            user,
            "raise_budget",
            running=False,
        ) as d:
            root = self._root_of(self._image(d.s, d.project, number))
            spent = queries.lineage_attempts(d.s, root.id)
            if budget <= spent:
                raise errors.InvalidInput(
                    f"#{number} has already spent {spent}; a new budget must be higher."
                )
            root.budget = budget
            d.detail = {"image": number, "budget": budget}
            d.say(N.Budget(number=number, budget=budget, user=user))
            return Outcome(d.project)

    def budget_of(self, project_id: int, number: int) -> tuple[int, int]:
        """(spent, budget) for the lineage an image belongs to."""
        with self._tx() as s:
            project = self._project(s, project_id)
            root = self._root_of(self._image(s, project, number))
            return queries.lineage_attempts(s, root.id), root.budget or project.iteration_budget

    def hand_off(self, project_id: int, user: str, number: int, editor: str) -> Outcome:
        with self._decide(project_id, user, "hand_off") as d:
            image = self._image(d.s, d.project, number)
            if image.status in (ImageStatus.CULLED, ImageStatus.SHIPPED):
                raise errors.InvalidInput(f"#{number} is {image.status}; hand off a kept image.")
            image.status, image.editor = ImageStatus.WITH_EDITOR, editor
            self._start(self._play(d.s, d.project, Play.FIX), user, d.hat, self.clock())
            d.detail = {"image": number, "editor": editor}
            d.say(N.Handoff(number=number, editor=editor, user=user))
            return Outcome(d.project)

    def editor_image(self, project_id: int, user: str, number: int | None) -> Image:
        """The image handed to this user that an upload of theirs is for; refused before any download."""
        with self._tx() as s:
            return self._handed_to(s, project_id, user, number)

    def _handed_to(self, s: Session, project_id: int, user: str, number: int | None) -> Image:
        project = self._project(s, project_id)
        stmt = select(Image).where(
            Image.project_id == project.id,
            Image.status == ImageStatus.WITH_EDITOR,
            Image.editor == user,
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
        return waiting[0]

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
            original = self._handed_to(s, project_id, user, number)
            project = self._project(s, project_id)
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
            original.status = ImageStatus.KEPT
            self._finish(s, project, Play.FIX)
            self._audit(
                s,
                project,
                project.channel_id,
                user,
                "editor",
                "editor_version",
                {"image": original.number, "version": version.number},
            )
            post(s, project, "repair", number=version.number)
            refresh_root(s, project)
            return version
