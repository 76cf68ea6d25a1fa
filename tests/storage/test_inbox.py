"""The inbox's rules on SQLite and PostgreSQL: once per delivery, leases, hand-back, pruning."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from storage import inbox
from storage.models import InboxRequest, utcnow
from storage.states import InboxStatus

BODY = {"type": "event_callback", "event_id": "Ev1", "event": {"type": "message"}}


def test_a_delivery_is_recorded_once_and_claimed_by_one_applier(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as s:
        assert inbox.record(s, key="e:Ev1", kind="event_callback", body=BODY)
        assert not inbox.record(s, key="e:Ev1", kind="event_callback", body=BODY)
    with sessions.begin() as s:
        (taken,) = inbox.claim(s, "a:1")
        assert (taken.status, taken.attempts, taken.body) == (InboxStatus.APPLYING, 1, BODY)
    with sessions.begin() as s:
        assert inbox.claim(s, "b:2") == []  # leased to a:1
        assert inbox.unapplied(s) == 1


def test_a_lapsed_lease_is_claimed_again_and_a_hand_back_costs_no_try(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as s:
        inbox.record(s, key="e:Ev1", kind="event_callback", body=BODY)
        inbox.claim(s, "dead:1")
    later = utcnow() + timedelta(seconds=inbox.LEASE_SECONDS + 1)
    with sessions.begin() as s:
        (again,) = inbox.claim(s, "b:2", now=later)
        assert (again.lease_owner, again.attempts) == ("b:2", 2)
        inbox.hand_back(s, [again.id], "b:2")
    with sessions.begin() as s:
        (third,) = inbox.claim(s, "c:3")  # at once, no lease to wait for
        assert third.attempts == 2
        inbox.finish(s, third.id)
        assert inbox.unapplied(s) == 0


def test_a_request_that_keeps_killing_its_applier_is_set_aside(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as s:
        inbox.record(s, key="e:Ev1", kind="event_callback", body=BODY)
    now = utcnow()
    for n in range(inbox.MAX_ATTEMPTS):
        now += timedelta(seconds=inbox.LEASE_SECONDS + 1)
        with sessions.begin() as s:
            assert len(inbox.claim(s, f"doomed:{n}", now=now)) == 1
    later = now + timedelta(seconds=60)
    with sessions.begin() as s:
        assert inbox.claim(s, "next:1", now=later) == []
        (aside,) = inbox.set_aside(s, now=later)
        assert (aside.key, aside.body) == ("e:Ev1", BODY)
    with sessions.begin() as s:
        row = s.scalars(select(InboxRequest)).one()
        assert row.status == InboxStatus.FAILED
        assert inbox.set_aside(s, now=later) == []  # told once


def test_applied_requests_are_pruned_after_an_hour_and_failed_ones_after_a_week(
    sessions: sessionmaker[Session],
) -> None:
    ages = {
        "e:applied-2h": (InboxStatus.APPLIED, timedelta(hours=2)),
        "e:applied-30m": (InboxStatus.APPLIED, timedelta(minutes=30)),
        "e:failed-8d": (InboxStatus.FAILED, timedelta(days=8)),
        "e:failed-1d": (InboxStatus.FAILED, timedelta(days=1)),
        "e:waiting-8d": (InboxStatus.WAITING, timedelta(days=8)),
    }
    with sessions.begin() as s:
        for key in ages:
            inbox.record(s, key=key, kind="event_callback", body=BODY)
        s.flush()
        for row in s.scalars(select(InboxRequest)):
            status, age = ages[row.key]
            row.status, row.received_at = status, utcnow() - age
            row.applied_at = row.received_at if status == InboxStatus.APPLIED else None
    with sessions.begin() as s:
        assert inbox.prune(s) == 2
    with sessions() as s:
        kept = set(s.scalars(select(InboxRequest.key)))
        assert kept == {"e:applied-30m", "e:failed-1d", "e:waiting-8d"}
        assert s.scalar(select(func.count()).select_from(InboxRequest)) == 3
