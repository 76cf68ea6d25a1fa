"""What a use case says in a project's thread, one typed record per kind of notice.

A use case records `d.say(Ranked(user=…, numbers=[…]))`; the outbox keeps it as a payload with
its `event` name, and bot.slack.notices turns it into words. Fields are typed here, so a notice
missing one fails in mypy (and at the use case), never as a broken message in Slack. `user` is
who acted; notices recorded before it was kept have it empty.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar


@dataclass(frozen=True)
class Notice:
    event: ClassVar[str] = ""

    def payload(self) -> dict[str, Any]:
        return {"event": self.event, **asdict(self)}


@dataclass(frozen=True)
class Text(Notice):
    event = "text"
    text: str


@dataclass(frozen=True)
class Warned(Notice):
    event = "warning"
    text: str


@dataclass(frozen=True)
class Undelivered(Notice):
    event = "undelivered"
    kind: str
    reason: str


@dataclass(frozen=True)
class ForcedFix(Notice):
    event = "forced_fix"
    number: int
    coverage: float
    user: str = ""


@dataclass(frozen=True)
class Regenerate(Notice):
    event = "regenerate"
    number: int
    user: str = ""


@dataclass(frozen=True)
class RolesChanged(Notice):
    event = "roles"
    roles: dict[str, str]
    user: str = ""


@dataclass(frozen=True)
class Intent(Notice):
    event = "intent"
    intent: str


@dataclass(frozen=True)
class FromRecipe(Notice):
    event = "from_recipe"
    name: str


@dataclass(frozen=True)
class Reroll(Notice):
    event = "reroll"
    number: int
    count: int
    user: str = ""


@dataclass(frozen=True)
class Vary(Notice):
    event = "vary"
    number: int
    count: int
    how: str
    user: str = ""


@dataclass(frozen=True)
class Skipped(Notice):
    event = "skipped"
    play: str
    reason: str
    user: str = ""


@dataclass(frozen=True)
class Reopened(Notice):
    event = "reopened"
    play: str
    reason: str
    user: str = ""


@dataclass(frozen=True)
class Ranked(Notice):
    event = "ranked"
    numbers: list[int]
    user: str = ""


@dataclass(frozen=True)
class Direction(Notice):
    event = "direction"
    number: int
    user: str = ""


@dataclass(frozen=True)
class Hero(Notice):
    event = "hero"
    user: str = ""


@dataclass(frozen=True)
class Marked(Notice):
    event = "marked"
    keep: list[int]
    cull: list[int]
    batch: bool = False
    user: str = ""


@dataclass(frozen=True)
class Locked(Notice):
    event = "locked"
    version: int
    template: str
    value: str
    number: int | None = None
    whole_subject: bool = False
    user: str = ""


@dataclass(frozen=True)
class OnePerson(Notice):
    event = "one_person"
    cooloff: int
    user: str = ""


@dataclass(frozen=True)
class Volume(Notice):
    event = "volume"
    count: int
    prompts: list[str]
    more: bool
    user: str = ""


@dataclass(frozen=True)
class CullHard(Notice):
    event = "cull_hard"
    kept: int
    total: int
    user: str = ""


@dataclass(frozen=True)
class Handoff(Notice):
    event = "handoff"
    number: int
    editor: str
    user: str = ""


@dataclass(frozen=True)
class Budget(Notice):
    event = "budget"
    number: int
    budget: int
    user: str = ""


@dataclass(frozen=True)
class Cancelled(Notice):
    event = "cancelled"
    jobs: list[int]
    user: str = ""


@dataclass(frozen=True)
class Cleared(Notice):
    event = "cleared"
    number: int
    alt: str
    user: str = ""


@dataclass(frozen=True)
class SentBack(Notice):
    event = "sent_back"
    number: int
    item: str  # the item's short name (older notices: a playbook item's stored value)
    note: str
    user: str = ""
    cells: str = ""  # the cells it pins, `b2 c2`


@dataclass(frozen=True)
class WhichItem(Notice):
    event = "which_item"
    number: int
    user: str = ""
    names: str = ""  # the channel's items, its own included


@dataclass(frozen=True)
class GateWait(Notice):
    event = "gate_wait"
    reviewer: str
    number: int
    hours: float


@dataclass(frozen=True)
class PausedLong(Notice):
    event = "paused_long"
    director: str
    hours: float
    detail: str


EVENTS: dict[str, type[Notice]] = {kind.event: kind for kind in Notice.__subclasses__()}


def from_payload(payload: dict[str, Any]) -> Notice:
    """The notice a stored payload records (one from before notices were events is `text`).

    Keys the notice no longer has are dropped, so a payload an older version wrote still renders.
    """
    kind = EVENTS[payload.get("event", "text")]
    known = {field.name for field in fields(kind)}
    return kind(**{name: value for name, value in payload.items() if name in known})
