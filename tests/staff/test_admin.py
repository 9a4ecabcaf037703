"""Admin pages: accounts, communities, the taxonomy and the audit log."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage.models import Community
from storage.staff import AuditLog, User
from tests.staff.conftest import PASSWORD, community_id


@pytest.fixture
def admin(client, make_user, login):
    user = make_user("admin")
    login(client, user)
    return user


def test_admin_creates_a_leader_who_can_sign_in(app, client, session, admin, login):
    cid = community_id(app, 2)
    response = client.post(
        "/dashboard/admin/users",
        data={
            "username": "Somchai",
            "display_name": "สมชาย ใจดี",
            "role": "leader",
            "community_id": cid,
            "password": "a-long-password",
            "password_confirm": "a-long-password",
        },
    )
    assert response.status_code == 302
    user = session.scalar(select(User).where(User.username == "somchai"))
    assert (user.role, user.community_id, user.display_name) == ("leader", cid, "สมชาย ใจดี")
    entry = session.scalars(select(AuditLog).where(AuditLog.action == "user.create")).one()
    assert entry.user_id == admin.id and "password" not in str(entry.details)
    other = app.test_client()
    assert login(other, user, password="a-long-password").status_code == 302


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"password": "short", "password_confirm": "short"}, "อย่างน้อย 10"),
        ({"password_confirm": "different-password"}, "ไม่ตรงกัน"),
        ({"role": "leader"}, "ผู้นำชุมชนต้องระบุชุมชน"),
        ({"role": "boss"}, "บทบาทไม่ถูกต้อง"),
        ({"username": "ชื่อไทย"}, "กรุณาระบุชื่อผู้ใช้"),
    ],
)
def test_bad_new_users_are_refused(client, session, admin, changes, message):
    data = {
        "username": "newbie",
        "role": "staff",
        "password": "a-long-password",
        "password_confirm": "a-long-password",
        **changes,
    }
    response = client.post("/dashboard/admin/users", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert session.query(User).count() == 1


def test_duplicate_username_is_refused(client, session, admin):
    data = {
        "username": admin.username.upper(),
        "role": "staff",
        "password": "a-long-password",
        "password_confirm": "a-long-password",
    }
    assert client.post("/dashboard/admin/users", data=data).status_code == 400
    assert session.query(User).count() == 1


def test_admin_changes_role_and_deactivates(app, client, session, admin, make_user, login):
    other = make_user("staff")
    other_client = app.test_client()
    login(other_client, other)
    cid = community_id(app, 0)
    client.post(
        f"/dashboard/admin/users/{other.id}",
        data={"role": "leader", "community_id": cid, "active": "1"},
    )
    session.expire_all()
    row = session.get(User, other.id)
    assert (row.role, row.community_id, row.active) == ("leader", cid, True)
    client.post(f"/dashboard/admin/users/{other.id}", data={"role": "leader", "community_id": cid})
    session.expire_all()
    assert session.get(User, other.id).active is False
    # The deactivated user's open session ends at once.
    assert other_client.get("/dashboard/submissions").status_code == 302
    actions = session.scalars(select(AuditLog.action)).all()
    assert actions.count("user.update") == 2


def test_the_last_admin_cannot_be_demoted_or_deactivated(client, session, admin):
    client.post(f"/dashboard/admin/users/{admin.id}", data={"role": "staff", "active": "1"})
    client.post(f"/dashboard/admin/users/{admin.id}", data={"role": "admin"})
    session.expire_all()
    row = session.get(User, admin.id)
    assert (row.role, row.active) == ("admin", True)


def test_admin_resets_a_password(app, client, session, admin, make_user, login):
    other = make_user("staff")
    response = client.post(
        f"/dashboard/admin/users/{other.id}/password",
        data={"password": "brand-new-secret", "password_confirm": "brand-new-secret"},
    )
    assert response.status_code == 302
    assert login(app.test_client(), other, password=PASSWORD).status_code == 401
    assert login(app.test_client(), other, password="brand-new-secret").status_code == 302
    client.post(
        f"/dashboard/admin/users/{other.id}/password",
        data={"password": "tiny", "password_confirm": "tiny"},
    )
    assert login(app.test_client(), other, password="brand-new-secret").status_code == 302


def test_communities_add_rename_reorder_deactivate(client, session, admin):
    names = [c.name for c in session.scalars(select(Community).order_by(Community.position))]
    assert len(names) == 14
    client.post("/dashboard/admin/communities", data={"name": "  ชุมชนประตูลี้ "})
    client.post("/dashboard/admin/communities", data={"name": "ชุมชนประตูลี้"})  # twice: refused
    session.expire_all()
    added = session.scalar(select(Community).where(Community.name == "ชุมชนประตูลี้"))
    assert added is not None and session.query(Community).count() == 15
    client.post(
        f"/dashboard/admin/communities/{added.id}",
        data={"action": "rename", "name": "ชุมชนประตูมหาวัน"},
    )
    client.post(f"/dashboard/admin/communities/{added.id}", data={"action": "up"})
    client.post(f"/dashboard/admin/communities/{added.id}", data={"action": "deactivate"})
    session.expire_all()
    ordered = [c.name for c in session.scalars(select(Community).order_by(Community.position))]
    assert ordered[-2] == "ชุมชนประตูมหาวัน" and ordered[-1] == names[-1]
    assert session.get(Community, added.id).active is False
    body = client.get("/dashboard/admin/communities").get_data(as_text=True)
    assert "ชุมชนประตูมหาวัน" in body
    actions = session.scalars(select(AuditLog.action)).all()
    for action in (
        "community.create",
        "community.rename",
        "community.move",
        "community.deactivate",
    ):
        assert action in actions


def test_taxonomy_page_lists_strategies(client, admin):
    body = client.get("/dashboard/admin/taxonomy").get_data(as_text=True)
    assert "LPN-S7" in body and "LPN-S7.2" in body and "แจ้งปัญหา/ขอซ่อม" in body


def test_audit_log_lists_staff_actions_with_pages(client, session, admin, make_submission, app):
    app.config["DASHBOARD_PAGE_SIZE"] = 50
    sub = make_submission(session, text="ข้อความส่วนตัวของผู้แจ้ง")
    for status in ("reviewing", "planned", "in_progress"):
        client.post(
            f"/dashboard/submissions/{sub.id}/status",
            data={"status": status, "internal_note": "ความลับภายใน"},
        )
    body = client.get("/dashboard/admin/audit").get_data(as_text=True)
    assert body.count('data-action="submission.status"') == 3
    assert 'data-action="login"' in body
    assert "ข้อความส่วนตัวของผู้แจ้ง" not in body and "ความลับภายใน" not in body
    assert "2569" in body  # Buddhist-era timestamps
    filtered = client.get("/dashboard/admin/audit", query_string={"action": "login"})
    assert 'data-action="submission.status"' not in filtered.get_data(as_text=True)


@pytest.mark.parametrize(
    ("latitude", "longitude", "saved"),
    [
        ("18.5776", " 99.0087 ", (18.5776, 99.0087)),
        ("", "", (None, None)),
        ("18.5", "", "refused"),
        ("nan", "99", "refused"),
        ("95", "99", "refused"),
        ("สิบแปด", "99", "refused"),
    ],
)
def test_admin_sets_a_community_centre(client, session, admin, latitude, longitude, saved):
    community = session.scalars(select(Community).order_by(Community.position)).first()
    community.latitude, community.longitude = 1.0, 2.0
    session.commit()
    response = client.post(
        f"/dashboard/admin/communities/{community.id}",
        data={"action": "place", "latitude": latitude, "longitude": longitude},
    )
    assert response.status_code == 302
    session.expire_all()
    row = session.get(Community, community.id)
    expected = (1.0, 2.0) if saved == "refused" else saved
    assert (row.latitude, row.longitude) == expected
