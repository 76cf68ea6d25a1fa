"""Who takes the next step, and what it is: the hint under the play tracker and in `help`.

A plain rule over where the project stands; the service gathers the facts (Standing).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.playbook.roles import Role
from bot.playbook.sequence import Play, PlayStatus

ANY_ROLE = None


@dataclass(frozen=True)
class Facts:
    """What the rule needs beyond the play tracker."""

    paused_for: str | None
    plays: dict[Play, PlayStatus]
    ranked: bool
    direction: int | None
    recipe_version: int | None
    reproducible: bool | None
    hero_approved: bool
    at_gate: list[int]


@dataclass(frozen=True)
class Step:
    role: Role | None  # None: anyone who holds a role on the project
    text: str
    click: str | None = None  # the button that takes the step in one click, where one does


PAUSED = {
    "intent": Step(Role.DIRECTOR, "restate the intent in one sentence: `intent <one sentence>`"),
    "reproducibility": Step(
        Role.OPERATOR, "lock a recipe that reproduces: `lock N` with a fixed recipe"
    ),
    "recurring_sendback": Step(
        Role.OPERATOR, "fix the recurring item in the recipe: lock a new recipe version"
    ),
}
FINISHED = Step(
    ANY_ROLE,
    "all five plays have run: `metrics project` shows how it went, `recipe` the card to reuse",
)


def _open(facts: Facts, play: Play) -> bool:
    return facts.plays[play] not in (PlayStatus.DONE, PlayStatus.SKIPPED)


def _sprint(facts: Facts) -> Step:
    if facts.plays[Play.SPRINT] == PlayStatus.PENDING:
        return Step(
            Role.OPERATOR,
            "run the concept sprint: `sprint watercolor | flat vector | film photo — a courier at dawn`",
        )
    if not facts.ranked:
        return Step(Role.DIRECTOR, "rank 3–5 moodboard candidates, best first: `rank 7 2 11`")
    return Step(
        Role.DIRECTOR,
        "approve the top-ranked direction: `approve` (or ✅ on the moodboard)",
        "approve_direction",
    )


def _lock(facts: Facts) -> Step:
    if facts.recipe_version is None:
        which = f" {facts.direction}" if facts.direction else " N"
        return Step(Role.OPERATOR, f"lock the direction into a recipe card: `lock{which}`")
    if facts.reproducible is None:
        return Step(Role.OPERATOR, "wait for the hero and its reproducibility check to render")
    return Step(
        Role.DIRECTOR,
        f"approve the hero of recipe v{facts.recipe_version}: `approve` (or ✅ on the hero)",
        "approve_hero",
    )


def _gate(facts: Facts) -> Step:
    if facts.at_gate:
        waiting = ", ".join(f"#{n}" for n in facts.at_gate)
        return Step(
            Role.REVIEWER,
            f"review {waiting} at the gate: tick the checklist, write alt text, then Clear to ship or Send back",
        )
    return Step(ANY_ROLE, "send a keeper to the review gate: `review N`")


def next_step(facts: Facts) -> Step:
    """The next step of the current play, in the playbook's order."""
    if facts.paused_for is not None:
        return PAUSED.get(facts.paused_for, Step(ANY_ROLE, "resolve the pause"))
    if _open(facts, Play.SPRINT):
        return _sprint(facts)
    if _open(facts, Play.LOCK) or (facts.recipe_version is not None and not facts.hero_approved):
        return _lock(facts)
    if facts.plays[Play.VOLUME] == PlayStatus.PENDING:
        return Step(Role.OPERATOR, "run a volume batch: `volume <value>; <value> x4`")
    if facts.plays[Play.VOLUME] == PlayStatus.ACTIVE:
        return Step(Role.OPERATOR, "cull hard: tick the keepers (1 in 4 or fewer) and save")
    if _open(facts, Play.FIX):
        return Step(
            Role.OPERATOR,
            "repair a keeper (`fix N a1 b1 …`), or the Director skips the play: `skip fix <reason>`",
        )
    if facts.at_gate or _open(facts, Play.GATE):
        return _gate(facts)
    return FINISHED
