"""the queue's counts: the narrow indexes also hold the community (its counts read no rows)

Revision ID: 0017_counts
Revises: 0016_queue
Create Date: 2026-12-01 00:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_counts"
down_revision: str | None = "0016_queue"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As storage/staff.py QUEUE_COUNT_COLUMNS before (OLD) and after (NEW) this revision.
OLD = ["division_id", "assignee_id", "due_at", "status", "strategy", "kind"]
NEW = [*OLD, "community_id"]
# As storage/staff.py RESOLVED_STATUSES, in that order (bot.needs.actions.RESOLVED).
OPEN = (
    "merged_into_id IS NULL AND "
    "status NOT IN ('done', 'duplicate', 'out_of_scope', 'planned', 'rejected')"
)


def _rebuild(columns: list[str]) -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_index("ix_submissions_queue_open")
        batch_op.drop_index("ix_submissions_queue_counts")
        batch_op.create_index(
            "ix_submissions_queue_counts",
            columns,
            postgresql_where=sa.text("merged_into_id IS NULL"),
            sqlite_where=sa.text("merged_into_id IS NULL"),
        )
        batch_op.create_index(
            "ix_submissions_queue_open",
            columns,
            postgresql_where=sa.text(OPEN),
            sqlite_where=sa.text(OPEN),
        )


def upgrade() -> None:
    _rebuild(NEW)


def downgrade() -> None:
    _rebuild(OLD)
