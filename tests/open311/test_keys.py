"""API keys: issued by admins (dashboard page, CLI), shown once, kept as hashes, revoked."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from bot.cli import main
from bot.db import session_factory
from storage.open311 import Open311Key, hash_key
from storage.staff import AuditLog

PLACE = {"service_code": "LPN-S7.3", "lat": "18.58", "long": "99.0"}


def _file(client, key: str) -> int:
    data = {"api_key": key, **PLACE}
    return client.post("/open311/v2/requests.json", data=data).status_code


def test_cli_prints_the_key_last_lists_and_revokes(app, runner, client):
    created = runner.invoke(main, args=["open311", "keys", "create", "แอปเทศบาลดิจิทัล"])
    assert created.exit_code == 0, created.output
    key = created.output.strip().splitlines()[-1]
    with session_factory(app)() as session:
        row = session.scalar(select(Open311Key))
        assert row.key_hash == hash_key(key) and row.name == "แอปเทศบาลดิจิทัล"
        dump = repr([tuple(r) for r in session.execute(select(Open311Key.__table__))])
        assert key not in dump  # only its hash is kept
    assert _file(client, key) == 201
    listing = runner.invoke(main, args=["open311", "keys", "list"]).output
    assert f"{row.id}\tactive" in listing and "แอปเทศบาลดิจิทัล" in listing and key not in listing
    assert runner.invoke(main, args=["open311", "keys", "revoke", str(row.id)]).exit_code == 0
    assert "revoked" in runner.invoke(main, args=["open311", "keys", "list"]).output
    assert _file(client, key) == 403
    missing = runner.invoke(main, args=["open311", "keys", "revoke", "999"])
    assert missing.exit_code != 0 and "999" in missing.output
    assert runner.invoke(main, args=["open311", "keys", "create", "  "]).exit_code != 0


@pytest.mark.parametrize("csrf_enabled", [True])
def test_admin_issues_and_revokes_a_key_on_the_dashboard(app, client, make_user, login):
    login(client, make_user("admin"))
    page = client.get("/dashboard/admin/open311-keys").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/dashboard/admin/open311-keys", data={"name": "x"}).status_code == 400
    issued = client.post(
        "/dashboard/admin/open311-keys", data={"name": "แอปรับเรื่อง", "csrf_token": token}
    )
    assert issued.status_code == 200
    key = re.search(r'data-testid="key-value">([^<]+)<', issued.get_data(as_text=True)).group(1)
    assert _file(app.test_client(), key) == 201
    # Shown once: the list never shows it again.
    assert key not in client.get("/dashboard/admin/open311-keys").get_data(as_text=True)
    with session_factory(app)() as session:
        row = session.scalar(select(Open311Key))
    revoked = client.post(
        f"/dashboard/admin/open311-keys/{row.id}/revoke", data={"csrf_token": token}
    )
    assert revoked.status_code == 302
    assert _file(app.test_client(), key) == 403
    with session_factory(app)() as session:
        actions = set(session.scalars(select(AuditLog.action)))
    assert {"open311_key.create", "open311_key.revoke"} <= actions


@pytest.mark.parametrize("role", ["staff", "leader"])
def test_only_admins_see_keys(client, make_user, login, role):
    login(client, make_user(role))
    assert client.get("/dashboard/admin/open311-keys").status_code == 403
    assert client.post("/dashboard/admin/open311-keys", data={"name": "x"}).status_code == 403
