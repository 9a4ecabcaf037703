"""Fixtures: ``app``, ``client``, ``runner``, ``session``, a ``line`` helper that signs and
posts webhook events, and ``line_api``, a LINE API stand-in on 127.0.0.1 (pytest-httpserver).

The database is SQLite unless TEST_DATABASE_URL points at PostgreSQL; migrations run once per
test session and every test starts from empty tables.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import text
from werkzeug import Request, Response

import nlp
from bot import create_app
from bot.db import dispose, session_factory
from bot.line.worker import Worker
from storage.db import make_engine
from storage.migrate import upgrade
from storage.schema import metadata
from tests import line_events

CHANNEL_SECRET = "test-channel-secret"
ACCESS_TOKEN = "test-access-token"
# A tiny valid JPEG (1×1 pixel) that the stand-in serves as message content.
JPEG = bytes.fromhex(
    "ffd8ffe000104a46494600010100000100010000ffdb004300080606070605080707070909080a0c140d0c0b0b0c"
    "1912130f141d1a1f1e1d1a1c1c20242e2720222c231c1c2837292c30313434341f27393d38323c2e333432ffc0"
    "000b080001000101011100ffc4001f0000010501010101010100000000000000000102030405060708090a0bff"
    "c400b5100002010303020403050504040000017d01020300041105122131410613516107227114328191a10823"
    "42b1c11552d1f02433627282090a161718191a25262728292a3435363738393a434445464748494a5354555657"
    "58595a636465666768696a737475767778797a838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aa"
    "b2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8"
    "f9faffda0008010100003f00fbd3ffd9"
)


@pytest.fixture(autouse=True)
def _no_real_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the environment from pointing tests at a real channel or database."""
    for key in (
        "LINE_CHANNEL_SECRET",
        "LINE_CHANNEL_ACCESS_TOKEN",
        "LINE_API_HOST",
        "DATABASE_URL",
    ):
        monkeypatch.delenv(key, raising=False)


# --- database ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def _migrated_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Migrate once: PostgreSQL from an empty schema, or an SQLite template file."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        engine = make_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        upgrade(url)
        return url
    template = tmp_path_factory.mktemp("db") / "template.db"
    upgrade(f"sqlite:///{template}")
    return str(template)


@pytest.fixture
def database_url(_migrated_database: str, tmp_path: Path) -> Iterator[str]:
    """Return the URL of a migrated, empty database for one test."""
    if _migrated_database.startswith("postgresql"):
        engine = make_engine(_migrated_database)
        tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
        with engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        engine.dispose()
        yield _migrated_database
        return
    path = tmp_path / "ruamkid.db"
    shutil.copy(_migrated_database, path)
    yield f"sqlite:///{path}"


# --- the LINE API stand-in -----------------------------------------------------------------


@dataclass
class LineStandIn:
    """Records what the app sent to LINE and answers like LINE's API: a reply token is good
    once (400 after), a push or multicast repeating an accepted retry key gets 409."""

    server: HTTPServer
    display_names: dict[str, str] = field(default_factory=dict)
    content: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    spent_tokens: set[str] = field(default_factory=set)
    accepted_keys: set[str] = field(default_factory=set)
    accepted: list[dict[str, Any]] = field(default_factory=list)

    @property
    def url(self) -> str:
        """The host to give the SDK (no trailing slash)."""
        return self.server.url_for("").rstrip("/")

    def install_defaults(self) -> None:
        """Answer every endpoint the bot uses with a success, unless a test overrides it."""
        self.server.expect_request("/v2/bot/message/reply", method="POST").respond_with_handler(
            self.accept_reply
        )
        for endpoint in ("push", "multicast"):
            self.server.expect_request(
                f"/v2/bot/message/{endpoint}", method="POST"
            ).respond_with_handler(self._push)
        self.server.expect_request("/v2/bot/message/quota", method="GET").respond_with_json(
            {"type": "limited", "value": 10000}
        )
        self.server.expect_request(
            "/v2/bot/message/quota/consumption", method="GET"
        ).respond_with_json({"totalUsage": 0})
        self.server.expect_request(
            re.compile(r"^/v2/bot/profile/"), method="GET"
        ).respond_with_handler(self._profile)
        self.server.expect_request(
            re.compile(r"^/v2/bot/message/[^/]+/content$"), method="GET"
        ).respond_with_handler(self._content)

    def accept_reply(self, request: Request) -> Response:
        """Take a reply (or refuse its token with 400 when already spent)."""
        body = json.loads(request.get_data())
        if body["replyToken"] in self.spent_tokens:
            return _line_answer(400, {"message": "Invalid reply token"})
        self.spent_tokens.add(body["replyToken"])
        self.accepted.append(body)
        return _line_answer(200, {"sentMessages": [{"id": "1", "quoteToken": "q"}]})

    def _push(self, request: Request) -> Response:
        key = request.headers.get("X-Line-Retry-Key")
        if key in self.accepted_keys:
            body = {"message": "The retry key is already accepted", "sentMessages": []}
            return _line_answer(409, body)
        if key:
            self.accepted_keys.add(key)
        self.accepted.append(json.loads(request.get_data()))
        return _line_answer(200, {"sentMessages": [{"id": "1", "quoteToken": "q"}]})

    def delivered(self) -> list[dict[str, Any]]:
        """Return the reply, push and multicast bodies LINE took as new messages (whatever
        the bot heard back): what residents saw."""
        return list(self.accepted)

    def _profile(self, request: Request) -> Response:
        user_id = request.path.rsplit("/", 1)[-1]
        body = {"userId": user_id, "displayName": self.display_names.get(user_id, "คุณทดสอบ")}
        return Response(json.dumps(body), content_type="application/json")

    def _content(self, request: Request) -> Response:
        message_id = request.path.split("/")[-2]
        data, content_type = self.content.get(message_id, (JPEG, "image/jpeg"))
        return Response(data, content_type=content_type)

    def sent(self, endpoint: str) -> list[dict[str, Any]]:
        """Return the JSON bodies posted to an endpoint such as ``reply`` or ``push``."""
        path = f"/v2/bot/message/{endpoint}"
        return [
            json.loads(request.get_data())
            for request, _response in self.server.log
            if request.path == path and request.method == "POST"
        ]

    def requests(self, endpoint: str) -> list[Request]:
        """Return the raw requests posted to an endpoint (to read headers such as retry keys)."""
        path = f"/v2/bot/message/{endpoint}"
        return [r for r, _ in self.server.log if r.path == path and r.method == "POST"]

    def texts_to(self, user_id: str) -> list[str]:
        """Return every text the user received, by reply or push, in order."""
        texts: list[str] = []
        for request, _response in self.server.log:
            if request.method != "POST" or not request.path.startswith("/v2/bot/message/"):
                continue
            payload = json.loads(request.get_data())
            if request.path.endswith("/reply") or payload.get("to") == user_id:
                texts.extend(m.get("text", m.get("altText", "")) for m in payload["messages"])
        return texts


def _line_answer(status: int, body: dict[str, Any]) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


@pytest.fixture
def line_api(httpserver: HTTPServer) -> Iterator[LineStandIn]:
    """A LINE API stand-in on 127.0.0.1 that succeeds unless a test says otherwise."""
    stand_in = LineStandIn(httpserver)
    yield stand_in
    httpserver.clear()


# --- the app -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One classifier model folder for the whole test session (built once, on first use).

    A folder kept between runs (RUAMKID_TEST_MODEL_DIR) whose model was trained on another
    corpus or recipe is retrained on first use, so tests never judge a stale model.
    """
    shared = os.environ.get("RUAMKID_TEST_MODEL_DIR")
    if not shared:
        return tmp_path_factory.mktemp("models")
    folder = Path(shared)
    if not nlp.Classifier(folder).is_current():
        (folder / "ACTIVE").unlink(missing_ok=True)
    return folder


@pytest.fixture(scope="session")
def classifier(model_dir: Path) -> nlp.Classifier:
    """The classifier the app builds from the session's model folder, for tests without an app."""
    return nlp.Classifier(model_dir)


@pytest.fixture
def app_config(database_url: str, tmp_path: Path, model_dir: Path, line_api: LineStandIn):
    """The configuration mapping given to create_app; tests may change it before ``app``."""
    return {
        "RUAMKID_ENV": "testing",
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-" + "x" * 32,
        "DATABASE_URL": database_url,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "MEDIA_DIR": str(tmp_path / "media"),
        "MODEL_DIR": str(model_dir),
        "LINE_CHANNEL_SECRET": CHANNEL_SECRET,
        "LINE_CHANNEL_ACCESS_TOKEN": ACCESS_TOKEN,
        "LINE_API_HOST": line_api.url,
        "LINE_TIMEOUT": 2.0,
        "INLINE_WORKER": False,
    }


@pytest.fixture
def app(app_config: dict[str, Any], line_api: LineStandIn):
    """A fresh app on an empty, migrated database, with the communities seeded."""
    from bot.setup import seed_communities

    line_api.install_defaults()
    application = create_app(app_config)
    with session_factory(application)() as session:
        seed_communities(session, application.extensions["ruamkid"])
        session.commit()
    yield application
    dispose(application)


@pytest.fixture
def client(app):
    """A Flask test client."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A CLI runner for the ``ruamkid`` commands, bound to ``app``."""
    return app.test_cli_runner()


@pytest.fixture
def session(app):
    """A database session on the test app; the test commits what it wants kept."""
    with session_factory(app)() as db_session:
        yield db_session


@pytest.fixture
def worker(app) -> Worker:
    """A worker bound to the test app and the LINE stand-in."""
    return Worker(app, name="test-worker")


@dataclass
class LineClient:
    """Posts signed webhook bodies to /callback the way LINE does."""

    client: Any
    worker: Worker
    secret: str = CHANNEL_SECRET

    def post(self, *events: dict[str, Any], signature: str | None = None):
        """Post ``events`` in one signed body and return the response."""
        raw = line_events.body(*events)
        headers = {"X-Line-Signature": signature or line_events.sign(raw, self.secret)}
        return self.client.post(
            "/callback", data=raw, headers=headers, content_type="application/json"
        )

    def send(self, *events: dict[str, Any]):
        """Post ``events``, check LINE got 200, then let the worker do everything that is due."""
        response = self.post(*events)
        assert response.status_code == 200, response.get_data(as_text=True)
        self.worker.drain()
        return response


@pytest.fixture
def line(client, worker) -> LineClient:
    """Send signed webhook events to the app and run the worker."""
    return LineClient(client, worker)


def free_port() -> int:
    """Return a TCP port that is free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
