"""The public pages under /public: no login, Thai, phone first.

Anyone sees residents' needs by strategy, status and community on a map and in a list, follows
a need by its tracking number, and sees the plan's projects with their progress and the
follow-up report. Every need is read through ``storage.public`` (the rules of anonymity live
there and nowhere else). Pages never touch the staff session, carry an ETag and a short
``Cache-Control``, are kept for ``PUBLIC_CACHE_SECONDS`` in the process, and each address may
ask for ``PUBLIC_RATE_LIMIT`` pages a minute (``bot.ratelimit``, shared with Open311 and open
data).
"""

from __future__ import annotations

import logging
import threading

from flask import Flask

from bot.cache import TTLCache

logger = logging.getLogger(__name__)

EXTENSION = "ruamkid_public"
DEFAULT_CACHE_SECONDS = 30.0


def init_app(app: Flask) -> None:
    """Give ``app`` the public pages' cache (``create_app`` registers and limits the
    blueprint)."""
    app.config.setdefault("PUBLIC_CACHE_SECONDS", DEFAULT_CACHE_SECONDS)
    seconds = float(app.config["PUBLIC_CACHE_SECONDS"])
    app.extensions[EXTENSION] = {"pages": TTLCache(seconds), "counts": TTLCache(seconds)}


def warm(app: Flask) -> threading.Thread:
    """Count the public tally in a thread of a new worker process (gunicorn's
    ``post_worker_init``, bot.gunicorn_config), so its first visitors after a start or a
    deploy do not all wait for it; return the thread."""

    def run() -> None:
        from bot.public.views import tally

        try:
            with app.app_context():
                tally()
        except Exception:  # the first page will count it instead
            logger.warning("public pages: warming the tally failed", exc_info=True)

    thread = threading.Thread(target=run, name="public-warm", daemon=True)
    thread.start()
    return thread
