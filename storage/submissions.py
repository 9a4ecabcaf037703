"""Submissions from residents: create with a tracking number, attach photos and places,
find the one still open, list the latest.

Repository functions: they take a session and never commit; the caller does.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.base import utcnow
from storage.models import Media, Resident, Submission, SubmissionEvent

# A photo or place sent this long after a submission still belongs to it.
OPEN_WINDOW = timedelta(minutes=30)
# The resident's state key naming their open submission ("done" removes it).
OPEN_KEY = "open_submission"
# Tracking numbers carry the Buddhist-era year in Thailand's time (UTC+7, no DST).
_BANGKOK = timezone(timedelta(hours=7))

# Prediction fields copied onto a submission.
CLASSIFICATION_FIELDS = (
    "strategy",
    "subarea",
    "kind",
    "confidence",
    "top3",
    "unsure",
    "model_version",
    "embedding",
)


def tracking_number(prefix: str, submission_id: int, moment: datetime) -> str:
    """Return a number people can read aloud, e.g. ``LPN-69-000123`` (year 2569)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    be_year = moment.astimezone(_BANGKOK).year + 543
    return f"{prefix}-{be_year % 100:02d}-{submission_id:06d}"


def create_submission(
    session: Session,
    resident: Resident | None,
    *,
    prefix: str,
    text: str | None,
    classification: Mapping[str, Any] | None = None,
    source: str = "line",
    awaiting_description: bool = False,
    actor: str = "resident",
    now: datetime | None = None,
) -> Submission:
    """Store a new submission with its tracking number and a "created" history entry.

    ``classification`` holds the prediction's fields (see ``CLASSIFICATION_FIELDS``); the
    community is the resident's.
    """
    now = now or utcnow()
    submission = Submission(
        resident=resident,
        community=resident.community if resident is not None else None,
        source=source,
        text=text,
        kind="need",
        top3=[],
        awaiting_description=awaiting_description,
        created_at=now,
        updated_at=now,
    )
    if classification:
        apply_classification(submission, classification)
    session.add(submission)
    session.flush()  # the id makes the tracking number
    submission.tracking_no = tracking_number(prefix, submission.id, now)
    session.add(
        SubmissionEvent(
            submission=submission,
            actor=actor,
            action="created",
            at=now,
            detail={"source": source, "kind": submission.kind, "strategy": submission.strategy},
        )
    )
    return submission


def classification_fields(prediction: Any) -> dict[str, Any]:
    """Return the fields of an ``nlp.Prediction`` that a submission keeps."""
    return {
        "strategy": prediction.strategy,
        "subarea": prediction.subarea,
        "kind": prediction.kind,
        "confidence": prediction.confidence,
        "top3": [label.to_dict() for label in prediction.top3],
        "unsure": prediction.unsure,
        "model_version": prediction.model_version,
        "embedding": prediction.embedding,
    }


def apply_classification(submission: Submission, classification: Mapping[str, Any]) -> None:
    """Copy a prediction's fields onto the submission."""
    for name in CLASSIFICATION_FIELDS:
        if name in classification:
            setattr(submission, name, classification[name])


def describe(
    session: Session,
    submission: Submission,
    text: str,
    classification: Mapping[str, Any] | None,
    *,
    actor: str = "resident",
) -> None:
    """Give a photo-first or place-first submission its description and classification."""
    submission.text = text
    submission.awaiting_description = False
    if classification:
        apply_classification(submission, classification)
    session.add(
        SubmissionEvent(
            submission=submission,
            actor=actor,
            action="described",
            detail={"kind": submission.kind, "strategy": submission.strategy},
        )
    )


def attach_photo(session: Session, submission: Submission, line_message_id: str) -> Media:
    """Attach a photo still on LINE's servers; the worker downloads it (status "pending")."""
    media = Media(
        submission=submission, line_message_id=line_message_id, status="pending", attempts=0
    )
    session.add(media)
    return media


def attach_location(
    session: Session,
    submission: Submission,
    latitude: float,
    longitude: float,
    address: str | None,
) -> None:
    """Set (or replace) the submission's place."""
    submission.latitude = float(latitude)
    submission.longitude = float(longitude)
    submission.address = (address or "").strip() or None


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


def record_resident_category(
    session: Session, submission: Submission, strategy: str, subarea: str | None
) -> SubmissionEvent:
    """Change the category as the resident asked; kept in the history, not a staff label."""
    before = {"strategy": submission.strategy, "subarea": submission.subarea}
    submission.strategy = strategy
    submission.subarea = subarea
    event = SubmissionEvent(
        submission=submission,
        actor="resident",
        action="category",
        detail={"from": before, "to": {"strategy": strategy, "subarea": subarea}},
    )
    session.add(event)
    return event
