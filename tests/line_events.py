"""Build webhook bodies from the JSON templates in tests/payloads (shaped like LINE's
webhook.yml), and sign them the way LINE does."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import itertools
import json
import time
from pathlib import Path
from typing import Any

PAYLOADS = Path(__file__).with_name("payloads")
_counter = itertools.count(1)


def template(name: str) -> dict[str, Any]:
    """Return a fresh copy of a payload template (text, image, follow, postback, …)."""
    return copy.deepcopy(json.loads((PAYLOADS / f"{name}.json").read_text()))


def event(
    name: str,
    user_id: str = "U" + "a" * 32,
    *,
    event_id: str | None = None,
    redelivery: bool = False,
    mode: str = "active",
    timestamp_ms: int | None = None,
    **message: Any,
) -> dict[str, Any]:
    """Return one event of type ``name``; keyword arguments fill ``message`` (or ``postback``)."""
    n = next(_counter)
    body = template(name)
    body["source"]["userId"] = user_id
    body["webhookEventId"] = event_id or f"01TEST{n:020d}"
    body["deliveryContext"]["isRedelivery"] = redelivery
    body["mode"] = mode
    body["timestamp"] = timestamp_ms if timestamp_ms is not None else int(time.time() * 1000)
    if "replyToken" in body:
        body["replyToken"] = f"reply-token-{n:08d}"
    if name == "postback":
        body["postback"].update(message)
    elif "message" in body:
        body["message"]["id"] = str(200000 + n)
        body["message"].update(message)
    return body


def text(text_value: str, user_id: str = "U" + "a" * 32, **kwargs: Any) -> dict[str, Any]:
    """Return a text message event."""
    return event("text", user_id, text=text_value, **kwargs)


def postback(data: str, user_id: str = "U" + "a" * 32, **kwargs: Any) -> dict[str, Any]:
    """Return a postback event carrying ``data``."""
    return event("postback", user_id, data=data, **kwargs)


def body(*events: dict[str, Any], destination: str = "U" + "f" * 32) -> bytes:
    """Return a webhook request body holding ``events``."""
    return json.dumps(
        {"destination": destination, "events": list(events)}, ensure_ascii=False
    ).encode("utf-8")


def sign(raw: bytes, channel_secret: str) -> str:
    """Return the X-Line-Signature LINE would send for ``raw``."""
    digest = hmac.new(channel_secret.encode(), raw, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()
