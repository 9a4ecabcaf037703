"""Configuration: code defaults, then the environment, then the mapping given to create_app."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

# Names read from the environment (the same names are the Flask config keys).
ENV_KEYS = (
    "SECRET_KEY",
    "DATABASE_URL",
    "LINE_CHANNEL_SECRET",
    "LINE_CHANNEL_ACCESS_TOKEN",
    "LINE_API_HOST",
    "MEDIA_DIR",
    "MODEL_DIR",
    "TAXONOMY_FILE",
    "CORPUS_DIR",
    "CLASSIFIER_EMBEDDINGS",
    "RUAMKID_SETTINGS",
    "RUAMKID_ENV",
    "UNSURE_THRESHOLD",
    "INLINE_WORKER",
    "PUBLIC_URL",
    "LINE_TIMEOUT",
    "PORT",
    "TRUSTED_PROXIES",
    "MAILBOX_KEEP_HOURS",
    "RATELIMIT_ENABLED",
    "RATELIMIT_PARTNER",
    "RATELIMIT_STORAGE_URI",
    "OPENDATA_DIR",
    "OPENDATA_LICENCE",
    "TILE_URL",
    "PUBLIC_CACHE_SECONDS",
    "PUBLIC_RATE_LIMIT",
    "MAILBOX_LEASE_SECONDS",
    "ALERT_QUOTA_RESERVE",
)

WEAK_SECRETS = {"", "dev", "secret", "changeme", "change-me", "test", "password"}


class ConfigError(RuntimeError):
    """The configuration cannot run in this environment; the message says what to set."""


def defaults(instance_path: str) -> dict[str, Any]:
    """Return the built-in defaults: the embedded SQLite setup that needs no LINE account."""
    instance = Path(instance_path)
    return {
        "RUAMKID_ENV": "development",
        "SECRET_KEY": None,
        "DATABASE_URL": f"sqlite:///{instance / 'ruamkid.db'}",
        "LINE_CHANNEL_SECRET": None,
        "LINE_CHANNEL_ACCESS_TOKEN": None,
        "LINE_API_HOST": None,
        "LINE_TIMEOUT": 5.0,
        "MEDIA_DIR": str(instance / "media"),
        "MODEL_DIR": str(instance / "models"),
        "TAXONOMY_FILE": None,
        # The written corpus the classifier starts from (None: the one shipped in nlp/data).
        "CORPUS_DIR": None,
        # Sentence embeddings on top of the lexical features (off only on a very small machine).
        "CLASSIFIER_EMBEDDINGS": True,
        "RUAMKID_SETTINGS": None,
        "UNSURE_THRESHOLD": None,
        # Drain the inbox and outbox in a thread of the web process (one command is enough).
        "INLINE_WORKER": True,
        "PUBLIC_URL": None,
        # Staff alerts stop while less than this share of the month's LINE quota would remain.
        "ALERT_QUOTA_RESERVE": 0.2,
        "PORT": 5000,
        # Reverse proxies in front that add X-Forwarded-For (0: trust the socket's address).
        "TRUSTED_PROXIES": 0,
        # Webhook events and outgoing messages keep LINE ids and words this long once handled.
        "MAILBOX_KEEP_HOURS": 24.0,
        # A worker's claim on a row lasts this long; a row held by a worker that died is taken
        # over once it runs out. Longer than the slowest event or LINE call.
        "MAILBOX_LEASE_SECONDS": 120.0,
        # LINE's webhook bodies are small; anything over 1 MiB is refused with 413.
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
    }


def from_environment(environ: os._Environ[str] | dict[str, str] | None = None) -> dict[str, Any]:
    """Return the configuration keys that are set in the environment."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {k: environ[k] for k in ENV_KEYS if environ.get(k)}
    for key in (
        "UNSURE_THRESHOLD",
        "LINE_TIMEOUT",
        "MAILBOX_KEEP_HOURS",
        "PUBLIC_CACHE_SECONDS",
        "MAILBOX_LEASE_SECONDS",
        "ALERT_QUOTA_RESERVE",
    ):
        if key in values:
            values[key] = float(values[key])
    for key in ("PORT", "TRUSTED_PROXIES", "PUBLIC_RATE_LIMIT"):
        if key in values:
            values[key] = int(values[key])
    if values.get("TILE_URL", "").lower() in {"off", "none"}:
        values["TILE_URL"] = ""  # an office without internet: the map draws communities only
    for key in ("INLINE_WORKER", "CLASSIFIER_EMBEDDINGS", "RATELIMIT_ENABLED"):
        if key in values:
            values[key] = values[key].lower() not in {"0", "false", "no"}
    return values


def finalize(config: dict[str, Any], instance_path: str) -> None:
    """Check the merged configuration and fill in what development may generate."""
    production = config["RUAMKID_ENV"] == "production"
    key = config.get("SECRET_KEY")
    if production:
        if not key or key.lower() in WEAK_SECRETS or len(key) < 32:
            raise ConfigError(
                "SECRET_KEY ต้องตั้งค่าเป็นข้อความสุ่มยาวอย่างน้อย 32 ตัวอักษรเมื่อใช้งานจริง "
                "(SECRET_KEY must be a random string of at least 32 characters in production; "
                "e.g. python -c 'import secrets; print(secrets.token_hex(32))')"
            )
        if not (config.get("LINE_CHANNEL_SECRET") and config.get("LINE_CHANNEL_ACCESS_TOKEN")):
            raise ConfigError(
                "LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN are required in production"
            )
        config["SESSION_COOKIE_SECURE"] = True
        config["REMEMBER_COOKIE_SECURE"] = True
    elif not key:
        config["SECRET_KEY"] = _instance_secret(instance_path)
    # Without a LINE channel the app runs the simulator, signing its own events.
    config["SIMULATOR"] = not config.get("LINE_CHANNEL_SECRET")
    if config["SIMULATOR"]:
        if production:
            raise ConfigError("the simulator cannot run in production")
        config["LINE_CHANNEL_SECRET"] = _instance_secret(instance_path, "simulator_channel_secret")
        config["LINE_CHANNEL_ACCESS_TOKEN"] = config.get("LINE_CHANNEL_ACCESS_TOKEN") or "simulator"
        if not config.get("LINE_API_HOST"):
            config["LINE_API_HOST"] = f"http://127.0.0.1:{config['PORT']}/simulator/line-api"
    if config.get("LINE_API_HOST"):
        config["LINE_API_HOST"] = config["LINE_API_HOST"].rstrip("/")


def _instance_secret(instance_path: str, name: str = "secret_key") -> str:
    """Keep a random secret in the instance folder so restarts keep sessions valid."""
    path = Path(instance_path) / name
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(32)
    path.write_text(value)
    path.chmod(0o600)
    return value


def tile_origin(url: str) -> str:
    """Return the scheme and host map tiles come from, for the pages' Content-Security-Policy
    (``{s}`` subdomains become a wildcard); "" when ``url`` is not a full URL."""
    parts = urlsplit(url.replace("{s}", "a"))
    if not parts.scheme or not parts.netloc:
        return ""
    host = parts.netloc
    if "{s}" in url:
        host = "*." + host.split(".", 1)[1]
    return f"{parts.scheme}://{host}"
