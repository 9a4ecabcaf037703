"""Staff link LINE to the dashboard; routed needs, overdue digests and leaders' summaries reach
them through the outbox, once, batched, within the quota, with no resident's words."""

from __future__ import annotations

import json
import re
import threading
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from werkzeug import Response

from bot import alerts
from bot.needs import actions
from bot.needs.classification import Classification
from storage import staff
from storage.base import utcnow
from storage.models import OutboxMessage, Resident, Submission
from storage.routing import Division, DivisionAlert
from storage.schedule import ScheduledRun
from tests import line_events

SECRET_WORDS = "บ้านเลขที่ 99 นางสมศรี โทร 0812345678"


def division(session, code: str) -> Division:
    return session.scalar(select(Division).where(Division.code == code))


def linked(session, make_user, code: str | None, line_id: str, role: str = "staff"):
    user = make_user(role)
    row = session.get(staff.User, user.id)
    row.division_id = division(session, code).id if code else None
    row.line_user_id = line_id
    session.commit()
    return row


def file_need(
    session, subarea: str = "LPN-S7.3", kind: str = "complaint", community: int | None = None
) -> Submission:
    resident = Resident(
        line_user_id="U" + uuid.uuid4().hex, consent="given", active=True, community_id=community
    )
    session.add(resident)
    session.flush()
    need = actions.create_need(
        session,
        resident,
        prefix="LPN",
        text=SECRET_WORDS,
        classification=Classification(
            kind=kind,
            strategy=subarea.split(".")[0],
            subarea=subarea,
            confidence=0.9,
            top3=[],
            unsure=False,
            model_version="t",
        ),
    )
    session.commit()
    return need


def multicasts(line_api) -> list[dict]:
    return line_api.sent("multicast")


# --- linking -------------------------------------------------------------------------------


def test_staff_link_with_a_one_time_code_and_unlink_from_chat(
    client, line, session, make_user, login, line_api
):
    user = make_user("staff")
    login(client, user)
    page = client.post("/dashboard/line/code").get_data(as_text=True)
    code = re.search(r"เชื่อมบัญชี (\d{6})", page).group(1)
    stored = session.get(staff.User, user.id)
    assert stored.link_code_hash and code not in stored.link_code_hash
    phone = "U" + "5" * 32
    line.send(line_events.text(f"เชื่อมบัญชี {code}", user_id=phone))
    assert "เชื่อมบัญชี LINE นี้กับบัญชี" in line_api.texts_to(phone)[-1]
    session.expire_all()
    assert session.get(staff.User, user.id).line_user_id == phone
    assert session.scalar(select(Submission.id)) is None  # not filed as a need
    # The code works once.
    line.send(line_events.text(f"เชื่อมบัญชี {code}", user_id="U" + "6" * 32))
    assert "รหัสไม่ถูกต้อง" in line_api.texts_to("U" + "6" * 32)[-1]
    assert "line-linked" in client.get("/dashboard/line/").get_data(as_text=True)
    line.send(line_events.text("ยกเลิกเชื่อมบัญชี", user_id=phone))
    assert "ยกเลิกการเชื่อมบัญชีแล้ว" in line_api.texts_to(phone)[-1]
    session.expire_all()
    assert session.get(staff.User, user.id).line_user_id is None
    logged = session.scalars(
        select(staff.AuditLog.action).where(staff.AuditLog.target_type == "user")
    ).all()
    assert {"user.line_code", "user.line_link", "user.line_unlink"} <= set(logged)


def test_an_expired_code_is_refused_and_guessing_is_limited(
    client, line, session, make_user, login, line_api
):
    user = make_user("staff")
    login(client, user)
    page = client.post("/dashboard/line/code").get_data(as_text=True)
    code = re.search(r"เชื่อมบัญชี (\d{6})", page).group(1)
    session.execute(
        update(staff.User)
        .where(staff.User.id == user.id)
        .values(link_code_expires_at=utcnow() - timedelta(seconds=1))
    )
    session.commit()
    guesser = "U" + "7" * 32
    line.send(line_events.text(f"เชื่อมบัญชี {code}", user_id=guesser))
    assert "หมดอายุ" in line_api.texts_to(guesser)[-1]
    for guess in range(5):
        line.send(line_events.text(f"เชื่อมบัญชี {guess:06d}", user_id=guesser))
    assert "หลายครั้งเกินไป" in line_api.texts_to(guesser)[-1]


def test_unlinking_from_the_dashboard(client, session, make_user, login):
    user = linked(session, make_user, "works", "U" + "8" * 32)
    login(client, user)
    client.post("/dashboard/line/unlink")
    session.expire_all()
    assert session.get(staff.User, user.id).line_user_id is None


# --- alerts --------------------------------------------------------------------------------


def test_a_routed_need_alerts_its_divisions_linked_staff_once_without_resident_words(
    app, session, make_user, worker, line_api
):
    a = linked(session, make_user, "works", "U" + "a1" * 16)
    b = linked(session, make_user, "works", "U" + "b2" * 16)
    linked(session, make_user, "welfare", "U" + "c3" * 16)
    linked(session, make_user, None, "U" + "d4" * 16)  # no division: no alert
    need = file_need(session, "LPN-S7.3")
    assert alerts.run_alerts(app) == 2
    assert alerts.run_alerts(app) == 0  # nothing twice
    worker.process_outbox()
    sent = multicasts(line_api)
    assert len(sent) == 1
    assert sorted(sent[0]["to"]) == sorted([a.line_user_id, b.line_user_id])
    text = sent[0]["messages"][0]["text"]
    assert need.tracking_no in text and "ไฟฟ้าส่องสว่าง" in text and "ชุมชน" in text
    assert f"/dashboard/submissions/{need.id}" in text
    assert "นางสมศรี" not in text and "0812345678" not in text
    assert line_api.requests("multicast")[0].headers.get("X-Line-Retry-Key")
    assert session.scalar(select(DivisionAlert.status)) == "sent"


def test_a_backlog_becomes_one_message_per_person(app, session, make_user, worker, line_api):
    linked(session, make_user, "works", "U" + "e5" * 16)
    needs = [file_need(session, "LPN-S7.1") for _ in range(12)]
    assert alerts.run_alerts(app) == 1
    worker.process_outbox()
    (sent,) = multicasts(line_api)
    text = sent["messages"][0]["text"]
    assert "12 เรื่อง" in text and "และอีก 7 เรื่อง" in text
    assert needs[0].tracking_no in text and needs[-1].tracking_no not in text
    assert "division=" in text


@pytest.mark.parametrize("status", [500, 429])
def test_alerts_survive_line_failing_and_are_delivered_once(
    app, session, make_user, worker, line_api, status
):
    linked(session, make_user, "works", "U" + "f6" * 16)
    file_need(session)
    alerts.run_alerts(app)
    line_api.server.expect_oneshot_request("/v2/bot/message/multicast").respond_with_response(
        Response(json.dumps({"message": "x"}), status=status, content_type="application/json")
    )
    worker.process_outbox()
    row = session.scalar(select(OutboxMessage))
    assert row.status == "pending" and str(status) in row.last_error
    alerts.run_alerts(app)  # the alert is not queued again while its message retries
    session.execute(update(OutboxMessage).values(next_attempt_at=utcnow()))
    session.commit()
    worker.process_outbox()
    worker.process_outbox()
    session.expire_all()
    rows = session.scalars(select(OutboxMessage)).all()
    assert len(rows) == 1 and rows[0].status == "sent"
    keys = [r.headers.get("X-Line-Retry-Key") for r in line_api.requests("multicast")]
    assert keys == [rows[0].retry_key, rows[0].retry_key]


def _low_quota(line_api, remaining: int, limit: int = 1000) -> None:
    server = line_api.server
    server.expect_oneshot_request("/v2/bot/message/quota").respond_with_json(
        {"type": "limited", "value": limit}
    )
    server.expect_oneshot_request("/v2/bot/message/quota/consumption").respond_with_json(
        {"totalUsage": limit - remaining}
    )


def test_low_quota_defers_alerts_to_the_daily_digest(app, session, make_user, worker, line_api):
    person = linked(session, make_user, "works", "U" + "a7" * 16)
    file_need(session)
    overdue = file_need(session)
    overdue.due_at = utcnow() - timedelta(days=1)
    session.commit()
    _low_quota(line_api, remaining=150)  # below the 20% reserve of 1,000
    assert alerts.run_alerts(app) == 0
    assert set(session.scalars(select(DivisionAlert.status))) == {"deferred"}
    assert session.scalar(select(OutboxMessage.id)) is None
    # The daily digest (half the reserve is enough) counts them, with the overdue needs.
    assert alerts.run_daily(app) == 0  # the first call schedules 08:00
    session.execute(update(ScheduledRun).values(next_run_at=utcnow() - timedelta(minutes=1)))
    session.commit()
    _low_quota(line_api, remaining=150)
    assert alerts.run_daily(app) == 1
    assert alerts.run_daily(app) == 0  # once a day
    worker.process_outbox()
    (sent,) = multicasts(line_api)
    assert sent["to"] == [person.line_user_id]
    text = sent["messages"][0]["text"]
    assert "เรื่องที่เกินกำหนด 1 เรื่อง" in text and "ยังไม่ได้แจ้งเตือน" in text and "2 เรื่อง" in text
    session.expire_all()
    assert set(session.scalars(select(DivisionAlert.status))) == {"sent"}
    run = session.get(ScheduledRun, "daily_digest")
    assert run.next_run_at > utcnow()


def test_leaders_who_opt_in_get_a_daily_summary_of_their_community(
    app, client, session, make_user, login, worker, line_api
):
    leader = make_user("leader")
    login(client, leader)
    client.post("/dashboard/line/summary", data={"daily_summary": "1"})
    row = session.get(staff.User, leader.id)
    session.refresh(row)
    assert row.daily_summary
    row.line_user_id = "U" + "b8" * 16
    quiet = make_user("leader")  # not opted in
    session.get(staff.User, quiet.id).line_user_id = "U" + "c9" * 16
    session.commit()
    file_need(session, "LPN-S7.3", community=row.community_id)
    file_need(session, "LPN-S7.3", community=row.community_id)
    file_need(session, "LPN-S7.3")  # another community's
    alerts.run_daily(app)
    session.execute(update(ScheduledRun).values(next_run_at=utcnow() - timedelta(minutes=1)))
    session.commit()
    alerts.run_daily(app)
    worker.process_outbox()
    (sent,) = multicasts(line_api)
    assert sent["to"] == [row.line_user_id]
    text = sent["messages"][0]["text"]
    assert "2 เรื่อง" in text and "ไฟฟ้าส่องสว่าง" in text and "นางสมศรี" not in text


def test_workers_starting_together_schedule_the_daily_digest_once(app, session):
    # Every worker's first cycle finds no digest row; none may fail adding it.
    start = threading.Barrier(6)
    results: list[object] = []

    def first_cycle() -> None:
        start.wait()
        try:
            results.append(alerts.run_daily(app))
        except Exception as exc:  # reported by the assertion below
            results.append(repr(exc))

    threads = [threading.Thread(target=first_cycle) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert results == [0] * 6
    (row,) = session.scalars(select(ScheduledRun)).all()
    assert row.name == "daily_digest" and row.next_run_at > utcnow()
