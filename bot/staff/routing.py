"""Divisions and routing in the dashboard: reassign a need with a reason, give it to someone,
and the admin pages for divisions and routing rules (sub-area and kind → division, due date).

Every change goes through ``bot.needs.actions`` (history and audit); these views only read the
form, check it, and commit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from bot.accounts import audit, can_see, current_staff, role_required
from bot.db import get_session
from bot.needs import actions
from bot.needs.classification import taxonomy
from storage import routing, staff
from storage.base import utcnow
from storage.models import Submission

bp = Blueprint("routing", __name__, url_prefix="/dashboard")

TRIAGE_ROLES = ("admin", "staff")
MAX_REASON = 1000
MAX_DUE_DAYS = 3650


def _submission(submission_id: int) -> Submission:
    submission = get_session().get(Submission, submission_id)
    if submission is None or not can_see(current_staff(), submission):
        abort(404)
    return submission


def _back(submission: Submission) -> Response:
    return redirect(url_for("queue.detail", submission_id=submission.id) + "#routing")


# --- a need's division and assignee ------------------------------------------------------------


@bp.post("/submissions/<int:submission_id>/division")
@role_required(*TRIAGE_ROLES)
def reassign(submission_id: int) -> Response:
    """Send a need to another division with a reason (kept as an internal note)."""
    session = get_session()
    submission = _submission(submission_id)
    raw = request.form.get("division_id") or ""
    division = session.get(routing.Division, int(raw)) if raw.isdigit() else None
    if division is None or not division.active:
        flash("กรุณาเลือกหน่วยงานที่จะส่งต่อ", "error")
        return _back(submission)
    reason = (request.form.get("reason") or "").strip()[:MAX_REASON]
    try:
        changed = actions.reassign_division(
            session, submission, division, actor=current_staff().actor, reason=reason
        )
    except ValueError as exc:
        flash(str(exc), "error")
        return _back(submission)
    if not changed:
        flash("เรื่องนี้อยู่ที่หน่วยงานนี้อยู่แล้ว", "info")
        return _back(submission)
    session.commit()
    flash(f"ส่งต่อให้{division.name}แล้ว", "success")
    return _back(submission)


@bp.post("/submissions/<int:submission_id>/assignee")
@role_required(*TRIAGE_ROLES)
def assign(submission_id: int) -> Response:
    """Give a need to one member of staff, or to nobody."""
    session = get_session()
    submission = _submission(submission_id)
    raw = request.form.get("assignee_id") or ""
    assignee = None
    if raw:
        assignee = session.get(staff.User, int(raw)) if raw.isdigit() else None
        if assignee is None or not assignee.active or assignee.role not in TRIAGE_ROLES:
            flash("กรุณาเลือกเจ้าหน้าที่ที่ยังใช้งานอยู่", "error")
            return _back(submission)
    if actions.assign_need(session, submission, assignee, actor=current_staff().actor):
        session.commit()
        who = assignee.display_name if assignee else "ไม่มีผู้รับผิดชอบ"
        flash(f"มอบหมายให้ {who} แล้ว" if assignee else f"เปลี่ยนเป็น{who}แล้ว", "success")
    return _back(submission)


@bp.app_context_processor
def _routing_helpers() -> dict[str, Any]:
    return {
        "routing_choices": _choices,
        "division_names": _division_names,
        "is_overdue": is_overdue,
        # History keeps due dates as ISO text (JSON); the page shows them as Thai dates.
        "parse_iso": datetime.fromisoformat,
    }


def _choices() -> dict[str, Any]:
    """Divisions and staff for the detail page's routing panel."""
    session = get_session()
    people = [u for u in staff.list_users(session) if u.active and u.role in TRIAGE_ROLES]
    return {"divisions": routing.list_divisions(session, active_only=True), "people": people}


def _division_names() -> dict[int, str]:
    return routing.division_names(get_session())


def is_overdue(submission: Submission) -> bool:
    """Tell whether a need is past its due date and not yet resolved."""
    return (
        submission.due_at is not None
        and submission.status not in actions.RESOLVED
        and submission.due_at < utcnow()
    )


# --- the overview's figures per division ------------------------------------------------------


def division_figures(session, base: Select[Any]) -> list[dict[str, Any]]:
    """Per division (and "not routed"): open needs, overdue ones, and the median days from
    arrival to resolution of the resolved ones, within ``base`` (a select over Submission)."""
    s = Submission
    now = utcnow()
    resolved = s.status.in_(actions.RESOLVED)
    counted = base.where(s.merged_into_id.is_(None))
    rows = session.execute(
        counted.with_only_columns(
            s.division_id,
            func.coalesce(func.sum(case((resolved, 0), else_=1)), 0),
            func.coalesce(func.sum(case((and_(~resolved, s.due_at < now), 1), else_=0)), 0),
            func.count(s.resolved_at),
        ).group_by(s.division_id)
    ).all()
    names = routing.division_names(session)
    order = {d.id: d.position for d in routing.list_divisions(session)}
    figures = []
    for division_id, open_count, overdue, n_resolved in rows:
        figures.append(
            {
                "division_id": division_id,
                "name": names.get(division_id, "ยังไม่ได้ส่งต่อ"),
                "open": int(open_count),
                "overdue": int(overdue),
                "median_days": _median_days(session, counted, division_id, n_resolved),
            }
        )
    return sorted(figures, key=lambda f: order.get(f["division_id"], 10**6))


def _median_days(session, base: Select[Any], division_id: int | None, n: int) -> float | None:
    """The median days to resolve, without a percentile function (SQLite has none)."""
    if not n:
        return None
    s = Submission
    if session.get_bind().dialect.name == "sqlite":
        days = func.julianday(s.resolved_at) - func.julianday(s.created_at)
    else:
        days = func.extract("epoch", s.resolved_at - s.created_at) / 86400.0
    same = s.division_id.is_(None) if division_id is None else s.division_id == division_id
    middle = session.scalars(
        base.where(same, s.resolved_at.is_not(None))
        .with_only_columns(days)
        .order_by(days)
        .offset((n - 1) // 2)
        .limit(2 - n % 2)
    ).all()
    return round(sum(float(d) for d in middle) / len(middle), 1)


# --- admin: divisions ------------------------------------------------------------------------


@bp.get("/admin/divisions")
@role_required("admin")
def divisions() -> str:
    """List divisions with forms to add, rename and (de)activate, and their staff counts."""
    session = get_session()
    members = dict(
        session.execute(
            select(staff.User.division_id, func.count()).group_by(staff.User.division_id)
        ).all()
    )
    return render_template(
        "dashboard/admin_divisions.html",
        divisions=routing.list_divisions(session),
        members=members,
    )


def _division_fields() -> tuple[str, str, str]:
    form = request.form
    code = (form.get("code") or "").strip().lower()[:32]
    name = " ".join((form.get("name") or "").split())[:200]
    description = " ".join((form.get("description") or "").split())[:1000]
    return code, name, description


@bp.post("/admin/divisions")
@role_required("admin")
def add_division() -> Response:
    """Add a division at the end of the list."""
    session = get_session()
    code, name, description = _division_fields()
    back = redirect(url_for("routing.divisions"))
    if not name or not code or not code.replace("-", "").replace("_", "").isalnum():
        flash("กรุณาระบุชื่อหน่วยงานและรหัส (ภาษาอังกฤษหรือตัวเลข)", "error")
        return back
    position = (session.scalar(select(func.max(routing.Division.position))) or 0) + 1
    division = routing.Division(code=code, name=name, description=description, position=position)
    session.add(division)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        flash("มีหน่วยงานชื่อหรือรหัสนี้อยู่แล้ว", "error")
        return back
    audit("division.create", "division", division.id)
    session.commit()
    flash(f"เพิ่ม{name}แล้ว", "success")
    return back


@bp.post("/admin/divisions/<int:division_id>")
@role_required("admin")
def update_division(division_id: int) -> Response:
    """Rename or (de)activate a division."""
    session = get_session()
    division = session.get(routing.Division, division_id)
    if division is None:
        abort(404)
    back = redirect(url_for("routing.divisions"))
    action = request.form.get("action")
    if action == "save":
        _, name, description = _division_fields()
        if not name:
            flash("กรุณาระบุชื่อหน่วยงาน", "error")
            return back
        division.name, division.description = name, description
        try:
            session.flush()
        except IntegrityError:
            session.rollback()
            flash(f"มีหน่วยงานชื่อ {name} อยู่แล้ว", "error")
            return back
        audit("division.update", "division", division.id)
    elif action in {"activate", "deactivate"}:
        division.active = action == "activate"
        audit(f"division.{action}", "division", division.id)
    else:
        flash("ไม่รู้จักคำสั่งนี้", "error")
        return back
    session.commit()
    flash("บันทึกแล้ว", "success")
    return back


# --- admin: routing rules --------------------------------------------------------------------


@bp.get("/admin/routing")
@role_required("admin")
def rules() -> str:
    """List routing rules with a form to add one and a form on each to change or delete it."""
    session = get_session()
    tax = taxonomy()
    return render_template(
        "dashboard/admin_routing.html",
        rules=routing.list_rules(session),
        divisions=routing.list_divisions(session),
        taxonomy=tax,
        subarea_names={sub.code: sub.name for s in tax.strategies for sub in s.subareas},
        kind_names={k.code: k.name for k in tax.kinds},
    )


def _rule_fields() -> tuple[dict[str, Any], str | None]:
    """Read a rule's fields from the form; return them and a Thai error (or None)."""
    form = request.form
    tax = taxonomy()
    subareas = {sub.code for s in tax.strategies for sub in s.subareas}
    subarea = (form.get("subarea") or "").strip() or None
    kind = (form.get("kind") or "").strip() or None
    raw_division = (form.get("division_id") or "").strip()
    raw_days = (form.get("due_days") or "").strip()
    review = (form.get("review_date") or "").strip() or None
    values: dict[str, Any] = {"subarea": subarea, "kind": kind}
    if subarea is not None and subarea not in subareas:
        return values, f"ไม่พบ{tax.plan.sub_label}ที่เลือก"
    if kind is not None and kind not in tax.kind_codes:
        return values, "ไม่พบประเภทเรื่องที่เลือก"
    if subarea is None and kind is None:
        return values, f"กรุณาเลือก{tax.plan.sub_label}หรือประเภทเรื่องอย่างน้อยหนึ่งอย่าง"
    division = None
    if raw_division:
        if raw_division.isdigit():
            division = get_session().get(routing.Division, int(raw_division))
        if division is None:
            return values, "ไม่พบหน่วยงานที่เลือก"
    days = None
    if raw_days:
        if not raw_days.isdigit() or not 1 <= int(raw_days) <= MAX_DUE_DAYS:
            return values, f"จำนวนวันต้องเป็นตัวเลข 1–{MAX_DUE_DAYS:,} วัน"
        days = int(raw_days)
    if review is not None and routing.parse_review_date(review) is None:
        return values, "วันทบทวนแผนต้องอยู่ในรูปแบบ เดือน-วัน เช่น 02-28"
    if days is not None and review is not None:
        return values, "กำหนดเสร็จได้แบบเดียว: จำนวนวัน หรือ วันทบทวนแผน"
    if division is None and days is None and review is None:
        return values, "กรุณาเลือกหน่วยงาน หรือกำหนดระยะเวลาแล้วเสร็จ"
    values.update(division_id=division.id if division else None, due_days=days, review_date=review)
    return values, None


def _describe(rule: routing.RoutingRule) -> dict[str, Any]:
    return {
        "subarea": rule.subarea,
        "kind": rule.kind,
        "division_id": rule.division_id,
        "due_days": rule.due_days,
        "review_date": rule.review_date,
    }


@bp.post("/admin/routing")
@role_required("admin")
def add_rule() -> Response:
    """Add a routing rule (one per sub-area and kind)."""
    session = get_session()
    values, error = _rule_fields()
    back = redirect(url_for("routing.rules"))
    if error is None and routing.find_rule(session, values["subarea"], values["kind"]):
        error = "มีกฎสำหรับแนวทางและประเภทนี้อยู่แล้ว กรุณาแก้ไขกฎเดิม"
    if error:
        flash(error, "error")
        return back
    rule = routing.RoutingRule(**values)
    session.add(rule)
    session.flush()
    audit("routing.create", "routing_rule", rule.id, after=_describe(rule))
    session.commit()
    flash("เพิ่มกฎการส่งต่อแล้ว (ใช้กับเรื่องใหม่และเรื่องที่แก้หมวดหมู่หลังจากนี้)", "success")
    return back


@bp.post("/admin/routing/<int:rule_id>")
@role_required("admin")
def update_rule(rule_id: int) -> Response:
    """Change or delete a routing rule."""
    session = get_session()
    rule = session.get(routing.RoutingRule, rule_id)
    if rule is None:
        abort(404)
    back = redirect(url_for("routing.rules"))
    before = _describe(rule)
    if request.form.get("action") == "delete":
        session.delete(rule)
        audit("routing.delete", "routing_rule", rule_id, before=before)
        session.commit()
        flash("ลบกฎการส่งต่อแล้ว", "success")
        return back
    values, error = _rule_fields()
    other = routing.find_rule(session, values["subarea"], values["kind"])
    if error is None and other is not None and other.id != rule.id:
        error = "มีกฎสำหรับแนวทางและประเภทนี้อยู่แล้ว กรุณาแก้ไขกฎเดิม"
    if error:
        flash(error, "error")
        return back
    for name, value in values.items():
        setattr(rule, name, value)
    audit("routing.update", "routing_rule", rule.id, before=before, after=_describe(rule))
    session.commit()
    flash("บันทึกกฎการส่งต่อแล้ว (ใช้กับเรื่องใหม่และเรื่องที่แก้หมวดหมู่หลังจากนี้)", "success")
    return back
