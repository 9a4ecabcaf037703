"""Admin pages: staff accounts, communities, the taxonomy (read-only), the audit log, and the
mailbox (LINE events and messages the worker set aside)."""

from __future__ import annotations

import logging

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from bot.accounts import ROLE_LABELS, audit, current_staff, password_words, role_required
from bot.db import get_session
from bot.line import worker
from bot.needs import classification
from bot.staff.queries import communities as list_communities
from storage import mailbox, staff
from storage.models import Community
from storage.passwords import MIN_LENGTH as MIN_PASSWORD_LENGTH

logger = logging.getLogger(__name__)

bp = Blueprint("admin", __name__, url_prefix="/dashboard/admin")

AUDIT_PAGE = 50


def _community_id(raw: str | None) -> int | None:
    if raw and raw.isdigit() and get_session().get(Community, int(raw)) is not None:
        return int(raw)
    return None


# --- users ---------------------------------------------------------------------------------


@bp.get("/users")
@role_required("admin")
def users() -> str:
    """List staff accounts with a form to add one."""
    session = get_session()
    return render_template(
        "dashboard/admin_users.html",
        users=staff.list_users(session),
        communities=list_communities(session),
        min_length=MIN_PASSWORD_LENGTH,
        form={},
    )


@bp.post("/users")
@role_required("admin")
def create_user() -> str | Response | tuple[str, int]:
    """Add a staff account."""
    session = get_session()
    form = request.form
    password = form.get("password") or ""
    try:
        if password != (form.get("password_confirm") or ""):
            raise ValueError("รหัสผ่านทั้งสองช่องไม่ตรงกัน")
        user = staff.create_user(
            session,
            form.get("username") or "",
            password,
            role=form.get("role") or "",
            display_name=(form.get("display_name") or "")[:200],
            community_id=_community_id(form.get("community_id")),
            extra_words=password_words(session),
        )
    except ValueError as exc:
        session.rollback()
        flash(str(exc), "error")
        return (
            render_template(
                "dashboard/admin_users.html",
                users=staff.list_users(session),
                communities=list_communities(session),
                min_length=MIN_PASSWORD_LENGTH,
                form={k: v for k, v in form.items() if "password" not in k},
            ),
            400,
        )
    audit("user.create", "user", user.id, role=user.role, community_id=user.community_id)
    session.commit()
    flash(f"เพิ่มผู้ใช้ {user.username} แล้ว", "success")
    return redirect(url_for("admin.users"))


def _load_user(user_id: int) -> staff.User:
    user = get_session().get(staff.User, user_id)
    if user is None:
        abort(404)
    return user


@bp.get("/users/<int:user_id>")
@role_required("admin")
def edit_user(user_id: int) -> str:
    """Show one account: role, community, active, password reset."""
    session = get_session()
    user = _load_user(user_id)
    return render_template(
        "dashboard/admin_user.html",
        user=user,
        communities=list_communities(session),
        min_length=MIN_PASSWORD_LENGTH,
        sessions=staff.count_sessions(session, user),
    )


def _would_remove_last_admin(user: staff.User, role: str, active: bool) -> bool:
    losing = user.role == "admin" and user.active and (role != "admin" or not active)
    return losing and staff.count_admins(get_session()) <= 1


@bp.post("/users/<int:user_id>")
@role_required("admin")
def update_user(user_id: int) -> Response:
    """Change an account's name, role, community or active flag."""
    session = get_session()
    user = _load_user(user_id)
    role = request.form.get("role") or user.role
    active = request.form.get("active") == "1"
    community_id = _community_id(request.form.get("community_id"))
    display_name = (request.form.get("display_name") or "").strip()[:200] or user.display_name
    back = redirect(url_for("admin.edit_user", user_id=user.id))
    if role not in staff.ROLES:
        flash("บทบาทไม่ถูกต้อง", "error")
        return back
    if role == "leader" and community_id is None:
        flash("ผู้นำชุมชนต้องระบุชุมชน", "error")
        return back
    if _would_remove_last_admin(user, role, active):
        flash("ต้องมีผู้ดูแลระบบที่ใช้งานได้อย่างน้อยหนึ่งคน", "error")
        return back
    before = {"role": user.role, "community_id": user.community_id, "active": user.active}
    user.role = role
    user.community_id = community_id if role == "leader" else None
    user.display_name = display_name
    if active != user.active:
        staff.set_active(session, user, active)
    after = {"role": user.role, "community_id": user.community_id, "active": user.active}
    audit("user.update", "user", user.id, before=before, after=after)
    session.commit()
    flash("บันทึกข้อมูลผู้ใช้แล้ว", "success")
    return back


@bp.post("/users/<int:user_id>/password")
@role_required("admin")
def reset_password(user_id: int) -> Response:
    """Set a new password for an account (signs it out everywhere)."""
    session = get_session()
    user = _load_user(user_id)
    password = request.form.get("password") or ""
    back = redirect(url_for("admin.edit_user", user_id=user.id))
    if password != (request.form.get("password_confirm") or ""):
        flash("รหัสผ่านทั้งสองช่องไม่ตรงกัน", "error")
        return back
    try:
        staff.set_password(session, user, password, password_words(session))
    except ValueError as exc:
        flash(str(exc), "error")
        return back
    audit("user.password", "user", user.id)
    session.commit()
    if user.id == current_staff().id:
        flash("เปลี่ยนรหัสผ่านแล้ว กรุณาเข้าสู่ระบบใหม่", "success")
        return redirect(url_for("auth.login"))
    flash(f"ตั้งรหัสผ่านใหม่ให้ {user.username} แล้ว", "success")
    return back


@bp.post("/users/<int:user_id>/sessions/end")
@role_required("admin")
def end_sessions(user_id: int) -> Response:
    """Sign an account out on every device (e.g. a lost phone), without changing anything else."""
    session = get_session()
    user = _load_user(user_id)
    ended = staff.end_sessions(session, user)
    audit("user.sessions_end", "user", user.id, sessions=ended)
    session.commit()
    if user.id == current_staff().id:
        return redirect(url_for("auth.login"))
    flash(f"ให้ {user.username} ออกจากระบบทุกเครื่องแล้ว ({ended} เครื่อง)", "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


# --- communities ---------------------------------------------------------------------------


@bp.get("/communities")
@role_required("admin")
def communities() -> str:
    """List communities in order, with forms to add, rename, reorder and deactivate."""
    return render_template(
        "dashboard/admin_communities.html", communities=list_communities(get_session())
    )


@bp.post("/communities")
@role_required("admin")
def add_community() -> Response:
    """Add a community at the end of the list."""
    session = get_session()
    name = " ".join((request.form.get("name") or "").split())[:200]
    if not name:
        flash("กรุณาระบุชื่อชุมชน", "error")
        return redirect(url_for("admin.communities"))
    position = (session.scalar(select(func.max(Community.position))) or 0) + 1
    community = Community(name=name, position=position, active=True)
    session.add(community)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        flash(f"มีชุมชนชื่อ {name} อยู่แล้ว", "error")
        return redirect(url_for("admin.communities"))
    audit("community.create", "community", community.id)
    session.commit()
    flash(f"เพิ่ม{name}แล้ว", "success")
    return redirect(url_for("admin.communities"))


@bp.post("/communities/<int:community_id>")
@role_required("admin")
def update_community(community_id: int) -> Response:
    """Rename, move up or down, or (de)activate a community."""
    session = get_session()
    community = session.get(Community, community_id)
    if community is None:
        abort(404)
    action = request.form.get("action")
    back = redirect(url_for("admin.communities"))
    if action == "rename":
        name = " ".join((request.form.get("name") or "").split())[:200]
        if not name:
            flash("กรุณาระบุชื่อชุมชน", "error")
            return back
        old = community.name
        community.name = name
        try:
            session.flush()
        except IntegrityError:
            session.rollback()
            flash(f"มีชุมชนชื่อ {name} อยู่แล้ว", "error")
            return back
        audit("community.rename", "community", community.id, before=old, after=name)
    elif action in {"up", "down"}:
        ordered = list_communities(session)
        index = next(i for i, c in enumerate(ordered) if c.id == community.id)
        other = index - 1 if action == "up" else index + 1
        if 0 <= other < len(ordered):
            ordered[index], ordered[other] = ordered[other], ordered[index]
            for position, item in enumerate(ordered):
                item.position = position
            audit("community.move", "community", community.id, direction=action)
    elif action in {"activate", "deactivate"}:
        community.active = action == "activate"
        audit(f"community.{action}", "community", community.id)
    else:
        flash("ไม่รู้จักคำสั่งนี้", "error")
        return back
    session.commit()
    flash("บันทึกแล้ว", "success")
    return back


# --- taxonomy and audit log ----------------------------------------------------------------


@bp.get("/taxonomy")
@role_required("admin")
def taxonomy() -> str:
    """Show the plan's strategies, sub-areas and kinds (read-only; edited in the TOML file)."""
    return render_template("dashboard/admin_taxonomy.html", taxonomy=classification.taxonomy())


@bp.get("/audit")
@role_required("admin")
def audit_log() -> str:
    """List staff actions, newest first (keyset pages of 50)."""
    session = get_session()
    before = request.args.get("before", "")
    action = (request.args.get("action") or "").strip()[:64] or None
    entries = staff.audit_page(
        session,
        before_id=int(before) if before.isdigit() else None,
        limit=AUDIT_PAGE + 1,
        action=action,
    )
    more = len(entries) > AUDIT_PAGE
    entries = entries[:AUDIT_PAGE]
    return render_template(
        "dashboard/admin_audit.html",
        entries=entries,
        next_before=entries[-1].id if more and entries else None,
        action=action or "",
        role_labels=ROLE_LABELS,
    )


# --- mailbox: rows the worker parked -------------------------------------------------------

MAILBOX_ACTIONS = {"retry": mailbox.retry_parked, "discard": mailbox.discard_parked}


@bp.get("/mailbox")
@role_required("admin")
def mailbox_page() -> str:
    """Show inbox and outbox counts by status and the parked rows, with retry and discard."""
    session = get_session()
    return render_template(
        "dashboard/admin_mailbox.html",
        counts=mailbox.status_counts(session),
        parked={kind: mailbox.parked(session, kind) for kind in mailbox.PARKED_KINDS},
    )


@bp.post("/mailbox/<kind>/<action>")
@role_required("admin")
def mailbox_action(kind: str, action: str) -> Response:
    """Retry or discard the chosen parked rows (inbox events or outbox messages)."""
    if kind not in mailbox.PARKED_KINDS or action not in MAILBOX_ACTIONS:
        abort(404)
    ids = sorted({int(i) for i in request.form.getlist("ids") if i.isdigit()})
    if not ids:
        flash("กรุณาเลือกอย่างน้อยหนึ่งรายการ", "error")
        return redirect(url_for("admin.mailbox_page"))
    session = get_session()
    done = MAILBOX_ACTIONS[action](session, kind, ids)
    audit(f"mailbox.{action}", kind, None, ids=ids[:100], count=done)
    session.commit()
    if action == "retry":
        worker.wake()
    verb = "ส่งกลับเข้าคิว" if action == "retry" else "ยกเลิก"
    flash(f"{verb}แล้ว {done} รายการ", "success")
    return redirect(url_for("admin.mailbox_page"))
