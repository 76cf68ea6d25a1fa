"""The inbox: Slack requests acked but not yet applied, claimed under a short lease.

A request is recorded before Slack hears 200, so a process that dies after the ack leaves a
row behind; any serve process claims it once the lease has lapsed and applies it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import InboxRequest, utcnow
from storage.states import InboxStatus

# A request whose applier died is taken again after this; appliers renew it while they work.
LEASE_SECONDS = 10.0
# A request that took its applier down this many times is set aside, not retried for ever.
MAX_ATTEMPTS = 5
# Slack retries an event it got no 200 for within minutes; an hour covers them with room.
KEEP_APPLIED = timedelta(hours=1)
KEEP_FAILED = timedelta(days=7)


def record(session: Session, *, key: str, kind: str, body: dict[str, Any]) -> bool:
    """Keep a request; False when this delivery was recorded already (Slack's retry)."""
    try:
        with session.begin_nested():
            session.add(InboxRequest(key=key, kind=kind, body=body, received_at=utcnow()))
    except IntegrityError:
        return False
    return True


def set_aside(session: Session, *, now: datetime | None = None) -> list[InboxRequest]:
    """Requests due again that took their applier down MAX_ATTEMPTS times: failed, not retried.

    The caller logs each and tells the person who sent it; nothing is dropped silently.
    """
    now = now or utcnow()
    due = or_(
        InboxRequest.status == InboxStatus.WAITING,
        and_(InboxRequest.status == InboxStatus.APPLYING, InboxRequest.lease_until < now),
    )
    stmt = select(InboxRequest).where(due, InboxRequest.attempts >= MAX_ATTEMPTS)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    failed = list(session.scalars(stmt))
    for request in failed:
        request.status = InboxStatus.FAILED
        request.lease_owner = None
    session.flush()
    return failed


def claim(
    session: Session, owner: str, *, now: datetime | None = None, limit: int = 1
) -> list[InboxRequest]:
    """Take the oldest waiting requests, and any whose applier's lease lapsed."""
    now = now or utcnow()
    due = or_(
        InboxRequest.status == InboxStatus.WAITING,
        and_(InboxRequest.status == InboxStatus.APPLYING, InboxRequest.lease_until < now),
    )
    stmt = (
        select(InboxRequest)
        .where(due, InboxRequest.attempts < MAX_ATTEMPTS)  # the rest are set_aside's
        .order_by(InboxRequest.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    taken = []
    for request in session.scalars(stmt):
        request.attempts += 1
        request.status = InboxStatus.APPLYING
        request.lease_owner = owner
        request.lease_until = now + timedelta(seconds=LEASE_SECONDS)
        taken.append(request)
    session.flush()
    return taken


def renew(session: Session, ids: list[int], owner: str) -> None:
    session.execute(
        update(InboxRequest)
        .where(InboxRequest.id.in_(ids), InboxRequest.lease_owner == owner)
        .where(InboxRequest.status == InboxStatus.APPLYING)
        .values(lease_until=utcnow() + timedelta(seconds=LEASE_SECONDS))
    )


def finish(session: Session, request_id: int) -> None:
    session.execute(
        update(InboxRequest)
        .where(InboxRequest.id == request_id)
        .values(status=InboxStatus.APPLIED, applied_at=utcnow(), lease_owner=None)
    )


def hand_back(session: Session, ids: list[int], owner: str) -> None:
    """Shutting down mid-request: another process may take it at once, and it costs no try."""
    session.execute(
        update(InboxRequest)
        .where(InboxRequest.id.in_(ids), InboxRequest.lease_owner == owner)
        .where(InboxRequest.status == InboxStatus.APPLYING)
        .values(
            status=InboxStatus.WAITING,
            lease_owner=None,
            lease_until=None,
            attempts=InboxRequest.attempts - 1,
        )
    )


def unapplied(session: Session) -> int:
    """Requests acked and not yet applied (waiting, or being applied now)."""
    waiting = (InboxStatus.WAITING, InboxStatus.APPLYING)
    stmt = select(func.count()).select_from(InboxRequest).where(InboxRequest.status.in_(waiting))
    return int(session.scalar(stmt) or 0)


def prune(
    session: Session,
    *,
    applied_for: timedelta = KEEP_APPLIED,
    failed_for: timedelta = KEEP_FAILED,
) -> int:
    """Drop applied requests once Slack can no longer retry them, and failed ones after a week.

    An applied row only has to outlive Slack's retries of its delivery (within minutes), so a
    retry is recognised and acked again; a failed one is kept long enough to look into.
    """
    now = utcnow()
    result = session.execute(
        delete(InboxRequest).where(
            or_(
                and_(
                    InboxRequest.status == InboxStatus.APPLIED,
                    InboxRequest.applied_at < now - applied_for,
                ),
                and_(
                    InboxRequest.status == InboxStatus.FAILED,
                    InboxRequest.received_at < now - failed_for,
                ),
            )
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
