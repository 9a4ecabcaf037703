"""The staff dashboard under /dashboard: sign-in, the queue, triage, the plan, exports, the
overview and admin pages.

``init_app(app)`` sets up Flask-Login, CSRF protection (Flask-WTF) for every form, the Thai
error pages, security headers and the templates' globals, and adds the plan's bulk action and
panel to the queue. ``bot.create_app`` registers the blueprints (each module's ``bp``) and
exempts the LINE webhook and the simulator from CSRF: they are signed their own way.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app, redirect, render_template, request, url_for
from flask_login import LoginManager
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from bot.accounts import ROLE_LABELS, load_user
from bot.config import tile_origin
from bot.needs.statuses import STATUS_LABELS
from bot.staff import plan, project_news, queries, queue

logger = logging.getLogger(__name__)

PREFIX = "/dashboard"
DEFAULT_TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"

csrf = CSRFProtect()


def init_app(app: Flask) -> None:
    """Bind the dashboard to ``app`` (its blueprints are registered by ``create_app``)."""
    app.config.setdefault("TILE_URL", DEFAULT_TILE_URL)
    app.config.setdefault("DASHBOARD_PAGE_SIZE", 50)
    # The queue counts at most this many matching needs ("more than 10,000" past it).
    app.config.setdefault("DASHBOARD_COUNT_LIMIT", queries.COUNT_LIMIT)
    # How long the queue may spend counting a text search's matches (PostgreSQL; ms).
    app.config.setdefault("DASHBOARD_COUNT_BUDGET_MS", 150)
    login_manager = LoginManager()
    login_manager.login_view = "auth.login"
    login_manager.login_message = "กรุณาเข้าสู่ระบบก่อนใช้งาน"
    login_manager.login_message_category = "warning"
    login_manager.needs_refresh_message = "กรุณาเข้าสู่ระบบอีกครั้ง"
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_user)
    login_manager.init_app(app)

    csrf.init_app(app)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(403, _http_error)
    app.register_error_handler(404, _http_error)
    app.after_request(_security_headers)
    app.context_processor(_template_globals)

    queue.init_app(app)
    queue.register_bulk_action(
        app,
        queue.BulkAction(
            "project",
            "เชื่อมกับโครงการในแผน",
            plan.link_to_project,
            fields_template="plan/_bulk_fields.html",
        ),
    )
    queue.register_detail_panel(app, "dashboard/_routing_panel.html")
    queue.register_detail_panel(app, "plan/_detail_panel.html")
    project_news.init_app(app)


def home() -> Response:
    """Send ``/`` to the dashboard."""
    return redirect(url_for("queue.home"))


def _csrf_error(error: CSRFError) -> tuple[str, int]:
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
    if not request.path.startswith(PREFIX) or error.code not in ERROR_PAGES:
        return error
    title, message = ERROR_PAGES[error.code]
    return render_template("dashboard/error.html", title=title, message=message), error.code


def _template_globals() -> dict:
    return {
        "municipality": current_app.extensions["ruamkid"],
        "STATUS_LABELS": STATUS_LABELS,
        "ROLE_LABELS": ROLE_LABELS,
    }


def _security_headers(response: Response) -> Response:
    """Add browser protections to every response; a strict CSP to the dashboard's pages."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if request.path == "/" or request.path.startswith(PREFIX):
        tiles = tile_origin(current_app.config.get("TILE_URL") or "")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; "
            f"img-src 'self' data:{(' ' + tiles) if tiles else ''}; object-src 'none'; "
            "base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
        )
        # Pages show residents' personal data: never keep them in any cache.
        response.headers.setdefault("Cache-Control", "no-store")
    return response
