"""What the public may see of residents' needs: the one place for the rules of anonymity.

Every public surface (the public pages, Open311, the open-data files) reads needs through
these functions and nothing else. The rules:

- Never a resident's name or LINE id, never a photo, never a staff member's name or note:
  ``PublicNeed`` has no field that could hold them.
- The words (``text``) only when staff switched the need to publishable, with anything shaped
  like a Thai phone number masked; otherwise ``None``.
- A place is never exact: a need's coordinates snap to the centre of a fixed grid cell of
  ``GRID`` degrees (about 100 m in Lamphun), the same cell for every need in it; a need
  without a place is shown at its community's centre, or nowhere.
- Erased needs (the resident asked, or retention ran), needs merged into another (or closed
  as duplicates) and messages that are not requests (small talk, kind ``other``) are never
  listed, counted or found by their tracking number.
- The history shows only statuses and their dates.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Executable, Select, func, literal_column, select, text
from sqlalchemy.orm import Session

from storage.models import Community, Submission, SubmissionEvent

# Grid cell size in degrees: 0.001° ≈ 111 m north–south and ≈ 105 m east–west at 18° N.
GRID = 0.001
MAX_LIMIT = 500
# A Thai phone number as people write it: 0X-XXX-XXXX, 0XX XXX XXXX, +66 ...
PHONE = re.compile(r"(?:\+66|0)\d{1,2}(?:[\s-]?\d){6,8}")
PHONE_MASK = "[เบอร์โทรถูกซ่อน]"


@dataclass(frozen=True)
class PublicNeed:
    """A need as anyone may see it (see the module's rules)."""

    tracking: str
    strategy: str | None
    subarea: str | None
    kind: str
    status: str
    community: str | None
    created_at: datetime
    updated_at: datetime
    latitude: float | None
    longitude: float | None
    text: str | None


@dataclass(frozen=True)
class PublicStep:
    """One step of a need's public timeline: the status it reached and when."""

    status: str
    at: datetime


@dataclass(frozen=True)
class PublicCounts:
    """How many public needs match, in total and per strategy, status and community name."""

    total: int
    by_strategy: dict[str, int]
    by_status: dict[str, int]
    by_community: dict[str, int]


def snap(value: float) -> float:
    """Return the centre of the grid cell holding ``value`` (degrees), e.g. 18.57839 → 18.5785.

    >>> snap(18.57839), snap(18.57801), snap(99.00999)
    (18.5785, 18.5785, 99.0095)
    """
    return round((math.floor(value / GRID) + 0.5) * GRID, 4)


def mask_phones(text: str) -> str:
    """Hide phone numbers in words staff made public.

    >>> mask_phones("โทร 081-234-5678 ค่ะ")
    'โทร [เบอร์โทรถูกซ่อน] ค่ะ'
    """
    return PHONE.sub(PHONE_MASK, text)


def _listed() -> Select[Any]:
    """Select public needs with their community's name and centre."""
    return (
        select(
            Submission.tracking_no,
            Submission.strategy,
            Submission.subarea,
            Submission.kind,
            Submission.status,
            Community.name,
            Submission.created_at,
            Submission.updated_at,
            Submission.latitude,
            Submission.longitude,
            Community.latitude,
            Community.longitude,
            Submission.publishable,
            Submission.text,
        )
        .outerjoin(Community, Community.id == Submission.community_id)
        .where(*_public_conditions())
    )


def _public_conditions() -> tuple[Any, ...]:
    """The rules as conditions: ``storage.models.PUBLIC_WHERE`` term for term, with the values
    written into the SQL (not bound), so the partial index made with it can serve the tally."""
    return (
        Submission.tracking_no.is_not(None),
        Submission.redacted_at.is_(None),
        Submission.merged_into_id.is_(None),
        Submission.status != literal_column("'duplicate'"),
        Submission.kind != literal_column("'other'"),
    )


def _filtered(
    statement: Select[Any],
    *,
    strategy: str | None = None,
    subarea: str | None = None,
    status: str | None = None,
    community: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    subareas: Collection[str] | None = None,
    statuses: Collection[str] | None = None,
) -> Select[Any]:
    if subareas is not None:
        statement = statement.where(Submission.subarea.in_(list(subareas)))
    if statuses is not None:
        statement = statement.where(Submission.status.in_(list(statuses)))
    if strategy:
        statement = statement.where(Submission.strategy == strategy)
    if subarea:
        statement = statement.where(Submission.subarea == subarea)
    if status:
        statement = statement.where(Submission.status == status)
    if community is not None:
        statement = statement.where(Submission.community_id == community)
    if since is not None:
        statement = statement.where(Submission.created_at >= since)
    if until is not None:
        statement = statement.where(Submission.created_at < until)
    return statement


def _public(row: Any) -> PublicNeed:
    (
        tracking,
        strategy,
        subarea,
        kind,
        status,
        community,
        created_at,
        updated_at,
        latitude,
        longitude,
        centre_lat,
        centre_lon,
        publishable,
        text,
    ) = row
    if latitude is not None and longitude is not None:
        latitude, longitude = snap(latitude), snap(longitude)
    elif centre_lat is not None and centre_lon is not None:
        latitude, longitude = centre_lat, centre_lon
    else:
        latitude = longitude = None
    return PublicNeed(
        tracking=tracking,
        strategy=strategy,
        subarea=subarea,
        kind=kind,
        status=status,
        community=community,
        created_at=created_at,
        updated_at=updated_at,
        latitude=latitude,
        longitude=longitude,
        text=mask_phones(text) if publishable and text else None,
    )


def public_needs(
    session: Session,
    *,
    strategy: str | None = None,
    subarea: str | None = None,
    status: str | None = None,
    community: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    subareas: Collection[str] | None = None,
    statuses: Collection[str] | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[PublicNeed]:
    """Return public needs, newest first, filtered (``community`` is its id; ``since`` and
    ``until`` bound the creation time, ``until`` excluded; ``subareas`` and ``statuses`` match
    any of theirs, as Open311 asks); at most ``MAX_LIMIT`` at once."""
    statement = _filtered(
        _listed(),
        strategy=strategy,
        subarea=subarea,
        status=status,
        community=community,
        since=since,
        until=until,
        subareas=subareas,
        statuses=statuses,
    )
    statement = (
        statement.order_by(Submission.id.desc())
        .limit(max(0, min(limit, MAX_LIMIT)))
        .offset(max(0, offset))
    )
    return [_public(row) for row in session.execute(statement)]


def all_public_needs(session: Session, batch: int = MAX_LIMIT) -> Iterator[PublicNeed]:
    """Yield every public need, newest first, reading ``batch`` rows at a time by keyset (the
    open-data dump: OFFSET would re-read all earlier rows for every batch)."""
    before: int | None = None
    while True:
        statement = _listed().add_columns(Submission.id).order_by(Submission.id.desc())
        if before is not None:
            statement = statement.where(Submission.id < before)
        rows = session.execute(statement.limit(batch)).all()
        for row in rows:
            yield _public(row[:-1])  # the id, last, only finds the next batch
        if len(rows) < batch:
            return
        before = rows[-1][-1]


def public_need(session: Session, tracking: str) -> PublicNeed | None:
    """Return the public need with this tracking number (any case), or None."""
    row = session.execute(
        _listed().where(Submission.tracking_no == tracking.strip().upper())
    ).one_or_none()
    return None if row is None else _public(row)


def public_timeline(session: Session, tracking: str) -> list[PublicStep]:
    """Return the statuses a public need went through, oldest first (``new`` at its filing)."""
    need = session.execute(
        select(Submission.id, Submission.created_at).where(
            Submission.tracking_no == tracking.strip().upper(), *_public_conditions()
        )
    ).one_or_none()
    if need is None:
        return []
    steps = [PublicStep("new", need.created_at)]
    events = session.execute(
        select(SubmissionEvent.detail, SubmissionEvent.at)
        .where(SubmissionEvent.submission_id == need.id, SubmissionEvent.action == "status")
        .order_by(SubmissionEvent.id)
    )
    for detail, at in events:
        status = (detail or {}).get("to")
        if isinstance(status, str):
            steps.append(PublicStep(status, at))
    return steps


def public_counts(
    session: Session,
    *,
    strategy: str | None = None,
    subarea: str | None = None,
    status: str | None = None,
    community: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> PublicCounts:
    """Count public needs matching the filters, in total and per strategy, status, community."""
    filters = {
        "strategy": strategy,
        "subarea": subarea,
        "status": status,
        "community": community,
        "since": since,
        "until": until,
    }

    def grouped(column: Any, *joins: Any) -> dict[Any, int]:
        statement = select(column, func.count()).select_from(Submission)
        for join in joins:
            statement = statement.join(*join)
        statement = _filtered(statement.where(*_public_conditions()), **filters)
        return {key: n for key, n in session.execute(statement.group_by(column))}

    by_strategy = grouped(Submission.strategy)
    return PublicCounts(
        total=sum(by_strategy.values()),
        by_strategy={k: n for k, n in by_strategy.items() if k is not None},
        by_status=grouped(Submission.status),
        by_community=grouped(Community.name, (Community, Community.id == Submission.community_id)),
    )


@dataclass(frozen=True)
class PublicTally:
    """Every public need counted once per (strategy, sub-area, status, community): a few
    hundred rows however large the table, from which ``counts`` answers any filter of the
    public pages without reading the table again (see ``public_tally``)."""

    # (strategy, subarea, status, community id, community name, number of needs)
    rows: tuple[tuple[str | None, str | None, str, int | None, str | None, int], ...]

    def counts(
        self,
        *,
        strategy: str | None = None,
        subarea: str | None = None,
        status: str | None = None,
        community: int | None = None,
    ) -> PublicCounts:
        """Return what ``public_counts`` returns for the same filters (no time window)."""
        total = 0
        by_strategy: dict[str, int] = {}
        by_status: dict[str, int] = {}
        by_community: dict[str, int] = {}
        for row_strategy, row_subarea, row_status, row_community, name, n in self.rows:
            if (
                (strategy and row_strategy != strategy)
                or (subarea and row_subarea != subarea)
                or (status and row_status != status)
                or (community is not None and row_community != community)
            ):
                continue
            total += n
            if row_strategy is not None:
                by_strategy[row_strategy] = by_strategy.get(row_strategy, 0) + n
            by_status[row_status] = by_status.get(row_status, 0) + n
            if name is not None:
                by_community[name] = by_community.get(name, 0) + n
        return PublicCounts(
            total=total, by_strategy=by_strategy, by_status=by_status, by_community=by_community
        )


TALLY_INDEX = "ix_submissions_public_tally"


def _tally_statement() -> Select[Any]:
    """The tally's SQL: grouped in the order of ``ix_submissions_public_tally``, whose WHERE is
    ``_public_conditions``, so both databases count from that index alone."""
    columns = (Submission.strategy, Submission.subarea, Submission.status, Submission.community_id)
    return select(*columns, func.count()).where(*_public_conditions()).group_by(*columns)


def _tally_query(session: Session) -> Executable:
    """The tally's statement for this session's database. SQLite's statistics count all NULLs
    as one value, so it takes ``ix_submissions_facets`` for ``merged_into_id IS NULL`` (true of
    nearly every row) and reads the table: ~1 s instead of ~0.1 s at 200,000 needs. It is told
    the index (the SQL has no parameters: the rules' values are literal)."""
    statement = _tally_statement()
    bind = session.get_bind()
    if bind.dialect.name != "sqlite":
        return statement
    sql = str(statement.compile(bind))
    return text(sql.replace("FROM submissions", f"FROM submissions INDEXED BY {TALLY_INDEX}", 1))


def public_tally(session: Session) -> PublicTally:
    """Count every public need once, grouped by strategy, sub-area, status and community (one
    pass over the table instead of three per filter; the public pages keep the result for a
    while and derive each filter's counts from it)."""
    grouped = session.execute(_tally_query(session)).all()
    names: dict[int | None, str] = {
        id_: name for id_, name in session.execute(select(Community.id, Community.name))
    }
    return PublicTally(
        rows=tuple(
            (strategy, subarea, status, community, names.get(community), n)
            for strategy, subarea, status, community, n in grouped
        )
    )
