"""Erasing what residents said: one resident on request ("ลบข้อมูลของฉัน"), and every need
older than the retention period the privacy notice promises (``ruamkid privacy purge``).

What stays of an erased need is the anonymous count: category, community, status, dates.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import mailbox
from storage.base import utcnow
from storage.models import Resident, Submission
from storage.submissions import forget_label_texts
from storage.surveys import forget_resident as forget_survey_answers

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeletionReport:
    """How much was erased for one resident (counts only)."""

    submissions: int
    photos: int
    files: int


def erase_resident(
    session: Session, resident: Resident, media_dir: str | Path, now: datetime | None = None
) -> DeletionReport:
    """Erase a resident: their row, their submissions' words, photos and places.

    Submissions stay as anonymous counts (category, community, status, dates). Photo files
    are removed from ``media_dir``; messages already sent to the resident and webhook events
    not yet processed lose their content. The caller commits. Files go at once: should the
    transaction roll back, the retry finds them already gone, which errs on privacy's side.
    """
    now = now or utcnow()
    line_user_id = resident.line_user_id
    submissions = list(
        session.scalars(select(Submission).where(Submission.resident_id == resident.id))
    )
    submission_ids = [s.id for s in submissions]
    photos = files = 0
    root = Path(media_dir).resolve()
    for submission in submissions:
        removed_photos, removed_files = _redact(submission, root, now)
        photos += removed_photos
        files += removed_files
        submission.resident_id = None
        submission.resident = None
    forget_label_texts(session, submission_ids)
    forget_survey_answers(session, resident.id)  # free-text answers go, choices stay
    mailbox.forget_line_user(session, line_user_id, now)
    session.delete(resident)
    session.flush()
    logger.info(
        "resident %d deleted: %d submissions redacted, %d photos",
        resident.id,
        len(submissions),
        photos,
    )
    return DeletionReport(submissions=len(submissions), photos=photos, files=files)


def erase_older_than(
    session: Session, cutoff: datetime, media_dir: str | Path, now: datetime | None = None
) -> int:
    """Erase the words, photos and places of submissions sent before ``cutoff``.

    The retention rule of the privacy notice: what stays is the anonymous count (category,
    community, status, dates). Returns how many submissions were redacted; the caller commits.
    """
    now = now or utcnow()
    root = Path(media_dir).resolve()
    old = list(
        session.scalars(
            select(Submission).where(
                Submission.created_at < cutoff, Submission.redacted_at.is_(None)
            )
        )
    )
    for submission in old:
        _redact(submission, root, now)
    forget_label_texts(session, [s.id for s in old])
    session.flush()
    return len(old)


def _redact(submission: Submission, root: Path, now: datetime) -> tuple[int, int]:
    """Drop a submission's text, embedding, place and photos; return (photos, files removed)."""
    photos = files = 0
    for media in submission.media:
        photos += 1
        if media.path and _remove_file(root, media.path):
            files += 1
    submission.media.clear()  # delete-orphan removes the rows
    submission.text = None
    submission.embedding = None
    submission.latitude = None
    submission.longitude = None
    submission.address = None
    submission.redacted_at = now
    return photos, files


def _remove_file(root: Path, relative: str) -> bool:
    """Remove a stored photo; never anything outside ``root``."""
    target = (root / relative).resolve()
    if not target.is_relative_to(root):
        logger.warning("media path outside MEDIA_DIR refused")
        return False
    try:
        target.unlink()
    except FileNotFoundError:
        return False
    return True
