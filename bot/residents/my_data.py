""" "ข้อมูลของฉัน" shows what is kept; "ลบข้อมูลของฉัน" deletes it after a confirmation.

The confirmation button carries a one-time token kept in the resident's state for a few
minutes, so an old or copied button cannot delete anything.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta

from bot.needs import erasure
from bot.residents import postbacks
from bot.residents import replies as r
from bot.residents.replies import Message
from bot.residents.turn import Turn
from bot.thai import thai_date
from storage import residents

logger = logging.getLogger(__name__)

DELETE_KEY = "delete"
CONFIRM_WITHIN = timedelta(minutes=10)


def on_my_data(turn: Turn) -> list[Message]:
    """Show the resident what is kept about them."""
    summary = residents.data_summary(turn.session, turn.resident)
    unknown = turn.say("my_data_unknown")
    body = turn.say(
        "my_data",
        name=summary.display_name or unknown,
        community=summary.community or unknown,
        submissions=summary.submissions,
        photos=summary.photos,
        locations=summary.locations,
        consented=thai_date(summary.consented_at, time=False) if summary.consented_at else unknown,
    )
    items = [
        r.postback(turn.say("change_community_button"), postbacks.encode("page", p=1)),
        r.say(turn.say("delete_button")),
        r.say("ติดตามเรื่อง"),
    ]
    return [r.text(body, items)]


def ask_delete(turn: Turn) -> list[Message]:
    """Ask for confirmation with a fresh one-time button."""
    token = secrets.token_urlsafe(9)
    until = (turn.now + CONFIRM_WITHIN).isoformat()
    residents.update_state(turn.resident, **{DELETE_KEY: {"t": token, "until": until}})
    items = [
        r.postback(turn.say("delete_yes_button"), postbacks.encode("del", t=token)),
        r.postback(turn.say("delete_no_button"), postbacks.encode("nodel")),
    ]
    return [r.text(turn.say("delete_confirm"), items)]


def on_delete(turn: Turn, postback: postbacks.Postback) -> list[Message]:
    """Delete the resident's personal data if the button is the one just offered."""
    pending = (turn.resident.state or {}).get(DELETE_KEY)
    token = postback.params.get("t")
    if not isinstance(pending, dict) or not token or not _valid(pending, token, turn.now):
        return [r.text(turn.say("delete_expired"))]
    media_dir = turn.context.config.get("MEDIA_DIR") or "instance/media"
    erasure.erase_resident(turn.session, turn.resident, media_dir, turn.now)
    return [r.text(turn.say("deleted"))]


def on_cancel(turn: Turn, postback: postbacks.Postback) -> list[Message]:
    """Forget the pending deletion."""
    residents.update_state(turn.resident, **{DELETE_KEY: None})
    return [r.text(turn.say("delete_cancelled"))]


def _valid(pending: dict, token: str, now: datetime) -> bool:
    try:
        until = datetime.fromisoformat(str(pending.get("until")))
    except ValueError:
        return False
    return secrets.compare_digest(str(pending.get("t", "")), token) and now <= until
