"""No personal data in logs on any path (issue 10, item 4): database errors with planted
markers, in the worker, in a request, in the development server and in a real
``ruamkid serve`` (gunicorn's access and error logs)."""

from __future__ import annotations

import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from werkzeug.serving import make_server

from bot.db import get_session
from storage import residents as resident_queries
from storage.db import make_engine
from storage.models import InboxEvent, Resident
from tests import line_events
from tests.conftest import ACCESS_TOKEN, CHANNEL_SECRET, free_port
from tests.e2e.conftest import ruamkid_server


def _marker() -> str:
    return f"mk{uuid.uuid4().hex[:12]}"


def _line_id() -> str:
    return "U" + uuid.uuid4().hex


def _everything_logged(caplog) -> str:
    """Every captured record as pytest formats it (message and any traceback)."""
    return caplog.text + "\n".join(record.getMessage() for record in caplog.records)


def test_engines_hide_sql_parameters_in_errors(database_url):
    marker = _line_id()
    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(insert(Resident), {"line_user_id": marker, "consent": "pending"})
    with pytest.raises(IntegrityError) as raised, engine.begin() as connection:
        connection.execute(insert(Resident), {"line_user_id": marker, "consent": "pending"})
    engine.dispose()
    assert "hide_parameters" in str(raised.value)
    assert marker not in str(raised.value).split("[SQL:")[-1]


def test_a_database_error_in_the_worker_leaves_no_marker_in_logs_or_the_inbox(
    line, session, caplog, monkeypatch
):
    caplog.set_level("DEBUG")
    user, words = _line_id(), _marker()
    session.add(Resident(line_user_id=user, consent="pending", active=True, state={}))
    session.commit()
    # The lookup misses, so the conversation inserts the same LINE id again: a real unique
    # violation whose message names the value (PostgreSQL's DETAIL, SQLAlchemy's parameters).
    monkeypatch.setattr(resident_queries, "get_resident", lambda *_args: None)
    line.send(line_events.text(f"ไฟดับหน้าบ้าน {words}", user))

    session.expire_all()
    row = session.scalar(select(InboxEvent))
    assert row.status == "pending" and row.attempts == 1
    assert "IntegrityError" in row.error and "File " in row.error
    logged = _everything_logged(caplog)
    assert "failed" in logged
    for text in (row.error, logged):
        assert user not in text and words not in text


def test_a_database_error_in_a_request_is_logged_without_its_values(app, caplog):
    caplog.set_level("DEBUG")
    marker = _line_id()

    def collide():
        session = get_session()
        for _ in range(2):
            session.execute(insert(Resident), {"line_user_id": marker, "consent": "pending"})
        return "unreachable"

    app.add_url_rule("/test-collide", "test_collide", collide)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = app.test_client().get(f"/test-collide?q={marker}")
    assert response.status_code == 500
    logged = _everything_logged(caplog)
    assert "request GET /test-collide failed" in logged and "IntegrityError" in logged
    assert marker not in logged


def test_the_development_server_logs_no_query_string(app, caplog):
    caplog.set_level("INFO")
    marker = _marker()
    server = make_server("127.0.0.1", free_port(), app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/dashboard/login?q={marker}"
        with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310
            assert answer.status == 200
    finally:
        server.shutdown()
        thread.join(5)
    logged = _everything_logged(caplog)
    assert "GET /dashboard/login HTTP/1.1" in logged
    assert marker not in logged


def _fetch(url: str, data: bytes | None = None, headers: dict | None = None) -> int:
    request = urllib.request.Request(url, data=data, headers=headers or {})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=20) as answer:  # noqa: S310
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def test_ruamkid_serve_logs_no_search_words_line_ids_or_texts(
    tmp_path: Path, database_url, model_dir, line_api
):
    line_api.install_defaults()
    user, words, search = _line_id(), _marker(), _marker()
    env = {
        "DATABASE_URL": database_url,
        "LINE_CHANNEL_SECRET": CHANNEL_SECRET,
        "LINE_CHANNEL_ACCESS_TOKEN": ACCESS_TOKEN,
        "LINE_API_HOST": line_api.url,
        "MODEL_DIR": str(model_dir),
        "MEDIA_DIR": str(tmp_path / "media"),
        "LOG_LEVEL": "DEBUG",
    }
    with ruamkid_server(tmp_path, env, "/dashboard/login") as url:
        query = urllib.parse.urlencode({"q": search})
        assert _fetch(f"{url}/dashboard/submissions?{query}") == 200  # via the login page
        assert _fetch(f"{url}/dashboard/login?next=/dashboard/submissions%3F{query}") == 200
        assert _fetch(f"{url}/v2/bot/profile/{user}") == 404
        raw = line_events.body(line_events.text(f"ถนนเป็นหลุม {words}", user))
        headers = {
            "X-Line-Signature": line_events.sign(raw, CHANNEL_SECRET),
            "Content-Type": "application/json",
        }
        assert _fetch(f"{url}/callback", raw, headers) == 200
        forged = {**headers, "X-Line-Signature": "bad" + headers["X-Line-Signature"]}
        assert _fetch(f"{url}/callback", raw, forged) == 400
        # The worker inside the server answers the stranger (asks for consent).
        for _ in range(100):
            if line_api.sent("reply"):
                break
            threading.Event().wait(0.1)
    log = (tmp_path / "server.log").read_text()
    assert '"GET /dashboard/submissions HTTP/1.1" 302' in log  # the access log is on
    assert '"POST /callback HTTP/1.1" 200' in log
    assert "GET /v2/bot/profile/U… HTTP/1.1" in log
    for marker in (user, words, search):
        assert marker not in log
