"""chat simulator tables

Revision ID: 0005_simulator
Revises: 0004_surveys
Create Date: 2026-11-26 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.base

revision: str = "0005_simulator"
down_revision: str | None = "0004_surveys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "simulator_residents",
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("following", sa.Boolean(), nullable=False),
        sa.Column("created_at", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_simulator_residents")),
    )
    op.create_table(
        "simulator_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("sender", sa.String(length=16), nullable=False),
        sa.Column("via", sa.String(length=16), nullable=False),
        sa.Column("message", sa.JSON(), nullable=False),
        sa.Column("line_message_id", sa.String(length=32), nullable=True),
        sa.Column("retry_key", sa.String(length=64), nullable=True),
        sa.Column("created_at", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_simulator_messages")),
    )
    with op.batch_alter_table("simulator_messages", schema=None) as batch_op:
        batch_op.create_index("ix_simulator_messages_user_id_id", ["user_id", "id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_simulator_messages_retry_key"), ["retry_key"], unique=False
        )
    op.create_table(
        "simulator_reply_tokens",
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("issued_at", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_simulator_reply_tokens")),
    )
    op.create_table(
        "simulator_content",
        sa.Column("line_message_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("line_message_id", name=op.f("pk_simulator_content")),
    )
    op.create_table(
        "simulator_rich_menus",
        sa.Column("rich_menu_id", sa.String(length=64), nullable=False),
        sa.Column("menu", sa.JSON(), nullable=False),
        sa.Column("image", sa.LargeBinary(), nullable=True),
        sa.Column("image_type", sa.String(length=100), nullable=True),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("created_at", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("rich_menu_id", name=op.f("pk_simulator_rich_menus")),
    )


def downgrade() -> None:
    op.drop_table("simulator_rich_menus")
    op.drop_table("simulator_content")
    op.drop_table("simulator_reply_tokens")
    with op.batch_alter_table("simulator_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_simulator_messages_retry_key"))
        batch_op.drop_index("ix_simulator_messages_user_id_id")
    op.drop_table("simulator_messages")
    op.drop_table("simulator_residents")
