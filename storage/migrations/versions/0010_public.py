"""public pages: a per-need publishable switch, community centres, plan projects that move
(execution stage, percent done, money spent, dated milestones) and the residents' opt-out of
project news

Revision ID: 0010_public
Revises: 0009_closing
Create Date: 2026-11-30 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.base

revision: str = "0010_public"
down_revision: str | None = "0009_closing"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(
            sa.Column("publishable", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("submissions") as batch:
        batch.alter_column("publishable", server_default=None)

    with op.batch_alter_table("communities") as batch:
        batch.add_column(sa.Column("latitude", sa.Float(), nullable=True))
        batch.add_column(sa.Column("longitude", sa.Float(), nullable=True))

    with op.batch_alter_table("residents") as batch:
        batch.add_column(
            sa.Column("project_updates", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    with op.batch_alter_table("residents") as batch:
        batch.alter_column("project_updates", server_default=None)

    with op.batch_alter_table("projects") as batch:
        batch.add_column(
            sa.Column("execution", sa.String(length=16), nullable=False, server_default="in_plan")
        )
        batch.add_column(sa.Column("execution_reason", sa.Text(), nullable=True))
        batch.add_column(
            sa.Column("percent_done", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("spent", sa.Numeric(precision=14, scale=2), nullable=True))
        batch.create_index(batch.f("ix_projects_execution"), ["execution"], unique=False)
    with op.batch_alter_table("projects") as batch:
        batch.alter_column("execution", server_default=None)
        batch.alter_column("percent_done", server_default=None)

    op.create_table(
        "project_milestones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("photo_path", sa.String(length=500), nullable=True),
        sa.Column("photo_type", sa.String(length=100), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_project_milestones_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_milestones")),
    )
    with op.batch_alter_table("project_milestones") as batch:
        batch.create_index(
            batch.f("ix_project_milestones_project_id"), ["project_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("project_milestones") as batch:
        batch.drop_index(batch.f("ix_project_milestones_project_id"))
    op.drop_table("project_milestones")
    with op.batch_alter_table("projects") as batch:
        batch.drop_index(batch.f("ix_projects_execution"))
        batch.drop_column("spent")
        batch.drop_column("percent_done")
        batch.drop_column("execution_reason")
        batch.drop_column("execution")
    with op.batch_alter_table("residents") as batch:
        batch.drop_column("project_updates")
    with op.batch_alter_table("communities") as batch:
        batch.drop_column("longitude")
        batch.drop_column("latitude")
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("publishable")
