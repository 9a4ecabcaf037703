"""Faults: LINE failing or slow, workers dying or racing, hostile text. Nothing lost or doubled.

Runs on SQLite, and on PostgreSQL when TEST_DATABASE_URL points at one.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update
from werkzeug import Request, Response

from bot import create_app
from bot.line.worker import Worker
from storage import mailbox
from storage.base import utcnow
from storage.models import InboxEvent, OutboxMessage
from tests import line_events

TIMEOUT = 0.5


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """A short LINE time-out so 'LINE is slow' tests stay quick."""
    return {**app_config, "LINE_TIMEOUT": TIMEOUT}


def _push_row(session, to: str = "U" + "c" * 32, text: str = "สถานะเรื่องของท่านเปลี่ยนแล้ว"):
    row = mailbox.enqueue(session, to, [{"type": "text", "text": text}], purpose="status")
    session.commit()
    return row.id


def _outbox(session, row_id: int) -> OutboxMessage:
    session.expire_all()
    return session.get(OutboxMessage, row_id)


def _make_due(session, model, row_id: int) -> None:
    """Jump over the backoff instead of sleeping through it."""
    session.execute(
        update(model).where(model.id == row_id).values(next_attempt_at=utcnow() - timedelta(1))
    )
    session.commit()


def _retry_keys(line_api, endpoint: str = "push") -> list[str]:
    return [r.headers.get("X-Line-Retry-Key") for r in line_api.requests(endpoint)]


def _slow_ok(request: Request) -> Response:
    # LINE got the request but answers after the bot's time-out.
    time.sleep(TIMEOUT * 2.5)
    return Response(json.dumps({"sentMessages": [{"id": "1"}]}), content_type="application/json")


def _answer(status: int, message: str = "error") -> Response:
    return Response(
        json.dumps({"message": message}), status=status, content_type="application/json"
    )


# --- LINE failing: push ------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 429])
def test_push_failing_is_retried_with_the_same_key_and_sent_once(session, worker, line_api, status):
    row_id = _push_row(session)
    line_api.server.expect_oneshot_request("/v2/bot/message/push").respond_with_response(
        _answer(status)
    )
    worker.drain()
    row = _outbox(session, row_id)
    assert row.status == "pending" and row.attempts == 1
    assert str(status) in row.last_error
    assert row.next_attempt_at > utcnow() + timedelta(seconds=1)  # backoff, not a hot loop
    worker.drain()
    assert len(line_api.requests("push")) == 1  # not due yet

    _make_due(session, OutboxMessage, row_id)
    worker.drain()
    worker.drain()
    row = _outbox(session, row_id)
    assert row.status == "sent" and row.sent_via == "push"
    assert _retry_keys(line_api) == [row.retry_key, row.retry_key]
    assert uuid.UUID(row.retry_key)
    bodies = line_api.sent("push")
    assert bodies[0] == bodies[1]


def test_push_timing_out_is_retried_and_a_409_counts_as_sent(session, worker, line_api):
    row_id = _push_row(session)
    server = line_api.server
    server.expect_oneshot_request("/v2/bot/message/push").respond_with_handler(_slow_ok)
    server.expect_oneshot_request("/v2/bot/message/push").respond_with_response(
        _answer(409, "The retry key is already accepted")
    )
    worker.drain()
    row = _outbox(session, row_id)
    assert row.status == "pending" and "failed" in row.last_error
    time.sleep(TIMEOUT * 2.5)  # the stand-in is single-threaded: let it finish the slow answer
    _make_due(session, OutboxMessage, row_id)
    worker.drain()
    row = _outbox(session, row_id)
    # LINE had the first request: the retry carries the same key, LINE says 409, and that is
    # success, not a second message.
    assert row.status == "sent"
    assert _retry_keys(line_api) == [row.retry_key, row.retry_key]


def test_push_refused_with_400_fails_with_its_reason_and_is_not_retried(session, worker, line_api):
    row_id = _push_row(session)
    line_api.server.expect_oneshot_request("/v2/bot/message/push").respond_with_response(
        _answer(400, "The property, 'to', in the request body is invalid")
    )
    worker.drain()
    _make_due(session, OutboxMessage, row_id)
    worker.drain()
    row = _outbox(session, row_id)
    assert row.status == "failed"
    assert "400" in row.last_error
    assert len(line_api.requests("push")) == 1


def test_a_message_the_sdk_refuses_fails_without_stopping_the_worker(session, worker, line_api):
    items = [
        {"type": "action", "action": {"type": "message", "label": f"{i}", "text": f"{i}"}}
        for i in range(14)
    ]
    bad = mailbox.enqueue(
        session,
        "U" + "d" * 32,
        [{"type": "text", "text": "เลือก", "quickReply": {"items": items}}],
        purpose="test",
    )
    session.commit()
    good_id = _push_row(session)
    worker.drain()
    assert _outbox(session, bad.id).status == "failed"
    assert _outbox(session, bad.id).last_error
    assert _outbox(session, good_id).status == "sent"
    assert len(line_api.requests("push")) == 1


# --- LINE failing: reply -----------------------------------------------------------------


def test_a_refused_reply_token_becomes_a_push(line, session, line_api):
    line_api.server.expect_oneshot_request("/v2/bot/message/reply").respond_with_response(
        _answer(400, "Invalid reply token")
    )
    event = line_events.text("ไฟถนนดับทั้งซอย")
    line.send(event)
    assert len(line_api.requests("reply")) == 1
    assert [p["to"] for p in line_api.sent("push")] == [event["source"]["userId"]]
    row = session.scalars(select(OutboxMessage)).one()
    assert row.status == "sent" and row.sent_via == "push"
    assert _retry_keys(line_api) == [row.retry_key]


def test_a_rate_limited_reply_is_tried_again_with_its_unused_token(line, session, line_api):
    line_api.server.expect_oneshot_request("/v2/bot/message/reply").respond_with_response(
        _answer(429, "Too many requests")
    )
    line.send(line_events.text("ไฟถนนดับทั้งซอย"))
    row = session.scalars(select(OutboxMessage)).one()
    assert row.status == "pending" and row.attempt_kind is None  # known unused
    _make_due(session, OutboxMessage, row.id)
    line.worker.drain()
    row = _outbox(session, row.id)
    assert row.status == "sent" and row.sent_via == "reply"
    assert len(line_api.requests("reply")) == 2 and line_api.sent("push") == []
    assert len(line_api.delivered()) == 1


def _took_it_but_failed(line_api, fault: str):
    """LINE takes the reply (the token is spent) but the bot learns nothing or a 5xx."""

    def handler(request: Request) -> Response:
        line_api.accept_reply(request)
        if fault == "timeout":
            time.sleep(TIMEOUT * 2.5)
            return Response("{}", content_type="application/json")
        return _answer(500)

    return handler


@pytest.mark.parametrize("fault", ["timeout", "500"])
def test_a_reply_that_may_have_arrived_is_confirmed_by_its_spent_token(
    line, session, line_api, fault
):
    line_api.server.expect_oneshot_request("/v2/bot/message/reply").respond_with_handler(
        _took_it_but_failed(line_api, fault)
    )
    line.send(line_events.text("ไฟถนนดับทั้งซอย"))
    row = session.scalars(select(OutboxMessage)).one()
    if row.status == "pending":  # the stand-in is single-threaded: still busy being slow
        assert row.attempt_kind == "reply"
        time.sleep(TIMEOUT * 2.5)
        _make_due(session, OutboxMessage, row.id)
        line.worker.drain()
    row = _outbox(session, row.id)
    # Tried again while fresh, LINE refuses the spent token: it was delivered the first time.
    assert row.status == "sent" and row.sent_via == "reply" and row.reply_token is None
    assert len(line_api.requests("reply")) >= 2 and line_api.sent("push") == []
    assert len(line_api.delivered()) == 1


def test_a_rate_limit_after_a_reply_that_may_have_arrived_never_leads_to_a_push(
    line, session, line_api
):
    # LINE takes the reply but answers 500; asked again at once it answers 429. The 429 says
    # nothing about the first call: the token may be spent, so a later refusal means delivered.
    line_api.server.expect_ordered_request("/v2/bot/message/reply").respond_with_handler(
        _took_it_but_failed(line_api, "500")
    )
    line_api.server.expect_ordered_request("/v2/bot/message/reply").respond_with_response(
        _answer(429, "Too many requests")
    )
    line.send(line_events.text("ไฟถนนดับทั้งซอย"))
    row = session.scalars(select(OutboxMessage)).one()
    assert row.status == "pending" and row.attempt_kind == "reply"
    _make_due(session, OutboxMessage, row.id)
    line.worker.drain()
    row = _outbox(session, row.id)
    assert row.status == "sent" and row.sent_via == "reply"
    assert len(line_api.requests("reply")) == 3 and line_api.requests("push") == []
    assert len(line_api.delivered()) == 1


def test_a_reply_that_failed_before_reaching_line_is_delivered_by_the_retry(
    line, session, line_api
):
    line_api.server.expect_oneshot_request("/v2/bot/message/reply").respond_with_response(
        _answer(502)
    )
    line.send(line_events.text("ไฟถนนดับทั้งซอย"))
    row = session.scalars(select(OutboxMessage)).one()
    # Asked again at once, while the token is fresh.
    assert row.status == "sent" and row.sent_via == "reply"
    assert len(line_api.requests("reply")) == 2
    assert len(line_api.delivered()) == 1


def test_a_reply_of_unknown_outcome_is_never_pushed_once_its_token_is_stale(
    session, worker, line_api
):
    # As a worker that died during its reply call leaves the row, found after the token's
    # minute: LINE may have it, and nothing can tell.
    row = mailbox.enqueue(
        session,
        "U" + "e" * 32,
        [{"type": "text", "text": "รับเรื่องแล้วค่ะ"}],
        purpose="reply",
        reply_token="token-of-a-dead-worker",
        reply_deadline=utcnow() - timedelta(seconds=1),
    )
    row.attempt_kind = "reply"
    session.commit()
    worker.drain()
    row = _outbox(session, row.id)
    assert row.status == "unconfirmed" and row.reply_token is None
    assert line_api.requests("reply") == [] and line_api.requests("push") == []


def test_a_stale_reply_token_is_not_used(line, line_api):
    old = int((time.time() - 120) * 1000)
    line.send(line_events.text("น้ำท่วมขัง", timestamp_ms=old))
    assert line_api.requests("reply") == []
    assert len(line_api.sent("push")) == 1


# --- workers dying -----------------------------------------------------------------------


def test_events_stored_by_a_dead_process_are_processed_once_by_a_new_one(
    app, app_config, line, session, line_api
):
    events = [line_events.text(f"เรื่องที่ {i}", user_id=f"U{i:032x}") for i in range(3)]
    for event in events:
        assert line.post(event).status_code == 200  # stored; the process "dies" here
    app.extensions["ruamkid_db"].kw["bind"].dispose()

    restarted = create_app(app_config)
    try:
        Worker(restarted, name="after-restart").drain()
        Worker(restarted, name="after-restart-2").drain()
    finally:
        restarted.extensions["ruamkid_db"].kw["bind"].dispose()
    session.expire_all()
    statuses = session.scalars(select(InboxEvent.status)).all()
    assert statuses == ["done"] * 3
    assert sorted(r["replyToken"] for r in line_api.sent("reply")) == sorted(
        e["replyToken"] for e in events
    )


def test_replies_stored_but_not_sent_before_a_crash_are_sent_once(line, session, line_api, app):
    line.post(line_events.text("ท่อระบายน้ำอุดตัน"))
    Worker(app, name="crashes-after-processing").process_inbox()  # outbox row stored, not sent
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 1
    assert line_api.sent("reply") == line_api.sent("push") == []
    Worker(app, name="new-worker").drain()
    Worker(app, name="another").drain()
    assert len(line_api.sent("reply")) + len(line_api.sent("push")) == 1


def test_a_claim_by_a_worker_that_died_is_taken_over_after_the_lease(app, line, session, line_api):
    line.post(line_events.text("ต้นไม้ล้มขวางถนน"))
    push_id = _push_row(session)
    dead = Worker(app, name="dead-worker")
    with dead.sessions() as own:
        inbox_ids = mailbox.claim_inbox(own, dead.name)
        outbox_ids = mailbox.claim_outbox(own, dead.name)
        own.commit()
    assert len(inbox_ids) == 1 and outbox_ids == [push_id]

    alive = Worker(app, name="alive-worker")
    alive.drain()
    assert line_api.sent("push") == [] and line_api.sent("reply") == []  # still leased

    expired = utcnow() - mailbox.LEASE - timedelta(seconds=1)
    for model in (InboxEvent, OutboxMessage):
        session.execute(update(model).values(claimed_at=expired))
    session.commit()
    alive.drain()
    session.expire_all()
    inbox = session.get(InboxEvent, inbox_ids[0])
    assert inbox.status == "done" and inbox.claimed_by == "alive-worker"
    assert _outbox(session, push_id).status == "sent"
    # The dead worker waking up late must not process what it no longer holds.
    dead._process_event(inbox_ids[0])
    dead.process_outbox()
    assert len(line_api.sent("push")) == 1
    assert len(line_api.sent("reply")) + len(line_api.sent("push")) == 2


# --- workers racing ----------------------------------------------------------------------


def _race(app, rounds: int = 50) -> list[str]:
    """Drain with two workers in two threads started together; return errors seen."""
    workers = [Worker(app, name="racer-a"), Worker(app, name="racer-b")]
    start = threading.Barrier(len(workers))
    errors: list[str] = []

    def run(worker: Worker) -> None:
        start.wait()
        try:
            for _ in range(rounds):
                if not worker.run_once():
                    break
        except Exception as exc:  # the assertion below reports it
            errors.append(repr(exc))

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return errors


def test_two_workers_handle_each_inbox_and_outbox_row_exactly_once(app, line, session, line_api):
    events = [line_events.text(f"แจ้งเรื่อง {i}", user_id=f"U{i + 1:032x}") for i in range(30)]
    for chunk in range(0, len(events), 10):
        assert line.post(*events[chunk : chunk + 10]).status_code == 200
    push_ids = [_push_row(session, to=f"U{i + 100:032x}", text=f"ข่าว {i}") for i in range(30)]

    assert _race(app) == []

    session.expire_all()
    inbox = session.scalars(select(InboxEvent)).all()
    assert len(inbox) == 30 and {r.status for r in inbox} == {"done"}
    assert {r.attempts for r in inbox} == {1}
    assert {r.claimed_by for r in inbox} <= {"racer-a", "racer-b"}
    outbox = session.scalars(select(OutboxMessage)).all()
    assert len(outbox) == 60 and {r.status for r in outbox} == {"sent"}
    assert {r.attempts for r in outbox} == {1}
    # Taken by LINE (a reply timed out under load is asked again and refused as spent).
    reply_tokens = [body["replyToken"] for body in line_api.delivered() if "replyToken" in body]
    assert sorted(reply_tokens) == sorted(e["replyToken"] for e in events)
    keys = _retry_keys(line_api)
    assert len(keys) == len(set(keys)) == 30
    assert {_outbox(session, i).retry_key for i in push_ids} == set(keys)


# --- hostile text ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "ก" * 5000,
        "😀🔥🙏🏽👨‍👩‍👧‍👦",
        "\u200b\u200c\u200d\ufeff",
        "ถนน\u200bพัง\u200d",
        "<script>alert('x')</script><img src=x onerror=alert(1)>",
        "'; DROP TABLE submissions; --",
        "\u202eกลับด้าน\u202c",
    ],
    ids=["5000-chars", "emoji-only", "zero-width-only", "zero-width-inside", "html", "sql", "bidi"],
)
def test_hostile_text_is_accepted_and_answered(line, session, line_api, text):
    event = line_events.text(text)
    line.send(event)
    row = session.scalars(select(InboxEvent)).one()
    assert row.status == "done", row.error
    assert len(line_api.sent("reply")) == 1


def test_the_worker_cycle_survives_a_database_hiccup(app, line, line_api, monkeypatch):
    line.post(line_events.text("ไฟดับ"))
    worker = Worker(app, name="hiccup")
    calls = {"n": 0}
    original = mailbox.claim_inbox

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("database went away")
        return original(*args, **kwargs)

    monkeypatch.setattr(mailbox, "claim_inbox", flaky)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run_forever, args=(stop,))
    thread.start()
    deadline = time.monotonic() + 10
    while not line_api.sent("reply") and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    thread.join(5)
    assert calls["n"] >= 2
    assert len(line_api.sent("reply")) == 1
