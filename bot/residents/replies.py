"""LINE message objects as plain JSON, kept inside LINE's limits.

LINE's limits: a text message holds at most 5,000 characters, a quick reply at most 13
buttons, a button label at most 20 characters, postback data at most 300 characters.
"""

from __future__ import annotations

import unicodedata
from typing import Any

Message = dict[str, Any]
Item = dict[str, Any]

MAX_TEXT = 5000
MAX_QUICK_REPLIES = 13
MAX_LABEL = 20
MAX_DATA = 300
MAX_DISPLAY_TEXT = 300


def text(body: str, items: list[Item] | None = None) -> Message:
    """Return a text message, with quick-reply buttons if any."""
    message: Message = {"type": "text", "text": clip(body, MAX_TEXT)}
    if items:
        if len(items) > MAX_QUICK_REPLIES:
            raise ValueError(f"{len(items)} quick replies; LINE shows at most {MAX_QUICK_REPLIES}")
        message["quickReply"] = {"items": items}
    return message


def postback(label: str, data: str, display_text: str | None = None) -> Item:
    """Return a quick-reply button that sends ``data`` back (and shows ``display_text``)."""
    if len(data) > MAX_DATA:
        raise ValueError(f"postback data of {len(data)} characters; LINE takes {MAX_DATA}")
    action: dict[str, Any] = {"type": "postback", "label": clip(label, MAX_LABEL), "data": data}
    action["displayText"] = clip(display_text or label, MAX_DISPLAY_TEXT)
    return {"type": "action", "action": action}


def say(label: str, words: str | None = None) -> Item:
    """Return a quick-reply button that sends ``words`` (default: the label) as a message."""
    return {
        "type": "action",
        "action": {"type": "message", "label": clip(label, MAX_LABEL), "text": words or label},
    }


def camera(label: str) -> Item:
    """Return a quick-reply button that opens the camera."""
    return {"type": "action", "action": {"type": "camera", "label": clip(label, MAX_LABEL)}}


def camera_roll(label: str) -> Item:
    """Return a quick-reply button that opens the photo album."""
    return {"type": "action", "action": {"type": "cameraRoll", "label": clip(label, MAX_LABEL)}}


def location(label: str) -> Item:
    """Return a quick-reply button that opens the location picker."""
    return {"type": "action", "action": {"type": "location", "label": clip(label, MAX_LABEL)}}


def clip(value: str, limit: int) -> str:
    """Shorten ``value`` to ``limit`` characters with "…", never splitting a Thai letter
    from its vowel or tone marks."""
    if len(value) <= limit:
        return value
    end = limit - 1
    # Back up to the start of a letter cluster: a mark alone would sit on nothing.
    while end > 0 and unicodedata.category(value[end]) in {"Mn", "Mc"}:
        end -= 1
    return value[:end].rstrip() + "…"


def short_name(name: str, prefixes: tuple[str, ...] = ()) -> str:
    """Drop a leading word every name shares (ชุมชน, ด้าน) so the rest fits a button."""
    for prefix in prefixes:
        if name.startswith(prefix) and len(name) > len(prefix):
            return name[len(prefix) :].strip()
    return name
