"""The dashboard's fixtures (make_user, login, CSRF off) for the leak test."""

from tests.staff.conftest import (  # noqa: F401
    PASSWORD,
    app_config,
    csrf_enabled,
    login,
    make_user,
)
