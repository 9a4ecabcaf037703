"""LINE webhook events turned into plain values at the edge; nothing past here sees the SDK."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, fields
from typing import Any

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


class BadBody(ValueError):
    """A webhook body that is not JSON holding an ``events`` array; the whole body is refused."""


# LINE's events are a few levels deep; parts nested deeper than this are dropped (as null)
# when the body is too deep for the json module's recursion (a body 100,000 levels deep).
MAX_DEPTH = 32
# Python refuses to turn more than 4,300 digits into an int; such a number becomes a float
# (infinite), which no field accepts, instead of failing the whole body.
_MAX_INT_DIGITS = 4000
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]|[^\[\]{}"]+')
_CLOSES = {"]": "[", "}": "{"}


def load_events(text: str) -> list[Any]:
    """Parse a webhook body and return its raw events; raise BadBody if it is not that."""
    try:
        try:
            data = _loads(text)
        except RecursionError:
            data = _loads(_shallow(text))
    except json.JSONDecodeError as exc:
        raise BadBody(f"malformed JSON at position {exc.pos}") from None
    except ValueError:
        raise BadBody("malformed JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("events"), list):
        raise BadBody("body is not an object with an events array")
    return data["events"]


def _loads(text: str) -> Any:
    return json.loads(text, parse_int=_int)


def _int(digits: str) -> int | float:
    return int(digits) if len(digits) <= _MAX_INT_DIGITS else float(digits)


def _shallow(text: str) -> str:
    """Return ``text`` with every array or object deeper than MAX_DEPTH replaced by null.

    Only brackets and strings are read here; what is kept is then parsed by the json module,
    which checks the rest.
    """
    kept: list[str] = []
    opened: list[str] = []
    pos = 0
    while pos < len(text):
        token = _TOKEN.match(text, pos)
        if token is None:
            raise ValueError("unterminated string")
        piece, pos = token.group(), token.end()
        if piece in ("[", "{"):
            opened.append(piece)
            if len(opened) == MAX_DEPTH + 1:
                kept.append("null")
            elif len(opened) <= MAX_DEPTH:
                kept.append(piece)
        elif piece in ("]", "}"):
            if not opened or opened.pop() != _CLOSES[piece]:
                raise ValueError("unbalanced brackets")
            if len(opened) < MAX_DEPTH:
                kept.append(piece)
        elif len(opened) <= MAX_DEPTH:
            kept.append(piece)
    return "".join(kept)


class BadEvent(ValueError):
    """An event that cannot be stored; the message names the field and the problem, no values."""


# Column limits (storage.models) and LINE's webhook.yml; a value outside them is refused here,
# before it can fail an insert, a worker's query or a page.
MAX_ID = 64  # webhook event id, user id, message id
MAX_TYPE = 32  # event and message type
MAX_REPLY_TOKEN = 255
MODES = ("active", "standby")
# A timestamp more than a day ahead is not LINE's clock: it would outrank every later event.
FUTURE_SLACK_MS = 24 * 3600 * 1000


def from_raw(raw: Any, now_ms: int) -> IncomingEvent:
    """Turn one raw webhook event (parsed JSON) into checked plain values, or raise BadEvent."""
    if not isinstance(raw, dict):
        raise BadEvent("event is not an object")
    kind = raw.get("type")
    if not isinstance(kind, str) or not 0 < len(kind) <= MAX_TYPE:
        raise BadEvent(f"type is not text of 1–{MAX_TYPE} characters")
    try:
        known = Event.get_discriminator_value(raw) is not None
        event = Event.from_dict(raw) if known else None
    except RecursionError:
        raise BadEvent("event is nested too deep") from None
    # The SDK fails with whichever error its generated code meets (a source without a type
    # raises KeyError); pydantic's ValidationError is a ValueError.
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        if not _has_envelope(raw):
            raise BadEvent(f"{kind} event does not match LINE's schema ({_fields(exc)})") from None
        event = None  # e.g. a message type newer than the SDK: kept like an unknown event
    plain = _unknown_to_plain(raw) if event is None else to_plain(event)
    check(plain, now_ms)
    return plain


def _has_envelope(raw: dict[str, Any]) -> bool:
    """Tell whether the fields every event has (webhook.yml's Event) are there."""
    return (
        isinstance(raw.get("webhookEventId"), str)
        and "timestamp" in raw
        and isinstance(raw.get("deliveryContext"), dict)
    )


def _fields(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return type(exc).__name__
    return ", ".join(".".join(str(p) for p in err["loc"]) for err in errors())


def check(event: IncomingEvent, now_ms: int) -> None:
    """Raise BadEvent unless every field fits LINE's spec and the column it is stored in."""
    _text("webhookEventId", event.event_id, MAX_ID, required=True)
    _text("type", event.type, MAX_TYPE, required=True)
    ts = event.timestamp_ms
    if type(ts) is not int or not 0 <= ts <= now_ms + FUTURE_SLACK_MS:
        raise BadEvent("timestamp is not a time in milliseconds up to a day ahead")
    _text("source.userId", event.user_id, MAX_ID)
    _text("replyToken", event.reply_token, MAX_REPLY_TOKEN)
    if event.mode not in MODES:
        raise BadEvent("mode is neither active nor standby")
    if type(event.is_redelivery) is not bool:
        raise BadEvent("deliveryContext.isRedelivery is not true or false")
    _text("message.type", event.message_type, MAX_TYPE)
    _text("message.id", event.message_id, MAX_ID)
    for name in ("text", "address", "postback_data", "content_external_url"):
        _text(name, getattr(event, name), None)
    for name, value in (event.postback_params or {}).items():
        _text("postback.params", name, None)
        _text("postback.params", value, None)
    _degrees("latitude", event.latitude, 90)
    _degrees("longitude", event.longitude, 180)


def _text(name: str, value: Any, limit: int | None, *, required: bool = False) -> None:
    if value is None and not required:
        return
    if not isinstance(value, str) or (required and not value):
        raise BadEvent(f"{name} is not text")
    if limit is not None and len(value) > limit:
        raise BadEvent(f"{name} is longer than {limit} characters")
    # PostgreSQL refuses NUL in text, and a lone surrogate cannot be written as UTF-8.
    if "\x00" in value or not (value.isascii() or _is_utf8(value)):
        raise BadEvent(f"{name} holds a character that cannot be stored")


def _is_utf8(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _degrees(name: str, value: Any, limit: int) -> None:
    if value is None:
        return
    if type(value) not in (int, float) or not -limit <= value <= limit:  # NaN fails both
        raise BadEvent(f"{name} is not a number from -{limit} to {limit}")


def to_plain(event: Event) -> IncomingEvent:
    """Turn a parsed SDK event into plain values."""
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
    """Keep what can be read from an event the SDK does not know; enough for a polite reply.

    Values are taken as they come; ``check`` refuses those of the wrong kind.
    """
    source = raw.get("source")
    message = raw.get("message")
    delivery = raw.get("deliveryContext")
    event_id = raw.get("webhookEventId") or _digest(raw)
    return IncomingEvent(
        event_id=event_id,
        type=raw["type"],
        timestamp_ms=raw.get("timestamp", 0),
        user_id=source.get("userId") if isinstance(source, dict) else None,
        reply_token=raw.get("replyToken"),
        mode=raw.get("mode") or "active",
        is_redelivery=delivery.get("isRedelivery", False) if isinstance(delivery, dict) else False,
        message_type=message.get("type") if isinstance(message, dict) else None,
    )


def _digest(raw: dict[str, Any]) -> str:
    """Give an event without webhookEventId a stable id so a redelivery is still recognised."""
    try:
        body = json.dumps(raw, sort_keys=True, ensure_ascii=False).encode("utf-8", "surrogatepass")
    except (RecursionError, TypeError, ValueError):
        raise BadEvent("event has no webhookEventId and cannot be read whole") from None
    return "sha-" + hashlib.sha256(body).hexdigest()[:40]
