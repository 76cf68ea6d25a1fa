"""Nobody takes over a channel: who may set its roles and settings, the first time and after."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.playbook import errors
from bot.playbook.service import PlaybookService
from storage.models import AuditEntry

CHANNEL = "CTAKE"


def test_a_stranger_cannot_make_themselves_director_of_a_channel_with_projects(
    service: PlaybookService,
) -> None:
    service.start_project(CHANNEL, "UDIR", "Posters for the spring launch.")
    with pytest.raises(errors.NotAuthorized, match="no Director yet"):
        service.update_settings(
            CHANNEL, "USTRANGER", director="USTRANGER", queue_limit_per_user=10_000
        )
    assert service.settings(CHANNEL).director is None
    service.update_settings(CHANNEL, "UDIR", director="UDIR")
    assert service.settings(CHANNEL).director == "UDIR"
    later = service.start_project(CHANNEL, "USTRANGER", "Banners for the autumn sale.").project
    assert later.director == "UDIR"
    with pytest.raises(errors.NotAuthorized, match="Only the channel's Director"):
        service.update_settings(CHANNEL, "USTRANGER", review_cooloff_minutes=0)


def test_a_workspace_admin_may_always_set_them(
    service: PlaybookService, sessions: sessionmaker[Session]
) -> None:
    service.start_project(CHANNEL, "UDIR", "Posters for the spring launch.")
    service.update_settings(CHANNEL, "UADMIN", admin=True, director="UDIR", iteration_budget=6)
    assert (service.settings(CHANNEL).director, service.settings(CHANNEL).iteration_budget) == (
        "UDIR",
        6,
    )
    service.update_settings(CHANNEL, "UADMIN", admin=True, iteration_budget=9)
    assert service.settings(CHANNEL).iteration_budget == 9
    with sessions() as s:
        hats = s.scalars(
            select(AuditEntry.hat).where(
                AuditEntry.channel_id == CHANNEL, AuditEntry.action == "update_settings"
            )
        ).all()
    assert list(hats) == ["admin", "admin"]


def test_in_a_fresh_channel_whoever_sets_them_first_may(service: PlaybookService) -> None:
    service.update_settings(CHANNEL, "UFIRST", director="UFIRST")
    assert service.settings(CHANNEL).director == "UFIRST"
