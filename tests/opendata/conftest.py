"""The dashboard's fixtures (make_submission) for open-data tests."""

from tests.staff.conftest import (  # noqa: F401
    app_config,
    csrf_enabled,
    make_submission,
)
