"""Signing staff in and out.

Every attempt is counted in the database before the password is checked (one atomic upsert
per account and per address, ``storage.staff.reserve_login_attempt``), so the limits hold
across every gunicorn process and thread, also for parallel attempts: five failures per
account and twenty per address in fifteen minutes. Behind a reverse proxy, set
``TRUSTED_PROXIES`` so ``request.remote_addr`` is the client's address (``bot.create_app``
wraps the app in werkzeug's ProxyFix). A sign-in is a session row that signing out deletes.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from bot.accounts import StaffUser, audit
from bot.db import get_session
from storage import staff
from storage.base import utcnow

logger = logging.getLogger(__name__)

bp = Blueprint("auth", __name__, url_prefix="/dashboard")


def client_ip() -> str:
    """Return the client's address as the rate limit counts it."""
    return request.remote_addr or "unknown"


def _safe_next(target: str | None) -> str:
    """Return ``target`` if it is a path on this site, else the dashboard home."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and "\\" not in target:
            if not target.startswith("//"):
                return target
    return url_for("queue.home")


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response:
    """Show the sign-in form and sign staff in."""
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    error = None
    status = 200
    username = ""
    if request.method == "POST":
        session = get_session()
        username = (request.form.get("username") or "").strip().lower()[:64]
        password = request.form.get("password") or ""
        ip = client_ip()
        allowed = staff.reserve_login_attempt(session, username, ip)
        session.commit()  # counted before the password is checked: parallel tries see it
        if not allowed:
            error = "เข้าสู่ระบบผิดหลายครั้งเกินไป กรุณารอ 15 นาทีแล้วลองใหม่"
            status = 429
            logger.warning("login rate-limited")
        else:
            user = staff.get_user_by_username(session, username) if username else None
            if user is None:
                staff.verify_dummy(password)
                ok = False
            else:
                ok = user.active and staff.verify_password(user, password)
            if ok and user is not None:
                staff.forgive_login_attempt(session, username, ip)
                if staff.needs_rehash(user):
                    user.password_hash = staff.hash_password(password)
                user.last_login_at = utcnow()
                token = staff.start_session(session, user)
                staff.audit(session, user.id, "login", "user", user.id)
                session.commit()
                login_user(StaffUser(user, token))
                logger.info("user %s signed in", user.id)
                return redirect(_safe_next(request.args.get("next")))
            error = "ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง"
            status = 401
    return render_template("dashboard/login.html", error=error, username=username), status


@bp.post("/logout")
def logout() -> Response:
    """Sign out (POST with the CSRF token, so another site cannot sign staff out)."""
    if current_user.is_authenticated:
        session = get_session()
        staff.end_session(session, current_user.session_token)
        audit("logout", "user", current_user.id)
        session.commit()
        logout_user()
    flash("ออกจากระบบแล้ว", "info")
    return redirect(url_for("auth.login"))
