"""`vary N subtle|strong [xK]`: image-to-image variations of one image under its own settings.

Subtle keeps the composition and changes detail; strong keeps the palette and the idea. In the
sprint the variations are new candidates in N's style (a moodboard to rank from); in a volume
run they are versions of N that count against its iteration budget, with keep/cull.
"""

from __future__ import annotations

import secrets

from bot.playbook import errors
from bot.playbook import notices as N
from bot.playbook.image_rules import not_culled
from bot.playbook.plays.base import Outcome, UseCases, in_range
from bot.playbook.roles import May, Role
from storage.models import Image
from storage.states import ImageKind, Play

STRENGTHS = {"subtle": 0.35, "strong": 0.65}
VARIATIONS = (1, 8)


class VaryUseCases(UseCases):
    # Who may take the decisions this module opens (roles.WHO_MAY gathers every module's).
    MAY = {
        "vary": May((Role.OPERATOR,), "vary an image"),
    }

    def vary(self, project_id: int, user: str, number: int, how: str, count: int = 1) -> Outcome:
        strength = _strength(how)
        in_range("Variations of one image", count, VARIATIONS)
        with self._decide(project_id, user, "vary") as d:
            image = self._image(d.s, d.project, number)
            not_culled(image, "varied")
            _check_variable(image)
            warnings: list[str] = []
            if image.play == Play.VOLUME:
                warnings = self._spend_budget(d.s, d.project, image, count)
            seed = secrets.randbelow(2**31 - count)
            params = {
                "source_id": image.id,
                "strength": strength,
                "seeds": [seed + i for i in range(count)],
                **(self.lineage(image) if image.play == Play.VOLUME else {}),
            }
            job = self._enqueue(d.s, d.project, user, "vary", params, total=count)
            d.detail = {"image": number, "how": how, "count": count, "job": job.id}
            d.say(N.Vary(number=number, count=count, how=how, user=user))
            return Outcome(d.project, job, warnings)


def _strength(how: str) -> float:
    if how not in STRENGTHS:
        raise errors.InvalidInput(
            f"A variation is `subtle` ({STRENGTHS['subtle']}) or `strong` ({STRENGTHS['strong']}), "
            f"e.g. `vary 12 subtle x4`."
        )
    return STRENGTHS[how]


def _check_variable(image: Image) -> None:
    if image.play not in (Play.SPRINT, Play.VOLUME) or image.kind not in (
        ImageKind.TXT2IMG,
        ImageKind.IMG2IMG,
    ):
        raise errors.InvalidInput(
            f"#{image.number} is not a sprint candidate or a volume image, so it is not varied. "
            "To change a kept image, `fix N refine …`; for new seeds of a batch image, `reroll N`."
        )
