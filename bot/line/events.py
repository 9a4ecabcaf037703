"""LINE webhook events turned into plain values at the edge; nothing past here sees the SDK."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields
from typing import Any

from linebot.v3.models.events import UnknownEvent
from linebot.v3.webhooks import (
    Event,
    FollowEvent,
    ImageMessageContent,
    LocationMessageContent,
    MessageEvent,
    PostbackEvent,
    StickerMessageContent,
    TextMessageContent,
    UnfollowEvent,
)


@dataclass(frozen=True)
class IncomingEvent:
    """One webhook event as plain values.

    ``type`` is follow, unfollow, message, postback, or the LINE type name of anything else
    (kept so the reply can stay polite). ``message_type`` is text, image, location, sticker,
    video, audio, file or another LINE message type.
    """

    event_id: str
    type: str
    timestamp_ms: int
    user_id: str | None = None
    reply_token: str | None = None
    mode: str = "active"
    is_redelivery: bool = False
    message_type: str | None = None
    message_id: str | None = None
    text: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    address: str | None = None
    postback_data: str | None = None
    postback_params: dict[str, Any] | None = None
    content_external_url: str | None = None

    @property
    def standby(self) -> bool:
        """Tell whether LINE sent this while another channel was active (must not answer)."""
        return self.mode == "standby"

    def to_dict(self) -> dict[str, Any]:
        """Return the event as JSON-ready values."""
        # Not dataclasses.asdict: its deep copy is a tenth of the webhook's time.
        return {name: getattr(self, name) for name in _FIELD_NAMES}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IncomingEvent:
        """Rebuild an event stored with ``to_dict``; unknown keys are ignored."""
        return cls(**{k: v for k, v in data.items() if k in _FIELD_NAMES})


_FIELD_NAMES = tuple(f.name for f in fields(IncomingEvent))


def to_plain(event: Event, raw: dict[str, Any]) -> IncomingEvent:
    """Turn a parsed SDK event (and its raw JSON, for events the SDK does not know) into values."""
    if isinstance(event, UnknownEvent):
        return _unknown_to_plain(raw)
    source = getattr(event, "source", None)
    delivery = getattr(event, "delivery_context", None)
    mode = getattr(event, "mode", None)
    base: dict[str, Any] = {
        "event_id": event.webhook_event_id,
        "timestamp_ms": int(event.timestamp),
        "user_id": getattr(source, "user_id", None),
        "reply_token": getattr(event, "reply_token", None),
        "mode": getattr(mode, "value", mode) or "active",
        "is_redelivery": bool(getattr(delivery, "is_redelivery", False)),
    }
    if isinstance(event, FollowEvent):
        return IncomingEvent(type="follow", **base)
    if isinstance(event, UnfollowEvent):
        return IncomingEvent(type="unfollow", **base)
    if isinstance(event, PostbackEvent):
        params = event.postback.params
        return IncomingEvent(
            type="postback",
            postback_data=event.postback.data,
            postback_params=dict(params) if params else None,
            **base,
        )
    if isinstance(event, MessageEvent):
        message = event.message
        values: dict[str, Any] = {"message_type": message.type, "message_id": message.id}
        if isinstance(message, TextMessageContent):
            values["text"] = message.text
        elif isinstance(message, LocationMessageContent):
            values.update(
                latitude=message.latitude,
                longitude=message.longitude,
                address=message.address or message.title,
            )
        elif isinstance(message, ImageMessageContent):
            provider = message.content_provider
            if provider is not None and provider.type == "external":
                values["content_external_url"] = provider.original_content_url
        elif isinstance(message, StickerMessageContent):
            pass
        return IncomingEvent(type="message", **values, **base)
    return IncomingEvent(type=str(getattr(event, "type", "unknown")), **base)


def _unknown_to_plain(raw: dict[str, Any]) -> IncomingEvent:
    """Keep what can be read from an event the SDK does not know; enough for a polite reply."""
    source = raw.get("source") or {}
    message = raw.get("message") or {}
    event_id = raw.get("webhookEventId") or _digest(raw)
    return IncomingEvent(
        event_id=str(event_id),
        type=str(raw.get("type", "unknown")),
        timestamp_ms=int(raw.get("timestamp") or 0),
        user_id=source.get("userId") if isinstance(source, dict) else None,
        reply_token=raw.get("replyToken"),
        mode=str(raw.get("mode") or "active"),
        is_redelivery=bool((raw.get("deliveryContext") or {}).get("isRedelivery", False)),
        message_type=message.get("type") if isinstance(message, dict) else None,
    )


def _digest(raw: dict[str, Any]) -> str:
    """Give an event without webhookEventId a stable id so a redelivery is still recognised."""
    body = json.dumps(raw, sort_keys=True, ensure_ascii=False).encode()
    return "sha-" + hashlib.sha256(body).hexdigest()[:40]
