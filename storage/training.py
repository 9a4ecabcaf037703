"""Training labels and training runs: queries only; the caller commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from storage.base import utcnow
from storage.models import Submission, TrainingLabel, TrainingRun

# A run still "running" this long after it started was cut off (its process died).
RUN_LEASE = timedelta(hours=2)


def latest_labels(session: Session) -> list[tuple[TrainingLabel, bytes | None]]:
    """Return every label to train on, with its need's stored embedding when it has one.

    A need's later correction replaces its earlier labels; imported rows stand on their own.
    """
    rows = session.execute(
        select(TrainingLabel, Submission.embedding)
        .outerjoin(Submission, Submission.id == TrainingLabel.submission_id)
        .order_by(TrainingLabel.id)
    ).all()
    latest: dict[tuple[str, int], tuple[TrainingLabel, bytes | None]] = {}
    for label, embedding in rows:
        key = ("need", label.submission_id) if label.submission_id else ("label", label.id)
        latest[key] = (label, embedding)
    return list(latest.values())


def imported_by_key(session: Session, keys: Sequence[str]) -> dict[str, TrainingLabel]:
    """Return the imported labels whose text keys are among ``keys``."""
    found: dict[str, TrainingLabel] = {}
    for start in range(0, len(keys), 500):
        chunk = list(keys[start : start + 500])
        statement = select(TrainingLabel).where(
            TrainingLabel.source == "import", TrainingLabel.text_key.in_(chunk)
        )
        for label in session.scalars(statement):
            found[label.text_key or ""] = label
    return found


def label_counts(session: Session, since: datetime | None = None) -> dict[str, int]:
    """Count labels per source, those created after ``since`` only when given."""
    statement = select(TrainingLabel.source, func.count()).group_by(TrainingLabel.source)
    if since is not None:
        statement = statement.where(TrainingLabel.created_at > since)
    return {source: count for source, count in session.execute(statement)}


def open_run(session: Session) -> TrainingRun | None:
    """Return the run that is queued or running, if any."""
    return session.scalar(
        select(TrainingRun)
        .where(TrainingRun.status.in_(("queued", "running")))
        .order_by(TrainingRun.id)
        .limit(1)
    )


def queue_run(session: Session, requested_by: str) -> tuple[TrainingRun, bool]:
    """Queue a run unless one is queued or running; return it and whether it is new."""
    current = open_run(session)
    if current is not None:
        return current, False
    run = TrainingRun(requested_by=requested_by)
    session.add(run)
    session.flush()
    return run, True


def claim_run(session: Session, worker: str) -> TrainingRun | None:
    """Claim the oldest queued run for ``worker``; a run cut off by a dead process fails first.

    One UPDATE with a status condition, so two workers never both claim it.
    """
    now = utcnow()
    session.execute(
        update(TrainingRun)
        .where(TrainingRun.status == "running", TrainingRun.started_at < now - RUN_LEASE)
        .values(status="failed", error="interrupted", finished_at=now)
    )
    candidate = session.scalar(
        select(TrainingRun.id)
        .where(TrainingRun.status == "queued")
        .order_by(TrainingRun.id)
        .limit(1)
    )
    if candidate is None:
        return None
    claimed = session.execute(
        update(TrainingRun)
        .where(TrainingRun.id == candidate, TrainingRun.status == "queued")
        .values(status="running", claimed_by=worker, started_at=now, stage="start")
    )
    if claimed.rowcount != 1:
        return None  # another worker was faster
    return session.get(TrainingRun, candidate)


def recent_runs(session: Session, limit: int = 10) -> list[TrainingRun]:
    """Return the latest runs, newest first."""
    return list(session.scalars(select(TrainingRun).order_by(TrainingRun.id.desc()).limit(limit)))


def runs_by_version(session: Session, versions: Sequence[str]) -> dict[str, TrainingRun]:
    """Return the run that made each model version (versions made elsewhere have none)."""
    statement = select(TrainingRun).where(
        TrainingRun.version.in_(list(versions)), TrainingRun.status == "done"
    )
    return {run.version or "": run for run in session.scalars(statement)}
