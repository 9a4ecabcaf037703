"""Open311 fixtures: the dashboard's (make_user, login, make_submission, CSRF off) and ``api_key``,
a key issued through the product's own repository."""

from __future__ import annotations

import pytest

from bot.db import session_factory
from storage import open311
from tests.staff.conftest import (  # noqa: F401
    PASSWORD,
    app_config,
    csrf_enabled,
    login,
    make_submission,
    make_user,
)


@pytest.fixture
def api_key(app) -> str:
    """An active API key (the key itself; the database has its hash)."""
    with session_factory(app)() as session:
        _row, key = open311.issue_key(session, "แอปทดสอบ")
        session.commit()
    return key
