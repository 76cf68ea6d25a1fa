"""The three hats of the playbook and who wears them in a project."""

from __future__ import annotations

from collections.abc import Mapping
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


# Who may take each decision, said once: each use-case class declares its own decisions in
# `MAY`, beside the use cases that open them, and they are gathered here as the classes are
# defined (plays.base.UseCases). The service's opener checks, audits and words the refusal from
# this entry, and `help` shows it beside each verb (a verb names the key). Buttons and emoji
# run the same use cases, so they are held to the same entry.
WHO_MAY: dict[str, May] = {}


def declare(owner: str, decisions: Mapping[str, May]) -> None:
    """Gather one use-case class's MAY into WHO_MAY; a key declared twice is a mistake."""
    for key, may in decisions.items():
        if WHO_MAY.setdefault(key, may) is not may:
            raise TypeError(f"{owner}.MAY[{key!r}]: another class declares it already")
