"""POST /callback: signature, body checks, durable inbox, redelivery."""

from __future__ import annotations

import io
import json
import threading
import time

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError
from werkzeug.test import EnvironBuilder

from bot import db
from bot.line import webhook
from storage.models import InboxEvent, OutboxMessage
from tests import line_events


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_url_check_with_no_events_is_accepted(line, session):
    response = line.post()
    assert response.status_code == 200
    assert _count(session, InboxEvent) == 0


def test_missing_signature_is_refused_and_nothing_stored(client, session):
    raw = line_events.body(line_events.text("สวัสดี"))
    response = client.post("/callback", data=raw, content_type="application/json")
    assert response.status_code == 400
    assert _count(session, InboxEvent) == 0


def test_bad_signature_is_refused_and_nothing_stored(line, session):
    response = line.post(line_events.text("ถนนเป็นหลุม"), signature="bm90IHRoZSByaWdodCBvbmU=")
    assert response.status_code == 400
    assert _count(session, InboxEvent) == 0


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"[]", b'{"events": "nope"}', b'{"events": [1, 2}', b"\xff\xfe"],
    ids=["malformed", "array", "events-not-list", "unbalanced", "not-utf8"],
)
def test_malformed_bodies_are_refused_with_a_log_line(client, session, raw, caplog):
    signature = line_events.sign(raw, "test-channel-secret")
    response = client.post(
        "/callback",
        data=raw,
        headers={"X-Line-Signature": signature},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert _count(session, InboxEvent) == 0
    assert any("webhook refused" in r.getMessage() for r in caplog.records)


def test_body_over_one_mebibyte_is_refused(line, session):
    huge = line_events.text("ก" * (600 * 1024))  # UTF-8 Thai is 3 bytes a letter
    response = line.post(huge)
    assert response.status_code == 413
    assert _count(session, InboxEvent) == 0


def test_events_are_stored_before_the_answer(line, session):
    first, second = line_events.text("ไฟดับ"), line_events.event("follow")
    response = line.post(first, second)
    assert response.status_code == 200
    rows = session.scalars(select(InboxEvent).order_by(InboxEvent.id)).all()
    assert [r.webhook_event_id for r in rows] == [first["webhookEventId"], second["webhookEventId"]]
    assert all(r.status == "pending" for r in rows)


def test_redelivered_event_is_processed_once(line, session, line_api):
    event = line_events.text("ขยะไม่มาเก็บสามวันแล้วค่ะ")
    line.send(event)
    again = json.loads(json.dumps(event))
    again["deliveryContext"]["isRedelivery"] = True
    line.send(again)
    assert _count(session, InboxEvent) == 1
    assert _count(session, OutboxMessage) == 1


def test_message_text_never_reaches_the_logs(line, caplog):
    secret_text = "บ้านเลขที่ 99/1 นางสมศรี เบอร์ 0812345678"
    caplog.set_level("DEBUG")
    line.send(line_events.text(secret_text))
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "สมศรี" not in logged and "0812345678" not in logged


def _post_from_threads(app, bodies: list[bytes]) -> list[int]:
    """Post each body from its own thread at once; return the statuses in order."""
    statuses: list[int] = [0] * len(bodies)

    def post(number: int) -> None:
        raw = bodies[number]
        statuses[number] = (
            app.test_client()
            .post(
                "/callback",
                data=raw,
                headers={"X-Line-Signature": line_events.sign(raw, "test-channel-secret")},
                content_type="application/json",
            )
            .status_code
        )

    threads = [threading.Thread(target=post, args=(n,)) for n in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return statuses


def test_concurrent_requests_are_each_stored_before_their_answer(app, session):
    events = [line_events.text(f"ไฟดับซอย {n}") for n in range(24)]
    statuses = _post_from_threads(app, [line_events.body(e) for e in events])
    assert statuses == [200] * 24
    stored = set(session.scalars(select(InboxEvent.webhook_event_id)))
    assert stored == {e["webhookEventId"] for e in events}


def _recording_storage(monkeypatch, slow: str | None = None, refused: str | None = None):
    """Record each write's event ids; a write holding event id ``slow`` takes half a second,
    one holding ``refused`` fails as a database would for a row it refuses."""
    real_store = webhook.store_inbox_events
    writes: list[set[str]] = []
    started = threading.Event()

    def storage(connection, rows):
        ids = {row["webhook_event_id"] for row in rows}
        writes.append(ids)
        if slow in ids:
            started.set()
            time.sleep(0.5)
        if refused in ids:
            raise OperationalError("INSERT", {}, Exception("refused"))
        return real_store(connection, rows)

    monkeypatch.setattr(webhook, "store_inbox_events", storage)
    return writes, started


def test_a_request_that_cannot_be_stored_fails_alone_in_a_shared_write(app, session, monkeypatch):
    # The storage fails for one request's event; a first slow write makes the others wait
    # and go to the database together (one write at a time).
    slow, bad = line_events.text("ช้า"), line_events.text("เสีย")
    good = [line_events.text(f"ถนนพัง {n}") for n in range(5)]
    _, started = _recording_storage(
        monkeypatch, slow=slow["webhookEventId"], refused=bad["webhookEventId"]
    )
    first = threading.Thread(target=_post_from_threads, args=(app, [line_events.body(slow)]))
    first.start()
    assert started.wait(10)
    statuses = _post_from_threads(app, [line_events.body(e) for e in [*good, bad]])
    first.join(10)
    assert statuses == [200] * 5 + [500]
    stored = set(session.scalars(select(InboxEvent.webhook_event_id)))
    assert stored == {e["webhookEventId"] for e in [slow, *good]}


def test_waiting_requests_are_written_in_batches_of_at_most_the_largest(app, session, monkeypatch):
    # Seven requests wait behind a slow write; batches hold two events at most, so the turn
    # to write passes from request to request until every one is stored.
    slow = line_events.text("ช้า")
    writes, started = _recording_storage(monkeypatch, slow=slow["webhookEventId"])
    monkeypatch.setattr(app.wsgi_app, "writer", webhook.InboxWriter(app, largest_batch=2))
    first = threading.Thread(target=_post_from_threads, args=(app, [line_events.body(slow)]))
    first.start()
    assert started.wait(10)
    others = [line_events.text(f"น้ำท่วม {n}") for n in range(7)]
    statuses = _post_from_threads(app, [line_events.body(e) for e in others])
    first.join(10)
    assert statuses == [200] * 7
    assert all(len(ids) <= 2 for ids in writes)
    assert len(writes) >= 1 + 4  # the slow one, then 7 events two at a time
    stored = set(session.scalars(select(InboxEvent.webhook_event_id)))
    assert stored == {e["webhookEventId"] for e in [slow, *others]}


def test_a_write_waits_for_the_requests_already_arriving(app, session, monkeypatch):
    # A request still being checked when the write is about to start joins that write: two
    # requests, the second counted as arriving, go to the database in one statement.
    writes, _ = _recording_storage(monkeypatch)
    writer = webhook.InboxWriter(app, gather_seconds=5)
    monkeypatch.setattr(app.wsgi_app, "writer", writer)
    late = line_events.text("มาทีหลัง")
    arrived = threading.Event()

    def arrive_late():
        with writer.arriving():
            arrived.set()
            time.sleep(0.3)
            writer.store(webhook._rows([late]))

    thread = threading.Thread(target=arrive_late)
    thread.start()
    assert arrived.wait(10)
    early = line_events.text("มาก่อน")
    assert _post_from_threads(app, [line_events.body(early)]) == [200]
    thread.join(10)
    assert writes == [{early["webhookEventId"], late["webhookEventId"]}]


def test_a_write_never_waits_for_a_slow_upload(app, session, monkeypatch):
    # A client still sending its body is not counted as arriving: with a 30 s gathering wait, a
    # request posted meanwhile is stored and answered at once, not after the 30 s.
    monkeypatch.setattr(app.wsgi_app, "writer", webhook.InboxWriter(app, gather_seconds=30))
    slow_event, quick_event = line_events.text("ส่งช้า"), line_events.text("ส่งเร็ว")
    slow_raw = line_events.body(slow_event)
    reading, release = threading.Event(), threading.Event()

    class SlowUpload(io.RawIOBase):
        def __init__(self):
            self.left = slow_raw

        def readable(self):
            return True

        def readinto(self, buffer):
            reading.set()
            assert release.wait(60)
            count = min(len(buffer), len(self.left))
            buffer[:count], self.left = self.left[:count], self.left[count:]
            return count

    environ = EnvironBuilder(
        path="/callback",
        method="POST",
        headers={"X-Line-Signature": line_events.sign(slow_raw, "test-channel-secret")},
        content_type="application/json",
        content_length=len(slow_raw),
    ).get_environ()
    environ["wsgi.input"] = SlowUpload()
    statuses = []
    slow = threading.Thread(
        target=lambda: app.wsgi_app(environ, lambda status, headers: statuses.append(status))
    )
    slow.start()
    assert reading.wait(10)

    started = time.monotonic()
    assert _post_from_threads(app, [line_events.body(quick_event)]) == [200]
    assert time.monotonic() - started < 15
    release.set()
    slow.join(10)
    assert statuses == ["200 OK"]
    stored = set(session.scalars(select(InboxEvent.webhook_event_id)))
    assert stored == {slow_event["webhookEventId"], quick_event["webhookEventId"]}


def test_a_database_restart_between_requests_costs_no_request(app, line, session):
    if db.autocommit_engine(app) is None:
        pytest.skip("PostgreSQL: the webhook's connections skip the ping before use")
    assert line.post(line_events.text("ก่อน")).status_code == 200
    # Every pooled connection of the webhook is cut by the server, as a restart would.
    session.execute(
        text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    )
    session.commit()
    after = line_events.text("หลัง")
    assert line.post(after).status_code == 200
    assert after["webhookEventId"] in set(session.scalars(select(InboxEvent.webhook_event_id)))
