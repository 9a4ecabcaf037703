"""Ruamkid's Flask application: the LINE webhook, the simulator, the staff dashboard."""

from __future__ import annotations

import logging
import os
from typing import Any

from flask import Flask

__all__ = ["create_app"]


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then the environment, then ``config`` (tests pass a mapping)."""
    import nlp
    from bot import config as settings_config
    from bot import db, staff
    from bot.line import api as line_api
    from bot.line import webhook, worker
    from bot.municipality import load_municipality

    app = Flask(__name__, instance_path=os.environ.get("RUAMKID_INSTANCE") or None)
    if config and config.get("INSTANCE_PATH"):
        app.instance_path = config["INSTANCE_PATH"]
    app.config.update(settings_config.defaults(app.instance_path))
    app.config.update(settings_config.from_environment())
    app.config.update(config or {})
    settings_config.finalize(app.config, app.instance_path)
    _configure_logging()

    app.extensions["ruamkid"] = load_municipality(app.config["RUAMKID_SETTINGS"])
    nlp.configure(
        model_dir=app.config["MODEL_DIR"],
        taxonomy_path=app.config["TAXONOMY_FILE"],
        **(
            {"unsure_threshold": app.config["UNSURE_THRESHOLD"]}
            if app.config["UNSURE_THRESHOLD"] is not None
            else {}
        ),
    )
    db.init_app(app)
    line_api.init_app(app)
    app.register_blueprint(webhook.bp)
    if app.config["SIMULATOR"]:
        # Only without a LINE channel, never in production (bot.config refuses that).
        from bot import simulator

        app.register_blueprint(simulator.bp)
    staff.init_app(app)
    worker.init_app(app)
    return app


def _configure_logging() -> None:
    """Log to stdout once per process; ids only, never residents' text (see STYLE.md)."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(
            level=os.environ.get("LOG_LEVEL", "INFO"),
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
