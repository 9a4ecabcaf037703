"""Who may read and change what: leaders see only their community; admin pages are admin-only."""

from __future__ import annotations

import pytest

from storage.models import Media, Submission, TrainingLabel
from tests.staff.conftest import community_id


@pytest.fixture
def two_communities(app, session, make_submission, tmp_path):
    """One submission (with a photo) in each of the first two communities."""
    mine, other = community_id(app, 0), community_id(app, 1)
    own = make_submission(session, community_id=mine, text="ขอไฟส่องสว่างซอยบ้านเรา")
    foreign = make_submission(session, community_id=other, text="ขอไฟส่องสว่างซอยชุมชนอื่น")
    (tmp_path / "media").mkdir(exist_ok=True)
    for sub in (own, foreign):
        (tmp_path / "media" / f"{sub.id}.jpg").write_bytes(b"\xff\xd8\xff\xe0jpeg")
        session.add(
            Media(
                submission_id=sub.id,
                status="stored",
                content_type="image/jpeg",
                path=f"{sub.id}.jpg",
                size=9,
            )
        )
    session.commit()
    photos = {m.submission_id: m.id for m in session.query(Media)}
    return own, foreign, photos, mine


def status_of(client, url: str) -> int:
    """GET ``url`` and close the response (file responses hold the file open until closed)."""
    with client.get(url) as response:
        return response.status_code


def test_leader_reads_only_their_community(client, make_user, login, two_communities):
    own, foreign, photos, mine = two_communities
    login(client, make_user("leader", community=mine))
    assert client.get(f"/dashboard/submissions/{own.id}").status_code == 200
    assert status_of(client, f"/dashboard/media/{photos[own.id]}") == 200
    # Guessing ids: the other community's need, its photo, an id that does not exist: all 404.
    assert client.get(f"/dashboard/submissions/{foreign.id}").status_code == 404
    assert status_of(client, f"/dashboard/media/{photos[foreign.id]}") == 404
    assert client.get("/dashboard/submissions/999999").status_code == 404


def test_leader_search_and_filters_never_show_other_communities(
    client, make_user, login, two_communities
):
    own, foreign, _, mine = two_communities
    login(client, make_user("leader", community=mine))
    for query in (
        {"q": "ขอไฟ"},
        {"q": foreign.tracking_no},
        {"community": foreign.community_id},
        {"merged": "1"},
        {},
    ):
        body = client.get("/dashboard/submissions", query_string=query).get_data(as_text=True)
        assert f'data-tracking="{foreign.tracking_no}"' not in body
        assert "ซอยชุมชนอื่น" not in body
    body = client.get("/dashboard/submissions", query_string={"q": "ขอไฟ"}).get_data(as_text=True)
    assert f'data-tracking="{own.tracking_no}"' in body


def test_leader_cannot_triage(client, session, make_user, login, two_communities):
    own, _, _, mine = two_communities
    login(client, make_user("leader", community=mine))
    base = f"/dashboard/submissions/{own.id}"
    assert client.post(base + "/status", data={"status": "done"}).status_code == 403
    assert (
        client.post(base + "/classify", data={"kind": "need", "strategy": "LPN-S1"}).status_code
        == 403
    )
    assert client.post(base + "/merge", data={"duplicate_ids": "1"}).status_code == 403
    response = client.post(
        "/dashboard/submissions/bulk", data={"action": "status", "status": "done", "ids": own.id}
    )
    assert response.status_code == 403
    session.expire_all()
    assert session.get(Submission, own.id).status == "new"
    assert session.query(TrainingLabel).count() == 0
    body = client.get(base).get_data(as_text=True)
    assert 'data-testid="status-form"' not in body and 'data-testid="classify-form"' not in body


def test_staff_reads_every_community(client, make_user, login, two_communities):
    own, foreign, photos, _ = two_communities
    login(client, make_user("staff"))
    for sub in (own, foreign):
        assert client.get(f"/dashboard/submissions/{sub.id}").status_code == 200
        assert status_of(client, f"/dashboard/media/{photos[sub.id]}") == 200
    body = client.get("/dashboard/submissions", query_string={"q": "ขอไฟ"}).get_data(as_text=True)
    assert f'data-tracking="{own.tracking_no}"' in body
    assert f'data-tracking="{foreign.tracking_no}"' in body


ADMIN_PAGES = [
    "/dashboard/admin/users",
    "/dashboard/admin/users/{uid}",
    "/dashboard/admin/communities",
    "/dashboard/admin/taxonomy",
    "/dashboard/admin/audit",
]


@pytest.mark.parametrize("role", ["staff", "leader"])
@pytest.mark.parametrize("page", ADMIN_PAGES)
def test_admin_pages_are_admin_only(client, make_user, login, role, page):
    user = make_user(role)
    login(client, user)
    assert client.get(page.format(uid=user.id)).status_code == 403


@pytest.mark.parametrize("role", ["staff", "leader"])
def test_non_admins_cannot_change_users_or_communities(client, session, make_user, login, role):
    user = make_user(role)
    login(client, user)
    response = client.post(
        "/dashboard/admin/users",
        data={
            "username": "sneaky",
            "password": "x" * 12,
            "password_confirm": "x" * 12,
            "role": "admin",
        },
    )
    assert response.status_code == 403
    response = client.post(
        f"/dashboard/admin/users/{user.id}", data={"role": "admin", "active": "1"}
    )
    assert response.status_code == 403
    assert client.post("/dashboard/admin/communities", data={"name": "ชุมชนใหม่"}).status_code == 403
    from storage.staff import User

    session.expire_all()
    assert session.get(User, user.id).role == role
    assert session.query(User).filter_by(username="sneaky").count() == 0


@pytest.mark.parametrize("page", ADMIN_PAGES)
def test_admin_sees_admin_pages(client, make_user, login, page):
    user = make_user("admin")
    login(client, user)
    assert client.get(page.format(uid=user.id)).status_code == 200


def test_leader_without_community_sees_nothing(client, session, make_user, login, make_submission):
    from storage.staff import User

    leader = make_user("leader")
    row = session.get(User, leader.id)
    row.community_id = None
    session.commit()
    sub = make_submission(session)
    login(client, leader)
    assert client.get(f"/dashboard/submissions/{sub.id}").status_code == 404
    body = client.get("/dashboard/submissions").get_data(as_text=True)
    assert f'data-tracking="{sub.tracking_no}"' not in body


def test_errors_are_explained_in_thai(client, make_user, login):
    login(client, make_user("staff"))
    response = client.get("/dashboard/admin/users")
    assert response.status_code == 403 and "ไม่มีสิทธิ์เข้าถึง" in response.get_data(as_text=True)
    response = client.get("/dashboard/submissions/424242")
    assert response.status_code == 404 and "ไม่พบหน้าที่ต้องการ" in response.get_data(as_text=True)
    # Outside the dashboard (e.g. the webhook) errors stay plain.
    assert "ไม่พบ" not in client.get("/no-such-page").get_data(as_text=True)
