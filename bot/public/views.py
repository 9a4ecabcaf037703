"""The public pages: needs (map, list, filters, counts), tracking, projects, strategies and the
plan's follow-up report. Read-only; nothing personal (see ``storage.public``)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from sqlalchemy import select
from werkzeug.security import safe_join
from werkzeug.wrappers import Response

from bot.config import tile_origin
from bot.db import get_session
from bot.needs.classification import taxonomy
from bot.needs.statuses import STATUS_LABELS
from bot.public import EXTENSION
from bot.staff.exports.follow_up import follow_up_xlsx
from storage import plan as store
from storage import public
from storage.models import Community

logger = logging.getLogger(__name__)

bp = Blueprint("public", __name__, url_prefix="/public")

PAGE_SIZE = 50
MAX_PAGE = 200
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- the edges: limit, cache, headers ------------------------------------------------------


@bp.errorhandler(429)
def _too_many(_error: Exception) -> Response:
    """Answer an address over ``PUBLIC_RATE_LIMIT`` (bot.ratelimit) in Thai; Flask-Limiter
    adds ``Retry-After``."""
    return Response(
        "มีการเรียกหน้านี้บ่อยเกินไป กรุณารอสักครู่แล้วลองใหม่",
        status=429,
        content_type="text/plain; charset=utf-8",
    )


@bp.after_request
def _headers(response: Response) -> Response:
    """Public, cacheable, with an ETag; a strict CSP that lets the map's tiles in."""
    if response.status_code == 200:
        response.headers.setdefault("Cache-Control", f"public, max-age={_max_age()}")
        if not response.direct_passthrough:
            response.add_etag()
        response.make_conditional(request)
    tiles = tile_origin(current_app.config.get("TILE_URL") or "")
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        f"img-src 'self' data:{(' ' + tiles) if tiles else ''}; object-src 'none'; "
        "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )
    return response


def _max_age() -> int:
    return max(0, int(float(current_app.config["PUBLIC_CACHE_SECONDS"])))


def _cached(render: Callable[[], str]) -> str:
    """Return the page for this exact URL from the process's cache; one thread renders it when
    missing or expired (the others wait, or get the expired page for a while: see
    ``bot.cache``)."""
    pages = current_app.extensions[EXTENSION]["pages"]
    return pages.get_or_compute(request.full_path, render)


def tally() -> public.PublicTally:
    """Return the tally of public needs, kept like the pages: every list, filter and page
    derives its counts from it, so the table is counted once per process per
    ``PUBLIC_CACHE_SECONDS`` instead of three times per filter."""
    cache = current_app.extensions[EXTENSION]["counts"]
    return cache.get_or_compute("tally", lambda: public.public_tally(get_session()))


def _counts(filters: dict[str, Any]) -> public.PublicCounts:
    """Return the counts for these filters (strategy, status, community), from the tally."""
    return tally().counts(**filters)


# --- shared values -------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """The list's filters as read from the query string (bad values are ignored)."""

    strategy: str | None
    status: str | None
    community: int | None
    page: int

    @classmethod
    def from_args(cls, args: Any, communities: dict[int, str]) -> Filters:
        """Read and check the filters; unknown values count as no filter."""
        tax = taxonomy()
        strategy = (args.get("strategy") or "").strip()
        status = (args.get("status") or "").strip()
        community = (args.get("community") or "").strip()
        page = (args.get("page") or "").strip()
        return cls(
            strategy=strategy if strategy in tax.strategy_codes else None,
            status=status if status in STATUS_LABELS else None,
            community=int(community)
            if community.isdigit() and int(community) in communities
            else None,
            page=min(int(page), MAX_PAGE) if page.isdigit() and int(page) >= 1 else 1,
        )

    def query(self, **changes: Any) -> dict[str, Any]:
        """Return the filters as URL arguments, with ``changes`` applied."""
        values = {
            "strategy": self.strategy,
            "status": self.status,
            "community": self.community,
            "page": self.page if self.page > 1 else None,
        } | changes
        return {k: v for k, v in values.items() if v not in (None, "")}


def _names() -> dict[str, str]:
    tax = taxonomy()
    names = {s.code: s.name for s in tax.strategies}
    names.update({sub.code: sub.name for s in tax.strategies for sub in s.subareas})
    return names


def _communities() -> list[Community]:
    return list(
        get_session().scalars(
            select(Community).where(Community.active.is_(True)).order_by(Community.position)
        )
    )


def _common() -> dict[str, Any]:
    tax = taxonomy()
    return {
        "names": _names(),
        "taxonomy": tax,
        "top_label": tax.plan.top_label,
        "sub_label": tax.plan.sub_label,
        "STATUS_LABELS": STATUS_LABELS,
        "EXECUTION": store.EXECUTION,
        "municipality": current_app.extensions["ruamkid"],
    }


def _map_data(
    communities: list[Community], counts: dict[str, int], needs: list[public.PublicNeed]
) -> str:
    """The map's data block: communities (centre and count) and the listed needs' cells."""
    data = {
        "communities": [
            {"name": c.name, "lat": c.latitude, "lng": c.longitude, "n": counts.get(c.name, 0)}
            for c in communities
            if c.latitude is not None and c.longitude is not None
        ],
        "points": [
            {
                "no": n.tracking,
                "lat": n.latitude,
                "lng": n.longitude,
                "status": STATUS_LABELS.get(n.status, n.status),
                "url": url_for("public.track", tracking=n.tracking),
            }
            for n in needs
            if n.latitude is not None and n.longitude is not None
        ],
    }
    # Safe inside <script type="application/json">: no "</" can close the element.
    return json.dumps(data, ensure_ascii=False).replace("</", "<\\/")


# --- pages ---------------------------------------------------------------------------------


@bp.get("/")
def index() -> str:
    """Show needs by strategy, status and community: counts, a map and a list with filters."""

    def render() -> str:
        session = get_session()
        communities = _communities()
        filters = Filters.from_args(request.args, {c.id: c.name for c in communities})
        selected = {
            "strategy": filters.strategy,
            "status": filters.status,
            "community": filters.community,
        }
        counts = _counts(selected)
        needs = public.public_needs(
            session, **selected, limit=PAGE_SIZE, offset=(filters.page - 1) * PAGE_SIZE
        )
        return render_template(
            "public/index.html",
            filters=filters,
            counts=counts,
            needs=needs,
            communities=communities,
            has_next=filters.page * PAGE_SIZE < counts.total and filters.page < MAX_PAGE,
            map_data=_map_data(communities, counts.by_community, needs),
            tile_url=current_app.config.get("TILE_URL") or "",
            **_common(),
        )

    return _cached(render)


@bp.get("/track")
def track_form() -> str | Response:
    """Ask for a tracking number, or send to its page."""
    number = (request.args.get("no") or "").strip()[:32]
    if number:
        return redirect(url_for("public.track", tracking=number.upper()))
    return render_template("public/track_form.html", **_common())


@bp.get("/track/<tracking>")
def track(tracking: str) -> tuple[str, int] | str:
    """Show one need's status timeline by its tracking number; nothing personal."""
    session = get_session()
    need = public.public_need(session, tracking[:32])
    if need is None:
        return render_template("public/track_form.html", missing=tracking[:32], **_common()), 404
    steps = public.public_timeline(session, tracking[:32])
    projects = store.projects_of_tracking(session, need.tracking)
    return render_template(
        "public/track.html", need=need, steps=steps, projects=projects, **_common()
    )


@bp.get("/projects")
def projects() -> str:
    """List the plan's projects with their stage, progress, budget and who is behind them."""

    def render() -> str:
        session = get_session()
        strategy = (request.args.get("strategy") or "").strip()
        if strategy not in taxonomy().strategy_codes:
            strategy = ""
        items = store.list_projects(session, strategy=strategy or None)
        backing = store.backing(session, [p.id for p in items])
        return render_template(
            "public/projects.html",
            projects=items,
            backing=backing,
            strategy=strategy,
            years=tuple(taxonomy().plan.years),
            **_common(),
        )

    return _cached(render)


@bp.get("/projects/<int:project_id>")
def project(project_id: int) -> str:
    """Show one project: stage, progress, milestones, budget, residents and communities."""

    def render() -> str:
        session = get_session()
        item = store.get_project(session, project_id) or abort(404)
        summary = store.need_summary(session, item)
        return render_template(
            "public/project.html",
            project=item,
            residents=summary.residents,
            communities=summary.communities,
            years=tuple(taxonomy().plan.years),
            total=sum((b.amount for b in item.budgets), Decimal("0")),
            **_common(),
        )

    return _cached(render)


@bp.get("/projects/<int:project_id>/milestones/<int:milestone_id>/photo")
def milestone_photo(project_id: int, milestone_id: int) -> Response:
    """Serve a milestone's photo (staff's photo of the work, re-encoded without metadata)."""
    milestone = store.get_milestone(get_session(), project_id, milestone_id)
    if milestone is None or not milestone.photo_path:
        abort(404)
    root = Path(current_app.config["MEDIA_DIR"]).resolve()
    path = safe_join(str(root), milestone.photo_path)
    if path is None or not Path(path).is_file():
        abort(404)
    return send_file(path, mimetype=milestone.photo_type or "image/jpeg", conditional=True)


@bp.get("/strategies/<code>")
def strategy(code: str) -> str:
    """Show one strategy: its needs per sub-area and status, and its projects."""
    tax = taxonomy()
    if code not in tax.strategy_codes:
        abort(404)

    def render() -> str:
        session = get_session()
        counted = tally()
        counts = counted.counts(strategy=code, status=None, community=None)
        per_subarea = {
            sub.code: counted.counts(strategy=code, subarea=sub.code).total
            for sub in tax.strategy(code).subareas
        }
        items = store.list_projects(session, strategy=code)
        return render_template(
            "public/strategy.html",
            strategy=tax.strategy(code),
            counts=counts,
            per_subarea=per_subarea,
            projects=items,
            backing=store.backing(session, [p.id for p in items]),
            **_common(),
        )

    return _cached(render)


@bp.get("/follow-up")
def follow_up() -> str:
    """Show the plan's follow-up (การติดตามและประเมินผลแผน) per strategy and year."""

    def render() -> str:
        rows = store.follow_up(get_session())
        return render_template("public/follow_up.html", rows=rows, **_common())

    return _cached(render)


@bp.get("/follow-up.xlsx")
def follow_up_file() -> Response:
    """Download the follow-up report as XLSX."""
    session = get_session()
    workbook = follow_up_xlsx(
        store.follow_up(session), _names(), current_app.extensions["ruamkid"].name
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    return send_file(buffer, mimetype=XLSX, as_attachment=True, download_name="follow-up.xlsx")
