"""Residents: find or create by LINE user id, consent, community, what is kept, deletion.

Repository functions: they take a session and never commit; the caller does.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Text, cast, func, select, update
from sqlalchemy.orm import Session

from storage.base import utcnow
from storage.models import (
    Community,
    InboxEvent,
    Media,
    OutboxMessage,
    Resident,
    Submission,
    TrainingLabel,
)
from storage.surveys import forget_resident as forget_survey_answers

logger = logging.getLogger(__name__)

# What replaces a deleted resident's words in messages already sent to them.
REDACTED_MESSAGE = {"type": "text", "text": "(ลบตามคำขอของผู้ใช้)"}


def get_resident(session: Session, line_user_id: str) -> Resident | None:
    """Return the resident with this LINE user id, or None."""
    return session.scalar(select(Resident).where(Resident.line_user_id == line_user_id))


def get_or_create_resident(session: Session, line_user_id: str) -> tuple[Resident, bool]:
    """Return the resident with this LINE user id (created, consent pending, if new) and
    whether it was created. Nothing personal is stored before consent."""
    resident = get_resident(session, line_user_id)
    if resident is not None:
        return resident, False
    resident = Resident(line_user_id=line_user_id, consent="pending", active=True, state={})
    session.add(resident)
    session.flush()
    return resident, True


def give_consent(
    session: Session, resident: Resident, display_name: str | None, now: datetime | None = None
) -> None:
    """Record that the resident agreed to the privacy notice, with their LINE display name."""
    resident.consent = "given"
    resident.consented_at = now or utcnow()
    resident.display_name = (display_name or "").strip()[:200] or None
    resident.active = True


def decline_consent(session: Session, resident: Resident) -> None:
    """Record that the resident declined: keep only that fact, forget anything else."""
    resident.consent = "declined"
    resident.consented_at = None
    resident.display_name = None
    resident.community = None
    resident.state = {}


def set_active(session: Session, resident: Resident, active: bool) -> None:
    """Mark the resident as following (True) or not (False: no more pushes)."""
    resident.active = active


def active_communities(session: Session) -> list[Community]:
    """Return the communities residents can choose, in their configured order."""
    return list(
        session.scalars(
            select(Community)
            .where(Community.active.is_(True))
            .order_by(Community.position, Community.id)
        )
    )


def set_community(session: Session, resident: Resident, community_id: int | None) -> bool:
    """Set the resident's community (None: unknown); False if no such active community."""
    if community_id is None:
        resident.community = None
        return True
    community = session.get(Community, community_id)
    if community is None or not community.active:
        return False
    resident.community = community
    return True


def update_state(resident: Resident, **changes: Any) -> None:
    """Change keys of the resident's small conversation state (None removes a key)."""
    # Assign a new dict: the JSON column notices replacement, not mutation.
    state = dict(resident.state or {})
    for key, value in changes.items():
        if value is None:
            state.pop(key, None)
        else:
            state[key] = value
    resident.state = state


@dataclass(frozen=True)
class DataSummary:
    """What Ruamkid keeps about one resident, as shown to them."""

    display_name: str | None
    community: str | None
    submissions: int
    photos: int
    locations: int
    consented_at: datetime | None


def data_summary(session: Session, resident: Resident) -> DataSummary:
    """Count what is kept about the resident: submissions, photos, locations."""
    mine = Submission.resident_id == resident.id
    submissions = session.scalar(select(func.count()).select_from(Submission).where(mine)) or 0
    photos = (
        session.scalar(select(func.count()).select_from(Media).join(Submission).where(mine)) or 0
    )
    locations = (
        session.scalar(
            select(func.count())
            .select_from(Submission)
            .where(mine, Submission.latitude.is_not(None))
        )
        or 0
    )
    return DataSummary(
        display_name=resident.display_name,
        community=resident.community.name if resident.community else None,
        submissions=submissions,
        photos=photos,
        locations=locations,
        consented_at=resident.consented_at,
    )


@dataclass(frozen=True)
class DeletionReport:
    """How much was erased for one resident (counts only)."""

    submissions: int
    photos: int
    files: int


def delete_personal_data(
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
    _forget_label_texts(session, submission_ids)
    forget_survey_answers(session, resident.id)  # free-text answers go, choices stay
    _forget_line_traffic(session, line_user_id, now)
    session.delete(resident)
    session.flush()
    logger.info(
        "resident %d deleted: %d submissions redacted, %d photos",
        resident.id,
        len(submissions),
        photos,
    )
    return DeletionReport(submissions=len(submissions), photos=photos, files=files)


def redact_older_than(
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
    _forget_label_texts(session, [s.id for s in old])
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


def _forget_label_texts(session: Session, submission_ids: list[int]) -> None:
    if submission_ids:
        session.execute(
            update(TrainingLabel)
            .where(TrainingLabel.submission_id.in_(submission_ids))
            .values(text=None)
        )


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


def _forget_line_traffic(session: Session, line_user_id: str, now: datetime) -> None:
    """Drop the resident's unprocessed webhook events and the content of messages to them."""
    session.execute(
        update(InboxEvent)
        .where(
            InboxEvent.line_user_id == line_user_id,
            InboxEvent.status.in_(("pending", "failed")),
        )
        .values(payload=None, status="skipped", processed_at=now, error=None)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(InboxEvent)
        .where(InboxEvent.line_user_id == line_user_id)
        .values(line_user_id=None)
        .execution_options(synchronize_session=False)
    )
    # ``to`` is JSON: a push's recipient is stored as a JSON string on both databases.
    addressed = cast(OutboxMessage.to, Text) == json.dumps(line_user_id)
    session.execute(
        update(OutboxMessage)
        .where(addressed, OutboxMessage.kind == "push", OutboxMessage.status == "pending")
        .values(status="skipped", last_error="ผู้ใช้ขอลบข้อมูล (personal data deleted)")
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(OutboxMessage)
        .where(addressed, OutboxMessage.kind == "push", OutboxMessage.status != "sending")
        .values(messages=[REDACTED_MESSAGE], to="deleted")
        .execution_options(synchronize_session=False)
    )
    # Survey multicasts list many residents: take only this one out (a row being sent right now
    # keeps its list until it is done, so its retry stays the same request).
    listed = cast(OutboxMessage.to, Text).contains(json.dumps(line_user_id))
    for row in session.scalars(
        select(OutboxMessage).where(
            listed, OutboxMessage.kind == "multicast", OutboxMessage.status != "sending"
        )
    ):
        row.to = [user for user in row.to if user != line_user_id]
        if not row.to and row.status == "pending":
            row.status = "skipped"
