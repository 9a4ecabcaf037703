"""Queries about residents' submissions: the one still open, the latest, their labels' words.

Repository functions: they take a session and never commit; the caller does. Changing a need
(filing it, its history, its status) is ``bot.needs.actions``.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.models import Resident, Submission, TrainingLabel

# A photo or place sent this long after a submission still belongs to it.
OPEN_WINDOW = timedelta(minutes=30)
# The resident's state key naming their open submission ("done" removes it).
OPEN_KEY = "open_submission"


def open_submission(
    session: Session,
    resident: Resident,
    now: datetime,
    closed_statuses: Collection[str] = (),
) -> Submission | None:
    """Return the resident's open submission: the latest, sent within ``OPEN_WINDOW``, not
    finished by the resident ("done"), not closed by staff, not redacted."""
    submission_id = (resident.state or {}).get(OPEN_KEY)
    if not isinstance(submission_id, int):
        return None
    submission = session.get(Submission, submission_id)
    if (
        submission is None
        or submission.resident_id != resident.id
        or submission.status in closed_statuses
        or submission.redacted_at is not None
        or now - submission.created_at > OPEN_WINDOW
    ):
        return None
    return submission


def latest_submissions(session: Session, resident: Resident, limit: int = 5) -> list[Submission]:
    """Return the resident's latest submissions, newest first."""
    return list(
        session.scalars(
            select(Submission)
            .where(Submission.resident_id == resident.id)
            .order_by(Submission.id.desc())
            .limit(limit)
        )
    )


def forget_label_texts(session: Session, submission_ids: list[int]) -> None:
    """Drop the words kept with the training labels of these submissions (ids stay)."""
    if submission_ids:
        session.execute(
            update(TrainingLabel)
            .where(TrainingLabel.submission_id.in_(submission_ids))
            .values(text=None)
        )
