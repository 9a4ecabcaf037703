"""real labels: where a training label comes from, and training runs staff start

Revision ID: 0006_real_labels
Revises: 0005_simulator
Create Date: 2026-11-30 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.base

revision: str = "0006_real_labels"
down_revision: str | None = "0005_simulator"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("training_labels") as batch:
        batch.add_column(
            sa.Column("source", sa.String(length=16), nullable=False, server_default="staff")
        )
        batch.add_column(sa.Column("text_key", sa.String(length=64), nullable=True))
        batch.create_index(batch.f("ix_training_labels_text_key"), ["text_key"], unique=False)
    with op.batch_alter_table("training_labels") as batch:
        batch.alter_column("source", server_default=None)
    op.create_table(
        "training_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=True),
        sa.Column("stage", sa.String(length=32), nullable=True),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("labels_used", sa.Integer(), nullable=True),
        sa.Column("version", sa.String(length=64), nullable=True),
        sa.Column("activated", sa.Boolean(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_runs")),
    )
    op.create_index("ix_training_runs_status_id", "training_runs", ["status", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_training_runs_status_id", table_name="training_runs")
    op.drop_table("training_runs")
    with op.batch_alter_table("training_labels") as batch:
        batch.drop_index(batch.f("ix_training_labels_text_key"))
        batch.drop_column("text_key")
        batch.drop_column("source")
