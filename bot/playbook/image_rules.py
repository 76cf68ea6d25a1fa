"""What an image's status rules out: a culled image is out of the running, a held one waits."""

from __future__ import annotations

from bot.playbook import errors
from storage.models import Image
from storage.states import ImageStatus

# Why an image is held (bot.runner.safety flags it; the Reviewer decides).
SAFETY_HELD = "the model's safety checker flagged it"


def not_culled(image: Image, doing: str) -> None:
    """A culled image is out of the running until someone keeps it again; a held one until the
    Reviewer releases it."""
    not_held(image, doing)
    if image.status == ImageStatus.CULLED:
        raise errors.InvalidInput(
            f"#{image.number} was culled, so it can't be {doing}. Keep it first: `keep {image.number}`."
        )


def not_held(image: Image, doing: str) -> None:
    """A held image waits for the project's Reviewer, who alone releases or culls it."""
    if image.status == ImageStatus.HELD:
        raise errors.InvalidInput(
            f"#{image.number} is held: {SAFETY_HELD}, so it can't be {doing} until the project's "
            "Reviewer releases or culls it (the buttons under its blurred copy in the thread)."
        )
