"""Erasing what residents said: one resident on request ("ลบข้อมูลของฉัน"), and every need
older than the retention period the privacy notice promises (``bot.retention``).

What stays of an erased need is the anonymous count: category, community, status, dates and
the codes of its history. Its words, photos (rows and files, staff's "after" photos too),
place, contact (a need taken by phone or at the counter), the notes staff wrote about it, the
words of its training labels and of the survey answer it came from, and who filed it through a
partner app (Open311: email, name, phone) all go.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot import opendata
from storage import mailbox, open311, search, simulator
from storage.base import utcnow
from storage.models import Media, Resident, Submission, SubmissionEvent
from storage.submissions import forget_label_texts
from storage.surveys import forget_answer_texts
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
    """Erase a resident: their row (LINE id, display name), their needs' words, photos and
    places, their survey answers' words, their events and messages in the mailbox, and their
    chat in the simulator.

    Needs stay as anonymous counts. Photo files are removed from ``media_dir`` at once: should
    the transaction roll back, the retry finds them already gone, which errs on privacy's side.
    The caller commits; the confirmation sent afterwards is forgotten once it is sent
    (``storage.mailbox.forget_unknown_recipient``).
    """
    now = now or utcnow()
    line_user_id = resident.line_user_id
    submissions = list(
        session.scalars(select(Submission).where(Submission.resident_id == resident.id))
    )
    photos, files = redact(session, submissions, media_dir, now)
    for submission in submissions:
        submission.resident_id = None
        submission.resident = None
    forget_survey_answers(session, resident.id)  # free-text answers go, choices stay
    mailbox.forget_line_user(session, line_user_id, now)
    simulator.forget_user(session, line_user_id)
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
    session: Session,
    cutoff: datetime,
    media_dir: str | Path,
    now: datetime | None = None,
    limit: int | None = None,
) -> int:
    """Erase the words, photos and places of up to ``limit`` needs sent before ``cutoff``.

    The retention rule of the privacy notice. Returns how many needs were redacted; the
    caller commits (and calls again while a full batch came back).
    """
    statement = (
        select(Submission)
        .where(Submission.created_at < cutoff, Submission.redacted_at.is_(None))
        .order_by(Submission.id)
        .limit(limit)
    )
    old = list(session.scalars(statement))
    redact(session, old, media_dir, now or utcnow())
    return len(old)


def erase_need(
    session: Session, need: Submission, media_dir: str | Path, now: datetime | None = None
) -> None:
    """Erase one need's personal content as staff were asked (a resident who called, came to
    the counter or wrote has no LINE account to ask from); the anonymous count stays."""
    redact(session, [need], media_dir, now or utcnow())
    logger.info("submission %d redacted on request", need.id)


def redact(
    session: Session, submissions: list[Submission], media_dir: str | Path, now: datetime
) -> tuple[int, int]:
    """Drop the personal content of ``submissions``; return (photos, files) removed."""
    root = Path(media_dir).resolve()
    photos = files = 0
    for submission in submissions:
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
        submission.contact_name = None
        submission.contact_phone = None
        submission.redacted_at = now
    ids = [s.id for s in submissions]
    if ids:
        _forget_history_words(session, ids)
        forget_label_texts(session, ids)
        forget_answer_texts(session, submission_ids=ids)
        open311.forget_reporters(session, ids)  # a partner app's reporter: email, name, phone
        opendata.bring_forward(session)  # the open-data files drop them at the next check
    session.flush()
    if ids:
        search.forget_erased(session)  # the search index's own copy of the trigrams too
    return photos, files


def _forget_history_words(session: Session, submission_ids: list[int]) -> None:
    """Drop what staff wrote about these needs (notes, an agency or a reason); codes stay."""
    session.execute(
        update(SubmissionEvent)
        .where(SubmissionEvent.submission_id.in_(submission_ids))
        .values(public_note=None, internal_note=None)
        .execution_options(synchronize_session="fetch")
    )
    for event in session.scalars(
        select(SubmissionEvent).where(
            SubmissionEvent.submission_id.in_(submission_ids), SubmissionEvent.action == "status"
        )
    ):
        if "detail" in (event.detail or {}):
            event.detail = {k: v for k, v in event.detail.items() if k != "detail"}


def remove_stray_files(session: Session, media_dir: str | Path, before: datetime) -> int:
    """Remove files in ``media_dir`` older than ``before`` that no photo row points at
    (a download cut short, a transaction that rolled back); return how many."""
    root = Path(media_dir).resolve()
    if not root.is_dir():
        return 0
    removed = 0
    folders = sorted({path.parent for path in root.rglob("*") if path.is_file()})
    for folder in folders:
        prefix = folder.relative_to(root).as_posix()
        pattern = f"{prefix}/%" if prefix != "." else "%"
        known = set(session.scalars(select(Media.path).where(Media.path.like(pattern))))
        for path in folder.iterdir():
            relative = path.relative_to(root).as_posix()
            if path.is_file() and relative not in known and _older(path, before):
                path.unlink(missing_ok=True)
                removed += 1
    return removed


def _older(path: Path, before: datetime) -> bool:
    return datetime.fromtimestamp(path.stat().st_mtime, before.tzinfo) < before


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
