"""The queue of submissions, the detail page, triage, merging and bulk actions.

Other modules add bulk actions with :func:`register_bulk_action` (the plan's "link to a
project" does), and reuse ``bot.staff.queries`` for the same filters.
"""

from __future__ import annotations

import logging
import mimetypes
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from werkzeug.security import safe_join
from werkzeug.wrappers import Response

from bot.accounts import (
    StaffUser,
    audit,
    can_see,
    current_staff,
    role_required,
    visible_submissions,
)
from bot.db import get_session
from bot.needs import actions
from bot.needs.classification import taxonomy
from bot.needs.statuses import NEEDS_DETAIL, STATUS_LABELS
from bot.staff import closing, duplicates, queries, uploads
from bot.wording import current_wording
from storage import routing
from storage.models import Media, Submission, SubmissionEvent
from storage.staff import User

logger = logging.getLogger(__name__)

bp = Blueprint("queue", __name__, url_prefix="/dashboard")

TRIAGE_ROLES = ("admin", "staff")
# "Select all matching" acts on at most this many submissions at once.
BULK_LIMIT = 1000
MAX_NOTE = 1000


@dataclass(frozen=True)
class BulkAction:
    """An action on many submissions, offered under the queue's checkboxes.

    ``handler(session, submissions, form, user)`` changes them and returns a Thai summary for
    the flash message (the view commits). ``fields_template`` is an optional template with the
    action's own inputs (e.g. a project picker), rendered inside the bulk form.
    """

    name: str
    label: str
    handler: Callable[[Session, list[Submission], Any, StaffUser], str]
    fields_template: str | None = None
    roles: tuple[str, ...] = TRIAGE_ROLES


EXTENSION = "ruamkid_queue"


@dataclass
class _Extras:
    """What other parts add to this app's queue: bulk actions, and templates shown in the detail
    page's side column with ``s`` (the submission) in their context."""

    bulk_actions: dict[str, BulkAction] = field(default_factory=dict)
    detail_panels: list[str] = field(default_factory=list)


def init_app(app: Flask) -> None:
    """Give ``app`` its queue's extras, starting with the queue's own bulk status change."""
    app.extensions[EXTENSION] = _Extras()
    register_bulk_action(app, BulkAction("status", "เปลี่ยนสถานะ", _bulk_status))


def register_bulk_action(app: Flask, action: BulkAction) -> None:
    """Offer ``action`` in the queue's bulk form of ``app``."""
    _extras(app).bulk_actions[action.name] = action


def register_detail_panel(app: Flask, template: str) -> None:
    """Show ``template`` in every detail page's side column (once, whatever the call count)."""
    panels = _extras(app).detail_panels
    if template not in panels:
        panels.append(template)


def _extras(app: Flask | None = None) -> _Extras:
    return (app or current_app).extensions[EXTENSION]


# --- helpers -------------------------------------------------------------------------------


def _labels() -> dict[str, Any]:
    """Thai names of strategies, sub-areas and kinds for the templates."""
    tax = taxonomy()
    strategies = {s.code: s.name for s in tax.strategies}
    subareas = {sub.code: sub.name for s in tax.strategies for sub in s.subareas}
    kinds = {k.code: k.name for k in tax.kinds}
    return {
        "taxonomy": tax,
        "strategy_names": strategies,
        "subarea_names": subareas,
        "kind_names": kinds,
        "top_label": tax.plan.top_label,
        "sub_label": tax.plan.sub_label,
    }


def _load_visible(submission_id: int) -> Submission:
    """Return the submission if the user may see it; 404 otherwise (ids are not confirmed)."""
    submission = get_session().get(Submission, submission_id)
    if submission is None or not can_see(current_staff(), submission):
        abort(404)
    return submission


def _note(name: str) -> str:
    return (request.form.get(name) or "").strip()[:MAX_NOTE]


def _detail_url(submission: Submission, anchor: str = "") -> str:
    return url_for("queue.detail", submission_id=submission.id) + (f"#{anchor}" if anchor else "")


def _find_submission(session: Session, ref: str) -> Submission | None:
    """Find a submission by tracking number or id, as staff type it."""
    ref = (ref or "").strip()
    if not ref:
        return None
    if ref.isdigit():
        return session.get(Submission, int(ref))
    return session.scalar(select(Submission).where(Submission.tracking_no == ref.upper()))


# --- pages ---------------------------------------------------------------------------------


@bp.get("/")
@role_required()
def home() -> Response:
    """Send staff to the overview, leaders to the queue."""
    if not current_staff().is_leader:
        return redirect(url_for("overview.index"))
    return redirect(url_for("queue.index"))


@bp.get("/submissions")
@role_required()
def index() -> str:
    """List submissions with filters, search, counts per value and keyset pagination."""
    session = get_session()
    user = current_staff()
    filters = queries.QueueFilters.from_args(request.args, user)
    for error in filters.errors:
        flash(error, "warning")
    filters = queries.searching(session, filters)
    base = visible_submissions(select(Submission), user)
    statement = queries.filtered(base, filters)
    size = int(current_app.config["DASHBOARD_PAGE_SIZE"])
    cursor = request.args.get("after")
    rows, next_cursor = queries.page(
        session,
        statement.options(selectinload(Submission.community), selectinload(Submission.media)),
        filters.sort,
        cursor,
        size,
        by_date=queries.dated(filters),
    )
    count_limit = int(current_app.config["DASHBOARD_COUNT_LIMIT"])
    counts = queries.facet_counts(
        session,
        base,
        filters,
        limit=count_limit,
        budget_ms=int(current_app.config["DASHBOARD_COUNT_BUDGET_MS"]),
    )
    reporters = queries.reporters(session, [r.id for r in rows])
    allowed_actions = [a for a in _extras().bulk_actions.values() if user.role in a.roles]
    return render_template(
        "dashboard/queue.html",
        rows=rows,
        counts=counts,
        counts_limit=count_limit,
        filters=filters,
        next_cursor=next_cursor,
        first_page=not cursor,
        reporters=reporters,
        communities=queries.communities(session),
        sorts=queries.SORTS,
        sources=queries.SOURCES,
        bulk_actions=allowed_actions,
        bulk_limit=BULK_LIMIT,
        divisions=routing.list_divisions(session),
        division_labels=routing.division_names(session),
        **_labels(),
    )


@bp.get("/submissions/<int:submission_id>")
@role_required()
def detail(submission_id: int) -> str:
    """Show one submission: text, photos, map, classification, duplicates and history."""
    session = get_session()
    user = current_staff()
    submission = _load_visible(submission_id)
    suggestions = duplicates.suggest(
        session, submission, restrict=lambda s: visible_submissions(s, user)
    )
    merged = list(
        session.scalars(
            visible_submissions(
                select(Submission).where(Submission.merged_into_id == submission.id), user
            ).order_by(Submission.id)
        )
    )
    primary = (
        session.get(Submission, submission.merged_into_id) if submission.merged_into_id else None
    )
    if primary is not None and not can_see(user, primary):
        primary = None
    reporters = queries.reporters(session, [submission.id])[submission.id]
    return render_template(
        "dashboard/detail.html",
        s=submission,
        suggestions=suggestions,
        merged=merged,
        primary=primary,
        reporters=reporters,
        photos=[m for m in submission.media if m.status == "stored" and m.role != "after"],
        after_photos=[m for m in submission.media if m.status == "stored" and m.role == "after"],
        pending_photos=[m for m in submission.media if m.status != "stored"],
        reopened_from=session.get(Submission, submission.reopened_from_id)
        if submission.reopened_from_id
        else None,
        history=submission.history,
        needs_detail=NEEDS_DETAIL,
        tile_url=current_app.config.get("TILE_URL") or "",
        actor_names=_actor_names(session, submission.history),
        detail_panels=_extras().detail_panels,
        sources=queries.SOURCES,
        **_labels(),
    )


def _actor_names(session: Session, events: list[SubmissionEvent]) -> dict[str, str]:
    """Map ``user:<id>`` actors to display names for the history list."""
    ids = {int(e.actor.split(":", 1)[1]) for e in events if e.actor.startswith("user:")}
    ids |= {e.detail["assignee"]["to"] for e in events if e.action == "assign"} - {None}
    names = {"resident": "ผู้แจ้ง", "system": "ระบบ"}
    if ids:
        for user in session.scalars(select(User).where(User.id.in_(ids))):
            names[f"user:{user.id}"] = user.display_name or user.username
    return names


@bp.get("/media/<int:media_id>")
@role_required()
def media(media_id: int) -> Response:
    """Serve a stored photo to a signed-in user allowed to see its submission."""
    item = get_session().get(Media, media_id)
    if item is None or item.status != "stored" or not item.path:
        abort(404)
    if not can_see(current_staff(), item.submission):
        abort(404)
    root = current_app.config["MEDIA_DIR"]
    path = safe_join(root, item.path)
    if path is None or not Path(path).is_file():
        abort(404)
    content_type = item.content_type or mimetypes.guess_type(path)[0] or ""
    inline = content_type in {"image/jpeg", "image/png", "image/gif", "image/webp"}
    response = send_file(
        path,
        mimetype=content_type if inline else "application/octet-stream",
        as_attachment=not inline,
        download_name=Path(path).name,
        max_age=0,
        conditional=True,
    )
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# --- triage --------------------------------------------------------------------------------


@bp.post("/submissions/<int:submission_id>/classify")
@role_required(*TRIAGE_ROLES)
def classify(submission_id: int) -> Response:
    """Confirm or correct strategy, sub-area and kind; store it as a training label."""
    session = get_session()
    user = current_staff()
    submission = _load_visible(submission_id)
    tax = taxonomy()
    strategy = (request.form.get("strategy") or "").strip() or None
    subarea = (request.form.get("subarea") or "").strip() or None
    kind = (request.form.get("kind") or "").strip()
    if kind not in tax.kind_codes:
        flash("กรุณาเลือกประเภทเรื่อง", "error")
        return redirect(_detail_url(submission, "classify"))
    if strategy is not None and strategy not in tax.strategy_codes:
        flash(f"ไม่พบ{tax.plan.top_label}ที่เลือก", "error")
        return redirect(_detail_url(submission, "classify"))
    if subarea is not None:
        if strategy is None or subarea not in {s.code for s in tax.strategy(strategy).subareas}:
            flash(f"{tax.plan.sub_label}ที่เลือกไม่อยู่ใน{tax.plan.top_label}นี้", "error")
            return redirect(_detail_url(submission, "classify"))
    if kind != "other" and strategy is None:
        flash(f"กรุณาเลือก{tax.plan.top_label}", "error")
        return redirect(_detail_url(submission, "classify"))
    confirmed = actions.correct_classification(
        session, submission, strategy=strategy, subarea=subarea, kind=kind, actor=user.actor
    )
    session.commit()
    flash("ยืนยันหมวดหมู่แล้ว" if confirmed else "บันทึกการแก้ไขหมวดหมู่แล้ว", "success")
    return redirect(_detail_url(submission))


def _status_error(status: str, detail: str, target: Submission | None) -> str | None:
    """Return a Thai reason why this status change cannot be made, or None."""
    if status not in STATUS_LABELS:
        return "กรุณาเลือกสถานะ"
    need = NEEDS_DETAIL.get(status)
    if need == "agency" and not detail:
        return "กรุณาระบุหน่วยงานที่รับผิดชอบเรื่องนี้"
    if need == "reason" and not detail:
        return "กรุณาระบุเหตุผลที่ไม่รับเรื่อง"
    if need == "merged_into" and target is None:
        return "กรุณาระบุเลขที่เรื่องที่ซ้ำกัน"
    return None


@bp.post("/submissions/<int:submission_id>/status")
@role_required(*TRIAGE_ROLES)
def status(submission_id: int) -> Response:
    """Change the status; the resident is told through the outbox (internal notes never).

    Marking it done may carry an "after" photo of the work, sent to the resident with it.
    """
    session = get_session()
    user = current_staff()
    submission = _load_visible(submission_id)
    uploads.allow_upload(request)
    new = (request.form.get("status") or "").strip()
    detail = _note("detail")
    public_note = _note("public_note")
    internal_note = _note("internal_note")
    target = None
    if new == "duplicate":
        target = _find_submission(session, request.form.get("merged_into") or "")
        if target is not None and (target.id == submission.id or not can_see(user, target)):
            target = None
    error = _status_error(new, detail, target)
    if error:
        flash(error, "error")
        return redirect(_detail_url(submission, "status"))
    photo_url = None
    upload = request.files.get("after_photo")
    if new == "done" and uploads.chosen(upload) and submission.status != "done":
        try:
            stored = uploads.store_photo(upload, current_app.config["MEDIA_DIR"])
        except ValueError as exc:
            flash(str(exc), "error")
            return redirect(_detail_url(submission, "status"))
        photo = actions.add_after_photo(
            session, submission, stored.path, stored.content_type, stored.size, actor=user.actor
        )
        session.flush()
        photo_url = closing.after_photo_url(photo)
    try:
        changed = actions.decide_status(
            session,
            submission,
            new,
            actor=user.actor,
            detail=detail or None,
            public_note=public_note,
            internal_note=internal_note,
            duplicate_of=target,
            say=current_wording(),
            photo_url=photo_url,
        )
    except ValueError as exc:
        session.rollback()
        flash(str(exc), "error")
        return redirect(_detail_url(submission, "status"))
    if not changed:
        flash("สถานะเดิมอยู่แล้ว ไม่มีการเปลี่ยนแปลง", "info")
        return redirect(_detail_url(submission))
    session.commit()
    flash(f"เปลี่ยนสถานะเป็น “{STATUS_LABELS[new]}” แล้ว", "success")
    return redirect(_detail_url(submission))


@bp.post("/submissions/<int:submission_id>/publishable")
@role_required(*TRIAGE_ROLES)
def publishable(submission_id: int) -> Response:
    """Allow or stop showing the need's words on the public pages (audited)."""
    session = get_session()
    submission = _load_visible(submission_id)
    wanted = request.form.get("publishable") == "1"
    if actions.set_publishable(session, submission, wanted, actor=current_staff().actor):
        session.commit()
        flash(
            "อนุญาตให้แสดงข้อความบนหน้าสาธารณะแล้ว" if wanted else "ซ่อนข้อความจากหน้าสาธารณะแล้ว",
            "success",
        )
    return redirect(_detail_url(submission, "publish"))


@bp.post("/submissions/<int:submission_id>/merge")
@role_required(*TRIAGE_ROLES)
def merge(submission_id: int) -> Response:
    """Merge the ticked duplicates into this submission; their residents are told."""
    session = get_session()
    user = current_staff()
    primary = _load_visible(submission_id)
    ids = {int(v) for v in request.form.getlist("duplicate_ids") if v.isdigit()}
    ids.discard(primary.id)
    chosen = [
        s
        for s in session.scalars(select(Submission).where(Submission.id.in_(ids)))
        if can_see(user, s)
    ]
    if not chosen:
        flash("กรุณาเลือกเรื่องที่ซ้ำกันอย่างน้อยหนึ่งเรื่อง", "error")
        return redirect(_detail_url(primary, "duplicates"))
    try:
        merged = actions.merge_needs(
            session,
            primary,
            chosen,
            actor=user.actor,
            public_note=_note("public_note"),
            internal_note=_note("internal_note"),
            say=current_wording(),
        )
    except ValueError as exc:
        flash(str(exc), "error")
        return redirect(_detail_url(primary, "duplicates"))
    session.commit()
    flash(f"รวมเรื่องซ้ำแล้ว {len(merged)} เรื่อง", "success")
    return redirect(_detail_url(primary))


# --- bulk ----------------------------------------------------------------------------------


def _bulk_status(session: Session, rows: list[Submission], form: Any, user: StaffUser) -> str:
    new = (form.get("status") or "").strip()
    detail = (form.get("detail") or "").strip()[:MAX_NOTE]
    if new == "duplicate":
        raise ValueError("การรวมเรื่องซ้ำทำได้ทีละเรื่องจากหน้ารายละเอียด")
    error = _status_error(new, detail, None)
    if error:
        raise ValueError(error)
    changed = 0
    say = current_wording()
    for submission in rows:
        event = actions.change_status(
            session,
            submission,
            new,
            actor=user.actor,
            public_note=(form.get("public_note") or "").strip()[:MAX_NOTE],
            internal_note=(form.get("internal_note") or "").strip()[:MAX_NOTE],
            detail=detail or None,
            say=say,
        )
        changed += event is not None
    return f"เปลี่ยนสถานะเป็น “{STATUS_LABELS[new]}” แล้ว {changed} เรื่อง"


@bp.post("/submissions/bulk")
@role_required()
def bulk() -> Response:
    """Apply a bulk action to the ticked submissions, or to every one matching the filters."""
    session = get_session()
    user = current_staff()
    filters = queries.QueueFilters.from_args(request.args, user)
    back = url_for("queue.index", **filters.to_args())
    action = _extras().bulk_actions.get(request.form.get("action") or "")
    if action is None:
        flash("กรุณาเลือกสิ่งที่ต้องการทำ", "error")
        return redirect(back)
    if user.role not in action.roles:
        abort(403)
    statement = visible_submissions(select(Submission), user)
    if request.form.get("all_matching") == "1":
        ids = queries.all_ids(session, queries.filtered(statement, filters), BULK_LIMIT + 1)
        if len(ids) > BULK_LIMIT:
            flash(f"เรื่องที่ตรงกับตัวกรองมีมากกว่า {BULK_LIMIT:,} เรื่อง กรุณากรองให้แคบลงก่อน", "error")
            return redirect(back)
    else:
        ids = [int(v) for v in request.form.getlist("ids") if v.isdigit()][:BULK_LIMIT]
    if not ids:
        flash("กรุณาเลือกอย่างน้อยหนึ่งเรื่อง", "error")
        return redirect(back)
    rows = list(session.scalars(statement.where(Submission.id.in_(ids)).order_by(Submission.id)))
    try:
        message = action.handler(session, rows, request.form, user)
    except ValueError as exc:
        session.rollback()
        flash(str(exc), "error")
        return redirect(back)
    audit(f"bulk.{action.name}", "submission", None, ids=[s.id for s in rows][:BULK_LIMIT])
    session.commit()
    flash(message, "success")
    return redirect(back)
