"""Divisions, routing rules, reassignment, assignees, due dates and the queue's work filters."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.needs import actions
from bot.needs.classification import Classification
from bot.thai import BANGKOK
from storage import routing, staff
from storage.base import utcnow
from storage.models import Resident, Submission, SubmissionEvent
from storage.routing import Division, DivisionAlert, RoutingRule


def division(session, code: str) -> Division:
    return session.scalar(select(Division).where(Division.code == code))


def classified(subarea: str, kind: str = "complaint") -> Classification:
    return Classification(
        kind=kind,
        strategy=subarea.split(".")[0],
        subarea=subarea,
        confidence=0.95,
        top3=[],
        unsure=False,
        model_version="test",
    )


def file_need(session, subarea: str = "LPN-S7.3", kind: str = "complaint", now=None):
    resident = Resident(line_user_id="U" + uuid.uuid4().hex, consent="given", active=True)
    session.add(resident)
    session.flush()
    need = actions.create_need(
        session,
        resident,
        prefix="LPN",
        text="ไฟกิ่งหน้าบ้านดับ",
        classification=classified(subarea, kind),
        now=now,
    )
    session.commit()
    return need


def history(session, need) -> list[SubmissionEvent]:
    return list(
        session.scalars(
            select(SubmissionEvent)
            .where(SubmissionEvent.submission_id == need.id)
            .order_by(SubmissionEvent.id)
        )
    )


# --- routing on arrival and on correction ------------------------------------------------------


def test_a_new_street_light_goes_to_the_works_division_due_in_three_days(session):
    arrived = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
    need = file_need(session, "LPN-S7.3", "complaint", now=arrived)
    assert need.division_id == division(session, "works").id
    assert need.due_at == arrived + timedelta(days=3)
    route = [e for e in history(session, need) if e.action == "route"]
    assert route and route[0].detail["division"]["to"] == need.division_id
    alerts = session.scalars(select(DivisionAlert)).all()
    assert [(a.submission_id, a.division_id, a.status) for a in alerts] == [
        (need.id, need.division_id, "pending")
    ]


def test_a_pothole_is_due_in_seven_days_and_a_development_need_at_the_plan_review(session):
    arrived = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
    pothole = file_need(session, "LPN-S7.1", "complaint", now=arrived)
    assert pothole.due_at == arrived + timedelta(days=7)
    wish = file_need(session, "LPN-S3.1", "need", now=arrived)
    assert wish.division_id == division(session, "education").id
    # The next plan review after 30 Nov 2569 is 28 Feb 2570, Bangkok time.
    assert wish.due_at.astimezone(BANGKOK).date().isoformat() == "2027-02-28"


def test_a_staff_correction_routes_the_need_again_with_history_and_audit(session, make_user):
    need = file_need(session, "LPN-S7.3")
    user = make_user("staff")
    actions.correct_classification(
        session,
        need,
        strategy="LPN-S7",
        subarea="LPN-S7.5",
        kind="complaint",
        actor=user_actor(user),
    )
    session.commit()
    assert need.division_id == division(session, "health").id
    last = history(session, need)[-1]
    assert last.action == "route" and last.actor == user_actor(user)
    entries = session.scalars(
        select(staff.AuditLog).where(staff.AuditLog.action == "submission.route")
    ).all()
    assert len(entries) == 1 and entries[0].target_id == str(need.id)
    assert session.scalar(
        select(DivisionAlert).where(DivisionAlert.division_id == need.division_id)
    )


def test_an_inactive_division_is_skipped_and_a_need_without_rule_stays_unrouted(session):
    works = division(session, "works")
    works.active = False
    session.commit()
    need = file_need(session, "LPN-S7.3")
    assert need.division_id is None
    assert need.due_at is not None  # the service level still applies


def test_review_dates_roll_to_the_next_year_and_skip_a_missing_29_february():
    rule = RoutingRule(review_date="02-29")
    arrived = datetime(2026, 3, 1, tzinfo=UTC)
    assert routing.due_date(rule, arrived, BANGKOK).date().isoformat() == "2028-02-29"
    assert routing.due_date(RoutingRule(due_days=3), arrived, BANGKOK) == arrived + timedelta(3)
    assert routing.due_date(None, arrived, BANGKOK) is None
    assert routing.parse_review_date("13-01") is None


def user_actor(user) -> str:
    return f"user:{user.id}"


# --- staff pages -------------------------------------------------------------------------------


@pytest.mark.parametrize("csrf_enabled", [True])
def test_reassigning_needs_a_reason_and_is_recorded(
    app, client, session, make_user, login, csrf_enabled
):
    from tests.staff.conftest import csrf_token

    need = file_need(session, "LPN-S7.3")
    user = make_user("staff")
    login(client, user)
    url = f"/dashboard/submissions/{need.id}"
    welfare = division(session, "welfare")
    token = csrf_token(client, url)
    page = client.post(
        f"{url}/division",
        data={"division_id": welfare.id, "csrf_token": token},
        follow_redirects=True,
    )
    assert "กรุณาระบุเหตุผล" in page.get_data(as_text=True)
    session.expire_all()
    assert session.get(Submission, need.id).division_id == division(session, "works").id
    page = client.post(
        f"{url}/division",
        data={"division_id": welfare.id, "reason": "เป็นบ้านผู้สูงอายุ", "csrf_token": token},
        follow_redirects=True,
    )
    assert page.status_code == 200
    session.expire_all()
    assert session.get(Submission, need.id).division_id == welfare.id
    event = history(session, need)[-1]
    assert event.action == "reassign" and event.internal_note == "เป็นบ้านผู้สูงอายุ"
    assert "กองสวัสดิการสังคม" in page.get_data(as_text=True)
    audit = session.scalar(
        select(staff.AuditLog).where(staff.AuditLog.action == "submission.reassign")
    )
    assert audit.details["division"] == {"from": division(session, "works").id, "to": welfare.id}
    assert "เป็นบ้านผู้สูงอายุ" not in str(audit.details)
    assert session.scalar(select(DivisionAlert).where(DivisionAlert.division_id == welfare.id))


def test_a_leader_cannot_reassign_or_edit_routing(client, session, make_user, login):
    need = file_need(session)
    login(client, make_user("leader"))
    response = client.post(
        f"/dashboard/submissions/{need.id}/division", data={"division_id": 1, "reason": "x"}
    )
    assert response.status_code == 403
    assert client.get("/dashboard/admin/routing").status_code == 403


def test_the_queue_filters_mine_my_division_unassigned_and_overdue(
    client, session, make_user, make_submission, login
):
    works, welfare = division(session, "works"), division(session, "welfare")
    me = make_user("staff")
    session.get(staff.User, me.id).division_id = works.id
    session.commit()
    past, future = utcnow() - timedelta(days=1), utcnow() + timedelta(days=5)
    mine_overdue = make_submission(session, division_id=works.id, assignee_id=me.id, due_at=past)
    works_open = make_submission(session, division_id=works.id, due_at=future)
    works_done_late = make_submission(session, division_id=works.id, due_at=past, status="done")
    other = make_submission(session, division_id=welfare.id, due_at=past)
    login(client, me)

    def shown(**args) -> set[int]:
        page = client.get("/dashboard/submissions", query_string=args).get_data(as_text=True)
        return {
            s.id
            for s in (mine_overdue, works_open, works_done_late, other)
            if f'data-id="{s.id}"' in page
        }

    assert shown(mine=1) == {mine_overdue.id}
    assert shown(my_division=1) == {mine_overdue.id, works_open.id, works_done_late.id}
    assert shown(unassigned=1) == {works_open.id, works_done_late.id, other.id}
    assert shown(overdue=1) == {mine_overdue.id, other.id}
    assert shown(overdue=1, my_division=1) == {mine_overdue.id}
    assert shown(division=welfare.id) == {other.id}
    page = client.get("/dashboard/submissions", query_string={"overdue": 1}).get_data(as_text=True)
    assert "เกินกำหนด" in page and "row-overdue" in page


def test_my_division_without_a_division_says_so(client, make_user, login):
    login(client, make_user("staff"))
    page = client.get("/dashboard/submissions?my_division=1").get_data(as_text=True)
    assert "ยังไม่ได้สังกัดหน่วยงาน" in page


def test_assigning_and_unassigning_is_in_history_and_audit(client, session, make_user, login):
    need = file_need(session)
    me, colleague = make_user("staff"), make_user("staff")
    login(client, me)
    client.post(f"/dashboard/submissions/{need.id}/assignee", data={"assignee_id": colleague.id})
    session.expire_all()
    assert session.get(Submission, need.id).assignee_id == colleague.id
    page = client.get(f"/dashboard/submissions/{need.id}").get_data(as_text=True)
    assert "มอบหมายผู้รับผิดชอบ" in page and colleague.username in page
    client.post(f"/dashboard/submissions/{need.id}/assignee", data={"assignee_id": ""})
    session.expire_all()
    assert session.get(Submission, need.id).assignee_id is None
    actions_seen = [e.action for e in history(session, need)]
    assert actions_seen.count("assign") == 2
    assert (
        len(
            session.scalars(
                select(staff.AuditLog).where(staff.AuditLog.action == "submission.assign")
            ).all()
        )
        == 2
    )


# --- admin: rules and divisions ----------------------------------------------------------------


def test_an_admin_edits_a_rule_and_new_needs_follow_it(client, session, make_user, login):
    login(client, make_user("admin"))
    health = division(session, "health")
    response = client.post(
        "/dashboard/admin/routing",
        data={
            "subarea": "LPN-S7.6",
            "kind": "complaint",
            "division_id": health.id,
            "due_days": "5",
        },
        follow_redirects=True,
    )
    assert "เพิ่มกฎการส่งต่อแล้ว" in response.get_data(as_text=True)
    arrived = datetime(2026, 11, 30, tzinfo=UTC)
    tree = file_need(session, "LPN-S7.6", "complaint", now=arrived)
    assert tree.division_id == health.id and tree.due_at == arrived + timedelta(days=5)
    rule = routing.find_rule(session, "LPN-S7.6", "complaint")
    client.post(
        f"/dashboard/admin/routing/{rule.id}",
        data={"action": "save", "subarea": "LPN-S7.6", "kind": "complaint", "due_days": "2"},
    )
    session.expire_all()
    assert routing.find_rule(session, "LPN-S7.6", "complaint").division_id is None
    actions_logged = session.scalars(
        select(staff.AuditLog.action).where(staff.AuditLog.target_type == "routing_rule")
    ).all()
    assert actions_logged == ["routing.create", "routing.update"]


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"subarea": "LPN-S9.9", "due_days": "3"}, "ไม่พบแนวทางที่เลือก"),
        ({"due_days": "3"}, "กรุณาเลือกแนวทางหรือประเภทเรื่อง"),
        ({"kind": "complaint", "due_days": "3", "review_date": "02-28"}, "กำหนดเสร็จได้แบบเดียว"),
        ({"kind": "complaint", "review_date": "31-02"}, "เดือน-วัน"),
        ({"kind": "complaint", "due_days": "-1"}, "จำนวนวันต้องเป็นตัวเลข"),
        ({"kind": "complaint"}, "กรุณาเลือกหน่วยงาน หรือกำหนดระยะเวลา"),
        ({"kind": "need", "review_date": "03-01"}, "มีกฎสำหรับแนวทางและประเภทนี้อยู่แล้ว"),
    ],
)
def test_a_bad_rule_is_refused_in_thai(client, session, make_user, login, form, error):
    login(client, make_user("admin"))
    before = len(routing.list_rules(session))
    page = client.post("/dashboard/admin/routing", data=form, follow_redirects=True)
    assert error in page.get_data(as_text=True)
    session.expire_all()
    assert len(routing.list_rules(session)) == before


def test_staff_belong_to_a_division_set_on_the_user_page(client, session, make_user, login):
    login(client, make_user("admin"))
    member = make_user("staff")
    education = division(session, "education")
    client.post(
        f"/dashboard/admin/users/{member.id}",
        data={"role": "staff", "active": "1", "division_id": education.id},
    )
    session.expire_all()
    assert session.get(staff.User, member.id).division_id == education.id
    page = client.get("/dashboard/admin/divisions").get_data(as_text=True)
    assert "กองการศึกษา" in page


def test_the_overview_counts_open_overdue_and_median_days_per_division(
    client, session, make_user, make_submission, login
):
    works = division(session, "works")
    now = utcnow()
    make_submission(session, division_id=works.id, due_at=now - timedelta(days=1))
    make_submission(session, division_id=works.id, due_at=now + timedelta(days=1))
    for days, rating, reopens in ((2, 5, 0), (4, 2, 1), (9, None, 0)):
        make_submission(
            session,
            division_id=works.id,
            status="done",
            created_at=now - timedelta(days=days),
            resolved_at=now,
            done_at=now,
            rating=rating,
            reopen_count=reopens,
        )
    login(client, make_user("staff"))
    page = client.get("/dashboard/overview/").get_data(as_text=True)
    row = page.split(f'data-division="{works.id}"', 1)[1].split("</tr>", 1)[0]
    assert 'data-testid="division-open">2<' in row
    assert ">1</a>" in row  # one overdue, linked to the queue filtered on it
    assert "4.0 วัน" in row
    # Satisfaction of the rated two, and one of three done needs reopened.
    assert 'data-testid="division-average">3.5<' in row
    assert 'data-testid="division-reopen">33% (1)<' in row
