"""The plan: project storage, the project pages and forms, linking needs to projects."""

from __future__ import annotations

import re
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect, select

from bot.needs import actions
from storage import plan as store
from storage.db import make_engine
from storage.migrate import alembic_config, upgrade
from storage.models import Community, OutboxMessage, Resident, SubmissionEvent
from storage.staff import AuditLog
from tests.staff.conftest import community_id


def new_project(session, **fields) -> store.Project:
    values = {
        "strategy": "LPN-S7",
        "subarea": "LPN-S7.1",
        "programme": "อุตสาหกรรมและการโยธา",
        "name": "ก่อสร้างถนนคอนกรีตเสริมเหล็ก ซอย 5",
        "objective": "เพื่อให้การสัญจรสะดวก",
        "target": "ถนนกว้าง 4 เมตร ยาว 120 เมตร",
        "expected_result": "ประชาชนสัญจรสะดวกและปลอดภัย",
        "division": "กองช่าง",
    }
    values.update(fields)
    budgets = values.pop("budgets", {2567: "1,500,000", 2568: Decimal("250000.50")})
    project = store.create_project(session, budgets=budgets, created_by="user:1", **values)
    session.commit()
    return project


# --- storage --------------------------------------------------------------------------------


def test_budgets_are_decimals_and_zero_removes_a_year(session):
    project = new_project(session)
    again = store.get_project(session, project.id)
    assert [(b.year, b.amount) for b in again.budgets] == [
        (2567, Decimal("1500000.00")),
        (2568, Decimal("250000.50")),
    ]
    assert isinstance(again.budgets[0].amount, Decimal)
    changes = store.update_project(session, again, budgets={2567: "", 2569: "10"}, name="ถนนใหม่")
    session.commit()
    assert set(changes) == {"name", "budgets"}
    assert {b.year: b.amount for b in store.get_project(session, project.id).budgets} == {
        2568: Decimal("250000.50"),
        2569: Decimal("10.00"),
    }


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1,500,000", "1500000.00"), (" 2500.5 ", "2500.50"), ("", "0"), (None, "0"), (12, "12.00")],
)
def test_parse_amount_reads_what_staff_type(raw, expected):
    assert store.parse_amount(raw) == Decimal(expected)


@pytest.mark.parametrize("raw", ["-1", "abc", "1e20", "NaN", "๑๒๓x"])
def test_parse_amount_refuses_nonsense(raw):
    with pytest.raises(ValueError):
        store.parse_amount(raw)


def test_amendments_need_a_number(session):
    with pytest.raises(ValueError):
        new_project(session, edition="addition", edition_no=0)
    session.rollback()
    project = new_project(session, edition="change", edition_no=2, reason="ราคาวัสดุสูงขึ้น")
    assert project.edition_key == "change:2"
    assert project.edition_label == "เปลี่ยนแปลง ครั้งที่ 2"
    assert [p.id for p in store.list_projects(session, edition="change:2")] == [project.id]
    assert store.list_projects(session, edition="original") == []
    assert store.editions_in_use(session) == ["change:2"]


def test_link_need_is_recorded_once_with_history(session, make_submission, make_user):
    project = new_project(session)
    submission = make_submission(session)
    actor = f"user:{make_user().id}"  # unlinking is a staff action: it is audited
    assert actions.link_need(session, project, submission, actor=actor) is not None
    assert actions.link_need(session, project, submission, actor=actor) is None
    session.commit()
    events = session.scalars(
        select(SubmissionEvent).where(SubmissionEvent.action == "link_project")
    ).all()
    assert len(events) == 1
    assert events[0].detail["project_id"] == project.id
    assert [p.id for p in store.projects_of(session, submission.id)] == [project.id]
    assert actions.unlink_need(session, project, submission, actor=actor) is True
    assert actions.unlink_need(session, project, submission, actor=actor) is False


def test_need_summary_counts_distinct_residents_including_merged(app, session, make_submission):
    project = new_project(session)
    first, second = community_id(app, 0), community_id(app, 1)
    alice = Resident(line_user_id="U" + "a" * 32, consent="given")
    bob = Resident(line_user_id="U" + "b" * 32, consent="given")
    session.add_all([alice, bob])
    session.commit()
    primary = make_submission(session, resident=alice, community_id=first)
    # bob raised it twice (one merged, one merged into the merged one), alice once more
    dup1 = make_submission(session, resident=bob, community_id=second, merged_into_id=primary.id)
    make_submission(session, resident=bob, community_id=second, merged_into_id=dup1.id)
    make_submission(session, resident=alice, community_id=first, merged_into_id=primary.id)
    make_submission(session, resident=None, source="survey", community_id=second,
                    merged_into_id=primary.id)  # fmt: skip
    unrelated = make_submission(session, resident=bob, community_id=second)
    actions.link_need(session, project, primary, actor="user:1")
    session.commit()

    summary = store.need_summary(session, project)
    assert [s.id for s in summary.submissions] == [primary.id]
    assert unrelated.id not in summary.group_ids
    assert summary.residents == 3  # alice, bob, one survey answer
    names = dict(summary.communities)
    community_names = {c.id: c.name for c in session.scalars(select(Community))}
    assert names == {community_names[first]: 2, community_names[second]: 3}
    assert store.residents_by_submission(session, [primary.id, unrelated.id]) == {
        primary.id: 3,
        unrelated.id: 1,
    }


def test_migration_0003_downgrades_and_upgrades():
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'm.db'}"
        upgrade(url)
        engine = make_engine(url)
        assert {"projects", "project_budgets", "project_needs"} <= set(
            inspect(engine).get_table_names()
        )
        command.downgrade(alembic_config(url), "0002_staff")
        check = make_engine(url)
        tables = set(inspect(check).get_table_names())
        check.dispose()
        assert "projects" not in tables and "submissions" in tables and "users" in tables
        upgrade(url)
        check = make_engine(url)
        assert "project_needs" in inspect(check).get_table_names()
        check.dispose()
        engine.dispose()


# --- pages ----------------------------------------------------------------------------------


@pytest.fixture
def staff_client(client, make_user, login):
    user = make_user("staff")
    assert login(client, user).status_code == 302
    client.user = user
    return client


FORM = {
    "strategy": "LPN-S7",
    "subarea": "LPN-S7.2",
    "programme": "อุตสาหกรรมและการโยธา",
    "name": "วางท่อระบายน้ำ ชุมชนสวนดอก",
    "objective": "เพื่อแก้ปัญหาน้ำท่วมขัง",
    "target": "ท่อ คสล. ยาว 300 เมตร",
    "kpi": "",
    "expected_result": "น้ำไม่ท่วมขัง",
    "division": "กองช่าง",
    "origin": "community",
    "edition": "original",
    "edition_no": "",
    "reason": "",
    "budget_2566": "",
    "budget_2567": "1,200,000",
    "budget_2568": "800000.25",
    "budget_2569": "",
    "budget_2570": "",
}


def test_staff_creates_a_project_through_the_form(staff_client, session):
    page = staff_client.get("/dashboard/plan/projects/new?strategy=LPN-S7")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for year in (2566, 2567, 2568, 2569, 2570):
        assert f'name="budget_{year}"' in html
    assert "กองช่าง" in html  # the strategy's division is the default

    response = staff_client.post("/dashboard/plan/projects/new", data=FORM)
    assert response.status_code == 302
    project = store.list_projects(session)[0]
    assert project.name == "วางท่อระบายน้ำ ชุมชนสวนดอก"
    assert project.origin == "community"
    assert project.kpi is None
    assert {b.year: b.amount for b in project.budgets} == {
        2567: Decimal("1200000.00"),
        2568: Decimal("800000.25"),
    }
    audit = session.scalars(select(AuditLog).where(AuditLog.action == "project.create")).one()
    assert audit.target_id == str(project.id)
    assert audit.user_id == staff_client.user.id

    page = staff_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "วางท่อระบายน้ำ ชุมชนสวนดอก" in page
    assert "1,200,000.00" in page
    index = staff_client.get("/dashboard/plan/?strategy=LPN-S7").get_data(as_text=True)
    assert "วางท่อระบายน้ำ ชุมชนสวนดอก" in index


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": ""}, "กรุณากรอกชื่อโครงการ"),
        ({"budget_2567": "หนึ่งล้าน"}, "กรุณากรอกจำนวนเงินเป็นตัวเลข"),
        ({"subarea": "LPN-S1.1"}, "แนวทางนี้ไม่อยู่ในยุทธศาสตร์ที่เลือก"),
        ({"edition": "addition", "edition_no": "1"}, "ต้องระบุเหตุผลความจำเป็น"),
        ({"edition": "addition", "reason": "จำเป็น"}, "กรุณาระบุครั้งที่"),
        ({"strategy": "NOPE"}, "Not a valid choice"),
    ],
)
def test_project_form_rejects_bad_input_in_thai(staff_client, session, change, message):
    response = staff_client.post("/dashboard/plan/projects/new", data={**FORM, **change})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert store.list_projects(session) == []


def test_edit_project_changes_fields_and_budgets(staff_client, session):
    project = new_project(session)
    page = staff_client.get(f"/dashboard/plan/projects/{project.id}/edit")
    assert "1,500,000.00" in page.get_data(as_text=True)
    data = {**FORM, "name": "ถนนสายใหม่", "budget_2567": "", "budget_2570": "99"}
    response = staff_client.post(f"/dashboard/plan/projects/{project.id}/edit", data=data)
    assert response.status_code == 302
    session.expire_all()
    again = store.get_project(session, project.id)
    assert again.name == "ถนนสายใหม่"
    assert {b.year: b.amount for b in again.budgets} == {
        2568: Decimal("800000.25"),
        2570: Decimal("99.00"),
    }
    audit = session.scalars(select(AuditLog).where(AuditLog.action == "project.update")).one()
    assert "budgets" in audit.details["fields"] and "name" in audit.details["fields"]


def test_unknown_project_is_404(staff_client):
    assert staff_client.get("/dashboard/plan/projects/999").status_code == 404
    assert staff_client.get("/dashboard/plan/projects/999/edit").status_code == 404


def test_link_from_the_detail_page_moves_to_planned_and_tells_the_resident(
    staff_client, session, make_submission
):
    project = new_project(session)
    submission = make_submission(session, resident=True, text="ถนนเป็นหลุมลึก")
    detail = staff_client.get(f"/dashboard/submissions/{submission.id}").get_data(as_text=True)
    assert 'data-testid="link-project-form"' in detail
    assert project.name in detail

    response = staff_client.post(
        f"/dashboard/plan/submissions/{submission.id}/link-project",
        data={"project_id": str(project.id), "set_planned": "1"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/dashboard/submissions/{submission.id}")
    session.expire_all()
    assert store.projects_of(session, submission.id)[0].id == project.id
    assert session.get(type(submission), submission.id).status == "planned"
    push = session.scalars(select(OutboxMessage)).one()
    assert "บรรจุในแผน" in push.messages[0]["text"]
    audit = session.scalars(select(AuditLog).where(AuditLog.action == "project.link")).one()
    assert audit.details["submission_ids"] == [submission.id]
    actions = [
        e.action
        for e in session.scalars(
            select(SubmissionEvent).where(SubmissionEvent.submission_id == submission.id)
        )
    ]
    assert actions == ["link_project", "status"]

    page = staff_client.get(f"/dashboard/plan/projects/{project.id}").get_data(as_text=True)
    assert submission.tracking_no in page
    assert "ถนนเป็นหลุมลึก" in page


def test_link_without_the_checkbox_keeps_the_status(staff_client, session, make_submission):
    project = new_project(session)
    submission = make_submission(session, resident=True)
    staff_client.post(
        f"/dashboard/plan/submissions/{submission.id}/link-project",
        data={"project_id": str(project.id)},
    )
    session.expire_all()
    assert session.get(type(submission), submission.id).status == "new"
    assert session.scalars(select(OutboxMessage)).all() == []
    assert len(store.projects_of(session, submission.id)) == 1


def test_link_to_a_missing_project_changes_nothing(staff_client, session, make_submission):
    submission = make_submission(session)
    response = staff_client.post(
        f"/dashboard/plan/submissions/{submission.id}/link-project",
        data={"project_id": "999", "set_planned": "1"},
    )
    assert response.status_code == 302
    session.expire_all()
    assert session.get(type(submission), submission.id).status == "new"


def test_bulk_link_from_the_queue(staff_client, session, make_submission):
    project = new_project(session)
    rows = [make_submission(session, resident=True) for _ in range(3)]
    rows[2].status = "done"
    session.commit()
    queue = staff_client.get("/dashboard/submissions").get_data(as_text=True)
    assert 'data-testid="bulk-project"' in queue
    response = staff_client.post(
        "/dashboard/submissions/bulk",
        data={
            "action": "project",
            "ids": [str(r.id) for r in rows],
            "project_id": str(project.id),
            "set_planned": "1",
        },
    )
    assert response.status_code == 302
    session.expire_all()
    summary = store.need_summary(session, project)
    assert sorted(s.id for s in summary.submissions) == sorted(r.id for r in rows)
    statuses = [session.get(type(r), r.id).status for r in rows]
    assert statuses == ["planned", "planned", "done"]  # a closed one is not reopened
    assert len(session.scalars(select(OutboxMessage)).all()) == 2


def test_bulk_link_without_a_project_is_refused(staff_client, session, make_submission):
    row = make_submission(session)
    staff_client.post(
        "/dashboard/submissions/bulk", data={"action": "project", "ids": [str(row.id)]}
    )
    assert store.projects_of(session, row.id) == []


def test_leader_cannot_use_the_plan_pages(app, client, make_user, login, session,
                                          make_submission):  # fmt: skip
    project = new_project(session)
    leader = make_user("leader", community=community_id(app, 0))
    login(client, leader)
    own = make_submission(session, community_id=community_id(app, 0))
    actions.link_need(session, project, own, actor="user:1")
    session.commit()
    for url in ("/dashboard/plan/", f"/dashboard/plan/projects/{project.id}",
                "/dashboard/plan/projects/new"):  # fmt: skip
        assert client.get(url).status_code == 403
    response = client.post(
        f"/dashboard/plan/submissions/{own.id}/link-project", data={"project_id": str(project.id)}
    )
    assert response.status_code == 403
    # read-only: the detail page names the project but offers no form
    detail = client.get(f"/dashboard/submissions/{own.id}").get_data(as_text=True)
    assert project.name in detail
    assert 'data-testid="link-project-form"' not in detail


def test_logged_out_gets_nothing(client, session):
    project = new_project(session)
    for url in ("/dashboard/plan/", f"/dashboard/plan/projects/{project.id}"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/dashboard/login" in response.headers["Location"]
    response = client.post("/dashboard/plan/projects/new", data=FORM)
    assert response.status_code in (302, 400)
    assert len(store.list_projects(session)) == 1


@pytest.mark.parametrize("csrf_enabled", [True])
def test_csrf_token_is_required(client, make_user, login, session, csrf_enabled):
    login(client, make_user("staff"))
    response = client.post("/dashboard/plan/projects/new", data=FORM)
    assert response.status_code == 400
    assert store.list_projects(session) == []
    page = client.get("/dashboard/plan/projects/new").get_data(as_text=True)
    assert 'name="csrf_token"' in page


def test_the_project_form_offers_the_active_divisions_as_responsible(staff_client, session):
    from storage.routing import list_divisions

    divisions = list_divisions(session)
    retired = divisions[-1]
    retired.active = False
    session.commit()
    html = staff_client.get("/dashboard/plan/projects/new").get_data(as_text=True)
    assert 'list="division-names"' in html
    offered = re.findall(r'<datalist id="division-names">(.*?)</datalist>', html, re.S)[0]
    for division in divisions[:-1]:
        assert f'<option value="{division.name}">' in offered
    assert retired.name not in offered


def test_queue_lists_projects_in_plan_order_without_loading_budgets(
    app, staff_client, session, make_submission
):
    """The queue's bulk form offers every project, but reads only the picker's columns: the
    budgets of 300 projects, loaded on every page view, were a third of the queue's time."""
    from sqlalchemy import event

    from bot.db import session_factory

    make_submission(session)
    road = new_project(session)
    changed = new_project(
        session,
        strategy="LPN-S1",
        subarea="LPN-S1.1",
        name="พ่นหมอกควันกำจัดยุงลาย",
        edition="change",
        edition_no=2,
        reason="ราคาวัสดุสูงขึ้น",
    )
    statements: list[str] = []
    engine = session_factory(app).kw["bind"]

    def seen(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        queue = staff_client.get("/dashboard/submissions").get_data(as_text=True)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    picker = queue[queue.index('data-testid="bulk-project"') :]
    first = picker.index(
        f'<option value="{changed.id}">LPN-S1 · พ่นหมอกควันกำจัดยุงลาย (เปลี่ยนแปลง ครั้งที่ 2)</option>'
    )
    second = picker.index(f'<option value="{road.id}">LPN-S7 · {road.name}</option>')
    assert first < second
    assert statements and not [s for s in statements if "project_budgets" in s]
