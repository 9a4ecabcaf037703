"""The overview: what came in, from where, about what, how fast staff answered, and a map.

Leaders see their own community only (``visible_submissions``). Charts are inline SVG with a
table of the same numbers; the map is Leaflet (vendored) fed by a JSON data block.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import Blueprint, current_app, render_template, request, url_for
from sqlalchemy import Select, case, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from bot import logs
from bot.accounts import current_staff, role_required, visible_submissions
from bot.cache import TTLCache
from bot.db import get_session, session_factory
from bot.needs.classification import taxonomy
from bot.needs.statuses import STATUS_LABELS
from bot.staff.charts import bar_chart, line_chart
from bot.staff.queries import SOURCES, communities
from bot.staff.routing import division_figures
from bot.thai import BANGKOK, month_label, week_label
from storage.base import utcnow
from storage.models import Submission

logger = logging.getLogger(__name__)

bp = Blueprint("overview", __name__, url_prefix="/dashboard/overview")

PERIODS = {3: "3 เดือนล่าสุด", 6: "6 เดือนล่าสุด", 12: "12 เดือนล่าสุด", 0: "ทั้งหมด"}
WEEKS = 12
MONTHS = 12
MAP_LIMIT = 2000
# The overview's numbers are recomputed at most this often per scope and period (a few
# grouped scans of the whole table; on 200,000 rows they take about a second on SQLite).
DEFAULT_CACHE_SECONDS = 60.0
# How long past its minute a figure may still be shown while its successor is counted.
STALE_SECONDS = 15 * 60.0


def _cached(key: tuple[Any, ...], compute: Callable[[Session], Any]) -> Any:
    """Return ``compute(session)``, reusing a result younger than OVERVIEW_CACHE_SECONDS.

    An older one (up to STALE_SECONDS) is still shown while a thread of its own, with its own
    session, counts the new one (``bot.cache``): on a million needs the figures take seconds,
    and no visitor should wait for them once they have been counted.
    """
    ttl = float(current_app.config.get("OVERVIEW_CACHE_SECONDS", DEFAULT_CACHE_SECONDS))
    if ttl <= 0:
        return compute(get_session())
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    # One cache per app and lifetime (kept in app.extensions), so two apps never share it.
    caches: dict[float, TTLCache[Any]] = app.extensions.setdefault("ruamkid_overview_cache", {})
    cache = caches.get(ttl) or caches.setdefault(
        ttl, TTLCache(ttl, size=256, stale_seconds=STALE_SECONDS)
    )

    def in_background() -> Any:
        with app.app_context(), session_factory(app)() as session:
            return compute(session)

    return cache.get_or_refresh(
        repr(key), lambda: compute(get_session()), _spawn, background=in_background
    )


def _spawn(task: Callable[[], object]) -> None:
    def run() -> None:
        try:
            task()
        except Exception as exc:
            logger.error("overview figures not recounted:\n%s", logs.describe_error(exc))

    threading.Thread(target=run, name="ruamkid-overview", daemon=True).start()


@dataclass(frozen=True)
class Stats:
    """The overview's numbers for one user and period."""

    total: int
    unsure: int
    responded: int
    median_response: timedelta | None
    by_kind: list[tuple[str, int]]
    matrix: dict[tuple[str | None, int | None], int]

    @property
    def unsure_share(self) -> float | None:
        """The share of submissions the classifier was unsure about (0–1), None if none."""
        return self.unsure / self.total if self.total else None


def _local_day(session: Session):
    """Return a SQL expression for the Bangkok calendar day of ``created_at``."""
    if session.get_bind().dialect.name == "sqlite":
        return func.date(Submission.created_at, "+7 hours")
    return func.date(func.timezone("Asia/Bangkok", Submission.created_at))


def _seconds_to_first_response(session: Session):
    if session.get_bind().dialect.name == "sqlite":
        return (
            func.julianday(Submission.first_response_at) - func.julianday(Submission.created_at)
        ) * 86400.0
    return func.extract("epoch", Submission.first_response_at - Submission.created_at)


def compute_stats(session: Session, base: Select[Any]) -> Stats:
    """Count totals, the unsure share, kinds, strategy × community and the median response.

    One grouped scan gives every count; the median needs a second, sorted one.
    """
    grouped = session.execute(
        base.with_only_columns(
            Submission.strategy,
            Submission.community_id,
            Submission.kind,
            func.count(Submission.id),
            func.coalesce(func.sum(case((Submission.unsure.is_(True), 1), else_=0)), 0),
            func.count(Submission.first_response_at),
        ).group_by(Submission.strategy, Submission.community_id, Submission.kind)
    ).all()
    total = unsure = responded = 0
    kinds: dict[str, int] = {}
    matrix: dict[tuple[str | None, int | None], int] = {}
    for strategy, community, kind, n, n_unsure, n_responded in grouped:
        total += n
        unsure += int(n_unsure)
        responded += n_responded
        kinds[kind] = kinds.get(kind, 0) + n
        matrix[(strategy, community)] = matrix.get((strategy, community), 0) + n
    median = None
    if responded:
        seconds = _seconds_to_first_response(session)
        # The median without a percentile function (SQLite has none): the middle one or two.
        middle = session.scalars(
            base.where(Submission.first_response_at.is_not(None))
            .with_only_columns(seconds)
            .order_by(seconds)
            .offset((responded - 1) // 2)
            .limit(2 - responded % 2)
        ).all()
        # whole seconds: SQLite's julianday arithmetic is off by microseconds
        median = timedelta(seconds=round(sum(float(s) for s in middle) / len(middle)))
    return Stats(
        total=total,
        unsure=unsure,
        responded=responded,
        median_response=median,
        by_kind=sorted(kinds.items(), key=lambda item: (-item[1], item[0])),
        matrix=matrix,
    )


@dataclass(frozen=True)
class Closing:
    """How residents judged finished needs of one group: ratings and "ยังไม่เรียบร้อย"."""

    done: int  # needs marked done at least once
    rated: int
    rating_sum: int
    reopened: int  # done needs the resident said were not fixed (reopened or followed up)

    @property
    def average(self) -> float | None:
        """The mean rating (1–5), None when nobody rated."""
        return self.rating_sum / self.rated if self.rated else None

    @property
    def reopen_rate(self) -> float | None:
        """The share of done needs said to be not fixed (0–1), None when none was done."""
        return self.reopened / self.done if self.done else None


def closing_by(session: Session, base: Select[Any], group: Any) -> dict[Any, Closing]:
    """Return satisfaction and reopen rate per value of ``group``, a Submission column (the
    strategy or the division)."""
    follow_up = aliased(Submission)
    not_fixed = or_(
        Submission.reopen_count > 0,
        exists().where(follow_up.reopened_from_id == Submission.id),
    )
    rows = session.execute(
        base.where(Submission.done_at.is_not(None))
        .with_only_columns(
            group,
            func.count(Submission.id),
            func.count(Submission.rating),
            func.coalesce(func.sum(Submission.rating), 0),
            func.coalesce(func.sum(case((not_fixed, 1), else_=0)), 0),
        )
        .group_by(group)
    ).all()
    return {
        key: Closing(done=n, rated=rated, rating_sum=int(total), reopened=int(reopened))
        for key, n, rated, total, reopened in rows
    }


def source_counts(session: Session, base: Select[Any]) -> dict[str, int]:
    """Return needs per channel: LINE, survey, forum (ประชาคม), phone, paper, counter."""
    rows = session.execute(
        base.with_only_columns(Submission.source, func.count(Submission.id)).group_by(
            Submission.source
        )
    )
    return {source: n for source, n in rows}


def daily_counts(session: Session, base: Select[Any], since: date) -> dict[date, int]:
    """Return submissions per Bangkok calendar day from ``since`` on."""
    day = _local_day(session)
    start = datetime.combine(since, datetime.min.time(), tzinfo=BANGKOK)
    rows = session.execute(
        base.where(Submission.created_at >= start)
        .with_only_columns(day, func.count(Submission.id))
        .group_by(day)
    )
    out: dict[date, int] = {}
    for value, n in rows:
        if value is None:
            continue
        key = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
        out[key] = out.get(key, 0) + n
    return out


def weekly(days: dict[date, int], today: date, weeks: int = WEEKS) -> list[tuple[date, int]]:
    """Sum daily counts into the last ``weeks`` weeks (Monday to Sunday), oldest first."""
    this_monday = today - timedelta(days=today.weekday())
    starts = [this_monday - timedelta(weeks=i) for i in range(weeks - 1, -1, -1)]
    return [
        (start, sum(days.get(start + timedelta(days=d), 0) for d in range(7))) for start in starts
    ]


def monthly(days: dict[date, int], today: date, months: int = MONTHS) -> list[tuple[date, int]]:
    """Sum daily counts into the last ``months`` calendar months, oldest first."""
    firsts: list[date] = []
    year, month = today.year, today.month
    for _ in range(months):
        firsts.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    firsts.reverse()
    totals = dict.fromkeys(firsts, 0)
    for day, n in days.items():
        key = date(day.year, day.month, 1)
        if key in totals:
            totals[key] += n
    return list(totals.items())


def duration_label(value: timedelta | None) -> str:
    """Return a duration in Thai, e.g. "1 วัน 3 ชั่วโมง" or "45 นาที"."""
    if value is None:
        return "–"
    minutes = int(value.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} วัน {hours} ชั่วโมง" if hours else f"{days} วัน"
    if hours:
        return f"{hours} ชั่วโมง {mins} นาที" if mins else f"{hours} ชั่วโมง"
    return f"{mins} นาที"


def heat_class(value: int, top: int) -> str:
    """Return the heat-map class (heat-0 … heat-5) of a cell."""
    if value <= 0 or top <= 0:
        return "heat-0"
    return f"heat-{min(5, 1 + int(4 * value / top + 0.5))}"


def map_points(session: Session, base: Select[Any]) -> list[tuple[int, float, float, str, str]]:
    """Return the newest MAP_LIMIT located needs: id, latitude, longitude, number, status."""
    rows = session.execute(
        base.where(Submission.latitude.is_not(None), Submission.longitude.is_not(None))
        .with_only_columns(
            Submission.id,
            Submission.tracking_no,
            Submission.status,
            Submission.latitude,
            Submission.longitude,
        )
        .order_by(Submission.id.desc())
        .limit(MAP_LIMIT)
    )
    return [
        (ident, lat, lng, tracking_no or "", STATUS_LABELS.get(status, status))
        for ident, tracking_no, status, lat, lng in rows
    ]


@bp.get("/")
@role_required()
def index() -> str:
    """Show counts, trends, the unsure share, response time and the map."""
    session = get_session()
    user = current_staff()
    try:
        months = int(request.args.get("months", "12"))
    except ValueError:
        months = 12
    if months not in PERIODS:
        months = 12
    base = visible_submissions(select(Submission), user)
    period = base
    if months:
        period = base.where(Submission.created_at >= utcnow() - timedelta(days=months * 30.44))
    scope = ("leader", user.community_id) if user.role == "leader" else ("all",)
    stats = _cached(("stats", scope, months), lambda db: compute_stats(db, period))

    tax = taxonomy()
    today = utcnow().astimezone(BANGKOK).date()
    first_month = monthly({}, today)[0][0]
    first_week = weekly({}, today)[0][0]
    since = min(first_month, first_week)
    days = _cached(("days", scope, since), lambda db: daily_counts(db, base, since))
    weeks = weekly(days, today)
    month_rows = monthly(days, today)

    all_communities = communities(session)
    if user.role == "leader":
        all_communities = [c for c in all_communities if c.id == user.community_id]
    strategy_rows = [(s.code, s.name) for s in tax.strategies]
    if any(key[0] is None for key in stats.matrix):
        strategy_rows.append((None, "ยังไม่จัดยุทธศาสตร์"))
    community_cols: list[tuple[int | None, str]] = [(c.id, c.name) for c in all_communities]
    if any(key[1] is None for key in stats.matrix) and user.role != "leader":
        community_cols.append((None, "ไม่ระบุชุมชน"))
    top_cell = max(stats.matrix.values(), default=0)
    by_strategy = [
        (f"{code or ''} {name}".strip(), sum(n for (s, _c), n in stats.matrix.items() if s == code))
        for code, name in strategy_rows
    ]
    kinds = {k.code: k.name for k in tax.kinds}
    by_kind = [(kinds.get(code, code), n) for code, n in stats.by_kind]

    # Every figure below reads the whole period: each is kept like the stats above.
    # A detail link per point, built from one (url_for 2,000 times costs more than the page).
    detail_url = url_for("queue.detail", submission_id=0).removesuffix("0")
    points = [
        {"lat": lat, "lng": lng, "no": no, "status": status, "url": f"{detail_url}{ident}"}
        for ident, lat, lng, no, status in _cached(
            ("points", scope), lambda db: map_points(db, base)
        )
    ]
    closing = _cached(
        ("closing", scope, months), lambda db: closing_by(db, period, Submission.strategy)
    )
    closing_rows = [(code, name, closing[code]) for code, name in strategy_rows if code in closing]
    division_closing = _cached(
        ("division closing", scope, months),
        lambda db: closing_by(db, period, Submission.division_id),
    )
    sources = _cached(("sources", scope, months), lambda db: source_counts(db, period))
    return render_template(
        "overview/index.html",
        closing_rows=closing_rows,
        division_closing=division_closing,
        source_rows=[(label, sources[code]) for code, label in SOURCES.items() if code in sources],
        months=months,
        periods=PERIODS,
        stats=stats,
        strategy_rows=strategy_rows,
        community_cols=community_cols,
        heat_class=heat_class,
        top_cell=top_cell,
        by_strategy=by_strategy,
        by_kind=by_kind,
        strategy_chart=bar_chart(
            by_strategy, title="จำนวนเรื่องตามยุทธศาสตร์", chart_id="chart-strategy"
        ),
        kind_chart=bar_chart(by_kind, title="จำนวนเรื่องตามประเภท", chart_id="chart-kind"),
        week_rows=[(week_label(d), n) for d, n in weeks],
        month_rows=[(month_label(d), month_label(d, long=True), n) for d, n in month_rows],
        week_chart=line_chart(
            [(week_label(d), n) for d, n in weeks],
            title="จำนวนเรื่องรายสัปดาห์ (12 สัปดาห์ล่าสุด)",
            chart_id="chart-week",
        ),
        month_chart=line_chart(
            [(month_label(d), n) for d, n in month_rows],
            title="จำนวนเรื่องรายเดือน (12 เดือนล่าสุด)",
            chart_id="chart-month",
        ),
        median_label=duration_label(stats.median_response),
        points=points,
        tile_url=current_app.config.get("TILE_URL") or "",
        map_limit=MAP_LIMIT,
        divisions=_cached(("divisions", scope, months), lambda db: division_figures(db, period)),
    )
