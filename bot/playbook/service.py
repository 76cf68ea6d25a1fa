"""The playbook's use cases behind one name: each play's module contributes its own.

Find a use case by its play: `plays/sprint.py`, `plays/lock_in.py`, `plays/volume.py`,
`plays/fix.py`, `plays/gate.py`; around them `plays/channel.py`, `plays/project.py`,
`plays/jobs.py` and `plays/reporting.py`; the everyday image tools in `tools/` (info, reroll,
vary, compare, ship, library). Every rule is enforced there, not in the UI.
"""

from __future__ import annotations

from bot.playbook.plays.base import Outcome
from bot.playbook.plays.channel import ChannelUseCases
from bot.playbook.plays.fix import FixUseCases
from bot.playbook.plays.gate import GateUseCases, GateView
from bot.playbook.plays.jobs import Applied, JobUseCases
from bot.playbook.plays.lock_in import LockInUseCases
from bot.playbook.plays.project import ProjectUseCases
from bot.playbook.plays.reporting import DigestData, ReportingUseCases
from bot.playbook.plays.sprint import SprintUseCases
from bot.playbook.plays.volume import VolumeUseCases
from bot.playbook.sequence import PlayStatus
from bot.playbook.tools.compare import CompareUseCases
from bot.playbook.tools.held import HeldUseCases
from bot.playbook.tools.home import Home, HomeUseCases
from bot.playbook.tools.info import InfoUseCases
from bot.playbook.tools.library import LibraryEntry, LibraryUseCases
from bot.playbook.tools.reroll import RerollUseCases
from bot.playbook.tools.ship import ShipRecord, ShipUseCases
from bot.playbook.tools.vary import VaryUseCases
from storage.models import Project

# Project is the read model listeners see (they import nothing from storage).
__all__ = [
    "Applied",
    "DigestData",
    "GateView",
    "Home",
    "LibraryEntry",
    "Outcome",
    "PlaybookService",
    "Project",
    "ShipRecord",
]


class PlaybookService(
    LibraryUseCases,
    ChannelUseCases,
    HomeUseCases,
    ProjectUseCases,
    SprintUseCases,
    LockInUseCases,
    VolumeUseCases,
    FixUseCases,
    GateUseCases,
    JobUseCases,
    ReportingUseCases,
    InfoUseCases,
    RerollUseCases,
    VaryUseCases,
    HeldUseCases,
    CompareUseCases,
    ShipUseCases,
):
    """Every use case; each opens its own transaction and commits its messages with it."""

    def approve(self, project_id: int, user: str, what: str | None = None) -> Outcome:
        """`approve` means the direction while none is approved (and the sprint ran), else the hero."""
        project = self.project(project_id)
        direction = what == "direction" or (
            what is None
            and project.direction_approved_at is None
            and self.plays(project_id)[0].status != PlayStatus.SKIPPED
        )
        if direction:
            return self.approve_direction(project_id, user)
        return self.approve_hero(project_id, user)
