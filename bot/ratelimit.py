"""Rate limits on the routes anyone may call without signing in (Flask-Limiter).

Every public blueprint gets ``RATELIMIT_PUBLIC`` per client address; filing through Open311
(``POST``) also gets ``RATELIMIT_PARTNER`` per API key. Counts live in ``RATELIMIT_STORAGE_URI``
(``memory://`` by default: per process, so with several gunicorn workers a client gets the
limit once per worker; point it at Redis to share). ``RATELIMIT_ENABLED=false`` turns them
off (a load test from one address). The staff's sign-in has its own limits (bot.staff.auth);
LINE's webhook is signed and never limited.
"""

from __future__ import annotations

import hashlib

from flask import Blueprint, Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

EXTENSION = "ruamkid_limiter"

DEFAULTS = {
    "RATELIMIT_PUBLIC": "300 per minute",
    "RATELIMIT_PARTNER": "60 per minute",
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_HEADERS_ENABLED": True,
}


def init_app(app: Flask) -> Limiter:
    """Give ``app`` its limiter (its own counts: a second app never shares the first's)."""
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    limiter = Limiter(get_remote_address, app=app, storage_uri=app.config["RATELIMIT_STORAGE_URI"])
    app.extensions[EXTENSION] = limiter
    return limiter


def limit_public(app: Flask, bp: Blueprint) -> None:
    """Limit every route of ``bp`` (registered on ``app``) per client address."""
    # One bucket per address across every public route (not one per route).
    app.extensions[EXTENSION].shared_limit(_public_limit, scope="public")(bp)


def limit_partner_posts(app: Flask, bp: Blueprint) -> None:
    """Limit ``POST`` to ``bp`` per API key (a partner app behind one address, or many)."""
    app.extensions[EXTENSION].shared_limit(
        _partner_limit, scope="partner", key_func=_api_key, methods=["POST"]
    )(bp)


def _public_limit() -> str:
    return current_app.config["RATELIMIT_PUBLIC"]


def _partner_limit() -> str:
    return current_app.config["RATELIMIT_PARTNER"]


def _api_key() -> str:
    # The key's hash, never the key itself, names the bucket.
    key = request.values.get("api_key") or ""
    return "key:" + hashlib.sha256(key.encode()).hexdigest() if key else get_remote_address()
