"""Play 1, the concept sprint: breadth across styles, a moodboard, the Director's ranking."""

from __future__ import annotations

import secrets

from sqlalchemy import select

from bot.playbook import errors
from bot.playbook import notices as N
from bot.playbook.aspect import sized
from bot.playbook.plays.base import Decision, Outcome, UseCases, in_range
from bot.playbook.roles import May, Role
from bot.playbook.sequence import Play, PlayStatus
from storage.models import Image, Ranking

SPRINT_IMAGES = (15, 30)
SPRINT_STYLES = (3, 5)
RANKED = (3, 5)
MAX_STYLE = 100
MAX_SUBJECT = 200


def _check_sprint(subject: str, styles: list[str], count: int) -> None:
    if not subject:
        raise errors.InvalidInput(
            "Name the subject after the styles: `sprint watercolor | flat vector | film photo — a courier at dawn`."
        )
    if not SPRINT_STYLES[0] <= len(styles) <= SPRINT_STYLES[1]:
        raise errors.InvalidInput(
            f"A concept sprint explores 3 to 5 distinct styles (you gave {len(styles)}), separated by `|`."
        )
    if len(subject) > MAX_SUBJECT:
        raise errors.InvalidInput(
            f"The subject is at most {MAX_SUBJECT} characters (yours is {len(subject)})."
        )
    too_long = [style for style in styles if len(style) > MAX_STYLE]
    if too_long:
        raise errors.InvalidInput(
            f"A style is at most {MAX_STYLE} characters; “{too_long[0][:40]}…” is {len(too_long[0])}."
        )
    if len({style.lower() for style in styles}) != len(styles):
        raise errors.InvalidInput("The styles must be distinct; breadth is the point of a sprint.")
    in_range("The number of variations", count, SPRINT_IMAGES)


class SprintUseCases(UseCases):
    # Who may take the decisions this module opens (roles.WHO_MAY gathers every module's).
    MAY = {
        "reopen_play": May((Role.DIRECTOR,), "re-open the concept sprint"),
        "run_sprint": May((Role.OPERATOR,), "run a concept sprint"),
        "rank": May((Role.DIRECTOR,), "rank the moodboard"),
        "approve_direction": May((Role.DIRECTOR,), "approve a direction"),
    }

    def run_sprint(
        self,
        project_id: int,
        user: str,
        subject: str,
        styles: list[str],
        count: int = 15,
        ar: str | None = None,
        size: str | None = None,
    ) -> Outcome:
        subject = " ".join(subject.split())
        styles = [" ".join(style.split()) for style in styles if style.strip()]
        _check_sprint(subject, styles, count)
        self._check_words(user, [subject, *styles], "sprint", project_id=project_id)
        with self._decide(project_id, user, "run_sprint") as d:
            project = d.project
            run = self._play(d.s, project, Play.SPRINT)
            if project.direction_approved_at is not None:
                raise errors.OutOfOrder(
                    "The Director already approved a direction. Turn it into a recipe with `lock`."
                )
            preset = self.preset(project.model)
            width, height = sized(preset, ar, size)
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
                "width": width,
                "height": height,
            }
            job = self._enqueue(
                d.s,
                project,
                user,
                "sprint",
                {"settings": settings, "images": images, "subject": subject, "styles": styles},
            )
            self._start(run, user, d.hat, self.clock())
            d.detail = {"job": job.id, "count": count, "styles": styles, "ar": ar}
            return Outcome(project, job)

    def rank(self, project_id: int, user: str, numbers: list[int]) -> Ranking:
        if len(set(numbers)) != len(numbers):
            raise errors.InvalidInput("Each candidate can be ranked once.")
        if not RANKED[0] <= len(numbers) <= RANKED[1]:
            raise errors.InvalidInput(
                f"Rank 3 to 5 candidates, best first (you gave {len(numbers)}), e.g. `rank 7 2 11`."
            )
        with self._decide(project_id, user, "rank") as d:
            self._require_sprint_open(d, "Ranking")
            images = [self._image(d.s, d.project, number) for number in numbers]
            not_sprint = [image.number for image in images if image.play != Play.SPRINT]
            if not_sprint:
                raise errors.InvalidInput(
                    f"Only sprint candidates can be ranked; #{', #'.join(map(str, not_sprint))} are not."
                )
            ranking = Ranking(
                project_id=d.project.id,
                image_ids=[image.id for image in images],
                ranked_by=user,
                created_at=self.clock(),
            )
            d.s.add(ranking)
            d.detail = {"numbers": numbers}
            d.say(N.Ranked(user=user, numbers=numbers))
            return ranking

    def reopen_sprint(self, project_id: int, user: str, reason: str) -> Outcome:
        """The Director re-opens the concept sprint on purpose: a new direction may be ranked."""
        reason = reason.strip()
        with self._decide(project_id, user, "reopen_play") as d:
            if len(reason) < 3:
                raise errors.InvalidInput(
                    "Say why you re-open the sprint, e.g. `reopen sprint the client changed the brief`."
                )
            run = self._play(d.s, d.project, Play.SPRINT)
            if run.status in (PlayStatus.PENDING, PlayStatus.ACTIVE):
                raise errors.OutOfOrder("The concept sprint is open already; rank its moodboard.")
            run.status, run.finished_at, run.skip_reason = PlayStatus.ACTIVE, None, None
            d.project.direction_image_id, d.project.direction_approved_at = None, None
            d.detail = {"play": Play.SPRINT.value, "reason": reason}
            d.say(N.Reopened(user=user, play=Play.SPRINT.value, reason=reason))
            return Outcome(d.project)

    def _require_sprint_open(self, d: Decision, doing: str) -> None:
        """Ranking and choosing a direction belong to the sprint, before anything is locked."""
        run = self._play(d.s, d.project, Play.SPRINT)
        # A lock needs the sprint done or skipped, so this also covers "after the lock".
        if run.status in (PlayStatus.DONE, PlayStatus.SKIPPED):
            raise errors.OutOfOrder(
                f"{doing} belongs to the concept sprint, which is {run.status}. "
                "The Director can re-open it on purpose: `reopen sprint <reason>`."
            )

    def approve_direction(self, project_id: int, user: str) -> Outcome:
        with self._decide(project_id, user, "approve_direction") as d:
            ranking = d.s.scalars(
                select(Ranking)
                .where(Ranking.project_id == d.project.id)
                .order_by(Ranking.id.desc())
            ).first()
            if d.project.direction_approved_at is not None:
                raise errors.OutOfOrder("A direction is already approved.")
            self._require_sprint_open(d, "Approving a direction")
            if ranking is None:
                raise errors.OutOfOrder(
                    "Rank 3–5 candidates first (`rank 7 2 11`); the top one becomes the direction."
                )
            d.project.direction_image_id = ranking.image_ids[0]
            d.project.direction_approved_at = self._finish(d.s, d.project, Play.SPRINT).finished_at
            number = d.s.get_one(Image, ranking.image_ids[0]).number
            d.detail = {"image": number}
            d.say(N.Direction(user=user, number=number))
            return Outcome(d.project)
