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
