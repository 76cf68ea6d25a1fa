"""`reroll N [xK]` and `regenerate N`: new seeds for one image, everything else as it was made.

A sprint candidate gets new candidates in its style; a volume image new images of its slot
value under its recipe. They are versions in N's lineage, so they count against its iteration
budget with the budget rules as they are, and they arrive as a batch with keep/cull.
`regenerate N` is the playbook's answer to a fix over a third of the image: one re-roll of the
lineage's first generation, back to keep/cull.
"""

from __future__ import annotations

import secrets

from bot.playbook import errors
from bot.playbook import notices as N
from bot.playbook.plays.base import Decision, Outcome, UseCases, in_range
from bot.playbook.roles import May, Role
from storage.models import Image, Job
from storage.states import ImageKind, Play

REROLLS = (1, 8)


class RerollUseCases(UseCases):
    # Who may take the decisions this module opens (roles.WHO_MAY gathers every module's).
    MAY = {
        "reroll": May((Role.OPERATOR,), "re-roll an image"),
        "regenerate": May((Role.OPERATOR,), "regenerate an image"),
    }

    def reroll(self, project_id: int, user: str, number: int, count: int = 1) -> Outcome:
        in_range("Re-rolls of one image", count, REROLLS)
        with self._decide(project_id, user, "reroll") as d:
            image = self._image(d.s, d.project, number)
            _check_rerollable(image)
            warnings = self._spend_budget(d.s, d.project, image, count)
            job = self._reroll(d, image, count)
            d.detail = {"image": number, "count": count, "job": job.id}
            d.say(N.Reroll(number=number, count=count, user=d.user))
            return Outcome(d.project, job, warnings)

    def regenerate(self, project_id: int, user: str, number: int) -> Outcome:
        with self._decide(project_id, user, "regenerate") as d:
            image = self._image(d.s, d.project, number)
            first = self._root_of(image)
            _check_rerollable(image if image.play == Play.LOCK else first)
            warnings = self._spend_budget(d.s, d.project, first)
            job = self._reroll(d, first, 1)
            d.detail = {"image": number, "from": first.number, "job": job.id}
            d.say(N.Regenerate(number=number, user=d.user))
            return Outcome(d.project, job, warnings)

    def _reroll(self, d: Decision, image: Image, count: int) -> Job:
        seed = secrets.randbelow(2**31 - count)
        params = {
            "settings": {
                "model": image.model_id,
                "scheduler": image.scheduler,
                "steps": image.steps,
                "guidance": image.guidance,
                "width": image.width,
                "height": image.height,
                "loras": image.loras or [],
            },
            "images": [
                {
                    "prompt": image.prompt,
                    "negative_prompt": image.negative_prompt,
                    "seed": seed + i,
                    "style": image.style,
                    "slot_value": image.slot_value,
                    "parent_id": image.id,
                    "rerolled_from": image.number,  # named in its Content Credentials
                }
                for i in range(count)
            ],
            "recipe_id": image.recipe_id,
            **self.lineage(image),
        }
        return self._enqueue(d.s, d.project, d.user, str(image.play), params)


def _check_rerollable(image: Image) -> None:
    if image.kind != ImageKind.TXT2IMG or image.play not in (Play.SPRINT, Play.VOLUME):
        raise errors.InvalidInput(
            f"#{image.number} is not a sprint candidate or a volume image, so it has no seed to "
            "re-roll. For a new hero, `lock N seed S`; to repair an image, `fix N …`."
        )
