"""Play 5, the review gate: the Reviewer's checklist, clear to ship or send back, with a veto."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.playbook import checklist, errors, pins
from bot.playbook import notices as N
from bot.playbook.checklist import Item
from bot.playbook.gate import GateItem, Hint, hints
from bot.playbook.image_rules import not_culled
from bot.playbook.plays.base import (
    PAUSE_HOW_TO_RESUME,
    Outcome,
    UseCases,
    notice,
    post,
    refresh_root,
)
from bot.playbook.roles import ANY_ROLE, May, Role
from bot.playbook.sequence import Play, PlayStatus
from storage.gate_models import GateDraft, GatePin, GateReview
from storage.models import ChannelSettings, Image, Project
from storage.states import GateDecision, ImageStatus


@dataclass(frozen=True)
class GateView:
    image: Image
    hints: list[Hint]
    logged: bool
    checklist: list[Item]  # the playbook's five, then the channel's own
    parent: Image | None = None  # what a derived image (repair, upscale, variation) came from
    pins: list[pins.PinView] = field(default_factory=list)  # open pins on its history


def _logged(image: Image) -> bool:
    """Logged with its recipe: the lineage root is a generation whose parameters are all on file."""
    root = image.root or image
    return bool(root.file_hash and root.model_hash and root.seed is not None and root.prompt)


def _items(s: Session, project: Project) -> list[Item]:
    """The gate's checklist in the project's channel, as it stands now."""
    settings = s.get(ChannelSettings, project.channel_id)
    return checklist.items(settings.checklist if settings else [])


def _missing(items: list[Item], ticked: set[str], alt_text: str, logged: bool) -> list[str]:
    missing = [item.short for item in items if item.reviewer and item.key not in ticked]
    if not alt_text:
        missing.append("alt text (write it)")
    if not logged:
        missing.append("logged with its recipe")
    return missing


class GateUseCases(UseCases):
    # Who may take the decisions this module opens (roles.WHO_MAY gathers every module's).
    MAY = {
        "submit_for_review": May(ANY_ROLE, "send an image to the gate"),
        "review": May((Role.REVIEWER,), "pass the review gate"),
        "ask_sendback_reason": May((Role.REVIEWER,), "decide at the gate"),
        "save_gate_draft": May((Role.REVIEWER,), "tick the gate checklist"),
    }

    def submit_for_review(self, project_id: int, user: str, number: int) -> GateView:
        with self._tx() as s:
            project = self._project(s, project_id)
            hat = self._require(project, user, "submit_for_review")
            self._require_running(project)
            self._require_order(s, project, Play.GATE)
            image = self._image(s, project, number)
            not_culled(image, "sent to the gate")
            if image.status == ImageStatus.SHIPPED:
                raise errors.InvalidInput(f"#{number} is shipped: cleared at the gate already.")
            image.status = ImageStatus.AT_GATE
            run = self._play(s, project, Play.GATE)
            if run.status == PlayStatus.PENDING:
                self._start(run, user, hat, self.clock())
            detail = {"image": number}
            self._audit(s, project, project.channel_id, user, hat, "submit_for_review", detail)
            post(s, project, "gate", number=number)
            refresh_root(s, project)
            return GateView(image, hints(image.prompt), _logged(image), _items(s, project))

    def review(
        self,
        project_id: int,
        user: str,
        number: int,
        *,
        decision: str,
        ticked: set[str] | None = None,
        alt_text: str = "",
        reason_item: str | None = None,
        note: str = "",
        cells: list[int] | None = None,
    ) -> Outcome:
        """Clear needs every box and alt text; send back needs a reason item and counts as rework.

        A send-back may pin grid cells (`cells`): where the problem is, for the fix.
        """
        ticked = set(ticked or ())
        alt_text = alt_text.strip()
        with self._decide(project_id, user, "review", after=Play.GATE) as d:
            image = self._image(d.s, d.project, number)
            not_culled(image, "reviewed")
            if image.status == ImageStatus.SHIPPED:
                raise errors.InvalidInput(f"#{number} is shipped: cleared at the gate already.")
            if decision == "send_back" and image.status == ImageStatus.SENT_BACK:
                raise errors.InvalidInput(
                    f"#{number} is already sent back; a second send-back would count twice. When "
                    f"it is fixed, `review {number}` brings it (or its new version) to the gate."
                )
            self._require_cooloff(d.s, d.project, user)
            logged, items = _logged(image), _items(d.s, d.project)
            row = GateReview(
                project_id=d.project.id,
                image_id=image.id,
                reviewer=user,
                hat=d.hat,
                clear_of_people_logos_artists=GateItem.PEOPLE_LOGOS_ARTISTS in ticked,
                license_permits_use=GateItem.LICENSE in ticked,
                no_offensive_content=GateItem.CONTENT in ticked,
                alt_text_written=GateItem.ALT_TEXT in ticked and bool(alt_text),
                logged_with_recipe=logged,
                channel_items={i.key: i.key in ticked for i in items if not i.playbook} or None,
                alt_text=alt_text or None,
                created_at=self.clock(),
            )
            warnings: list[str] = []
            if decision == "clear":
                missing = _missing(items, ticked, alt_text, logged)
                if missing:
                    raise errors.GateIncomplete(
                        "Clear to ship needs every box. Still open: "
                        + ", ".join(dict.fromkeys(missing))
                        + "."
                    )
                row.decision = GateDecision.CLEARED
                image.status, image.alt_text = ImageStatus.SHIPPED, alt_text
                pins.resolve(d.s, image, self.clock())
                self._finish(d.s, d.project, Play.GATE)
                d.say(N.Cleared(user=user, number=number, alt=alt_text))
            elif decision == "send_back":
                failed = checklist.named_in(items, reason_item or "")
                if failed is None:
                    raise errors.InvalidInput(
                        f"Send back needs the checklist item it fails: {checklist.names(items)}."
                    )
                row.decision, row.reason_item = GateDecision.SENT_BACK, failed.key
                row.reason_note = note.strip() or None
                image.status = ImageStatus.SENT_BACK
                self._pin(d.s, d.project, row, image, failed, cells or [])
                d.say(
                    N.SentBack(
                        user=user,
                        number=number,
                        item=failed.short,
                        note=note,
                        cells=pins.cell_names(cells or []),
                    )
                )
            else:
                raise errors.InvalidInput("A review decision is `clear` or `send_back`.")
            d.s.add(row)
            d.detail = {
                "image": number,
                "decision": row.decision,
                "reason": row.reason_item,
                "ticked": sorted(ticked),
                **({"cells": pins.cell_names(cells)} if cells else {}),
            }
            if row.decision == GateDecision.SENT_BACK:
                # The pause says so in the thread itself; the warning is for the Reviewer's reply.
                warnings += self._check_recurring(d.s, d.project, row.reason_item)
            return Outcome(d.project, warnings=warnings)

    def clear(
        self,
        project_id: int,
        user: str,
        number: int,
        *,
        ticked: set[str] | None = None,
        alt_text: str | None = None,
    ) -> Outcome:
        """Clear to ship with what the gate message shows, falling back to the saved draft."""
        draft = self.gate_draft(project_id, number)
        if ticked is None:
            ticked = set(draft.ticked if draft else [])
        if alt_text is None:
            alt_text = (draft.alt_text if draft else "") or ""
        return self.review(
            project_id, user, number, decision="clear", ticked=ticked, alt_text=alt_text
        )

    def ask_sendback_reason(self, project_id: int, user: str, number: int) -> None:
        """The Reviewer's ❌: ask in the thread which checklist item the image fails."""
        with self._tx() as s:
            project = self._project(s, project_id)
            self._require(project, user, "ask_sendback_reason")
            self._image(s, project, number)
            names = checklist.names(_items(s, project))
            notice(s, project, N.WhichItem(user=user, number=number, names=names))

    @staticmethod
    def _pin(
        s: Session, project: Project, review: GateReview, image: Image, item: Item, cells: list[int]
    ) -> None:
        """A send-back's cells, pinned on the image; the thread shows them outlined."""
        if not cells:
            return
        s.add(review)
        s.flush()
        s.add(
            GatePin(
                review_id=review.id,
                image_id=image.id,
                cells=cells,
                item=item.key,
                note=review.reason_note,
            )
        )
        post(s, project, "pins", number=image.number, cells=cells, item=item.short)

    def _check_recurring(self, s: Session, project: Project, item: str | None) -> list[str]:
        s.flush()
        recipe = self._latest_recipe(s, project.id)
        since = recipe.locked_at if recipe else project.created_at
        count = (
            s.scalar(
                select(func.count(GateReview.id)).where(
                    GateReview.project_id == project.id,
                    GateReview.decision == "sent_back",
                    GateReview.reason_item == item,
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
                f"the Reviewer sent back images for “{checklist.short(item)}” {count} times — fix it in the recipe, not per image",
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
            parent = s.get(Image, image.parent_id) if image.parent_id else None
            pinned = [pins.view(p) for p in pins.pins_of(s, image) if p.resolved_at is None]
            items = _items(s, project)
            return GateView(image, hints(image.prompt), _logged(image), items, parent, pinned)

    def save_gate_draft(
        self,
        project_id: int,
        user: str,
        number: int,
        *,
        ticked: set[str] | None = None,
        alt_text: str | None = None,
    ) -> GateDraft:
        """The Reviewer's boxes and alt text so far, so an emoji decision can use them."""
        with self._tx() as s:
            project = self._project(s, project_id)
            self._require(project, user, "save_gate_draft")
            image = self._image(s, project, number)
            draft = s.get(GateDraft, image.id) or GateDraft(image_id=image.id, ticked=[])
            if ticked is not None:
                draft.ticked = sorted(ticked)
            if alt_text is not None:
                draft.alt_text = alt_text
            s.add(draft)
            return draft

    def gate_draft(self, project_id: int, number: int) -> GateDraft | None:
        with self._tx() as s:
            image = self._image(s, self._project(s, project_id), number)
            return s.get(GateDraft, image.id)
