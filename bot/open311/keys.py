"""The admins' page of Open311 API keys: issue one (shown once), see them, revoke one."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from bot.accounts import audit, current_staff, role_required
from bot.db import get_session
from storage import open311

bp = Blueprint("open311_keys", __name__, url_prefix="/dashboard/admin/open311-keys")


@bp.get("")
@role_required("admin")
def keys() -> str:
    """List the keys with a form to issue one."""
    return render_template("open311/keys.html", keys=open311.list_keys(get_session()), new_key=None)


@bp.post("")
@role_required("admin")
def issue() -> str | tuple[str, int]:
    """Issue a key and show it this once."""
    session = get_session()
    try:
        row, key = open311.issue_key(session, request.form.get("name") or "", current_staff().actor)
    except ValueError as exc:
        session.rollback()
        flash(str(exc), "error")
        return render_template(
            "open311/keys.html", keys=open311.list_keys(session), new_key=None
        ), 400
    audit("open311_key.create", "open311_key", row.id)
    session.commit()
    # Shown in this answer only: the database keeps its hash.
    return render_template("open311/keys.html", keys=open311.list_keys(session), new_key=key)


@bp.post("/<int:key_id>/revoke")
@role_required("admin")
def revoke(key_id: int) -> Response:
    """Revoke a key: the partner app can no longer file needs with it."""
    session = get_session()
    row = open311.revoke_key(session, key_id)
    if row is None:
        abort(404)
    audit("open311_key.revoke", "open311_key", row.id)
    session.commit()
    flash(f"ยกเลิกกุญแจ “{row.name}” แล้ว", "success")
    return redirect(url_for("open311_keys.keys"))
