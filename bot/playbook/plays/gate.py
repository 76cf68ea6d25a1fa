"""Play 5, the review gate: the Reviewer's checklist, clear to ship or send back, with a veto."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.playbook import errors
from bot.playbook import notices as N
from bot.playbook.gate import CHECKLIST, REVIEWER_ITEMS, SHORT, GateItem, Hint, hints
from bot.playbook.plays.base import (
    PAUSE_HOW_TO_RESUME,
    Outcome,
    UseCases,
    not_culled,
    notice,
    post,
    refresh_root,
)
from bot.playbook.roles import ANY_ROLE, May, Role
from bot.playbook.sequence import Play, PlayStatus
from storage.models import GateDraft, GateReview, Image, Project
from storage.states import GateDecision, ImageStatus


@dataclass(frozen=True)
class GateView:
    image: Image
    hints: list[Hint]
    logged: bool
    checklist: dict[GateItem, str]
    parent: Image | None = None  # what a derived image (repair, upscale, variation) came from


def _logged(image: Image) -> bool:
    """Logged with its recipe: the lineage root is a generation whose parameters are all on file."""
    root = image.root or image
    return bool(root.file_hash and root.model_hash and root.seed is not None and root.prompt)


def _missing(ticked: set[GateItem], alt_text: str, logged: bool) -> list[str]:
    missing = [SHORT[item] for item in REVIEWER_ITEMS if item not in ticked]
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
            return GateView(image, hints(image.prompt), _logged(image), CHECKLIST)

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
            logged = _logged(image)
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
                alt_text=alt_text or None,
                created_at=self.clock(),
            )
            warnings: list[str] = []
            if decision == "clear":
                missing = _missing(ticked, alt_text, logged)
                if missing:
                    raise errors.GateIncomplete(
                        "Clear to ship needs every box. Still open: "
                        + ", ".join(dict.fromkeys(missing))
                        + "."
                    )
                row.decision = GateDecision.CLEARED
                image.status, image.alt_text = ImageStatus.SHIPPED, alt_text
                self._finish(d.s, d.project, Play.GATE)
                d.say(N.Cleared(user=user, number=number, alt=alt_text))
            elif decision == "send_back":
                if reason_item is None:
                    raise errors.InvalidInput(
                        "Send back needs the checklist item it fails: people/logos/artists, license, content, alt text or logged."
                    )
                row.decision, row.reason_item = GateDecision.SENT_BACK, reason_item.value
                row.reason_note = note.strip() or None
                image.status = ImageStatus.SENT_BACK
                d.say(N.SentBack(user=user, number=number, item=reason_item.value, note=note))
            else:
                raise errors.InvalidInput("A review decision is `clear` or `send_back`.")
            d.s.add(row)
            d.detail = {
                "image": number,
                "decision": row.decision,
                "reason": row.reason_item,
                "ticked": sorted(item.value for item in ticked),
            }
            if row.decision == GateDecision.SENT_BACK:
                # The pause says so in the thread itself; the warning is for the Reviewer's reply.
                warnings += self._check_recurring(d.s, d.project, reason_item)
            return Outcome(d.project, warnings=warnings)

    def clear(
        self,
        project_id: int,
        user: str,
        number: int,
        *,
        ticked: set[GateItem] | None = None,
        alt_text: str | None = None,
    ) -> Outcome:
        """Clear to ship with what the gate message shows, falling back to the saved draft."""
        draft = self.gate_draft(project_id, number)
        if ticked is None:
            ticked = {GateItem(value) for value in (draft.ticked if draft else [])}
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
            notice(s, project, N.WhichItem(user=user, number=number))

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
            image = self._image(s, self._project(s, project_id), number)
            parent = s.get(Image, image.parent_id) if image.parent_id else None
            return GateView(image, hints(image.prompt), _logged(image), CHECKLIST, parent)

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
            self._require(project, user, "save_gate_draft")
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
