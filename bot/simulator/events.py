"""Build webhook bodies shaped like LINE's (webhook.yml) and sign them like LINE does."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from typing import Any

USER_ID = re.compile(r"^U[0-9a-f]{32}$")
# Crockford's base32, the alphabet of LINE's ULID-style webhookEventId.
_ULID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# The simulator's pretend bot user id (LINE puts the bot's id in ``destination``).
DESTINATION = "U" + "0" * 31 + "1"


def new_user_id() -> str:
    """Return a fresh LINE-style user id: U and 32 hex digits."""
    return "U" + secrets.token_hex(16)


def new_event_id(now_ms: int | None = None) -> str:
    """Return a ULID-like 26-character webhook event id (time first, then randomness)."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    value = (now_ms << 80) | secrets.randbits(80)
    chars = []
    for _ in range(26):
        chars.append(_ULID_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def new_message_id() -> str:
    """Return a numeric message id like LINE's (unique enough for one development database)."""
    return str(time.time_ns() // 1000) + f"{secrets.randbelow(1000):03d}"


def new_reply_token() -> str:
    """Return an opaque reply token."""
    return secrets.token_hex(16)


def new_quote_token() -> str:
    """Return an opaque quote token (LINE sends one with text and image messages)."""
    return secrets.token_urlsafe(48)


def make_event(
    kind: str,
    user_id: str,
    *,
    reply_token: str | None = None,
    message_id: str | None = None,
    text: str = "",
    data: str = "",
    params: dict[str, Any] | None = None,
    latitude: float = 0.0,
    longitude: float = 0.0,
    address: str = "",
    title: str = "",
    now_ms: int | None = None,
) -> dict[str, Any]:
    """Return one webhook event of ``kind`` (text, image, location, postback, follow, unfollow)."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    event: dict[str, Any] = {
        "type": "message",
        "mode": "active",
        "timestamp": now_ms,
        "source": {"type": "user", "userId": user_id},
        "webhookEventId": new_event_id(now_ms),
        "deliveryContext": {"isRedelivery": False},
    }
    if kind != "unfollow":
        event["replyToken"] = reply_token or new_reply_token()
    message_id = message_id or new_message_id()
    if kind == "text":
        event["message"] = {
            "id": message_id,
            "type": "text",
            "quoteToken": new_quote_token(),
            "text": text,
        }
    elif kind == "image":
        event["message"] = {
            "id": message_id,
            "type": "image",
            "quoteToken": new_quote_token(),
            "contentProvider": {"type": "line"},
        }
    elif kind == "location":
        event["message"] = {
            "id": message_id,
            "type": "location",
            "title": title,
            "address": address,
            "latitude": latitude,
            "longitude": longitude,
        }
    elif kind == "postback":
        event["type"] = "postback"
        event["postback"] = {"data": data, **({"params": params} if params else {})}
    elif kind == "follow":
        event["type"] = "follow"
        event["follow"] = {"isUnblocked": False}
    elif kind == "unfollow":
        event["type"] = "unfollow"
    else:
        raise ValueError(f"unknown simulated event kind: {kind!r}")
    return event


def body(*events: dict[str, Any]) -> bytes:
    """Return the webhook request body carrying ``events``."""
    payload = {"destination": DESTINATION, "events": list(events)}
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


def sign(raw: bytes, channel_secret: str) -> str:
    """Return the X-Line-Signature of ``raw``: base64 of HMAC-SHA256 with the channel secret."""
    digest = hmac.new(channel_secret.encode("utf-8"), raw, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")
