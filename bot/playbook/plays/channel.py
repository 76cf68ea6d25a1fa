"""A channel's defaults and a project's roles: who wears which hat."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.playbook import blocklist, checklist, errors
from bot.playbook import notices as N
from bot.playbook.checklist import Item
from bot.playbook.plays.base import UseCases, in_range
from bot.playbook.roles import May, Role
from storage.models import ChannelSettings, Project

SETTINGS = {
    "director",
    "operator",
    "reviewer",
    "iteration_budget",
    "review_cooloff_minutes",
    "gate_wait_hours",
    "digest_time",
    "digest_tz",
    "model",
    "queue_limit_per_user",
    "gpu_minutes_weekly",
    "repro_tolerance",
    "repro_max_tolerance",
}
# Whole-number settings and their allowed range.
COUNTS = {
    "iteration_budget": (1, 10_000),
    "review_cooloff_minutes": (0, 10_000),
    "gate_wait_hours": (1, 10_000),
    "queue_limit_per_user": (1, 10_000),
    "gpu_minutes_weekly": (1, 1_000_000),  # or None: no cap; a week is 10,080 minutes a GPU
}


class ChannelUseCases(UseCases):
    # Who may take the decisions this module opens (roles.WHO_MAY gathers every module's).
    MAY = {
        "set_roles": May((Role.DIRECTOR,), "reassign roles"),
    }

    def settings(self, channel_id: str) -> ChannelSettings:
        with self._tx() as s:
            return self._settings(s, channel_id)

    def checklist(self, channel_id: str) -> list[Item]:
        """The gate's checklist in a channel: the playbook's five, then the channel's own."""
        return checklist.items(self.settings(channel_id).checklist or [])

    def update_settings(
        self, channel_id: str, user: str, *, admin: bool = False, **changes: Any
    ) -> ChannelSettings:
        """Channel defaults and roles. Who may change them (the README says the same):

        - once the channel has a Director: that Director, or a workspace admin or owner;
        - before that: a Director of one of the channel's projects, or an admin or owner;
          in a channel with no project yet, whoever sets them first.
        """
        unknown = set(changes) - SETTINGS
        if unknown:
            raise errors.InvalidInput(
                f"Unknown setting {', '.join(sorted(unknown))}. Settings: {', '.join(sorted(SETTINGS))}."
            )
        with self._tx() as s:
            current = self._settings(s, channel_id)
            if not admin:
                self._require_channel_director(s, current, user)
            if "model" in changes and changes["model"] not in self.models:
                raise errors.InvalidInput(
                    f"`{changes['model']}` is not a registered model. This workspace's models: "
                    f"{', '.join(f'`{name}`' for name in self.models)}. A runner's operator adds "
                    "models with ATELIER_MODELS; a channel picks one by name, never by path."
                )
            for name, bounds in COUNTS.items():
                if changes.get(name) is not None:
                    changes[name] = int(changes[name])
                    in_range(name, changes[name], bounds)
            for name, value in changes.items():
                setattr(current, name, value)
            hat = "admin" if admin and current.director != user else "director"
            self._audit(s, None, channel_id, user, hat, "update_settings", changes)
            return current

    def change_blocklist(
        self, channel_id: str, user: str, *, add: str = "", remove: str = "", admin: bool = False
    ) -> list[str]:
        """Add or lift a blocked phrase; whoever may change the channel's settings may."""
        phrase = " ".join((add or remove).split())
        if not phrase or len(phrase) > blocklist.MAX_PHRASE:
            raise errors.InvalidInput(
                f"A blocked phrase is a word or a few, up to {blocklist.MAX_PHRASE} characters: "
                "`settings blocklist add <word or phrase>`."
            )
        with self._tx() as s:
            current = self._settings(s, channel_id)
            if not admin:
                self._require_channel_director(s, current, user)
            phrases = list(current.blocklist or [])
            same = [p for p in phrases if blocklist.normalised(p) == blocklist.normalised(phrase)]
            if add and not same:
                if len(phrases) >= blocklist.MAX_PHRASES:
                    raise errors.InvalidInput(
                        f"The channel already blocks {blocklist.MAX_PHRASES} phrases; lift one first."
                    )
                phrases.append(phrase)
            if remove and not same:
                raise errors.NotFound(f"“{phrase}” is not on this channel's blocked words.")
            if remove:
                phrases = [p for p in phrases if p not in same]
            current.blocklist = phrases
            action = "blocklist_add" if add else "blocklist_remove"
            hat = "admin" if admin and current.director != user else "director"
            self._audit(s, None, channel_id, user, hat, action, {"phrase": phrase})
            return phrases

    def change_checklist(
        self,
        channel_id: str,
        user: str,
        *,
        add: tuple[str, str] | None = None,
        remove: str = "",
        admin: bool = False,
    ) -> list[list[str]]:
        """Add or remove one of the channel's own gate items; the playbook's five stay."""
        with self._tx() as s:
            current = self._settings(s, channel_id)
            if not admin:
                self._require_channel_director(s, current, user)
            stored = list(current.checklist or [])
            current.checklist = (
                checklist.added(stored, *add) if add else checklist.removed(stored, remove)
            )
            action = "checklist_add" if add else "checklist_remove"
            hat = "admin" if admin and current.director != user else "director"
            detail = {"item": add[0].strip().lower(), "text": add[1]} if add else {"item": remove}
            self._audit(s, None, channel_id, user, hat, action, detail)
            return current.checklist

    @staticmethod
    def _require_channel_director(s: Session, current: ChannelSettings, user: str) -> None:
        if current.director:
            if current.director != user:
                raise errors.NotAuthorized(
                    f"Only the channel's Director (<@{current.director}>) or a workspace admin can "
                    "change its settings; nothing was changed."
                )
            return
        directors = set(
            s.scalars(select(Project.director).where(Project.channel_id == current.channel_id))
        )
        if directors and user not in directors:
            raise errors.NotAuthorized(
                "This channel has no Director yet, so its settings are set by the Director of one "
                "of its projects or by a workspace admin; nothing was changed."
            )

    def set_roles(
        self,
        project_id: int,
        user: str,
        *,
        director: str | None = None,
        operator: str | None = None,
        reviewer: str | None = None,
    ) -> Project:
        changes = {
            name: who
            for name, who in (
                ("director", director),
                ("operator", operator),
                ("reviewer", reviewer),
            )
            if who
        }
        with self._decide(project_id, user, "set_roles", running=False) as d:
            for name, value in changes.items():
                setattr(d.project, name, value)
            d.detail = changes
            d.say(N.RolesChanged(roles=changes, user=user))
            return d.project
