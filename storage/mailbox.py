"""The mailbox: the webhook inbox and the LINE outbox (and photos to fetch); store once, claim by
exactly one worker, finish.

Claims work for several processes on one database. PostgreSQL locks candidate rows with
``FOR UPDATE SKIP LOCKED``; SQLite runs one ``UPDATE … RETURNING`` so the claim is a single
write (SQLite serialises writers). A claim is a lease: a row claimed by a process that died
is claimed again once the lease has run out.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import psycopg
from sqlalchemy import (
    ColumnElement,
    Connection,
    Text,
    and_,
    bindparam,
    cast,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from storage.base import utcnow
from storage.db import is_sqlite
from storage.models import InboxEvent, Media, OutboxMessage, Resident

# Inbox rows in these states are being or still to be handled: their payload is still needed.
UNHANDLED = ("pending", "processing")
# Outbox rows in these states are still to be sent: their recipient and words are still needed.
UNSENT = ("pending", "sending")
LEASE = timedelta(minutes=2)
MAX_INBOX_ATTEMPTS = 5
MAX_OUTBOX_ATTEMPTS = 12
# A LINE user id as LINE sends it is 33 characters; the column holds 64.
MAX_RECIPIENT_LENGTH = 64


def store_inbox_events(connection: Connection, rows: Sequence[dict[str, Any]]) -> int:
    """Insert webhook events, skipping ids already stored; return how many were new.

    Each row has ``webhook_event_id``, ``event_type``, ``line_user_id``, ``payload``, ``mode``
    and ``is_redelivery``. A redelivered event that was stored before is not stored again.
    Takes a connection, not a session: the webhook runs it on every request, and a session's
    bookkeeping cost more than the insert.

    On PostgreSQL a connection that the server dropped is invalidated before the error goes on
    (``connection.invalidated``), so the caller can retry on a new one.
    """
    if not rows:
        return 0
    now = utcnow()
    if is_sqlite(connection):
        values = [
            {**row, "status": "pending", "received_at": now, "next_attempt_at": now} for row in rows
        ]
        return len(connection.execute(_INSERT_INBOX_SQLITE, values).all())
    # The whole batch as one JSON parameter of one unchanging (so prepared) statement, sent on
    # the driver's connection: SQLAlchemy's execution layer and a parameter per value cost
    # more of the webhook's CPU than the insert itself (bench/webhook.py).
    driver = connection.connection.driver_connection
    try:
        cursor = driver.execute(_INSERT_INBOX_POSTGRESQL, {"now": now, "rows": json.dumps(rows)})
        return len(cursor.fetchall())
    except psycopg.OperationalError:
        if driver.broken:
            connection.invalidate()
        raise


_INSERT_INBOX_SQLITE = (
    sqlite.insert(InboxEvent)
    .on_conflict_do_nothing(index_elements=["webhook_event_id"])
    .returning(InboxEvent.id)
)
_INSERT_INBOX_POSTGRESQL = """
INSERT INTO inbox_events (webhook_event_id, event_type, line_user_id, payload, mode,
                          is_redelivery, status, attempts, received_at, next_attempt_at)
SELECT e.webhook_event_id, e.event_type, e.line_user_id, e.payload, e.mode,
       e.is_redelivery, 'pending', 0, %(now)s, %(now)s
FROM json_to_recordset(%(rows)s) AS e(webhook_event_id text, event_type text,
                                      line_user_id text, payload json, mode text,
                                      is_redelivery boolean)
ON CONFLICT (webhook_event_id) DO NOTHING
RETURNING id
"""


def _claimable(model, working: str, now: datetime, lease: timedelta) -> ColumnElement[bool]:
    expired = and_(model.status == working, model.claimed_at < now - lease)
    ready = and_(model.status == "pending", model.next_attempt_at <= now)
    return or_(ready, expired)


# Where each kind of row keeps the reason it was set aside, and what it was set aside as.
_REASON = {InboxEvent: "error", OutboxMessage: "last_error", Media: "error"}
_GAVE_UP = {InboxEvent: "parked", OutboxMessage: "parked", Media: "failed"}
ABANDONED = "งานหยุดกลางคันซ้ำหลายครั้ง (the worker stopped while holding it, too many times)"
MAX_MEDIA_ATTEMPTS = 8


def _claim(
    session: Session,
    model,
    working: str,
    worker: str,
    limit: int,
    max_attempts: int,
    lease: timedelta,
) -> list[int]:
    now = utcnow()
    # A row whose workers kept dying while holding it (its lease ran out each time) is not
    # handed out again: it waits for an admin.
    session.execute(
        update(model)
        .where(
            model.status == working,
            model.claimed_at < now - lease,
            model.attempts >= max_attempts,
        )
        .values(status=_GAVE_UP[model], claimed_by=None, **{_REASON[model]: ABANDONED})
        .execution_options(synchronize_session=False)
    )
    condition = _claimable(model, working, now, lease)
    candidates = select(model.id).where(condition).order_by(model.id).limit(limit)
    changes = {
        "status": working,
        "claimed_by": worker,
        "claimed_at": now,
        "attempts": model.attempts + 1,
    }
    if is_sqlite(session):
        statement = (
            update(model)
            .where(model.id.in_(candidates.scalar_subquery()), condition)
            .values(**changes)
            .returning(model.id)
        )
        ids = list(session.scalars(statement))
    else:
        ids = list(session.scalars(candidates.with_for_update(skip_locked=True)))
        if ids:
            session.execute(update(model).where(model.id.in_(ids)).values(**changes))
    return sorted(ids)


def claim_inbox(
    session: Session, worker: str, limit: int = 20, lease: timedelta = LEASE
) -> list[int]:
    """Claim up to ``limit`` unprocessed inbox rows for ``worker``; commit right after."""
    return _claim(session, InboxEvent, "processing", worker, limit, MAX_INBOX_ATTEMPTS, lease)


def claim_outbox(
    session: Session, worker: str, limit: int = 20, lease: timedelta = LEASE
) -> list[int]:
    """Claim up to ``limit`` outbox rows that are due for ``worker``; commit right after."""
    return _claim(session, OutboxMessage, "sending", worker, limit, MAX_OUTBOX_ATTEMPTS, lease)


def claim_media(
    session: Session, worker: str, limit: int = 5, lease: timedelta = LEASE
) -> list[int]:
    """Claim up to ``limit`` photos still to be downloaded from LINE; commit right after."""
    return _claim(session, Media, "downloading", worker, limit, MAX_MEDIA_ATTEMPTS, lease)


def load_claimed_outbox(session: Session, message_id: int, worker: str) -> OutboxMessage | None:
    """Return the outbox row if ``worker`` still holds its claim (another may have taken over)."""
    row = session.get(OutboxMessage, message_id)
    if row is None or row.status != "sending" or row.claimed_by != worker:
        return None
    return row


def record_attempt(session: Session, row: OutboxMessage, worker: str, kind: str) -> bool:
    """Write down, before LINE is called, that ``worker`` is making a ``kind`` call for ``row``.

    Returns False (and writes nothing) if the claim was lost meanwhile. The caller commits at
    once: after a crash the next worker then knows the call may have reached LINE.
    """
    now = utcnow()
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == row.id,
            OutboxMessage.status == "sending",
            OutboxMessage.claimed_by == worker,
        )
        .values(attempt_kind=kind, attempted_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    # The row in memory now matches the database, so a later change shows as a change.
    set_committed_value(row, "attempt_kind", kind)
    set_committed_value(row, "attempted_at", now)
    return True


def valid_recipient(to: Any) -> bool:
    """Tell whether ``to`` can address LINE: a user id, or a list of 1 to 500 of them.

    >>> valid_recipient("U" + "4" * 32), valid_recipient(12345), valid_recipient(["U1", 7])
    (True, False, False)
    """
    if isinstance(to, list):
        return 1 <= len(to) <= 500 and all(_one_recipient(user) for user in to)
    return _one_recipient(to)


def _one_recipient(user: Any) -> bool:
    return isinstance(user, str) and 0 < len(user) <= MAX_RECIPIENT_LENGTH


def park(session: Session, row: InboxEvent | OutboxMessage, reason: str) -> None:
    """Set a row aside that cannot succeed; ``reason`` (no personal data) is shown to admins."""
    row.status = "parked"
    row.claimed_by = None
    setattr(row, _REASON[type(row)], reason[:2000])


# Built once: the worker runs it for every event (like the webhook's insert).
_CLAIMED_PAYLOAD = (
    select(InboxEvent.payload, Resident.consent)
    .outerjoin(Resident, Resident.line_user_id == InboxEvent.line_user_id)
    .where(
        InboxEvent.id == bindparam("event_id"),
        InboxEvent.status == "processing",
        InboxEvent.claimed_by == bindparam("worker"),
    )
)


def claimed_payload(
    session: Session, event_id: int, worker: str
) -> tuple[dict[str, Any], str | None] | None:
    """Return the payload of an inbox row ``worker`` holds and its sender's consent ("given",
    "pending", …; None for a stranger), without locking the row (None if it is not held)."""
    found = session.execute(_CLAIMED_PAYLOAD, {"event_id": event_id, "worker": worker}).first()
    return None if found is None else (found.payload or {}, found.consent)


def load_claimed_inbox(session: Session, event_id: int, worker: str) -> InboxEvent | None:
    """Return the inbox row if ``worker`` still holds its claim (another may have taken over)."""
    row = session.get(InboxEvent, event_id, with_for_update=not is_sqlite(session))
    if row is None or row.status != "processing" or row.claimed_by != worker:
        return None
    return row


def finish_inbox(session: Session, row: InboxEvent) -> None:
    """Mark an inbox row done and drop its payload: the message text now lives elsewhere."""
    row.status = "done"
    row.processed_at = utcnow()
    row.payload = None
    row.error = None


def fail_inbox(session: Session, row: InboxEvent, error: str) -> None:
    """Record why processing failed; retried until ``MAX_INBOX_ATTEMPTS``, then parked."""
    row.error = error[:2000]
    row.claimed_by = None
    row.claimed_at = None
    row.status = "parked" if row.attempts >= MAX_INBOX_ATTEMPTS else "pending"
    row.next_attempt_at = utcnow() + backoff(row.attempts)


def enqueue(
    session: Session,
    to: str | list[str],
    messages: list[dict[str, Any]],
    *,
    purpose: str,
    reply_token: str | None = None,
    reply_deadline: datetime | None = None,
) -> OutboxMessage:
    """Add a push (to one user) or a multicast (to a list) to the outbox; the caller commits."""
    if not messages or len(messages) > 5:
        raise ValueError("LINE takes 1 to 5 messages per request")
    if not valid_recipient(to):
        raise ValueError("a message goes to a LINE user id, or a list of 1 to 500 of them")
    kind = "multicast" if isinstance(to, list) else "push"
    row = OutboxMessage(
        kind=kind,
        to=to,
        messages=messages,
        purpose=purpose,
        reply_token=reply_token,
        reply_deadline=reply_deadline,
    )
    session.add(row)
    return row


def backoff(attempts: int) -> timedelta:
    """Return the wait before the next try: 2, 4, 8 … seconds, capped at 10 minutes."""
    return timedelta(seconds=min(600, 2 ** max(1, attempts)))


def outbox_counts(session: Session, purpose: str | None = None) -> dict[str, int]:
    """Return how many outbox rows are in each status (for one purpose if given)."""
    statement = select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    if purpose is not None:
        statement = statement.where(OutboxMessage.purpose == purpose)
    return {status: count for status, count in session.execute(statement)}


def forget_line_user(session: Session, line_user_id: str, now: datetime) -> None:
    """Drop a LINE user's id and words from the inbox and the outbox (erasure on request).

    Events not yet handled are skipped; every event of theirs loses its payload (standby events
    included) and their id. Messages not yet sent are skipped; sent ones lose recipient and
    words. A row a worker holds right now is left to it; its content goes once it is done
    (:func:`forget_unknown_recipient`) or after the window (:func:`forget_handled`).
    """
    session.execute(
        update(InboxEvent)
        .where(InboxEvent.line_user_id == line_user_id, InboxEvent.status == "pending")
        .values(status="skipped", processed_at=now)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(InboxEvent)
        .where(InboxEvent.line_user_id == line_user_id, InboxEvent.status != "processing")
        .values(payload=None, line_user_id=None, error=None)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(InboxEvent)
        .where(InboxEvent.line_user_id == line_user_id)
        .values(line_user_id=None)
        .execution_options(synchronize_session=False)
    )
    # ``to`` is JSON: a push's recipient is stored as a JSON string on both databases.
    addressed = cast(OutboxMessage.to, Text) == json.dumps(line_user_id)
    session.execute(
        update(OutboxMessage)
        .where(addressed, OutboxMessage.kind == "push", OutboxMessage.status == "pending")
        .values(status="skipped", last_error="ผู้ใช้ขอลบข้อมูล (personal data deleted)")
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(OutboxMessage)
        .where(addressed, OutboxMessage.kind == "push", OutboxMessage.status != "sending")
        .values(messages=[], to="")
        .execution_options(synchronize_session=False)
    )
    # Survey multicasts list many residents: take only this one out (a row being sent right now
    # keeps its list until it is done, so its retry stays the same request).
    listed = cast(OutboxMessage.to, Text).contains(json.dumps(line_user_id))
    for row in session.scalars(
        select(OutboxMessage).where(
            listed, OutboxMessage.kind == "multicast", OutboxMessage.status != "sending"
        )
    ):
        row.to = [user for user in row.to if user != line_user_id]
        if not row.to and row.status == "pending":
            row.status = "skipped"


def forget_unknown_recipient(session: Session, row: OutboxMessage) -> None:
    """Once a push is done, drop its recipient and words if we keep nothing about that user
    (they asked for erasure: its confirmation is sent, then forgotten)."""
    if row.kind != "push" or row.status in UNSENT or not isinstance(row.to, str) or not row.to:
        return
    known = session.scalar(select(Resident.id).where(Resident.line_user_id == row.to))
    if known is None:
        row.to, row.messages = "", []


def forget_handled(session: Session, before: datetime) -> tuple[int, int]:
    """Drop LINE ids and words of inbox and outbox rows handled and older than ``before``.

    Events done, skipped (standby mode included) or given up lose their payload and sender;
    messages sent, skipped or given up lose their recipients and words. Returns how many
    inbox and outbox rows were emptied now.
    """
    kept_payload = cast(InboxEvent.payload, Text) != "null"  # SQL NULL compares as unknown
    inbox = session.execute(
        update(InboxEvent)
        .where(
            InboxEvent.status.not_in(UNHANDLED),
            InboxEvent.received_at < before,
            or_(InboxEvent.line_user_id.is_not(None), kept_payload),
        )
        .values(payload=None, line_user_id=None)
        .execution_options(synchronize_session=False)
    )
    outbox = 0
    for kind, nobody in (("push", ""), ("multicast", [])):
        result = session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.kind == kind,
                OutboxMessage.status.not_in(UNSENT),
                OutboxMessage.created_at < before,
                or_(
                    cast(OutboxMessage.to, Text) != json.dumps(nobody),
                    cast(OutboxMessage.messages, Text) != "[]",
                ),
            )
            .values(to=nobody, messages=[])
            .execution_options(synchronize_session=False)
        )
        outbox += result.rowcount or 0
    return inbox.rowcount or 0, outbox


# --- parked rows (the admin's mailbox page) ------------------------------------------------

PARKED_KINDS = {"inbox": InboxEvent, "outbox": OutboxMessage}


def status_counts(session: Session) -> dict[str, dict[str, int]]:
    """Return how many inbox and outbox rows are in each status."""
    return {
        name: dict(session.execute(select(model.status, func.count()).group_by(model.status)).all())
        for name, model in PARKED_KINDS.items()
    }


def parked(session: Session, kind: str, limit: int = 200) -> list[InboxEvent | OutboxMessage]:
    """Return the parked rows of ``kind`` ("inbox" or "outbox"), oldest first."""
    model = PARKED_KINDS[kind]
    return list(
        session.scalars(
            select(model).where(model.status == "parked").order_by(model.id).limit(limit)
        )
    )


def retry_parked(session: Session, kind: str, ids: Sequence[int]) -> int:
    """Give parked rows a fresh set of attempts, due now; return how many were retried."""
    model = PARKED_KINDS[kind]
    result = session.execute(
        update(model)
        .where(model.id.in_(ids), model.status == "parked")
        .values(status="pending", attempts=0, next_attempt_at=utcnow(), claimed_by=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def discard_parked(session: Session, kind: str, ids: Sequence[int]) -> int:
    """Give up parked rows for good: skipped, their personal data dropped; return how many."""
    model = PARKED_KINDS[kind]
    rows = session.scalars(select(model).where(model.id.in_(ids), model.status == "parked"))
    count = 0
    for row in rows:
        row.status = "skipped"
        if isinstance(row, InboxEvent):
            row.payload, row.line_user_id = None, None
        else:
            row.to = [] if row.kind == "multicast" else ""
            row.messages, row.reply_token = [], None
        count += 1
    return count
