"""Rate limits on the routes anyone may call without signing in (Flask-Limiter), one way for all.

Every public blueprint (the public pages, Open311, open data) shares one bucket of
``PUBLIC_RATE_LIMIT`` requests a minute per client address (0: no limit); filing through
Open311 (``POST``) also gets ``RATELIMIT_PARTNER`` per API key. Counts live in
``RATELIMIT_STORAGE_URI`` (``memory://`` by default: per process, so with several gunicorn
workers a client gets the limit once per worker; point it at Redis to share).
``RATELIMIT_ENABLED=false`` turns them all off. The staff's sign-in has its own limits
(bot.staff.auth); LINE's webhook is signed and never limited.
"""

from __future__ import annotations

import hashlib

from flask import Blueprint, Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

EXTENSION = "ruamkid_limiter"
LIMITED = "ruamkid_limited_blueprints"

DEFAULTS = {
    "PUBLIC_RATE_LIMIT": 300,
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
    limited: set[str] = set()
    app.extensions[EXTENSION] = limiter
    app.extensions[LIMITED] = limited

    @limiter.request_filter
    def _not_limited() -> bool:
        # Only the blueprints given limits below are looked at: the limiter's bookkeeping cost
        # the webhook (LINE's signed calls, the hottest path) a third of its time.
        return request.blueprint not in limited

    return limiter


def limit_public(app: Flask, bp: Blueprint) -> None:
    """Limit every route of ``bp`` (registered on ``app``) per client address."""
    # One bucket per address across every public route (not one per route).
    app.extensions[LIMITED].add(bp.name)
    app.extensions[EXTENSION].shared_limit(
        _public_limit, scope="public", exempt_when=_public_unlimited
    )(bp)


def limit_partner_posts(app: Flask, bp: Blueprint) -> None:
    """Limit ``POST`` to ``bp`` per API key (a partner app behind one address, or many)."""
    app.extensions[LIMITED].add(bp.name)
    app.extensions[EXTENSION].shared_limit(
        _partner_limit, scope="partner", key_func=_api_key, methods=["POST"]
    )(bp)


def _public_limit() -> str:
    return f"{max(1, int(current_app.config['PUBLIC_RATE_LIMIT']))} per minute"


def _public_unlimited() -> bool:
    return int(current_app.config["PUBLIC_RATE_LIMIT"]) <= 0


def _partner_limit() -> str:
    return current_app.config["RATELIMIT_PARTNER"]


def _api_key() -> str:
    # The key's hash, never the key itself, names the bucket.
    key = request.values.get("api_key") or ""
    return "key:" + hashlib.sha256(key.encode()).hexdigest() if key else get_remote_address()
