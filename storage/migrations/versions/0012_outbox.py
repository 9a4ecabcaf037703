"""exactly-once sending and parked rows: the outbox records each attempt before calling LINE;
residents remember the LINE time of their latest follow or unfollow

Revision ID: 0012_outbox
Revises: 0011_open311
Create Date: 2026-11-30 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.base

revision: str = "0012_outbox"
down_revision: str | None = "0011_open311"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempt_kind", sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column("attempted_at", storage.base.UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("residents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("follow_changed_ms", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("residents", schema=None) as batch_op:
        batch_op.drop_column("follow_changed_ms")
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_column("attempted_at")
        batch_op.drop_column("attempt_kind")
