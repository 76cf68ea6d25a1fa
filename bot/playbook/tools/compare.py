"""`compare N M`: two images of one project side by side, posted in its thread for everyone."""

from __future__ import annotations

from bot.playbook import errors
from bot.playbook.plays.base import Outcome, UseCases, post_once


class CompareUseCases(UseCases):
    def compare(self, project_id: int, user: str, before: int, after: int) -> Outcome:
        """Anyone may ask (it changes nothing), a few times a minute; both images must be this
        project's. Posted once per request, however often the request is applied."""
        if before == after:
            raise errors.InvalidInput(
                f"Compare two different images, e.g. `compare {before} {before + 1}`."
            )
        with self._tx() as s:
            project = self._project(s, project_id)
            for number in (before, after):
                self._image(s, project, number)
            self.rates.take(user, "compare")
            post_once(s, project, "compare", before=before, after=after, user=user)
            return Outcome(project)
