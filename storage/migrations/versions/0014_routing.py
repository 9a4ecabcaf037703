"""divisions, routing rules, assignment, due dates, staff LINE links, alerts, reply templates

Revision ID: 0014_routing
Revises: 0013_search
Create Date: 2026-11-30 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.base

revision: str = "0014_routing"
down_revision: str | None = "0013_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = storage.base.UTCDateTime(timezone=True)
# ix_submissions_facets as 0002_staff made it.
FACETS = [
    "merged_into_id",
    "status",
    "strategy",
    "kind",
    "community_id",
    "subarea",
    "source",
    "unsure",
    "label_confirmed",
    "created_at",
]


def upgrade() -> None:
    op.create_table(
        "divisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_divisions")),
        sa.UniqueConstraint("code", name=op.f("uq_divisions_code")),
        sa.UniqueConstraint("name", name=op.f("uq_divisions_name")),
    )
    op.create_table(
        "routing_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subarea", sa.String(length=32), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=True),
        sa.Column("division_id", sa.Integer(), nullable=True),
        sa.Column("due_days", sa.Integer(), nullable=True),
        sa.Column("review_date", sa.String(length=5), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["division_id"],
            ["divisions.id"],
            name=op.f("fk_routing_rules_division_id_divisions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_rules")),
    )
    with op.batch_alter_table("routing_rules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_routing_rules_division_id"), ["division_id"])
    op.create_table(
        "reply_templates",
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=True),
        sa.Column("updated_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("status", name=op.f("pk_reply_templates")),
    )
    op.create_table(
        "division_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("division_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("sent_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(
            ["division_id"],
            ["divisions.id"],
            name=op.f("fk_division_alerts_division_id_divisions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_division_alerts_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_division_alerts")),
    )
    with op.batch_alter_table("division_alerts", schema=None) as batch_op:
        batch_op.create_index("ix_division_alerts_status_id", ["status", "id"])
        batch_op.create_index(batch_op.f("ix_division_alerts_submission_id"), ["submission_id"])

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("division_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("line_user_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("line_linked_at", UTC, nullable=True))
        batch_op.add_column(sa.Column("link_code_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("link_code_expires_at", UTC, nullable=True))
        batch_op.add_column(
            sa.Column("daily_summary", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.create_index(batch_op.f("ix_users_division_id"), ["division_id"])
        batch_op.create_unique_constraint(batch_op.f("uq_users_line_user_id"), ["line_user_id"])
        batch_op.create_unique_constraint(batch_op.f("uq_users_link_code_hash"), ["link_code_hash"])
        batch_op.create_foreign_key(
            batch_op.f("fk_users_division_id_divisions"),
            "divisions",
            ["division_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column("daily_summary", server_default=None)

    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("division_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("assignee_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("due_at", UTC, nullable=True))
        batch_op.add_column(sa.Column("resolved_at", UTC, nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_submissions_division_id_divisions"),
            "divisions",
            ["division_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_submissions_assignee_id_users"),
            "users",
            ["assignee_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index("ix_submissions_division_id_id", ["division_id", "id"])
        batch_op.create_index("ix_submissions_assignee_id_id", ["assignee_id", "id"])
        # The queue's covering index gains the routing columns, so "overdue" and "my division"
        # are counted from the index alone; no index on due_at alone, which SQLite would pick
        # for the overdue page and then sort half the table by id.
        batch_op.drop_index("ix_submissions_facets")
        batch_op.create_index(
            "ix_submissions_facets", FACETS + ["division_id", "assignee_id", "due_at"]
        )


def downgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_index("ix_submissions_facets")
        batch_op.create_index("ix_submissions_facets", FACETS)
        batch_op.drop_index("ix_submissions_assignee_id_id")
        batch_op.drop_index("ix_submissions_division_id_id")
        batch_op.drop_constraint(batch_op.f("fk_submissions_assignee_id_users"), type_="foreignkey")
        batch_op.drop_constraint(
            batch_op.f("fk_submissions_division_id_divisions"), type_="foreignkey"
        )
        batch_op.drop_column("resolved_at")
        batch_op.drop_column("due_at")
        batch_op.drop_column("assignee_id")
        batch_op.drop_column("division_id")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_users_division_id_divisions"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_users_link_code_hash"), type_="unique")
        batch_op.drop_constraint(batch_op.f("uq_users_line_user_id"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_users_division_id"))
        batch_op.drop_column("daily_summary")
        batch_op.drop_column("link_code_expires_at")
        batch_op.drop_column("link_code_hash")
        batch_op.drop_column("line_linked_at")
        batch_op.drop_column("line_user_id")
        batch_op.drop_column("division_id")
    with op.batch_alter_table("division_alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_division_alerts_submission_id"))
        batch_op.drop_index("ix_division_alerts_status_id")
    op.drop_table("division_alerts")
    op.drop_table("reply_templates")
    with op.batch_alter_table("routing_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_routing_rules_division_id"))
    op.drop_table("routing_rules")
    op.drop_table("divisions")
