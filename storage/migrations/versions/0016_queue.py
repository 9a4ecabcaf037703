"""the queue's counts: narrow covering indexes of unmerged (and of open) needs for the routing views

Revision ID: 0016_queue
Revises: 0015_public
Create Date: 2026-11-30 21:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_queue"
down_revision: str | None = "0015_public"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As storage/staff.py QUEUE_COUNT_COLUMNS: the queue's grouped counts read it index-only.
COLUMNS = ["division_id", "assignee_id", "due_at", "status", "strategy", "kind"]
# As storage/staff.py RESOLVED_STATUSES, in that order (bot.needs.actions.RESOLVED).
OPEN = (
    "merged_into_id IS NULL AND "
    "status NOT IN ('done', 'duplicate', 'out_of_scope', 'planned', 'rejected')"
)


def upgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_submissions_queue_counts",
            COLUMNS,
            postgresql_where=sa.text("merged_into_id IS NULL"),
            sqlite_where=sa.text("merged_into_id IS NULL"),
        )
        batch_op.create_index(
            "ix_submissions_queue_open",
            COLUMNS,
            postgresql_where=sa.text(OPEN),
            sqlite_where=sa.text(OPEN),
        )


def downgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_index("ix_submissions_queue_open")
        batch_op.drop_index("ix_submissions_queue_counts")
