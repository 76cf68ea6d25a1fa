"""Slack calls waiting to be made; a drainer sends them with backoff so none is lost."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import OutboxMessage, utcnow
from storage.states import OutboxStatus

# Waiting for its next try, or being sent now (or its sender died and its lease will lapse).
UNDELIVERED = ("pending", "sending")
# A sender renews its lease while it works, so a short one only bounds the wait after a crash.
LEASE_SECONDS = 15.0
# Tries before a message is given up on, whatever the error (about 20 minutes of backoff).
MAX_ATTEMPTS = 12
# Large uploads, sent by a sender of their own so that one taking minutes holds up no other
# channel's messages (a thread's order still holds: its later messages wait for it).
BULKY = ("ship_pack",)


def add(
    session: Session,
    *,
    channel_id: str,
    kind: str,
    payload: dict[str, Any],
    project_id: int | None = None,
    dedupe_key: str | None = None,
) -> OutboxMessage | None:
    """Queue a message; a repeated dedupe_key is ignored (returns None)."""
    message = OutboxMessage(
        channel_id=channel_id,
        project_id=project_id,
        kind=kind,
        payload=payload,
        dedupe_key=dedupe_key,
        next_attempt_at=utcnow(),
        created_at=utcnow(),
    )
    if dedupe_key is None:
        session.add(message)
        session.flush()
        return message
    try:
        with session.begin_nested():
            session.add(message)
    except IntegrityError:
        return None
    return message


def claim(
    session: Session,
    *,
    now: datetime | None = None,
    limit: int = 20,
    lease_seconds: float = LEASE_SECONDS,
    bulky: bool = False,
) -> list[OutboxMessage]:
    """Take due messages for sending; one whose sender died is due again when its lease ends.

    `bulky`: only the BULKY kinds, which have a sender of their own; otherwise all others.
    """
    now = now or utcnow()
    due = or_(
        and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now),
        and_(OutboxMessage.status == "sending", OutboxMessage.next_attempt_at <= now),
    )
    lane = OutboxMessage.kind.in_(BULKY) if bulky else OutboxMessage.kind.not_in(BULKY)
    stmt = select(OutboxMessage).where(due, lane).order_by(OutboxMessage.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    messages = list(session.scalars(stmt))
    for message in messages:
        if message.status == "sending":
            message.attempts += 1
            message.last_error = "the sender stopped before recording the result"
        message.status = OutboxStatus.SENDING
        message.next_attempt_at = now + timedelta(seconds=lease_seconds)
    session.flush()
    return messages


def renew(session: Session, ids: list[int]) -> None:
    """The sender is alive: push the lease of what it still holds forward."""
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.status == OutboxStatus.SENDING)
        .values(next_attempt_at=utcnow() + timedelta(seconds=LEASE_SECONDS))
    )


def hand_back(session: Session, ids: list[int]) -> None:
    """Claimed but never sent (the sender is stopping): due again at once, at no try's cost."""
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.status == OutboxStatus.SENDING)
        .values(status=OutboxStatus.PENDING, next_attempt_at=utcnow())
    )


def mark_sent(message: OutboxMessage, result: dict[str, Any]) -> None:
    message.status = OutboxStatus.SENT
    message.result = result
    message.sent_at = utcnow()
    message.last_error = None


def retry_later(message: OutboxMessage, error: str, *, delay: float | None = None) -> None:
    """Back off exponentially (or as Slack asked); a message is never dropped for a transient error."""
    message.status = OutboxStatus.PENDING
    message.attempts += 1
    message.last_error = error
    wait = delay if delay is not None else min(300.0, 0.5 * 2 ** min(message.attempts, 10))
    message.next_attempt_at = utcnow() + timedelta(seconds=wait)


def defer(message: OutboxMessage, reason: str, *, delay: float) -> None:
    """Not yet, for a reason that is no failure (something it follows is not there yet)."""
    message.status = OutboxStatus.PENDING
    message.last_error = reason
    message.next_attempt_at = utcnow() + timedelta(seconds=delay)


def waits_behind(session: Session, message: OutboxMessage) -> bool:
    """Whether an older message to the same project is still undelivered: a thread keeps its order.

    Root messages keep an order of their own: the first opens the thread that everything else
    waits for, and each later one shows the state as it is, whenever it lands. So a root waits
    only behind an older root (two processes never both open a thread), and nothing else waits
    behind a root: no message can wait behind one that waits behind it.
    """
    if message.project_id is None:
        return False
    same_order = (
        OutboxMessage.kind == "root" if message.kind == "root" else OutboxMessage.kind != "root"
    )
    older = session.scalar(
        select(OutboxMessage.id)
        .where(
            OutboxMessage.project_id == message.project_id,
            OutboxMessage.id < message.id,
            same_order,
            OutboxMessage.status.in_(UNDELIVERED),
        )
        .limit(1)
    )
    return older is not None


def retrying(session: Session, channel_id: str) -> list[OutboxMessage]:
    """Messages in a channel that failed at least once and wait for another try: `queue` shows
    them, so a stuck message is never invisible."""
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.channel_id == channel_id,
                OutboxMessage.status.in_(UNDELIVERED),
                OutboxMessage.attempts > 0,
            )
            .order_by(OutboxMessage.id)
            .limit(10)
        )
    )


def failed(session: Session, channel_id: str) -> list[OutboxMessage]:
    """Messages given up on in a channel, newest first: `queue` shows them."""
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.channel_id == channel_id,
                OutboxMessage.status == OutboxStatus.FAILED,
            )
            .order_by(OutboxMessage.id.desc())
            .limit(10)
        )
    )


def give_up(message: OutboxMessage, error: str) -> None:
    message.status = OutboxStatus.FAILED
    message.last_error = error


def unsent(session: Session) -> int:
    """Messages still to be delivered, whether due now or backing off."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.status.in_(UNDELIVERED))
        )
        or 0
    )
