"""Sessions that end on the server, sign-in limits that hold under parallel attempts, and the
password policy (issue 10, item 6)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.cli import main
from bot.db import session_factory
from storage import staff
from storage.base import utcnow
from tests.staff.conftest import PASSWORD

DASHBOARD = "/dashboard/submissions"


def _session_cookie(client) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def _with_cookie(app, value: str):
    other = app.test_client()
    other.set_cookie("session", value)
    return other


# --- sessions ---------------------------------------------------------------------------------


def test_a_copied_cookie_stops_working_after_logout(app, client, make_user, login):
    login(client, make_user("staff"))
    copied = _session_cookie(client)
    thief = _with_cookie(app, copied)
    assert thief.get(DASHBOARD).status_code == 200  # the copy works while the session lives
    client.post("/dashboard/logout")
    assert thief.get(DASHBOARD).status_code == 302
    assert client.get(DASHBOARD).status_code == 302


def test_logout_ends_only_that_session(app, make_user, login):
    user = make_user("staff")
    office, phone = app.test_client(), app.test_client()
    login(office, user)
    login(phone, user)
    office.post("/dashboard/logout")
    assert office.get(DASHBOARD).status_code == 302
    assert phone.get(DASHBOARD).status_code == 200


def test_the_database_holds_a_hash_of_the_session_token_only(app, client, make_user, login):
    login(client, make_user("staff"))
    cookie = _session_cookie(client)
    with session_factory(app)() as session:
        rows = session.scalars(select(staff.StaffSession)).all()
    assert len(rows) == 1
    token = app.session_interface.get_signing_serializer(app).loads(cookie)["_user_id"]
    assert rows[0].token_hash != token and token not in rows[0].token_hash
    assert len(rows[0].token_hash) == 64


def test_an_expired_session_no_longer_signs_in(app, client, make_user, login):
    login(client, make_user("staff"))
    with session_factory(app)() as session:
        for row in session.scalars(select(staff.StaffSession)):
            row.expires_at = utcnow() - timedelta(seconds=1)
        session.commit()
    assert client.get(DASHBOARD).status_code == 302


def test_an_admin_ends_every_session_of_a_user(app, make_user, login):
    admin, user = make_user("admin"), make_user("staff")
    boss, office, phone = app.test_client(), app.test_client(), app.test_client()
    login(boss, admin)
    login(office, user)
    login(phone, user)
    page = boss.get(f"/dashboard/admin/users/{user.id}").get_data(as_text=True)
    assert "เข้าสู่ระบบค้างอยู่ 2 เครื่อง" in page
    response = boss.post(f"/dashboard/admin/users/{user.id}/sessions/end", follow_redirects=True)
    assert "ออกจากระบบทุกเครื่องแล้ว (2" in response.get_data(as_text=True)
    assert office.get(DASHBOARD).status_code == 302
    assert phone.get(DASHBOARD).status_code == 302
    assert boss.get(DASHBOARD).status_code == 200  # the admin's own session is untouched
    assert login(app.test_client(), user).status_code == 302  # the account still works


def test_disabling_an_account_in_the_dashboard_ends_its_sessions(app, make_user, login):
    admin, user = make_user("admin"), make_user("staff")
    boss, office = app.test_client(), app.test_client()
    login(boss, admin)
    login(office, user)
    boss.post(f"/dashboard/admin/users/{user.id}", data={"role": "staff"})  # "active" unticked
    assert office.get(DASHBOARD).status_code == 302
    with session_factory(app)() as session:
        assert staff.count_sessions(session, session.get(staff.User, user.id)) == 0


def test_the_cli_signs_a_user_out_everywhere(app, client, runner, make_user, login):
    user = make_user("staff")
    login(client, user)
    result = runner.invoke(main, ["users", "sign-out", user.username])
    assert result.exit_code == 0, result.output
    assert "ออกจากระบบทุกเครื่องแล้ว (1" in result.output
    assert client.get(DASHBOARD).status_code == 302


# --- sign-in limits ---------------------------------------------------------------------------


def _attempt(app, username: str, password: str = "wrong-password-1", **environ) -> int:  # noqa: S107
    response = app.test_client().post(
        "/dashboard/login",
        data={"username": username, "password": password},
        environ_base=environ,
    )
    return response.status_code


def test_an_account_locks_after_five_failures_from_any_addresses(app, make_user):
    user = make_user("staff")
    for n in range(5):
        assert _attempt(app, user.username, REMOTE_ADDR=f"10.0.0.{n + 1}") == 401
    assert _attempt(app, user.username, PASSWORD, REMOTE_ADDR="10.0.0.99") == 429


def _failures_already(app, ip: str, count: int) -> None:
    """Count ``count`` attempts of other usernames from ``ip`` as the view does, without
    spending an Argon2 check on each (the limit is the subject, not the hash)."""
    with session_factory(app)() as session:
        for n in range(count):
            staff.reserve_login_attempt(session, f"earlier{n}", ip)
        session.commit()


def test_one_address_trying_many_usernames_is_stopped(app, make_user):
    real = make_user("staff")
    _failures_already(app, "203.0.113.5", staff.LOGIN_MAX_PER_ADDRESS - 1)
    assert _attempt(app, "one-more-guess", REMOTE_ADDR="203.0.113.5") == 401
    # Even a right password waits when it comes from that address …
    assert _attempt(app, real.username, PASSWORD, REMOTE_ADDR="203.0.113.5") == 429
    # … while the account itself is not locked for anyone else.
    assert _attempt(app, real.username, PASSWORD, REMOTE_ADDR="198.51.100.7") == 302


def test_successful_sign_ins_do_not_use_up_the_address(app, make_user):
    user = make_user("staff")
    _failures_already(app, "192.0.2.10", staff.LOGIN_MAX_PER_ADDRESS - 1)
    for _ in range(3):
        assert _attempt(app, user.username, PASSWORD, REMOTE_ADDR="192.0.2.10") == 302
    assert _attempt(app, "a-guess", REMOTE_ADDR="192.0.2.10") == 401
    assert _attempt(app, user.username, PASSWORD, REMOTE_ADDR="192.0.2.10") == 429


def test_parallel_attempts_never_check_more_passwords_than_the_limit(app, make_user):
    user = make_user("staff")
    tries = 24
    start = threading.Barrier(tries)
    codes: list[int] = []
    lock = threading.Lock()

    def attempt(n: int) -> None:
        start.wait()
        code = _attempt(app, user.username, f"wrong-password-{n}", REMOTE_ADDR=f"10.1.0.{n}")
        with lock:
            codes.append(code)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(tries)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(codes) == tries
    # Each attempt is counted before its password is checked: at most five were checked.
    assert codes.count(401) == staff.LOGIN_MAX_PER_ACCOUNT
    assert codes.count(429) == tries - staff.LOGIN_MAX_PER_ACCOUNT
    assert _attempt(app, user.username, PASSWORD) == 429


@pytest.fixture
def behind_one_proxy(app_config):
    app_config["TRUSTED_PROXIES"] = 1
    return app_config


def test_behind_a_proxy_the_client_address_counts(behind_one_proxy, app, make_user):
    real = make_user("staff")
    _failures_already(app, "203.0.113.66", staff.LOGIN_MAX_PER_ADDRESS)
    proxy = {"REMOTE_ADDR": "127.0.0.1"}
    blocked = _attempt(app, real.username, PASSWORD, **proxy, HTTP_X_FORWARDED_FOR="203.0.113.66")
    assert blocked == 429
    # Everyone else behind the same proxy still signs in.
    allowed = _attempt(app, real.username, PASSWORD, **proxy, HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert allowed == 302


def test_without_a_trusted_proxy_a_forged_forwarded_for_changes_nothing(app):
    _failures_already(app, "203.0.113.9", staff.LOGIN_MAX_PER_ADDRESS)
    forged = {"REMOTE_ADDR": "203.0.113.9", "HTTP_X_FORWARDED_FOR": "10.9.9.250"}
    assert _attempt(app, "guess-last", **forged) == 429


def test_sign_in_counts_keep_neither_usernames_nor_addresses(app, make_user):
    _attempt(app, "somchai.k", REMOTE_ADDR="203.0.113.77")
    with session_factory(app)() as session:
        keys = " ".join(session.scalars(select(staff.LoginLimit.key)))
    assert "somchai" not in keys and "203.0.113.77" not in keys


# --- the password policy ----------------------------------------------------------------------

REFUSED = [
    ("password12", "เดาง่าย"),
    ("lamphun123", "เดาง่าย"),
    ("Lamphun@2567", "เดาง่าย"),
    ("iloveyou!!!", "เดาง่าย"),
    ("1234567890", "ตัวเลขล้วน"),
    ("๑๒๓๔๕๖๗๘๙๐", "ตัวเลขล้วน"),
    ("short1!", "อย่างน้อย 10"),
    ("somchai-2026!", "ชื่อผู้ใช้"),
    ("ช่างฆ้อง2567!", "เดาง่าย"),
    ("ชุมชนช่างฆ้อง", "เดาง่าย"),
    ("เทศบาลเมืองลำพูน1", "เดาง่าย"),
    ("รักช่างฆ้องมาก", "ชื่อเทศบาลหรือชื่อชุมชน"),
]


@pytest.mark.parametrize(("password", "reason"), REFUSED)
def test_the_cli_refuses_weak_passwords_in_thai(runner, password, reason):
    result = runner.invoke(
        main,
        ["users", "create", "somchai", "--role", "staff", "--password-stdin"],
        input=password + "\n",
    )
    assert result.exit_code != 0
    assert reason in result.output


@pytest.mark.parametrize(("password", "reason"), REFUSED[:2])
def test_the_dashboard_refuses_weak_passwords_in_thai(
    app, client, make_user, login, password, reason
):
    login(client, make_user("admin"))
    response = client.post(
        "/dashboard/admin/users",
        data={
            "username": "somchai",
            "role": "staff",
            "password": password,
            "password_confirm": password,
        },
    )
    assert response.status_code == 400
    assert reason in response.get_data(as_text=True)
    user = make_user("staff")
    response = client.post(
        f"/dashboard/admin/users/{user.id}/password",
        data={"password": password, "password_confirm": password},
        follow_redirects=True,
    )
    assert reason in response.get_data(as_text=True)
    with session_factory(app)() as session:
        assert staff.verify_password(session.get(staff.User, user.id), PASSWORD)


def test_a_community_added_in_the_dashboard_is_refused_too(app, runner):
    from storage.models import Community

    with session_factory(app)() as session:
        session.add(Community(name="ชุมชนบ้านหลุก"))
        session.commit()
    result = runner.invoke(
        main,
        ["users", "create", "somchai", "--role", "staff", "--password-stdin"],
        input="บ้านหลุก2569!!\n",
    )
    assert result.exit_code != 0 and "เดาง่าย" in result.output


@pytest.mark.parametrize(
    "password", ["correct-horse-battery", "ต้นลำไยริมน้ำกวง", "Kw9!vT2#pq", "ข้าวซอยไก่ 2 ถ้วย"]
)
def test_good_passwords_are_accepted(runner, password):
    result = runner.invoke(
        main,
        ["users", "create", "somchai", "--role", "staff", "--password-stdin"],
        input=password + "\n",
    )
    assert result.exit_code == 0, result.output


def test_the_shipped_list_holds_thousands_of_passwords():
    from storage.passwords import common_passwords

    words = common_passwords()
    assert len(words) > 5000
    assert {"password", "iloveyou", "lamphun", "thesaban", "ลำพูน"} <= words
