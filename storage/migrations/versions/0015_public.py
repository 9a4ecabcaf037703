"""the public pages' tally counted from a partial covering index

The public list's counts group every public need by strategy, sub-area, status and community
(storage.public.public_tally); this index holds exactly those needs and those columns, so the
count reads the index alone instead of the whole table.

Revision ID: 0015_public
Revises: 0014_routing
Create Date: 2026-11-30 21:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_public"
down_revision: str | None = "0014_routing"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# storage.models.PUBLIC_WHERE as it is today.
PUBLIC_WHERE = (
    "tracking_no IS NOT NULL AND redacted_at IS NULL AND merged_into_id IS NULL"
    " AND status <> 'duplicate' AND kind <> 'other'"
)


def upgrade() -> None:
    op.create_index(
        "ix_submissions_public_tally",
        "submissions",
        ["strategy", "subarea", "status", "community_id"],
        postgresql_where=sa.text(PUBLIC_WHERE),
        sqlite_where=sa.text(PUBLIC_WHERE),
    )


def downgrade() -> None:
    op.drop_index("ix_submissions_public_tally", table_name="submissions")
