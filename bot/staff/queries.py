"""The queue's filters, keyset pagination, facet counts and residents' counts.

Reused by the exports so a CSV holds exactly what the queue shows::

    filters = QueueFilters.from_args(request.args)
    statement = filtered(visible_submissions(select(Submission), user), filters)

Search is a substring match on the stored text (Thai has no spaces between words), indexed by
trigrams on both databases (``storage.search``), or an exact tracking number.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime, time, timedelta
from time import monotonic
from typing import Any

from sqlalchemy import Select, and_, bindparam, exists, func, or_, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from bot.needs.actions import RESOLVED
from bot.needs.statuses import STATUS_LABELS
from bot.thai import BANGKOK, parse_thai_date
from storage import search
from storage.base import utcnow
from storage.models import Community, Media, Submission

SORTS = {"new": "ใหม่ล่าสุดก่อน", "old": "เก่าสุดก่อน", "confidence": "ความมั่นใจต่ำสุดก่อน"}
SOURCES = {
    "line": "LINE",
    "survey": "แบบสำรวจ",
    "staff": "เจ้าหน้าที่บันทึก",
    "phone": "โทรศัพท์",
    "paper": "หนังสือ/กระดาษ",
    "counter": "ติดต่อที่สำนักงาน",
    "forum": "ประชาคม",
}
MAX_SEARCH = 100


@dataclass(frozen=True)
class QueueFilters:
    """What the queue shows: filters, search text and sort, read from a query string."""

    strategy: str = ""
    subarea: str = ""
    kind: str = ""
    status: str = ""
    community: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    unsure: bool = False
    unconfirmed: bool = False
    photo: bool = False
    location: bool = False
    source: str = ""
    q: str = ""
    sort: str = "new"
    merged: bool = False
    # Routing: a division, and the staff member's own views (resolved with ``user``).
    division: int | None = None
    mine: bool = False
    my_division: bool = False
    unassigned: bool = False
    overdue: bool = False
    assignee_id: int | None = field(default=None, compare=False)
    user_division: int | None = field(default=None, compare=False)
    # Words of ``q`` most submissions hold (see ``searching``): how to use the index, not a filter.
    frequent: frozenset[str] = field(default=frozenset(), compare=False)
    errors: tuple[str, ...] = field(default=(), compare=False)

    @classmethod
    def from_args(cls, args: Mapping[str, str], user: Any = None) -> QueueFilters:
        """Read filters from request arguments; anything unreadable is dropped, never fatal.

        ``user`` (the signed-in staff) gives "mine" and "my division" their meaning.
        """
        errors: list[str] = []

        def text(name: str, limit: int = 32) -> str:
            return (args.get(name) or "").strip()[:limit]

        def flag(name: str) -> bool:
            return (args.get(name) or "") in {"1", "on", "true", "yes"}

        community = None
        if text("community").isdigit():
            community = int(text("community"))
        dates: dict[str, date | None] = {}
        for name, label in (("date_from", "ตั้งแต่วันที่"), ("date_to", "ถึงวันที่")):
            raw = text(name)
            dates[name] = parse_thai_date(raw)
            if raw and dates[name] is None:
                errors.append(f"อ่าน{label}ไม่ได้ (ใช้รูปแบบ วว/ดด/ปปปป เช่น 26/11/2569)")
        status = text("status")
        sort = text("sort") or "new"
        source = text("source")
        division = int(text("division")) if text("division").isdigit() else None
        my_division = flag("my_division")
        user_division = getattr(user, "division_id", None)
        if my_division and user_division is None:
            errors.append("บัญชีของท่านยังไม่ได้สังกัดหน่วยงาน จึงกรอง “หน่วยงานของฉัน” ไม่ได้")
            my_division = False
        return cls(
            strategy=text("strategy"),
            subarea=text("subarea"),
            kind=text("kind"),
            status=status if status in STATUS_LABELS else "",
            community=community,
            date_from=dates["date_from"],
            date_to=dates["date_to"],
            unsure=flag("unsure"),
            unconfirmed=flag("unconfirmed"),
            photo=flag("photo"),
            location=flag("location"),
            source=source if source in SOURCES else "",
            q=" ".join((args.get("q") or "").split())[:MAX_SEARCH],
            sort=sort if sort in SORTS else "new",
            merged=flag("merged"),
            division=division,
            mine=flag("mine") and user is not None,
            my_division=my_division,
            unassigned=flag("unassigned"),
            overdue=flag("overdue"),
            assignee_id=getattr(user, "id", None),
            user_division=user_division,
            errors=tuple(errors),
        )

    def to_args(self, **changes: Any) -> dict[str, str]:
        """Return the non-default filters as query arguments (for links and forms)."""
        current = replace(self, **changes) if changes else self
        out: dict[str, str] = {}
        for f in fields(current):
            if f.name in {"errors", "assignee_id", "user_division", "frequent"}:
                continue
            value = getattr(current, f.name)
            if value in (None, "", False) or (f.name == "sort" and value == "new"):
                continue
            if isinstance(value, bool):
                out[f.name] = "1"
            elif isinstance(value, date):
                out[f.name] = value.isoformat()
            else:
                out[f.name] = str(value)
        return out

    def for_audit(self) -> dict[str, str]:
        """Return the filters as the audit log keeps them: that there was a search, never its
        words (staff search for names, house numbers and phone numbers)."""
        kept = self.to_args(q="")
        if self.q:
            kept["q"] = "(ค้นหา)"
        return kept

    @property
    def reads_rows(self) -> bool:
        """True when matching needs reads their rows (search, photo, location), not an index."""
        return bool(self.q or self.photo or self.location)

    @property
    def active(self) -> bool:
        """True when anything narrows the list."""
        return bool(set(self.to_args()) - {"sort"})


def searching(session: Session, filters: QueueFilters) -> QueueFilters:
    """Return ``filters`` knowing which of its search words most submissions hold, so the
    search index is asked for the rarer ones (``storage.search.contains``); same rows."""
    if not filters.q:
        return filters
    return replace(filters, frequent=search.frequent_words(session, filters.q))


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=BANGKOK)


def unresolved() -> Any:
    """The condition "not resolved yet", with the statuses written into the SQL as literals
    (sorted, as ``storage.staff.RESOLVED_STATUSES``): PostgreSQL can then use the open needs'
    index ix_submissions_queue_open, even in a prepared statement's generic plan."""
    resolved = bindparam("resolved", sorted(RESOLVED), expanding=True, literal_execute=True)
    return Submission.status.not_in(resolved)


def filtered(
    statement: Select[Any], filters: QueueFilters, *, skip: Iterable[str] = (), scan: bool = False
) -> Select:
    """Add ``filters``' conditions to a select over Submission (``skip`` names ignored ones).

    ``scan`` words the "not merged" condition so no index serves it: for a count that must
    read every row anyway (text search), a plain scan beats thousands of index lookups.
    """
    skip = set(skip)
    s = Submission
    conditions = []
    if not filters.merged:
        conditions.append(
            func.coalesce(s.merged_into_id, 0) == 0 if scan else s.merged_into_id.is_(None)
        )
    if filters.strategy and "strategy" not in skip:
        conditions.append(s.strategy == filters.strategy)
    if filters.subarea and "subarea" not in skip:
        conditions.append(s.subarea == filters.subarea)
    if filters.kind and "kind" not in skip:
        conditions.append(s.kind == filters.kind)
    if filters.status and "status" not in skip:
        conditions.append(s.status == filters.status)
    if filters.community is not None and "community" not in skip:
        conditions.append(s.community_id == filters.community)
    if filters.source and "source" not in skip:
        conditions.append(s.source == filters.source)
    if filters.date_from:
        conditions.append(s.created_at >= _day_start(filters.date_from))
    if filters.date_to:
        conditions.append(s.created_at < _day_start(filters.date_to + timedelta(days=1)))
    if filters.unsure:
        conditions.append(and_(s.unsure.is_(True), s.label_confirmed.is_(False)))
    if filters.unconfirmed:
        conditions.append(s.label_confirmed.is_(False))
    if filters.photo:
        conditions.append(exists().where(Media.submission_id == s.id))
    if filters.location:
        conditions.append(s.latitude.is_not(None))
    if filters.division is not None and "division" not in skip:
        conditions.append(s.division_id == filters.division)
    if filters.my_division and filters.user_division is not None:
        conditions.append(s.division_id == filters.user_division)
    if filters.mine and filters.assignee_id is not None:
        conditions.append(s.assignee_id == filters.assignee_id)
    if filters.unassigned:
        conditions.append(s.assignee_id.is_(None))
    if filters.overdue:
        conditions.append(and_(s.due_at < utcnow(), unresolved()))
    if filters.q:
        words = search.contains(filters.q, filters.frequent)
        conditions.append(or_(words, s.tracking_no == filters.q.upper()))
    return statement.where(*conditions) if conditions else statement


# --- keyset pagination -------------------------------------------------------------------------


def encode_cursor(submission: Submission, sort: str, *, by_date: bool = False) -> str:
    """Return the opaque cursor that continues after ``submission`` in ``sort`` order.

    ``by_date`` (a date-filtered ``new``/``old`` page, see :func:`ordered_page`) carries the
    submission's ``created_at`` with its id.
    """
    if sort == "confidence":
        key = "n" if submission.confidence is None else repr(float(submission.confidence))
        return _encode(f"{key}|{submission.id}")
    if by_date:
        return _date_cursor(submission.created_at, submission.id)
    return _encode(str(submission.id))


def _date_cursor(created_at: datetime, ident: int) -> str:
    return _encode(f"{created_at.astimezone(UTC).isoformat()}|{ident}")


def _encode(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: str) -> tuple[float | datetime | None, int] | None:
    """Return a cursor's (key, id): the confidence for ``confidence``; for ``new``/``old`` the
    creation time of a date-ordered cursor, None for one that holds only the id."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if sort == "confidence":
            key, ident = raw.split("|")
            return (None if key == "n" else float(key)), int(ident)
        if "|" in raw:
            when, ident = raw.split("|")
            created = datetime.fromisoformat(when)
            if created.tzinfo is None:
                return None
            return created, int(ident)
        return None, int(raw)
    except (ValueError, UnicodeDecodeError):
        return None


def ordered_page(
    statement: Select[Any], sort: str, cursor: str | None, *, by_date: bool = False
) -> Select[Any]:
    """Order by ``sort`` and start after ``cursor`` (keyset: no OFFSET, steady on big tables).

    ``new``/``old`` follow the id (the order submissions arrived in); ``confidence`` puts the
    least confident first, submissions without a score last.

    ``by_date`` (set when a date range narrows the list) orders ``new``/``old`` by
    ``created_at`` then id instead, so the index on ``created_at`` reads just the range: in id
    order PostgreSQL walks the primary key from the newest need until it reaches the range.
    (Submissions are created with ``created_at`` = now, so the two orders differ only among
    needs saved by concurrent transactions.) A date-ordered page needs a cursor carrying the
    creation time; :func:`page` turns an id-only cursor (a link shown before) into one.
    """
    s = Submission
    key = _decode_cursor(cursor, sort) if cursor else None
    if sort in {"new", "old"} and by_date:
        if key and not isinstance(key[0], datetime):
            raise ValueError("a date-ordered page needs a cursor with the creation time")
        newest_first = sort == "new"
        if key:
            when, ident = key
            earlier = s.created_at < when if newest_first else s.created_at > when
            before = s.id < ident if newest_first else s.id > ident
            # Written so the created_at bound alone is an index condition.
            statement = statement.where(
                s.created_at <= when if newest_first else s.created_at >= when,
                or_(earlier, and_(s.created_at == when, before)),
            )
        if newest_first:
            return statement.order_by(s.created_at.desc(), s.id.desc())
        return statement.order_by(s.created_at.asc(), s.id.asc())
    if sort == "old":
        if key:
            statement = statement.where(s.id > key[1])
        return statement.order_by(s.id.asc())
    if sort == "confidence":
        if key:
            value, ident = key
            if value is None:
                statement = statement.where(s.confidence.is_(None), s.id > ident)
            else:
                statement = statement.where(
                    or_(
                        s.confidence > value,
                        and_(s.confidence == value, s.id > ident),
                        s.confidence.is_(None),
                    )
                )
        return statement.order_by(s.confidence.asc().nulls_last(), s.id.asc())
    if key:
        statement = statement.where(s.id < key[1])
    return statement.order_by(s.id.desc())


def dated(filters: QueueFilters) -> bool:
    """True when the queue's page is ordered by creation time (a date range, sorted by time)."""
    return bool(filters.date_from or filters.date_to) and filters.sort in {"new", "old"}


def page(
    session: Session,
    statement: Select[Any],
    sort: str,
    cursor: str | None,
    size: int,
    *,
    by_date: bool = False,
) -> tuple[list[Submission], str | None]:
    """Return one page of submissions and the cursor of the next page (None at the end).

    ``by_date``: see :func:`ordered_page`. An id-only cursor (from a link shown before dated
    pages were ordered by time) continues after that submission's creation time; if the
    submission is gone, the page follows the id as such links always did.
    """
    if by_date and cursor and sort in {"new", "old"}:
        key = _decode_cursor(cursor, sort)
        if key and not isinstance(key[0], datetime):
            created = session.scalar(select(Submission.created_at).where(Submission.id == key[1]))
            if created is None:
                by_date = False
            else:
                cursor = _date_cursor(created, key[1])
    ordered = ordered_page(statement, sort, cursor, by_date=by_date)
    rows = list(session.scalars(ordered.limit(size + 1)))
    if len(rows) > size:
        return rows[:size], encode_cursor(rows[size - 1], sort, by_date=by_date)
    return rows, None


# --- counts -------------------------------------------------------------------------------


FACETS = ("status", "strategy", "kind")
# Counting stops after this many matching rows: past it the queue says "more than 10,000"
# instead of reading every index entry (a count over a million needs grows with the table).
COUNT_LIMIT = 10_000
# PostgreSQL's SQLSTATE for a statement cancelled by statement_timeout.
QUERY_CANCELED = "57014"


@dataclass(frozen=True)
class Counts:
    """The queue's counts: how many match, and per status, strategy and kind.

    ``capped`` is True when more than ``COUNT_LIMIT`` match (``total`` is then the limit);
    ``uncounted`` when counting took longer than its budget (then nothing is known);
    ``sampled`` names the facets whose numbers came from a capped read: their values are
    real, their numbers are not shown.
    """

    total: int
    capped: bool
    facets: dict[str, dict[str, int]]
    sampled: frozenset[str] = frozenset()
    uncounted: bool = False  # the time budget ran out: nothing was counted


def _groups(
    session: Session, base: Select[Any], filters: QueueFilters, skip: Iterable[str], limit: int
) -> tuple[list[tuple[str, str, str, int]], bool]:
    """Group at most ``limit`` matching rows by (status, strategy, kind); say if more match."""
    s = Submission
    # Structured filters are answered from an index alone: the usual views (everything, a
    # division, mine, unassigned, overdue) from the narrow ix_submissions_queue_counts on
    # PostgreSQL, the rest from ix_submissions_facets; search, photo and location read rows.
    rows = (
        filtered(base, filters, skip=skip, scan=filters.reads_rows)
        .with_only_columns(s.status, s.strategy, s.kind)
        .order_by(None)
        .limit(limit + 1)
        .subquery()
    )
    # Grouping by kind first keeps SQLite from walking the status index row by row.
    groups = session.execute(
        select(rows.c.status, rows.c.strategy, rows.c.kind, func.count()).group_by(
            rows.c.kind, rows.c.strategy, rows.c.status
        )
    ).all()
    return [tuple(g) for g in groups], sum(g[3] for g in groups) > limit


class _OutOfTime(Exception):
    """The counts' time budget ran out (PostgreSQL cancelled the statement)."""


def _bounded_groups(
    session: Session,
    base: Select[Any],
    filters: QueueFilters,
    skip: Iterable[str],
    limit: int,
    deadline: float | None,
) -> tuple[list[tuple[str, str, str, int]], bool]:
    """``_groups``, cancelled by PostgreSQL once ``deadline`` (a monotonic time) has passed."""
    if deadline is None or session.get_bind().dialect.name != "postgresql":
        return _groups(session, base, filters, skip, limit)
    left_ms = int((deadline - monotonic()) * 1000)
    if left_ms < 1:
        raise _OutOfTime
    # SET LOCAL inside a savepoint that is always rolled back: the limit ends with it, and a
    # cancelled statement leaves the request's transaction usable.
    savepoint = session.begin_nested()
    try:
        session.execute(select(func.set_config("statement_timeout", str(left_ms), True)))
        return _groups(session, base, filters, skip, limit)
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) == QUERY_CANCELED:
            raise _OutOfTime from None
        raise
    finally:
        savepoint.rollback()


def facet_counts(
    session: Session,
    base: Select[Any],
    filters: QueueFilters,
    *,
    limit: int = COUNT_LIMIT,
    budget_ms: int | None = None,
) -> Counts:
    """Count the matches and, per status, strategy and kind, what each value would give with
    the other filters unchanged, reading at most ``limit`` + 1 rows per query.

    Usually one grouped query serves every count: rows are grouped under the non-facet
    filters, then each facet sums the groups that pass the *other two* facet filters. When
    more rows than ``limit`` match those filters, the matches and each chosen facet are
    counted apart, each capped, so a narrow filter on a huge table still gets exact numbers.

    ``budget_ms`` bounds the time of counts that read rows (text search, photo, location) on
    PostgreSQL: a search for words most needs hold must read thousands of rows to count them,
    and the list should not wait for that. Past it the counts are left out (``uncounted``).
    """
    deadline = monotonic() + budget_ms / 1000 if budget_ms and filters.reads_rows else None
    try:
        return _facet_counts(session, base, filters, limit, deadline)
    except _OutOfTime:
        return Counts(0, True, {name: {} for name in FACETS}, frozenset(FACETS), uncounted=True)


def _facet_counts(
    session: Session, base: Select[Any], filters: QueueFilters, limit: int, deadline: float | None
) -> Counts:
    chosen = {name: getattr(filters, name) for name in FACETS}
    groups, capped = _bounded_groups(session, base, filters, FACETS, limit, deadline)
    if not capped:
        return _summed(groups, chosen)
    if not any(chosen.values()):
        counts = _summed(groups, chosen)
        return Counts(limit, True, counts.facets, frozenset(FACETS))
    groups, capped = _bounded_groups(session, base, filters, (), limit, deadline)
    matches = _summed(groups, chosen)
    facets = dict(matches.facets)
    sampled = {name for name in FACETS if not chosen[name]} if capped else set()
    for name in FACETS:
        if chosen[name]:
            own, own_capped = _bounded_groups(session, base, filters, (name,), limit, deadline)
            facets[name] = _summed(own, chosen).facets[name]
            if own_capped:
                sampled.add(name)
    return Counts(limit if capped else matches.total, capped, facets, frozenset(sampled))


def _summed(groups: Iterable[tuple[str, str, str, int]], chosen: Mapping[str, str]) -> Counts:
    """Sum grouped rows into the total and each facet's counts under the other facets."""
    counts: dict[str, dict[str, int]] = {name: {} for name in FACETS}
    total = 0
    for status, strategy, kind, n in groups:
        values = {"status": status, "strategy": strategy or "", "kind": kind}
        misses = [name for name in FACETS if chosen[name] and values[name] != chosen[name]]
        if not misses:
            total += n
        for name in FACETS:
            if not misses or misses == [name]:
                counts[name][values[name]] = counts[name].get(values[name], 0) + n
    return Counts(total, False, counts)


def count(session: Session, statement: Select[Any], *, limit: int | None = None) -> int:
    """Count the rows a select over Submission returns, or stop at ``limit`` + 1."""
    statement = statement.with_only_columns(Submission.id).order_by(None)
    if limit is not None:
        statement = statement.limit(limit + 1)
    return session.scalar(select(func.count()).select_from(statement.subquery()))


@dataclass(frozen=True)
class Reporters:
    """Who raised a need: distinct residents (merged duplicates included) and their communities."""

    count: int
    communities: tuple[str, ...]
    submissions: int


def reporters(session: Session, primary_ids: Sequence[int]) -> dict[int, Reporters]:
    """Return, for each primary submission id, how many residents raised it and from where.

    A submission without a resident (a survey or staff entry) counts as one reporter.
    """
    if not primary_ids:
        return {}
    s = Submission
    wanted = set(primary_ids)
    rows = session.execute(
        select(s.id, s.merged_into_id, s.resident_id, Community.name)
        .outerjoin(Community, Community.id == s.community_id)
        .where(or_(s.id.in_(primary_ids), s.merged_into_id.in_(primary_ids)))
    ).all()
    people: dict[int, set[Any]] = {i: set() for i in primary_ids}
    places: dict[int, list[str]] = {i: [] for i in primary_ids}
    sizes: dict[int, int] = dict.fromkeys(primary_ids, 0)
    anonymous = 0
    for ident, merged_into_id, resident_id, community in rows:
        primary = ident if ident in wanted else merged_into_id
        sizes[primary] += 1
        if resident_id is None:
            anonymous += 1
            people[primary].add(("anonymous", anonymous))
        else:
            people[primary].add(resident_id)
        if community and community not in places[primary]:
            places[primary].append(community)
    return {i: Reporters(len(people[i]), tuple(sorted(places[i])), sizes[i]) for i in primary_ids}


def all_ids(session: Session, statement: Select[Any], limit: int) -> list[int]:
    """Return up to ``limit`` ids of a filtered select (for "select all matching")."""
    return list(
        session.scalars(
            statement.with_only_columns(Submission.id).order_by(Submission.id).limit(limit)
        )
    )


def communities(session: Session, *, active_only: bool = False) -> list[Community]:
    """Return communities in their configured order."""
    statement = select(Community).order_by(Community.position, Community.id)
    if active_only:
        statement = statement.where(Community.active.is_(True))
    return list(session.scalars(statement))


__all__ = [
    "COUNT_LIMIT",
    "Counts",
    "QueueFilters",
    "Reporters",
    "all_ids",
    "communities",
    "count",
    "dated",
    "encode_cursor",
    "facet_counts",
    "filtered",
    "ordered_page",
    "page",
    "reporters",
    "searching",
]
