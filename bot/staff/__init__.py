"""The staff dashboard under /dashboard: sign-in, the queue, triage, admin pages.

``init_app(app)`` sets up Flask-Login, CSRF protection (Flask-WTF) for every form except the
LINE webhook and the simulator (they are signed their own way), security headers, the Jinja
filters, and registers each dashboard module's ``bp`` under ``/dashboard`` (a module's own
``url_prefix`` is appended, e.g. ``Blueprint("plan", __name__, url_prefix="/projects")`` serves
``/dashboard/projects``). Modules that are not there yet are skipped.
"""

from __future__ import annotations

import importlib
import logging
from urllib.parse import urlsplit

from flask import Flask, redirect, request, url_for
from flask_login import LoginManager
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from bot import thai

logger = logging.getLogger(__name__)

PREFIX = "/dashboard"
# Each module exports ``bp``; optional ones (another engineer's) are skipped if missing.
MODULES = (
    "bot.staff.auth",
    "bot.staff.queue",
    "bot.staff.admin",
    "bot.staff.plan",
    "bot.staff.exports.views",
    "bot.staff.overview",
    "bot.surveys.views",
)
# Blueprints that verify their own signatures instead of a CSRF token.
CSRF_EXEMPT = ("webhook", "simulator")
DEFAULT_TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"

csrf = CSRFProtect()


def init_app(app: Flask) -> None:
    """Bind the dashboard to ``app``."""
    from bot.staff import auth

    app.config.setdefault("TILE_URL", DEFAULT_TILE_URL)
    app.config.setdefault("DASHBOARD_PAGE_SIZE", 50)
    login_manager = LoginManager()
    login_manager.login_view = "auth.login"
    login_manager.login_message = "กรุณาเข้าสู่ระบบก่อนใช้งาน"
    login_manager.login_message_category = "warning"
    login_manager.needs_refresh_message = "กรุณาเข้าสู่ระบบอีกครั้ง"
    login_manager.session_protection = "basic"
    login_manager.user_loader(auth.load_user)
    login_manager.init_app(app)

    csrf.init_app(app)
    for name, blueprint in app.blueprints.items():
        # Nested blueprints are listed as "parent.child" (the simulator's LINE stand-in).
        if name.split(".")[0] in CSRF_EXEMPT:
            csrf.exempt(blueprint)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(403, _http_error)
    app.register_error_handler(404, _http_error)

    thai.init_app(app)
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        app.register_blueprint(module.bp, url_prefix=PREFIX + (module.bp.url_prefix or ""))
    app.add_url_rule("/", "root", _root)
    app.after_request(_security_headers)
    app.context_processor(_template_globals)


def _root() -> Response:
    return redirect(url_for("queue.home"))


def _csrf_error(error: CSRFError) -> tuple[str, int]:
    from flask import render_template

    return (
        render_template(
            "dashboard/error.html",
            title="แบบฟอร์มหมดอายุ",
            message="แบบฟอร์มหมดอายุหรือไม่ถูกต้อง กรุณาโหลดหน้าใหม่แล้วลองอีกครั้ง",
        ),
        400,
    )


ERROR_PAGES = {
    403: ("ไม่มีสิทธิ์เข้าถึง", "บัญชีของท่านไม่มีสิทธิ์ใช้งานหน้านี้"),
    404: ("ไม่พบหน้าที่ต้องการ", "ไม่พบหน้าหรือรายการนี้ หรือท่านไม่มีสิทธิ์ดูรายการนี้"),
}


def _http_error(error: HTTPException) -> HTTPException | tuple[str, int]:
    """Answer 403/404 in Thai on dashboard pages; elsewhere keep Flask's plain answer."""
    from flask import render_template

    if not request.path.startswith(PREFIX) or error.code not in ERROR_PAGES:
        return error
    title, message = ERROR_PAGES[error.code]
    return render_template("dashboard/error.html", title=title, message=message), error.code


def _template_globals() -> dict:
    from flask import current_app

    from bot.needs.statuses import STATUS_LABELS
    from bot.staff.auth import ROLE_LABELS

    return {
        "municipality": current_app.extensions["ruamkid"],
        "STATUS_LABELS": STATUS_LABELS,
        "ROLE_LABELS": ROLE_LABELS,
        "has_endpoint": lambda name: name in current_app.view_functions,
    }


def _security_headers(response: Response) -> Response:
    """Add browser protections to every response; a strict CSP to the dashboard's pages."""
    from flask import current_app

    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if request.path == "/" or request.path.startswith(PREFIX):
        tiles = _origin(current_app.config.get("TILE_URL") or "")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; "
            f"img-src 'self' data:{(' ' + tiles) if tiles else ''}; object-src 'none'; "
            "base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
        )
        # Pages show residents' personal data: never keep them in any cache.
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def _origin(url: str) -> str:
    parts = urlsplit(url.replace("{s}", "a"))
    if not parts.scheme or not parts.netloc:
        return ""
    host = parts.netloc
    if "{s}" in url:
        host = "*." + host.split(".", 1)[1]
    return f"{parts.scheme}://{host}"
