"""The public pages under /public: no login, Thai, phone first.

Anyone sees residents' needs by strategy, status and community on a map and in a list, follows
a need by its tracking number, and sees the plan's projects with their progress and the
follow-up report. Every need is read through ``storage.public`` (the rules of anonymity live
there and nowhere else). Pages never touch the staff session, carry an ETag and a short
``Cache-Control``, are kept for ``PUBLIC_CACHE_SECONDS`` in the process, and each address may
ask for ``PUBLIC_RATE_LIMIT`` pages a minute (0: no limit).
"""

from __future__ import annotations

from flask import Flask

from bot.public.cache import Limiter, TTLCache

EXTENSION = "ruamkid_public"
DEFAULT_CACHE_SECONDS = 30.0
DEFAULT_RATE_LIMIT = 300


def init_app(app: Flask) -> None:
    """Give ``app`` the public pages' cache and per-address limit (``create_app`` registers
    the blueprint)."""
    app.config.setdefault("PUBLIC_CACHE_SECONDS", DEFAULT_CACHE_SECONDS)
    app.config.setdefault("PUBLIC_RATE_LIMIT", DEFAULT_RATE_LIMIT)
    app.extensions[EXTENSION] = {
        "pages": TTLCache(float(app.config["PUBLIC_CACHE_SECONDS"])),
        "limiter": Limiter(int(app.config["PUBLIC_RATE_LIMIT"]), window=60.0),
    }
