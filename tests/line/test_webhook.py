"""POST /callback: signature, body checks, durable inbox, redelivery."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

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
