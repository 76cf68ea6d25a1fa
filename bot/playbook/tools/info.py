"""`info N`: everything about one image that a person asks for before they re-roll or ship it.

What made it (prompt, seed, model, sampler, size), where it stands (kept, at the gate, sent
back and why), where it came from and what came after, what its lineage has spent, and the
team's notes on it. Anyone in the channel may ask; it changes nothing. `note N <text>` is how
a role holder adds to what `info` shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from bot.playbook import errors, pins
from bot.playbook.plays.base import Outcome, UseCases
from bot.playbook.recipe import lora_tuples
from bot.playbook.roles import ANY_ROLE, May
from storage import queries
from storage.gate_models import GateReview
from storage.models import Image, ImageNote
from storage.pngs import a1111_parameters
from storage.states import GateDecision


@dataclass(frozen=True)
class Step:
    """One version in a lineage: its number and how it was made."""

    number: int
    kind: str
    status: str


# A note is a remark, not a brief: longer text belongs in the thread itself.
MAX_NOTE = 500


@dataclass(frozen=True)
class Note:
    author: str
    text: str
    at: datetime


@dataclass(frozen=True)
class ImageInfo:
    image: Image
    recipe_version: int | None
    parent: int | None
    lineage: list[Step]  # the first generation to the newest version, this one among them
    sent_back: tuple[str, str] | None  # the checklist item and the note of the last send-back
    spent: int
    budget: int
    infotext: str  # A1111's `parameters` line, as the PNG carries it
    notes: list[Note]  # oldest first
    pins: list[pins.PinView] = field(default_factory=list)  # on its history, oldest first

    @property
    def made_at(self) -> datetime:
        return self.image.created_at


class InfoUseCases(UseCases):
    # Who may take the decisions this module opens (roles.WHO_MAY gathers every module's).
    MAY = {"note": May(ANY_ROLE, "note on an image")}

    def note(self, project_id: int, user: str, number: int, text: str) -> Outcome:
        """Any role holder, in any state of the project (a note changes no play)."""
        text = text.strip()
        if len(text) > MAX_NOTE:
            raise errors.InvalidInput(
                f"A note is at most {MAX_NOTE} characters; this one is {len(text)}. "
                "Say the rest in the thread."
            )
        with self._decide(project_id, user, "note", running=False) as d:
            image = self._image(d.s, d.project, number)
            d.s.add(ImageNote(image_id=image.id, author=user, text=text, created_at=self.clock()))
            d.detail = {"image": number}
            return Outcome(d.project)

    def image_info(self, project_id: int, number: int) -> ImageInfo:
        with self._tx() as s:
            project = self._project(s, project_id)
            image = self._image(s, project, number)
            root = self._root_of(image)
            lineage = s.scalars(
                select(Image)
                .where((Image.root_id == root.id) | (Image.id == root.id))
                .order_by(Image.id)
            )
            review = s.scalars(
                select(GateReview)
                .where(
                    GateReview.image_id == image.id,
                    GateReview.decision == GateDecision.SENT_BACK,
                )
                .order_by(GateReview.id.desc())
                .limit(1)
            ).first()
            return ImageInfo(
                image=image,
                recipe_version=image.recipe.version if image.recipe else None,
                parent=image.parent.number if image.parent else None,
                lineage=[Step(i.number, i.kind, i.status) for i in lineage],
                sent_back=(review.reason_item or "", review.reason_note or "") if review else None,
                spent=queries.lineage_attempts(s, root.id),
                budget=root.budget or project.iteration_budget,
                infotext=a1111_parameters(_params(image)),
                notes=[
                    Note(note.author, note.text, note.created_at)
                    for note in s.scalars(
                        select(ImageNote)
                        .where(ImageNote.image_id == image.id)
                        .order_by(ImageNote.id)
                    )
                ],
                pins=[pins.view(pin) for pin in pins.pins_of(s, image)],
            )


def _params(image: Image) -> dict[str, object]:
    return {
        "prompt": image.prompt,
        "negative_prompt": image.negative_prompt,
        "steps": image.steps,
        "scheduler": image.scheduler,
        "guidance": image.guidance,
        "seed": image.seed,
        "width": image.width,
        "height": image.height,
        "model_hash": image.model_hash,
        "model_id": image.model_id,
        "strength": image.strength,
        "loras": lora_tuples(image.loras),
    }
