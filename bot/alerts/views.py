"""The dashboard's "LINE ของฉัน" page: link this account to LINE with a one-time code, unlink
it, and (leaders) opt in to the daily summary of their community's new needs."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from bot.accounts import audit, current_staff, role_required
from bot.alerts import linking
from bot.db import get_session
from storage import routing, staff

bp = Blueprint("alerts", __name__, url_prefix="/dashboard/line")


def _me() -> staff.User:
    return get_session().get(staff.User, current_staff().id)


@bp.get("/")
@role_required()
def index() -> str:
    """Show whether alerts reach this account on LINE, and how to link it."""
    session = get_session()
    user = _me()
    names = routing.division_names(session)
    return render_template(
        "alerts/line.html",
        me=user,
        code=None,
        division=names.get(user.division_id or 0),
        lifetime=int(linking.CODE_LIFETIME.total_seconds() // 60),
    )


@bp.post("/code")
@role_required()
def code() -> str:
    """Make a one-time code and show it once."""
    session = get_session()
    user = _me()
    value = linking.new_code(session, user)
    audit("user.line_code", "user", user.id)
    session.commit()
    return render_template(
        "alerts/line.html",
        me=user,
        code=value,
        division=routing.division_names(session).get(user.division_id or 0),
        lifetime=int(linking.CODE_LIFETIME.total_seconds() // 60),
    )


@bp.post("/unlink")
@role_required()
def unlink() -> Response:
    """Stop alerts to the linked LINE account."""
    session = get_session()
    user = _me()
    if linking.unlink(session, user, by=user.id):
        session.commit()
        flash("ยกเลิกการเชื่อมบัญชี LINE แล้ว", "success")
    return redirect(url_for("alerts.index"))


@bp.post("/summary")
@role_required("leader")
def summary() -> Response:
    """Turn a leader's daily summary on LINE on or off."""
    session = get_session()
    user = _me()
    user.daily_summary = request.form.get("daily_summary") == "1"
    audit("user.daily_summary", "user", user.id, on=user.daily_summary)
    session.commit()
    flash("บันทึกแล้ว", "success")
    return redirect(url_for("alerts.index"))
