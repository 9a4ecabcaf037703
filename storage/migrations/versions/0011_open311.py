"""Open311: partner apps' API keys (hashes only) and who filed each need through them

Revision ID: 0011_open311
Revises: 0010_public
Create Date: 2026-11-30 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.base

revision: str = "0011_open311"
down_revision: str | None = "0010_public"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "open311_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_open311_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_open311_keys_key_hash")),
    )
    op.create_table(
        "open311_reporters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("first_name", sa.String(length=100), nullable=True),
        sa.Column("last_name", sa.String(length=100), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("created_at", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["key_id"],
            ["open311_keys.id"],
            name=op.f("fk_open311_reporters_key_id_open311_keys"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_open311_reporters_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_open311_reporters")),
        sa.UniqueConstraint("submission_id", name=op.f("uq_open311_reporters_submission_id")),
    )
    with op.batch_alter_table("open311_reporters", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_open311_reporters_key_id"), ["key_id"])


def downgrade() -> None:
    with op.batch_alter_table("open311_reporters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_open311_reporters_key_id"))
    op.drop_table("open311_reporters")
    op.drop_table("open311_keys")
