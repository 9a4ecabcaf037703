"""Downloads: the plan's forms ผ.01 and ผ.02 (XLSX), and submissions as CSV or XLSX.

Submission exports honour the queue's filters (same query string, same
``QueueFilters``/``filtered``) and what the user may see: a leader gets only their community.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

import nlp
from bot.accounts import audit, current_staff, role_required, visible_submissions
from bot.db import get_session, session_factory
from bot.needs.statuses import STATUS_LABELS
from bot.staff import queries
from bot.staff.exports import (
    PlanOutline,
    PlanRow,
    build_p01,
    build_p02,
    iter_submissions_csv,
)
from bot.staff.exports import (
    submissions_xlsx as build_submissions_xlsx,
)
from storage import plan as store
from storage.models import Community, Media, Submission

logger = logging.getLogger(__name__)

bp = Blueprint("exports", __name__, url_prefix="/dashboard/exports")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# An XLSX is built in memory; bigger selections go to CSV, which streams.
XLSX_MAX_ROWS = 20_000
BATCH = 1000


def plan_outline(edition: str = "original") -> PlanOutline:
    """Return the forms' frame from the taxonomy and the municipality's settings."""
    tax = nlp.taxonomy()
    municipality = current_app.extensions["ruamkid"]
    return PlanOutline(
        organisation=municipality.name,
        years=tuple(tax.plan.years),
        strategies=tuple((s.code, s.name) for s in tax.strategies),
        subareas={sub.code: sub.name for s in tax.strategies for sub in s.subareas},
        programmes={s.code: tuple(s.programmes) for s in tax.strategies},
        plan_name=tax.plan.name,
        top_label=tax.plan.top_label,
        sub_label=tax.plan.sub_label,
        edition="" if edition == "original" else store.edition_label(edition),
    )


def plan_rows(session: Session, edition: str) -> list[PlanRow]:
    """Return the projects of one plan edition as plain rows for the form builders."""
    return [
        PlanRow(
            strategy=p.strategy,
            subarea=p.subarea,
            programme=p.programme,
            name=p.name,
            objective=p.objective,
            target=p.target,
            kpi=p.kpi,
            expected_result=p.expected_result,
            division=p.division,
            origin=p.origin,
            budgets={b.year: b.amount for b in p.budgets},
            reason=p.reason,
        )
        for p in store.list_projects(session, edition=edition)
    ]


def _edition_arg() -> str:
    edition = (request.args.get("edition") or "original").strip()[:16]
    try:
        store.parse_edition(edition)
    except ValueError:
        return "original"
    return edition


def _xlsx_response(wb: Workbook, filename: str) -> Response:
    buffer = io.BytesIO()
    wb.save(buffer)
    buffer.seek(0)
    response = send_file(buffer, mimetype=XLSX, as_attachment=True, download_name=filename)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/")
@role_required()
def index() -> str:
    """Show the export buttons (plan forms for staff; submissions for everyone)."""
    session = get_session()
    user = current_staff()
    filters = queries.QueueFilters.from_args(request.args)
    statement = visible_submissions(queries.filtered(select(Submission), filters), user)
    editions = store.editions_in_use(session) if user.role != "leader" else []
    if "original" not in editions:
        editions.insert(0, "original")
    return render_template(
        "exports/index.html",
        filters=filters,
        matching=queries.count(session, statement),
        editions=editions,
        edition_label=store.edition_label,
        years=tuple(nlp.taxonomy().plan.years),
        xlsx_max=XLSX_MAX_ROWS,
    )


@bp.get("/p01.xlsx")
@role_required("admin", "staff")
def p01() -> Response:
    """Download ผ.01 บัญชีสรุปโครงการพัฒนา."""
    edition = _edition_arg()
    outline = plan_outline(edition)
    wb = build_p01(plan_rows(get_session(), edition), outline)
    audit("export.p01", edition=edition)
    get_session().commit()
    return _xlsx_response(wb, f"ผ01-{_years(outline)}{_edition_suffix(edition)}.xlsx")


@bp.get("/p02.xlsx")
@role_required("admin", "staff")
def p02() -> Response:
    """Download ผ.02 รายละเอียดโครงการพัฒนา with ผ.02/1 and ผ.02/2 sheets."""
    edition = _edition_arg()
    outline = plan_outline(edition)
    wb = build_p02(plan_rows(get_session(), edition), outline, amendment=edition != "original")
    audit("export.p02", edition=edition)
    get_session().commit()
    return _xlsx_response(wb, f"ผ02-{_years(outline)}{_edition_suffix(edition)}.xlsx")


def _years(outline: PlanOutline) -> str:
    return f"{min(outline.years)}-{max(outline.years)}"


def _edition_suffix(edition: str) -> str:
    return "" if edition == "original" else "-" + edition.replace(":", "")


# --- submissions ------------------------------------------------------------------------------


def _statement():
    filters = queries.QueueFilters.from_args(request.args)
    statement = visible_submissions(queries.filtered(select(Submission), filters), current_staff())
    return filters, statement


def submission_rows(session: Session, statement) -> Iterator[dict[str, Any]]:
    """Yield export rows for a filtered select, newest first, a thousand at a time."""
    tax = nlp.taxonomy()
    names = {s.code: f"{s.code} {s.name}" for s in tax.strategies}
    names.update({sub.code: f"{sub.code} {sub.name}" for s in tax.strategies for sub in s.subareas})
    kinds = {k.code: k.name for k in tax.kinds}
    communities = dict(session.execute(select(Community.id, Community.name)).all())
    last_id: int | None = None
    while True:
        page = statement.order_by(Submission.id.desc()).limit(BATCH)
        if last_id is not None:
            page = page.where(Submission.id < last_id)
        batch = list(session.scalars(page))
        if not batch:
            return
        ids = [s.id for s in batch]
        reporters = queries.reporters(session, ids)
        projects = store.project_names_by_submission(session, ids)
        with_photo = set(
            session.scalars(select(Media.submission_id).where(Media.submission_id.in_(ids)))
        )
        for s in batch:
            yield {
                "tracking_no": s.tracking_no,
                "created_at": s.created_at,
                "community": communities.get(s.community_id, ""),
                "strategy": names.get(s.strategy or "", s.strategy or ""),
                "subarea": names.get(s.subarea or "", s.subarea or ""),
                "kind": kinds.get(s.kind, s.kind),
                "status": STATUS_LABELS.get(s.status, s.status),
                "text": s.text if s.text is not None else "",
                "has_photo": s.id in with_photo,
                "location": (
                    f"{s.latitude:.6f}, {s.longitude:.6f}"
                    if s.latitude is not None and s.longitude is not None
                    else ""
                ),
                "residents": reporters[s.id].count if s.id in reporters else 1,
                "projects": projects.get(s.id, []),
            }
        session.expunge_all()
        last_id = ids[-1]
        if len(batch) < BATCH:
            return


@bp.get("/submissions.csv")
@role_required()
def submissions_csv() -> Response:
    """Download the queue's current selection as CSV (UTF-8 with BOM for Excel)."""
    session = get_session()
    filters, statement = _statement()
    audit("export.submissions_csv", filters=filters.to_args())
    session.commit()
    factory = session_factory()

    def body() -> Iterator[bytes]:
        # Its own session, closed when the stream ends or the client goes away, so a slow
        # download never keeps the request's transaction open.
        with factory() as stream_session:
            yield from iter_submissions_csv(submission_rows(stream_session, statement))

    response = Response(body(), mimetype="text/csv")
    response.headers["Content-Disposition"] = "attachment; filename=submissions.csv"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/submissions.xlsx")
@role_required()
def submissions_xlsx() -> Response:
    """Download the queue's current selection as XLSX (up to XLSX_MAX_ROWS rows)."""
    session = get_session()
    filters, statement = _statement()
    total = queries.count(session, statement)
    if total > XLSX_MAX_ROWS:
        flash(
            f"รายการมี {total:,} เรื่อง เกิน {XLSX_MAX_ROWS:,} เรื่องที่ไฟล์ Excel รองรับ "
            "กรุณากรองให้น้อยลงหรือดาวน์โหลดเป็น CSV",
            "warning",
        )
        return redirect(url_for("exports.index", **filters.to_args()))
    audit("export.submissions_xlsx", filters=filters.to_args(), rows=total)
    session.commit()
    municipality = current_app.extensions["ruamkid"]
    wb = build_submissions_xlsx(
        submission_rows(session, statement), title=f"รายการเรื่องจากประชาชน · {municipality.name}"
    )
    return _xlsx_response(wb, "submissions.xlsx")
