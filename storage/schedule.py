"""Periodic jobs that must run once per period across every worker process (the daily purge).

Each job has one row; a worker claims a run with one conditional ``UPDATE … RETURNING`` that
moves ``next_run_at`` on. PostgreSQL locks the row for that update and re-checks the condition
for a second worker once the first commits, so exactly one of them gets the run; SQLite has one
writer at a time. Repository functions take a session and never commit: the caller does.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import String, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.base import Base, utcnow


class ScheduledRun(Base):
    """When a periodic job last started, and when it is due again."""

    __tablename__ = "scheduled_runs"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    next_run_at: Mapped[datetime]
    last_started_at: Mapped[datetime | None]
    last_finished_at: Mapped[datetime | None]
    # A short outcome for admins: counts or the error's type, never personal data.
    last_result: Mapped[str | None] = mapped_column(String(500))

    def __repr__(self) -> str:
        return f"<ScheduledRun {self.name} next={self.next_run_at:%Y-%m-%d %H:%M}>"


def add_job(session: Session, name: str, first_run_at: datetime) -> None:
    """Give the job its row unless it has one; safe when workers race to add it."""
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[
        session.get_bind().dialect.name
    ]
    session.execute(
        insert(ScheduledRun).values(name=name, next_run_at=first_run_at).on_conflict_do_nothing()
    )


def claim_run(session: Session, name: str, every: timedelta, now: datetime | None = None) -> bool:
    """Take the job's run if it is due; the caller commits at once and then runs it.

    Returns False when it is not due or another worker took it first.
    """
    now = now or utcnow()
    add_job(session, name, first_run_at=now)
    claimed = session.scalar(
        update(ScheduledRun)
        .where(ScheduledRun.name == name, ScheduledRun.next_run_at <= now)
        .values(next_run_at=now + every, last_started_at=now)
        .returning(ScheduledRun.name)
        .execution_options(synchronize_session=False)
    )
    return claimed is not None


def finish_run(session: Session, name: str, result: str, retry_at: datetime | None = None) -> None:
    """Record how the run went; ``retry_at`` brings a failed run forward."""
    values: dict = {"last_finished_at": utcnow(), "last_result": result[:500]}
    if retry_at is not None:
        values["next_run_at"] = retry_at
    session.execute(update(ScheduledRun).where(ScheduledRun.name == name).values(**values))


def get_run(session: Session, name: str) -> ScheduledRun | None:
    """Return the job's row (None before its first run)."""
    return session.scalar(select(ScheduledRun).where(ScheduledRun.name == name))


def bring_forward(session: Session, name: str, now: datetime | None = None) -> None:
    """Make the job due now (it runs at a worker's next check); nothing before its first run."""
    now = now or utcnow()
    session.execute(
        update(ScheduledRun)
        .where(ScheduledRun.name == name, ScheduledRun.next_run_at > now)
        .values(next_run_at=now)
        .execution_options(synchronize_session=False)
    )
