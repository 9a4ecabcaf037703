"""Dashboard fixtures: ``make_user``, ``login``, ``make_submission``, and CSRF switched on or off.

CSRF is off in dashboard tests unless a test parametrizes it on::

    @pytest.mark.parametrize("csrf_enabled", [True])
    def test_something(client, csrf_enabled): ...

``login`` always goes through the real form, fetching the token when CSRF is on.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from typing import Any

import pytest

from bot.db import session_factory
from storage import staff
from storage.base import utcnow
from storage.models import Community, Resident, Submission

PASSWORD = "correct-horse-battery"
_counter = itertools.count(1)
_CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def csrf_enabled() -> bool:
    """Whether Flask-WTF checks CSRF tokens in this test (parametrize to turn it on)."""
    return False


@pytest.fixture
def app_config(app_config: dict[str, Any], csrf_enabled: bool) -> dict[str, Any]:
    """The base test configuration, with CSRF as the test asks and no map tiles."""
    return {**app_config, "WTF_CSRF_ENABLED": csrf_enabled, "TILE_URL": ""}


def csrf_token(client, url: str = "/dashboard/login") -> str:
    """Return the CSRF token from the first form on the page at ``url``."""
    page = client.get(url)
    match = _CSRF_RE.search(page.get_data(as_text=True))
    assert match, f"no csrf_token on {url} ({page.status_code})"
    return match.group(1)


def community_id(app, position: int = 0) -> int:
    """Return the id of the seeded community at ``position``."""
    with session_factory(app)() as session:
        return session.query(Community).order_by(Community.position).all()[position].id


@pytest.fixture
def make_user(app) -> Callable[..., staff.User]:
    """Create a user: ``make_user("leader", community=<id>)``; the password is ``PASSWORD``."""

    def make(
        role: str = "staff",
        community: int | None = None,
        username: str | None = None,
        password: str = PASSWORD,
    ) -> staff.User:
        with session_factory(app)() as session:
            if role == "leader" and community is None:
                community = session.query(Community).order_by(Community.position).first().id
            user = staff.create_user(
                session,
                username or f"{role}{next(_counter)}",
                password,
                role=role,
                community_id=community,
            )
            session.commit()
            return user

    return make


@pytest.fixture
def login() -> Callable[..., Any]:
    """Sign ``user`` in through the login form; return the response (a redirect on success)."""

    def do_login(client, user: staff.User, password: str = PASSWORD):
        page = client.get("/dashboard/login")
        match = _CSRF_RE.search(page.get_data(as_text=True))
        data = {"username": user.username, "password": password}
        if match:
            data["csrf_token"] = match.group(1)
        return client.post("/dashboard/login", data=data)

    return do_login


@pytest.fixture
def make_submission() -> Callable[..., Submission]:
    """Add and commit a submission: ``make_submission(session, text=..., community_id=...)``.

    ``resident=True`` attaches a new consenting resident (so status changes push to LINE);
    ``resident=<Resident>`` reuses one. Unset fields get plausible defaults.
    """

    def make(session, resident: bool | Resident | None = None, **fields: Any) -> Submission:
        n = next(_counter)
        if "community_id" not in fields and "community" not in fields:
            first = session.query(Community).order_by(Community.position).first()
            fields["community_id"] = first.id if first else None
        if resident is True:
            resident = Resident(line_user_id=f"U{n:032x}", consent="given", active=True)
            session.add(resident)
            session.flush()
        defaults: dict[str, Any] = {
            "tracking_no": f"LPN-69-{n:06d}",
            "source": "line",
            "text": "ไฟถนนดับหน้าบ้าน",
            "strategy": "LPN-S7",
            "subarea": "LPN-S7.3",
            "kind": "complaint",
            "confidence": 0.8,
            "top3": [],
            "status": "new",
            "created_at": utcnow(),
        }
        submission = Submission(**{**defaults, **fields})
        if isinstance(resident, Resident):
            submission.resident = resident
        session.add(submission)
        session.commit()
        return submission

    return make
