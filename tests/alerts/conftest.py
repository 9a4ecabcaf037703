"""The dashboard fixtures (users, sign-in, submissions) for alert tests."""

from tests.staff.conftest import (  # noqa: F401
    app_config,
    csrf_enabled,
    login,
    make_submission,
    make_user,
)
