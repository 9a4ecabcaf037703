"""Downloads: the plan's forms ผ.01 and ผ.02 (XLSX), and submissions as CSV or XLSX.

Submission exports honour the queue's filters (same query string, same
``QueueFilters``/``filtered``) and what the user may see: a leader gets only their community.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

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

from bot.accounts import audit, current_staff, role_required, visible_submissions
from bot.db import get_session, session_factory
from bot.needs.classification import taxonomy
from bot.staff import queries
from bot.staff.exports.plan import PlanOutline, build_p01, build_p02, plan_outline, plan_rows
from bot.staff.exports.submissions import iter_submissions_csv, submission_rows
from bot.staff.exports.submissions import submissions_xlsx as build_submissions_xlsx
from storage import plan as store
from storage.models import Submission

logger = logging.getLogger(__name__)

bp = Blueprint("exports", __name__, url_prefix="/dashboard/exports")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# An XLSX is built in memory; bigger selections go to CSV, which streams.
XLSX_MAX_ROWS = 20_000


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
    filters = queries.QueueFilters.from_args(request.args, user)
    statement = visible_submissions(queries.filtered(select(Submission), filters), user)
    editions = store.editions_in_use(session) if user.role != "leader" else []
    limit = int(current_app.config["DASHBOARD_COUNT_LIMIT"])
    if "original" not in editions:
        editions.insert(0, "original")
    return render_template(
        "exports/index.html",
        filters=filters,
        matching=queries.count(session, statement, limit=limit),
        matching_limit=limit,
        editions=editions,
        edition_label=store.edition_label,
        years=tuple(taxonomy().plan.years),
        xlsx_max=XLSX_MAX_ROWS,
    )


@bp.get("/p01.xlsx")
@role_required("admin", "staff")
def p01() -> Response:
    """Download ผ.01 บัญชีสรุปโครงการพัฒนา."""
    edition = _edition_arg()
    outline = _outline(edition)
    wb = build_p01(plan_rows(get_session(), edition), outline)
    audit("export.p01", edition=edition)
    get_session().commit()
    return _xlsx_response(wb, f"ผ01-{_years(outline)}{_edition_suffix(edition)}.xlsx")


@bp.get("/p02.xlsx")
@role_required("admin", "staff")
def p02() -> Response:
    """Download ผ.02 รายละเอียดโครงการพัฒนา with ผ.02/1 and ผ.02/2 sheets."""
    edition = _edition_arg()
    outline = _outline(edition)
    wb = build_p02(plan_rows(get_session(), edition), outline, amendment=edition != "original")
    audit("export.p02", edition=edition)
    get_session().commit()
    return _xlsx_response(wb, f"ผ02-{_years(outline)}{_edition_suffix(edition)}.xlsx")


def _outline(edition: str) -> PlanOutline:
    return plan_outline(taxonomy(), current_app.extensions["ruamkid"].name, edition)


def _years(outline: PlanOutline) -> str:
    return f"{min(outline.years)}-{max(outline.years)}"


def _edition_suffix(edition: str) -> str:
    return "" if edition == "original" else "-" + edition.replace(":", "")


# --- submissions ------------------------------------------------------------------------------


def _statement():
    filters = queries.QueueFilters.from_args(request.args, current_staff())
    statement = visible_submissions(queries.filtered(select(Submission), filters), current_staff())
    return filters, statement


@bp.get("/submissions.csv")
@role_required()
def submissions_csv() -> Response:
    """Download the queue's current selection as CSV (UTF-8 with BOM for Excel)."""
    session = get_session()
    filters, statement = _statement()
    audit("export.submissions_csv", filters=filters.for_audit())
    session.commit()
    factory = session_factory()
    plan = taxonomy()

    def body() -> Iterator[bytes]:
        # Its own session, closed when the stream ends or the client goes away, so a slow
        # download never keeps the request's transaction open.
        with factory() as stream_session:
            yield from iter_submissions_csv(submission_rows(stream_session, statement, plan))

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
    total = queries.count(session, statement, limit=XLSX_MAX_ROWS)
    if total > XLSX_MAX_ROWS:
        flash(
            f"รายการมีมากกว่า {XLSX_MAX_ROWS:,} เรื่องที่ไฟล์ Excel รองรับ "
            "กรุณากรองให้น้อยลงหรือดาวน์โหลดเป็น CSV",
            "warning",
        )
        return redirect(url_for("exports.index", **filters.to_args()))
    audit("export.submissions_xlsx", filters=filters.for_audit(), rows=total)
    session.commit()
    municipality = current_app.extensions["ruamkid"]
    wb = build_submissions_xlsx(
        submission_rows(session, statement, taxonomy()),
        title=f"รายการเรื่องจากประชาชน · {municipality.name}",
    )
    return _xlsx_response(wb, "submissions.xlsx")
