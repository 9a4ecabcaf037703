"""The dashboard's fixtures (make_user, login, CSRF switched off) for tests where staff act on
needs (the erasure test's staff search, correction and notes)."""

from tests.staff.conftest import (  # noqa: F401
    PASSWORD,
    app_config,
    csrf_enabled,
    login,
    make_user,
)
