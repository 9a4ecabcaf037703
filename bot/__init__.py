"""Ruamkid's Flask application: the LINE webhook, the simulator, the staff dashboard."""

from __future__ import annotations

import logging
import os
from typing import Any

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix

from bot import logs

__all__ = ["create_app"]

logger = logging.getLogger(__name__)


class Ruamkid(Flask):
    """Flask, logging a failed request by its error's type and frames (never its message)."""

    def log_exception(self, exc_info) -> None:
        error = exc_info[1]
        # request.path has no query string: search words stay out of the log.
        logger.error(
            "request %s %s failed:\n%s",
            request.method,
            logs.strip_query(request.path),
            logs.describe_error(error) if error is not None else "unknown error",
        )


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then the environment, then ``config`` (tests pass a mapping)."""
    from bot import (
        alerts,
        db,
        public,
        ratelimit,
        retention,
        simulator,
        staff,
        surveys,
        thai,
        training,
    )
    from bot import config as app_config
    from bot.alerts import views as alert_pages
    from bot.line import api as line_api
    from bot.line import webhook, worker
    from bot.municipality import load_municipality
    from bot.needs import classification
    from bot.open311 import keys as open311_keys
    from bot.open311 import views as open311
    from bot.opendata import dump as opendata
    from bot.opendata import views as opendata_files
    from bot.public import views as public_pages
    from bot.simulator import standin
    from bot.staff import admin, auth, closing, intake, overview, plan, queue, replies, routing
    from bot.staff.exports import views as exports
    from bot.surveys import views as survey_pages
    from bot.training import views as training_pages

    app = Ruamkid(__name__, instance_path=os.environ.get("RUAMKID_INSTANCE") or None)
    if config and config.get("INSTANCE_PATH"):
        app.instance_path = config["INSTANCE_PATH"]
    app.config.update(app_config.defaults(app.instance_path))
    app.config.update(app_config.from_environment())
    app.config.update(config or {})
    app_config.finalize(app.config, app.instance_path)
    logs.configure()

    app.extensions["ruamkid"] = load_municipality(app.config["RUAMKID_SETTINGS"])
    classification.init_app(app)
    db.init_app(app)
    line_api.init_app(app)
    worker.init_app(app)
    thai.init_app(app)
    staff.init_app(app)
    surveys.init_app(app)  # the survey hook in the conversation, its job in the worker
    training.init_app(app)  # training runs and upload clean-up in the worker
    retention.init_app(app)  # the daily privacy purge, run by the worker
    opendata.init_app(app)  # the daily open-data dump, run by the worker
    ratelimit.init_app(app)
    public.init_app(app)  # the public pages' cache and per-address limit
    alerts.init_app(app)  # staff's LINE link in the conversation, alert jobs in the worker

    # Every blueprint, in one place.
    if app.config["SIMULATOR"]:
        # Only without a LINE channel, never in production (bot.config refuses that).
        app.register_blueprint(simulator.bp)
        app.register_blueprint(standin.bp)  # the LINE API stand-in the bot calls
        staff.csrf.exempt(simulator.bp)  # it signs its events as LINE does
        staff.csrf.exempt(standin.bp)  # the SDK's requests carry no CSRF token
    for blueprint in (
        auth.bp,
        queue.bp,
        admin.bp,
        plan.bp,
        exports.bp,
        overview.bp,
        routing.bp,
        replies.bp,
        alert_pages.bp,
        survey_pages.bp,
        training_pages.bp,
        closing.bp,
        intake.bp,
        open311_keys.bp,
        public_pages.bp,
    ):
        app.register_blueprint(blueprint)
    # Public: no sign-in, limited per address; partner apps file with a key, not a CSRF token.
    app.register_blueprint(open311.bp)
    staff.csrf.exempt(open311.bp)
    ratelimit.limit_partner_posts(app, open311.bp)
    app.register_blueprint(opendata_files.bp)
    for public_blueprint in (public_pages.bp, open311.bp, opendata_files.bp):
        ratelimit.limit_public(app, public_blueprint)
    app.add_url_rule("/", "root", staff.home)
    webhook.init_app(app)  # POST /callback, in front of Flask's routes
    if app.config["TRUSTED_PROXIES"]:
        # The client's address and scheme from X-Forwarded-For/-Proto, as many hops as trusted.
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    return app
