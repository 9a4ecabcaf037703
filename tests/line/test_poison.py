"""Poison rows: a row that cannot succeed never blocks the others; it is parked after capped,
backed-off attempts and shown to admins, who retry or discard it (CSRF, audited).

Runs on SQLite, and on PostgreSQL when TEST_DATABASE_URL points at one (where a numeric
recipient used to fail the whole batch's query).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from storage import mailbox
from storage.base import utcnow
from storage.models import InboxEvent, OutboxMessage

USER = "U" + "5" * 32
TEXT = [{"type": "text", "text": "เรื่องของท่านได้รับการแก้ไขแล้วค่ะ"}]


def poisoned_outbox(session) -> int:
    """Store an outbox row addressed to a number (as rows made before the check were)."""
    row = OutboxMessage(kind="push", to=12345, messages=TEXT, purpose="reply")
    session.add(row)
    session.commit()
    return row.id


def _make_due(session, model) -> None:
    session.execute(update(model).values(next_attempt_at=utcnow() - timedelta(days=1)))
    session.commit()


def test_a_recipient_that_is_not_a_line_id_is_refused_at_the_edge(session):
    for bad in (12345, None, "", ["U" + "1" * 32, 7], [], ["x" * 65]):
        with pytest.raises(ValueError):
            mailbox.enqueue(session, bad, TEXT, purpose="status")


def test_a_poisoned_outbox_row_is_parked_and_the_rest_of_its_batch_is_sent(
    session, worker, line_api
):
    before = [mailbox.enqueue(session, f"U{i:032x}", TEXT, purpose="status") for i in range(3)]
    session.commit()
    poison = poisoned_outbox(session)
    after = [mailbox.enqueue(session, f"U{i + 10:032x}", TEXT, purpose="status") for i in range(3)]
    session.commit()

    worker.drain()
    session.expire_all()
    statuses = {row.id: row.status for row in session.scalars(select(OutboxMessage))}
    assert statuses.pop(poison) == "parked"
    assert set(statuses.values()) == {"sent"}
    assert len(statuses) == len(before) + len(after) == len(line_api.sent("push"))
    row = session.get(OutboxMessage, poison)
    assert "LINE id" in row.last_error and "12345" not in row.last_error
    assert row.claimed_by is None


def test_a_message_line_keeps_refusing_is_parked_after_capped_backed_off_tries(
    session, worker, line_api
):
    for _ in range(mailbox.MAX_OUTBOX_ATTEMPTS):
        line_api.server.expect_oneshot_request("/v2/bot/message/push").respond_with_json(
            {"message": "busy"}, status=500
        )
    row = mailbox.enqueue(session, USER, TEXT, purpose="status")
    session.commit()
    waits = []
    for _ in range(mailbox.MAX_OUTBOX_ATTEMPTS):
        worker.drain()
        session.expire_all()
        row = session.get(OutboxMessage, row.id)
        if row.status == "pending":
            waits.append(row.next_attempt_at - utcnow())
        _make_due(session, OutboxMessage)
    assert row.status == "parked" and row.attempts == mailbox.MAX_OUTBOX_ATTEMPTS
    assert "500" in row.last_error
    assert len(line_api.requests("push")) == mailbox.MAX_OUTBOX_ATTEMPTS
    assert waits[1] > waits[0] and max(waits) <= timedelta(minutes=10)
    worker.drain()
    assert len(line_api.requests("push")) == mailbox.MAX_OUTBOX_ATTEMPTS  # parked: left alone


def test_a_row_whose_workers_keep_dying_is_parked_instead_of_claimed_again(session, worker):
    row = mailbox.enqueue(session, USER, TEXT, purpose="status")
    session.commit()
    expired = utcnow() - mailbox.LEASE - timedelta(seconds=1)
    session.execute(
        update(OutboxMessage).values(
            status="sending",
            claimed_by="died",
            claimed_at=expired,
            attempts=mailbox.MAX_OUTBOX_ATTEMPTS,
        )
    )
    session.commit()
    worker.drain()
    session.expire_all()
    row = session.get(OutboxMessage, row.id)
    assert row.status == "parked" and row.last_error == mailbox.ABANDONED


def test_an_event_that_always_fails_is_parked_after_its_tries(session, worker, line_api):
    broken = InboxEvent(
        webhook_event_id="01BROKEN",
        event_type="message",
        line_user_id=USER,
        payload={"type": "message"},  # no event id or timestamp: cannot be read
    )
    session.add(broken)
    session.commit()
    for _ in range(mailbox.MAX_INBOX_ATTEMPTS):
        worker.drain()
        _make_due(session, InboxEvent)
    session.expire_all()
    row = session.get(InboxEvent, broken.id)
    assert row.status == "parked" and row.attempts == mailbox.MAX_INBOX_ATTEMPTS
    assert "TypeError" in row.error
