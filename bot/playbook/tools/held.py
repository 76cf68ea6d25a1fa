"""Images a model folder's safety checker flagged: held back until the Reviewer decides.

The runner marks them held (bot.runner.safety); they are veiled on sheets and posted blurred,
with the reason, for the project's Reviewer, who alone releases one (it becomes a candidate
like its batch-mates) or culls it. Until then nothing else can be done with it.
"""

from __future__ import annotations

from bot.playbook import errors
from bot.playbook.plays.base import Outcome, UseCases, post, refresh_root
from bot.playbook.roles import May, Role
from storage.models import Image
from storage.states import ImageStatus

DECISIONS = {"release": ImageStatus.CANDIDATE, "cull": ImageStatus.CULLED}


class HeldUseCases(UseCases):
    # Who may take the decisions this module opens (roles.WHO_MAY gathers every module's).
    MAY = {
        "decide_held": May((Role.REVIEWER,), "release or cull an image the safety checker held"),
    }

    def decide_held(self, project_id: int, user: str, number: int, decision: str) -> Outcome:
        """`release` makes a held image a candidate (and shows it); `cull` keeps it out."""
        with self._decide(project_id, user, "decide_held", running=False) as d:
            image: Image = self._image(d.s, d.project, number)
            if image.status != ImageStatus.HELD:
                raise errors.InvalidInput(
                    f"#{number} is not held (it is {image.status}); nothing was changed."
                )
            image.status = DECISIONS[decision]
            d.detail = {"image": number, "decision": decision}
            if decision == "release":
                post(d.s, d.project, "released", number=number, user=user)
            refresh_root(d.s, d.project)
            return Outcome(d.project)
