"""Sign-in, sign-out, sessions, rate limiting, security headers and production settings."""

from __future__ import annotations

import pytest

from bot import create_app
from bot.db import session_factory
from storage import staff
from storage.models import Media
from tests.staff.conftest import PASSWORD, csrf_token

GET_ROUTES = [
    "/dashboard/",
    "/dashboard/submissions",
    "/dashboard/submissions?q=ไฟ",
    "/dashboard/submissions/{id}",
    "/dashboard/media/{media}",
    "/dashboard/admin/users",
    "/dashboard/admin/users/1",
    "/dashboard/admin/communities",
    "/dashboard/admin/taxonomy",
    "/dashboard/admin/audit",
]
POST_ROUTES = [
    "/dashboard/submissions/{id}/classify",
    "/dashboard/submissions/{id}/status",
    "/dashboard/submissions/{id}/merge",
    "/dashboard/submissions/bulk",
    "/dashboard/admin/users",
    "/dashboard/admin/users/1",
    "/dashboard/admin/users/1/password",
    "/dashboard/admin/communities",
    "/dashboard/admin/communities/1",
]


@pytest.fixture
def photo(app, session, make_submission, tmp_path):
    """A submission with one stored photo; returns (submission, media)."""
    submission = make_submission(session, text="ถนนเป็นหลุม")
    media_dir = tmp_path / "media"
    (media_dir / "2026").mkdir(parents=True)
    (media_dir / "2026" / "a.jpg").write_bytes(b"\xff\xd8\xff\xe0fakejpeg")
    media = Media(
        submission_id=submission.id,
        status="stored",
        content_type="image/jpeg",
        path="2026/a.jpg",
        size=12,
    )
    session.add(media)
    session.commit()
    return submission, media


@pytest.mark.parametrize("route", GET_ROUTES)
def test_logged_out_get_is_sent_to_login(client, photo, route):
    submission, media = photo
    response = client.get(route.format(id=submission.id, media=media.id))
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/dashboard/login")


@pytest.mark.parametrize("route", POST_ROUTES)
def test_logged_out_post_changes_nothing(client, session, photo, route):
    submission, _ = photo
    response = client.post(route.format(id=submission.id), data={"status": "done", "kind": "need"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/dashboard/login")
    session.expire_all()
    assert session.get(type(submission), submission.id).status == "new"


def test_root_redirects_to_dashboard(client):
    assert client.get("/").headers["Location"] == "/dashboard/"


def test_login_and_logout(client, make_user, login):
    user = make_user("staff")
    response = login(client, user)
    assert response.status_code == 302
    assert client.get("/dashboard/submissions").status_code == 200
    response = client.post("/dashboard/logout")
    assert response.headers["Location"] == "/dashboard/login"
    assert client.get("/dashboard/submissions").status_code == 302


def test_logout_is_post_only(client, make_user, login):
    login(client, make_user("staff"))
    assert client.get("/dashboard/logout").status_code == 405
    assert client.get("/dashboard/submissions").status_code == 200


def test_wrong_password_is_refused_in_thai(client, make_user, login):
    user = make_user("staff")
    response = login(client, user, password="wrong-password-1")
    assert response.status_code == 401
    assert "ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง" in response.get_data(as_text=True)
    assert client.get("/dashboard/submissions").status_code == 302


def test_unknown_user_gets_the_same_answer(client):
    response = client.post("/dashboard/login", data={"username": "nobody", "password": "x" * 12})
    assert response.status_code == 401
    assert "ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง" in response.get_data(as_text=True)


def test_five_failures_lock_out_even_the_right_password(client, make_user, login):
    user = make_user("staff")
    for _ in range(5):
        assert login(client, user, password="wrong-password-1").status_code == 401
    response = login(client, user)
    assert response.status_code == 429
    assert "กรุณารอ 15 นาที" in response.get_data(as_text=True)
    assert client.get("/dashboard/submissions").status_code == 302


def test_success_clears_earlier_failures(client, make_user, login):
    user = make_user("staff")
    for _ in range(4):
        login(client, user, password="wrong-password-1")
    assert login(client, user).status_code == 302
    client.post("/dashboard/logout")
    for _ in range(4):
        login(client, user, password="wrong-password-1")
    assert login(client, user).status_code == 302


def test_deactivated_user_is_signed_out_and_cannot_sign_in(app, client, make_user, login):
    user = make_user("staff")
    login(client, user)
    with session_factory(app)() as session:
        staff.set_active(session, session.get(staff.User, user.id), False)
        session.commit()
    assert client.get("/dashboard/submissions").status_code == 302
    assert login(client, user).status_code == 401


def test_password_change_signs_out_other_sessions(app, client, make_user, login):
    user = make_user("staff")
    login(client, user)
    with session_factory(app)() as session:
        staff.set_password(session, session.get(staff.User, user.id), "another-long-password")
        session.commit()
    assert client.get("/dashboard/submissions").status_code == 302
    assert login(client, user, password="another-long-password").status_code == 302


@pytest.mark.parametrize(
    "target, expected",
    [
        ("/dashboard/admin/users", "/dashboard/admin/users"),
        ("https://evil.example/", "/dashboard/"),
        ("//evil.example/", "/dashboard/"),
        ("/\\evil.example", "/dashboard/"),
    ],
)
def test_next_only_goes_to_this_site(client, make_user, target, expected):
    user = make_user("admin")
    response = client.post(
        "/dashboard/login",
        query_string={"next": target},
        data={"username": user.username, "password": PASSWORD},
    )
    assert response.headers["Location"] == expected


def test_passwords_are_argon2_hashed(app, make_user):
    user = make_user("staff")
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_security_headers_on_dashboard_pages(client, make_user, login):
    login(client, make_user("staff"))
    response = client.get("/dashboard/submissions")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_data(as_text=True)
    assert "<script>" not in body and " style=" not in body and "onclick" not in body


def test_login_page_has_labels_and_a_skip_link(client):
    body = client.get("/dashboard/login").get_data(as_text=True)
    assert '<label for="username">' in body and '<label for="password">' in body
    assert 'class="skip-link" href="#main"' in body
    assert 'lang="th"' in body


def test_production_sets_secure_cookies(tmp_path):
    app = create_app(
        {
            "RUAMKID_ENV": "production",
            "INSTANCE_PATH": str(tmp_path),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}",
            "SECRET_KEY": "k" * 16 + "Q7x!" + "z" * 16,
            "LINE_CHANNEL_SECRET": "s" * 32,
            "LINE_CHANNEL_ACCESS_TOKEN": "t" * 40,
            "INLINE_WORKER": False,
        }
    )
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    app.extensions["ruamkid_db"].kw["bind"].dispose()


def test_production_refuses_a_weak_secret_key(tmp_path):
    from bot.config import ConfigError

    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app(
            {
                "RUAMKID_ENV": "production",
                "INSTANCE_PATH": str(tmp_path),
                "SECRET_KEY": "changeme",
                "LINE_CHANNEL_SECRET": "s" * 32,
                "LINE_CHANNEL_ACCESS_TOKEN": "t" * 40,
            }
        )


@pytest.mark.parametrize("csrf_enabled", [True])
def test_csrf_rejects_forms_without_a_token(client, session, make_user, login, make_submission):
    user = make_user("staff")
    assert login(client, user).status_code == 302
    submission = make_submission(session, resident=True)
    url = f"/dashboard/submissions/{submission.id}/status"
    response = client.post(url, data={"status": "reviewing"})
    assert response.status_code == 400
    assert "แบบฟอร์มหมดอายุ" in response.get_data(as_text=True)
    response = client.post(url, data={"status": "reviewing", "csrf_token": "forged"})
    assert response.status_code == 400
    session.expire_all()
    assert session.get(type(submission), submission.id).status == "new"
    token = csrf_token(client, f"/dashboard/submissions/{submission.id}")
    response = client.post(url, data={"status": "reviewing", "csrf_token": token})
    assert response.status_code == 302
    session.expire_all()
    assert session.get(type(submission), submission.id).status == "reviewing"


@pytest.mark.parametrize("csrf_enabled", [True])
def test_csrf_protects_login_and_logout(client, make_user, login):
    user = make_user("staff")
    response = client.post(
        "/dashboard/login", data={"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 400
    assert login(client, user).status_code == 302
    assert client.post("/dashboard/logout").status_code == 400
    assert client.get("/dashboard/submissions").status_code == 200


@pytest.mark.parametrize("csrf_enabled", [True])
def test_webhook_is_exempt_from_csrf(line, line_api):
    from tests import line_events

    response = line.post(line_events.text("สวัสดี"))
    assert response.status_code == 200


def test_simulator_blueprints_are_exempt_from_csrf(tmp_path, database_url):
    app = create_app(
        {
            "INSTANCE_PATH": str(tmp_path / "sim"),
            "DATABASE_URL": database_url,
            "INLINE_WORKER": False,
            "RUAMKID_ENV": "development",
        }
    )
    assert app.config["SIMULATOR"] and app.config.get("WTF_CSRF_ENABLED", True)
    nested = [name for name in app.blueprints if name.startswith("simulator.")]
    client = app.test_client()
    for path in ("/simulator/line-api/v2/bot/message/push", "/callback"):
        body = client.post(path, json={}).get_data(as_text=True)
        assert "แบบฟอร์มหมดอายุ" not in body, (path, nested)
    # The dashboard's own forms are still protected in the same app.
    assert client.post("/dashboard/login", data={"username": "a"}).status_code == 400
    app.extensions["ruamkid_db"].kw["bind"].dispose()
