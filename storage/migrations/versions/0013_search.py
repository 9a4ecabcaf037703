"""text search that scales: pg_trgm on PostgreSQL, FTS5 trigram on SQLite

The queue's search is a substring match (Thai has no spaces); this indexes it by trigrams:
a GIN index on PostgreSQL, an FTS5 table kept by triggers on SQLite (see storage.search).

Revision ID: 0013_search
Revises: 0012_outbox
Create Date: 2026-11-30 18:00:00
"""

from collections.abc import Sequence

from alembic import op

from storage import search

revision: str = "0013_search"
down_revision: str | None = "0012_outbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    search.create_index(op.get_bind())


def downgrade() -> None:
    search.drop_index(op.get_bind())
