"""The three hats of the playbook and who wears them in a project."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    DIRECTOR = "director"
    OPERATOR = "operator"
    REVIEWER = "reviewer"


@dataclass(frozen=True)
class Roles:
    director: str
    operator: str
    reviewer: str

    def holder(self, role: Role) -> str:
        return str(getattr(self, role.value))

    def of(self, user: str) -> list[Role]:
        return [role for role in Role if self.holder(role) == user]


ANY_ROLE = (Role.DIRECTOR, Role.OPERATOR, Role.REVIEWER)


@dataclass(frozen=True)
class May:
    """Who may take one decision: the hats (in the order a hat is recorded), and its words."""

    roles: tuple[Role, ...]
    doing: str

    @property
    def who(self) -> str:
        """`help`'s words for it: "Director", "Director, Operator or Reviewer"."""
        names = [role.value.title() for role in self.roles]
        return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"

    def refusal(self, roles: Roles, user: str) -> str:
        held = ", ".join(r.value.title() for r in roles.of(user)) or "no role"
        if len(self.roles) == 1:
            holder = roles.holder(self.roles[0])
            named = f"the {self.who} (<@{holder}>)"
        else:
            named = f"the project's {self.who}"
        return (
            f"Only {named} can {self.doing}. You hold {held} on this project; nothing was changed."
        )


# Who may take each decision, said once: the service's opener checks, audits and words the
# refusal from it, and `help` shows it beside each verb (handlers name the key). Buttons and
# emoji run the same use cases, so they are held to the same entry.
WHO_MAY: dict[str, May] = {
    "set_intent": May((Role.DIRECTOR,), "restate the intent"),
    "set_roles": May((Role.DIRECTOR,), "reassign roles"),
    "skip_play": May((Role.DIRECTOR,), "skip a play"),
    "reopen_play": May((Role.DIRECTOR,), "re-open the concept sprint"),
    "run_sprint": May((Role.OPERATOR,), "run a concept sprint"),
    "rank": May((Role.DIRECTOR,), "rank the moodboard"),
    "approve_direction": May((Role.DIRECTOR,), "approve a direction"),
    "lock_recipe": May((Role.OPERATOR,), "lock a recipe"),
    "approve_hero": May((Role.DIRECTOR,), "approve the hero"),
    "run_volume": May((Role.OPERATOR,), "run a volume batch"),
    "mark": May((Role.OPERATOR,), "keep or cull images"),
    "upscale": May((Role.OPERATOR,), "upscale keepers"),
    "reroll": May((Role.OPERATOR,), "re-roll an image"),
    "regenerate": May((Role.OPERATOR,), "regenerate an image"),
    "vary": May((Role.OPERATOR,), "vary an image"),
    "fix_image": May((Role.OPERATOR,), "repair an image"),
    "force_fix": May((Role.DIRECTOR,), "repair more than a third of an image"),
    "hand_off": May((Role.OPERATOR,), "hand an image to an editor"),
    "raise_budget": May((Role.DIRECTOR,), "raise an iteration budget"),
    "cancel": May((Role.OPERATOR,), "cancel jobs"),
    "submit_for_review": May(ANY_ROLE, "send an image to the gate"),
    "review": May((Role.REVIEWER,), "pass the review gate"),
    "ask_sendback_reason": May((Role.REVIEWER,), "decide at the gate"),
    "save_gate_draft": May((Role.REVIEWER,), "tick the gate checklist"),
    "ship": May(ANY_ROLE, "post its ship pack"),
    "start_from_recipe": May(
        (Role.DIRECTOR, Role.OPERATOR), "start it from a recipe: its hero is rendered at once"
    ),
}
