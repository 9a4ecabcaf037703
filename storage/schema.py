"""Every model module, imported so that ``Base.metadata`` knows all tables (used by Alembic)."""

from storage import (
    models,  # noqa: F401
    open311,  # noqa: F401
    plan,  # noqa: F401
    schedule,  # noqa: F401
    simulator,  # noqa: F401
    staff,  # noqa: F401
    surveys,  # noqa: F401
)
from storage.base import Base

metadata = Base.metadata
