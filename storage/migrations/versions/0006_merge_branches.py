"""join the staff, plan, surveys and simulator branches into one line

Revision ID: 0006_merge_branches
Revises: 0003_plan, 0004_surveys, 0005_simulator
Create Date: 2026-11-30 14:30:00

Before this revision the history branched: 0002, 0003, 0004 and 0005 all grew from 0001 (0003
and 0004 depending on 0002), and ``upgrade`` went to "heads", stamping a database with 0003, 0004
and 0005 at once. This merge changes no table: upgrading such a database runs only Alembic's
bookkeeping, which replaces those three stamps with this one. Released revisions keep their ids
and ancestors, because a stamp tells which tables a database already has; 0003 and 0004 now name
0002, which they already depended on, as their parent, so no other head is left. New revisions
revise the single head, so the history stays one line.
"""

from collections.abc import Sequence

revision: str = "0006_merge_branches"
down_revision: str | Sequence[str] | None = ("0003_plan", "0004_surveys", "0005_simulator")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
