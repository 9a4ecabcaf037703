"""Residents: find or create by LINE user id, consent, community, conversation state, what is
kept. (Erasing a resident is ``bot.needs.erasure``.)

Repository functions: they take a session and never commit; the caller does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.base import utcnow
from storage.models import Community, Media, Resident, Submission


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


def follow_changed(
    session: Session, resident: Resident, following: bool, timestamp_ms: int
) -> bool:
    """Apply a follow (True) or unfollow seen at LINE time ``timestamp_ms``; return False, and
    change nothing, when a later follow or unfollow was applied already (a late redelivery)."""
    if resident.follow_changed_ms is not None and timestamp_ms < resident.follow_changed_ms:
        return False
    resident.follow_changed_ms = timestamp_ms
    resident.active = following
    return True


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
