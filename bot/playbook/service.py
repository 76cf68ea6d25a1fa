"""The playbook's use cases behind one name: each play's module contributes its own.

Find a use case by its play: `plays/sprint.py`, `plays/lock_in.py`, `plays/volume.py`,
`plays/fix.py`, `plays/gate.py`; around them `plays/channel.py`, `plays/project.py`,
`plays/jobs.py` and `plays/reporting.py`. Every rule is enforced there, not in the UI.
"""

from __future__ import annotations

from bot.playbook.plays.base import Outcome
from bot.playbook.plays.channel import ChannelPlays
from bot.playbook.plays.compare import ComparePlays
from bot.playbook.plays.fix import FixPlays
from bot.playbook.plays.gate import GatePlays, GateView
from bot.playbook.plays.info import InfoUseCases
from bot.playbook.plays.jobs import Applied, JobPlays
from bot.playbook.plays.library import LibraryEntry, LibraryPlays
from bot.playbook.plays.lock_in import LockInPlays
from bot.playbook.plays.project import ProjectPlays
from bot.playbook.plays.reporting import DigestData, Reporting
from bot.playbook.plays.reroll import RerollPlays
from bot.playbook.plays.ship import ShipPlays, ShipRecord
from bot.playbook.plays.sprint import SprintPlays
from bot.playbook.plays.vary import VaryPlays
from bot.playbook.plays.volume import VolumePlays
from bot.playbook.sequence import PlayStatus
from storage.models import Project

# Project is the read model listeners see (they import nothing from storage).
__all__ = [
    "Applied",
    "DigestData",
    "GateView",
    "LibraryEntry",
    "Outcome",
    "PlaybookService",
    "Project",
    "ShipRecord",
]


class PlaybookService(
    LibraryPlays,
    ChannelPlays,
    ProjectPlays,
    SprintPlays,
    LockInPlays,
    VolumePlays,
    FixPlays,
    GatePlays,
    JobPlays,
    Reporting,
    InfoUseCases,
    RerollPlays,
    VaryPlays,
    ComparePlays,
    ShipPlays,
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
