"""Odd but signed input (issue 10, item 7): never a 500, and one bad event never fails the good
events of its batch. Each case runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL."""

from __future__ import annotations

import json
import math
import re

import pytest
from sqlalchemy import func, select

from storage import staff
from storage.models import InboxEvent, OutboxMessage, Submission
from tests import line_events
from tests.conftest import CHANNEL_SECRET
from tests.residents.support import USER, join
from tests.staff.conftest import PASSWORD, csrf_token


def post_raw(client, text: str):
    """Sign ``text`` as LINE would and post it as the webhook body."""
    raw = text.encode("utf-8")
    headers = {"X-Line-Signature": line_events.sign(raw, CHANNEL_SECRET)}
    return client.post("/callback", data=raw, headers=headers, content_type="application/json")


def stored_ids(session) -> list[str]:
    session.expire_all()
    return list(session.scalars(select(InboxEvent.webhook_event_id).order_by(InboxEvent.id)))


def nothing_left_behind(session) -> None:
    """After the worker drained: no inbox or outbox row still waiting, failed or stuck."""
    session.expire_all()
    inbox = session.execute(
        select(InboxEvent.status, func.count()).group_by(InboxEvent.status)
    ).all()
    outbox = session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    ).all()
    assert {status for status, _ in inbox} <= {"done", "skipped"}, inbox
    assert {status for status, _ in outbox} <= {"sent"}, outbox


def with_good(odd: dict | str) -> tuple[str, list[str]]:
    """Return a body holding a good text event, ``odd`` (an event or raw JSON text) and a good
    follow event, and the ids of the two good events."""
    good, after = line_events.text("ไฟทางดับ"), line_events.event("follow", "U" + "b" * 32)
    odd_text = odd if isinstance(odd, str) else json.dumps(odd, ensure_ascii=False)
    events = ", ".join([json.dumps(good), odd_text, json.dumps(after)])
    body = '{"destination": "U' + "f" * 32 + '", "events": [' + events + "]}"
    return body, [good["webhookEventId"], after["webhookEventId"]]


def test_json_nested_100000_deep_as_an_event_is_skipped_and_the_others_kept(
    client, session, worker, caplog
):
    body, good = with_good("[" * 100_000 + "]" * 100_000)
    response = post_raw(client, body)
    assert response.status_code == 200
    assert stored_ids(session) == good
    assert any("event 2 of 3 skipped" in r.getMessage() for r in caplog.records)
    worker.drain()
    nothing_left_behind(session)


def test_json_nested_100000_deep_in_an_unused_field_keeps_the_event(client, session):
    odd = line_events.text("ถนนพัง")
    odd_text = json.dumps(odd)[:-1] + ', "extra": ' + "[" * 100_000 + "]" * 100_000 + "}"
    body, good = with_good(odd_text)
    assert post_raw(client, body).status_code == 200
    assert stored_ids(session) == [good[0], odd["webhookEventId"], good[1]]


@pytest.mark.parametrize(
    "broken",
    ["[" * 100_000 + "]" * 99_999, "[" * 100_000 + "}" * 100_000, "[" * 100_000 + '"open'],
    ids=["unclosed", "mismatched", "unterminated-string"],
)
def test_malformed_json_nested_deep_is_refused_whole(client, session, broken):
    body, good = with_good(broken)
    assert post_raw(client, body).status_code == 400
    assert stored_ids(session) == []


def odd_events() -> dict[str, dict]:
    """One event per odd field the issue names (and a few it implies), each signed and sent."""
    cases: dict[str, dict] = {}

    def case(name: str, event: dict, path: str, value) -> None:
        *parents, leaf = path.split(".")
        target = event
        for key in parents:
            target = target[key]
        target[leaf] = value
        cases[name] = event

    case("event-id-65", line_events.text("ก"), "webhookEventId", "0" * 65)
    case("event-id-number", line_events.text("ก"), "webhookEventId", 12345)
    case("user-id-65", line_events.text("ก"), "source.userId", "U" * 65)
    case("user-id-number", line_events.text("ก"), "source.userId", 12345)
    case("user-id-list", line_events.event("follow"), "source.userId", ["U"])
    case("message-id-65", line_events.text("ก"), "message.id", "9" * 65)
    case("reply-token-256", line_events.text("ก"), "replyToken", "r" * 256)
    case("type-33", line_events.event("unknown"), "type", "x" * 33)
    case("type-number", line_events.event("unknown"), "type", 7)
    case("mode-odd", line_events.event("unknown"), "mode", "m" * 17)
    case("timestamp-huge", line_events.text("ก"), "timestamp", 10**20)
    case("timestamp-negative", line_events.text("ก"), "timestamp", -1)
    case("timestamp-far-future", line_events.text("ก"), "timestamp", 2**41 + 2**40)
    case("timestamp-text", line_events.event("unknown"), "timestamp", "soon")
    case("redelivery-text", line_events.event("unknown"), "deliveryContext.isRedelivery", "yes")
    case("latitude-nan", line_events.event("location"), "message.latitude", math.nan)
    case("latitude-infinity", line_events.event("location"), "message.latitude", math.inf)
    case("longitude-minus-infinity", line_events.event("location"), "message.longitude", -math.inf)
    case("latitude-91", line_events.event("location"), "message.latitude", 91.0)
    case("longitude-181", line_events.event("location"), "message.longitude", -181)
    case("text-nul", line_events.text("ก"), "message.text", "ไฟ\x00ดับ")
    case("text-lone-surrogate", line_events.text("ก"), "message.text", "\ud800")
    case("user-id-nul", line_events.event("follow"), "source.userId", "U\x00")
    cases["not-an-object"] = 42  # type: ignore[assignment]
    cases["missing-fields"] = {"type": "message"}
    return cases


ODD = odd_events()


@pytest.mark.parametrize("name", ODD)
def test_odd_event_is_skipped_and_the_good_ones_kept(client, session, worker, caplog, name):
    # json.dumps writes NaN and Infinity as JavaScript does, and escapes a lone surrogate.
    body, good = with_good(json.dumps(ODD[name]))
    response = post_raw(client, body)
    assert response.status_code == 200
    assert stored_ids(session) == good
    skipped = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert len(skipped) == 1 and "event 2 of 3" in skipped[0]
    worker.drain()
    nothing_left_behind(session)


def test_known_event_the_sdk_cannot_read_is_kept_like_an_unknown_one(client, session):
    event = line_events.text("ก")
    del event["source"]["type"]  # the SDK's generated code raises KeyError on this
    body, good = with_good(event)
    assert post_raw(client, body).status_code == 200
    assert stored_ids(session) == [good[0], event["webhookEventId"], good[1]]


def test_number_too_long_for_python_is_an_odd_field_not_a_bad_body(client, session):
    event = re.sub(
        r'"timestamp": \d+', '"timestamp": ' + "9" * 5000, json.dumps(line_events.text("ก"))
    )
    body, good = with_good(event)
    assert post_raw(client, body).status_code == 200
    assert stored_ids(session) == good


def test_reasons_name_the_field_but_never_its_value(client, caplog):
    event = line_events.text("ก")
    event["source"]["userId"] = "Uprivate" + "9" * 60
    body, good = with_good(event)
    post_raw(client, body)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "source.userId is longer than 64 characters" in logged
    assert "Uprivate" not in logged


@pytest.mark.parametrize(
    ("path", "limit"),
    [
        ("webhookEventId", 64),
        ("source.userId", 64),
        ("message.id", 64),
        ("replyToken", 255),
        ("type", 32),
    ],
)
def test_every_limited_column_takes_its_longest_value(client, session, worker, path, limit):
    event = line_events.event("unknown") if path == "type" else line_events.text("ขอไฟทาง")
    *parents, leaf = path.split(".")
    target = event
    for key in parents:
        target = target[key]
    target[leaf] = "U" + "1" * (limit - 1)
    body, good = with_good(event)
    assert post_raw(client, body).status_code == 200
    assert len(stored_ids(session)) == 3
    worker.drain()
    nothing_left_behind(session)


def test_non_string_user_id_never_reaches_the_outbox(client, session, worker):
    event = line_events.text("ถนนเป็นหลุม")
    event["source"]["userId"] = 12345
    body, good = with_good(event)
    post_raw(client, body)
    worker.drain()
    session.expire_all()
    recipients = session.scalars(select(OutboxMessage.to)).all()
    assert recipients and all(isinstance(r, str) for r in recipients)
    nothing_left_behind(session)


def test_infinite_latitude_never_reaches_the_map_or_the_detail_page(
    line, line_api, client, session
):
    join(line, line_api)
    line.send(line_events.text("ฝาท่อระบายน้ำแตกหน้าบ้านค่ะ", USER))
    bad = line_events.event("location", USER)
    bad["message"]["latitude"] = math.inf
    body, good = with_good(bad)
    assert post_raw(client, body).status_code == 200
    line.worker.drain()
    session.expire_all()
    [need] = session.scalars(select(Submission)).all()
    assert need.latitude is None
    line.send(line_events.event("location", USER))
    session.expire_all()
    assert session.get(Submission, need.id).latitude == 18.5776

    staff.create_user(session, "staff-odd", PASSWORD, role="staff")
    session.commit()
    data = {"username": "staff-odd", "password": PASSWORD, "csrf_token": csrf_token(client)}
    assert client.post("/dashboard/login", data=data).status_code == 302
    assert client.get("/dashboard/overview/").status_code == 200
    assert client.get(f"/dashboard/submissions/{need.id}").status_code == 200
