"""The LINE Messaging API stand-in built into the simulator, under ``/simulator/line-api``.

In simulator mode ``LINE_API_HOST`` points here, so the bot's real code (``bot.line.api`` and
line-bot-sdk) sends real HTTP requests, and this blueprint answers the way LINE does
(``messaging-api.yml``): bearer token checked, request bodies checked for LINE's main limits,
reply tokens usable once and for a minute, retry keys answered 409 when repeated. What the bot
sends is stored per user in ``simulator_messages`` for the chat page to show.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import uuid
from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy import select, update

from bot.db import get_session
from bot.simulator.events import new_message_id, new_quote_token
from storage.base import utcnow
from storage.simulator import (
    SimulatorContent,
    SimulatorMessage,
    SimulatorReplyToken,
    SimulatorResident,
    SimulatorRichMenu,
    default_rich_menu,
    pushes_since,
    retry_key_used,
)

logger = logging.getLogger(__name__)

bp = Blueprint("line_standin", __name__, url_prefix="/simulator/line-api")

REPLY_TOKEN_LIFETIME = timedelta(minutes=1)
MAX_MESSAGES = 5
MAX_QUICK_REPLY_ITEMS = 13
MAX_TEXT = 5000
MAX_MULTICAST = 500
# Message types that LINE gives a quote token when sent.
QUOTABLE = {"text", "sticker", "image", "video"}


class _Refused(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        details: list[dict[str, str]] | None = None,
        sent: list[dict[str, str]] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details or []
        self.sent = sent or []


@bp.errorhandler(_Refused)
def _refused(exc: _Refused) -> tuple[Response, int]:
    body: dict[str, Any] = {"message": exc.message}
    if exc.details:
        body["details"] = exc.details
    if exc.sent:
        body["sentMessages"] = exc.sent
    return jsonify(body), exc.status


@bp.before_request
def _check_token() -> tuple[Response, int] | None:
    """Refuse requests without the channel access token, as LINE does (401)."""
    expected = current_app.config.get("LINE_CHANNEL_ACCESS_TOKEN") or ""
    given = request.headers.get("Authorization", "")
    if not (expected and hmac.compare_digest(given.encode(), f"Bearer {expected}".encode())):
        message = "Authentication failed. Confirm that the access token in the authorization "
        return jsonify({"message": message + "header is valid."}), 401
    return None


@bp.after_request
def _request_id(response: Response) -> Response:
    response.headers["X-Line-Request-Id"] = secrets.token_hex(16)
    return response


def _json_body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise _Refused(400, "The request body has 1 error(s)", [{"message": "Invalid JSON"}])
    return data


def _check_messages(messages: Any) -> list[dict[str, Any]]:
    """Apply LINE's limits that matter to the bot: 1–5 messages, 13 quick replies, text size."""
    problems: list[dict[str, str]] = []
    if not isinstance(messages, list) or not 1 <= len(messages) <= MAX_MESSAGES:
        problems.append({"message": "Size must be between 1 and 5", "property": "messages"})
        raise _Refused(400, "The request body has 1 error(s)", problems)
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            problems.append({"message": "Must be an object with a type", "property": where})
            continue
        if message["type"] == "text":
            text = message.get("text")
            if not isinstance(text, str) or not text:
                problems.append({"message": "Must not be empty", "property": f"{where}.text"})
            elif len(text) > MAX_TEXT:
                problems.append(
                    {"message": "Length must be 5000 or less", "property": f"{where}.text"}
                )
        if message["type"] in {"flex", "template"} and not message.get("altText"):
            problems.append({"message": "Must not be empty", "property": f"{where}.altText"})
        items = (message.get("quickReply") or {}).get("items")
        if items is not None and (not isinstance(items, list) or len(items) > 13):
            problems.append(
                {"message": "Size must be between 0 and 13", "property": f"{where}.quickReply"}
            )
    if problems:
        raise _Refused(400, f"The request body has {len(problems)} error(s)", problems)
    return messages


def _store(user_ids: list[str], messages: list[dict[str, Any]], via: str, retry_key: str | None):
    """Keep what the bot sent to each user; return LINE's ``sentMessages`` for the first one."""
    session = get_session()
    sent: list[dict[str, str]] = []
    for position, user_id in enumerate(user_ids):
        for message in messages:
            message_id = new_message_id()
            session.add(
                SimulatorMessage(
                    user_id=user_id,
                    sender="bot",
                    via=via,
                    message=message,
                    line_message_id=message_id,
                    retry_key=retry_key,
                )
            )
            if position == 0:
                entry = {"id": message_id}
                if message.get("type") in QUOTABLE:
                    entry["quoteToken"] = new_quote_token()
                sent.append(entry)
    session.commit()
    return sent


def _check_retry_key() -> str | None:
    """Return the X-Line-Retry-Key (a UUID) or refuse a repeat with 409 like LINE."""
    key = request.headers.get("X-Line-Retry-Key")
    if key is None:
        return None
    try:
        uuid.UUID(key)
    except ValueError:
        raise _Refused(400, "The value for the 'X-Line-Retry-Key' header is invalid") from None
    accepted = retry_key_used(get_session(), key)
    if accepted:
        first_user = accepted[0].user_id
        sent = [{"id": m.line_message_id or ""} for m in accepted if m.user_id == first_user]
        raise _Refused(409, "The retry key is already accepted", sent=sent[:MAX_MESSAGES])
    return key


@bp.post("/v2/bot/message/reply")
def reply() -> Response:
    """Answer a reply: the token must be one the simulator issued, unused and under a minute."""
    data = _json_body()
    messages = _check_messages(data.get("messages"))
    token = data.get("replyToken")
    session = get_session()
    row = session.get(SimulatorReplyToken, token) if isinstance(token, str) else None
    now = utcnow()
    if row is None or row.used_at is not None or now - row.issued_at > REPLY_TOKEN_LIFETIME:
        raise _Refused(400, "Invalid reply token")
    # Claim the token in one statement so two concurrent replies cannot both use it.
    claimed = session.execute(
        update(SimulatorReplyToken)
        .where(SimulatorReplyToken.token == token, SimulatorReplyToken.used_at.is_(None))
        .values(used_at=now)
    )
    if claimed.rowcount != 1:
        session.rollback()
        raise _Refused(400, "Invalid reply token")
    sent = _store([row.user_id], messages, "reply", None)
    return jsonify({"sentMessages": sent})


@bp.post("/v2/bot/message/push")
def push() -> Response:
    """Answer a push to one user."""
    data = _json_body()
    to = data.get("to")
    if not isinstance(to, str) or not to:
        raise _Refused(400, "The request body has 1 error(s)", [{"property": "to"}])
    messages = _check_messages(data.get("messages"))
    key = _check_retry_key()
    sent = _store([to], messages, "push", key)
    return jsonify({"sentMessages": sent})


@bp.post("/v2/bot/message/multicast")
def multicast() -> Response:
    """Answer a multicast to up to 500 users."""
    data = _json_body()
    to = data.get("to")
    if not isinstance(to, list) or not 1 <= len(to) <= MAX_MULTICAST:
        raise _Refused(
            400,
            "The request body has 1 error(s)",
            [{"message": "Size must be between 1 and 500", "property": "to"}],
        )
    messages = _check_messages(data.get("messages"))
    key = _check_retry_key()
    _store([str(user_id) for user_id in to], messages, "multicast", key)
    return jsonify({})


@bp.get("/v2/bot/profile/<user_id>")
def profile(user_id: str) -> Response:
    """Answer a profile lookup for a simulated resident who follows the account."""
    resident = get_session().get(SimulatorResident, user_id)
    if resident is None or not resident.following:
        raise _Refused(404, "Not found")
    return jsonify({"userId": user_id, "displayName": resident.display_name, "language": "th"})


@bp.get("/v2/bot/message/<message_id>/content")
def content(message_id: str) -> Response:
    """Serve a photo the page uploaded, as LINE serves message content."""
    row = get_session().get(SimulatorContent, message_id)
    if row is None:
        raise _Refused(404, "Not found")
    return Response(row.data, mimetype=row.content_type)


@bp.get("/v2/bot/message/quota")
def quota() -> Response:
    """Answer that this pretend channel has no monthly limit."""
    return jsonify({"type": "none"})


@bp.get("/v2/bot/message/quota/consumption")
def quota_consumption() -> Response:
    """Count this month's pushed and multicast messages."""
    start = utcnow().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return jsonify({"totalUsage": pushes_since(get_session(), start)})


@bp.post("/v2/bot/chat/loading/start")
def loading_start() -> tuple[Response, int]:
    """Accept a loading animation (the page does not show it)."""
    _json_body()
    return jsonify({}), 202


# --- rich menus ----------------------------------------------------------------------------


def _menu_response(row: SimulatorRichMenu) -> dict[str, Any]:
    return {"richMenuId": row.rich_menu_id, **row.menu}


@bp.post("/v2/bot/richmenu")
def create_rich_menu() -> Response:
    """Create a rich menu and return its id."""
    data = _json_body()
    missing = [k for k in ("size", "selected", "name", "chatBarText", "areas") if k not in data]
    if missing:
        details = [{"message": "Must be specified", "property": key} for key in missing]
        raise _Refused(400, f"The request body has {len(missing)} error(s)", details)
    if not isinstance(data["areas"], list) or len(data["areas"]) > 20:
        raise _Refused(400, "The request body has 1 error(s)", [{"property": "areas"}])
    row = SimulatorRichMenu(rich_menu_id="richmenu-" + secrets.token_hex(16), menu=data)
    session = get_session()
    session.add(row)
    session.commit()
    return jsonify({"richMenuId": row.rich_menu_id})


def _rich_menu_or_404(rich_menu_id: str) -> SimulatorRichMenu:
    row = get_session().get(SimulatorRichMenu, rich_menu_id)
    if row is None:
        raise _Refused(404, "Not found")
    return row


@bp.get("/v2/bot/richmenu/list")
def list_rich_menus() -> Response:
    """List the rich menus made so far."""
    rows = get_session().scalars(select(SimulatorRichMenu).order_by(SimulatorRichMenu.created_at))
    return jsonify({"richmenus": [_menu_response(row) for row in rows]})


@bp.get("/v2/bot/richmenu/<rich_menu_id>")
def get_rich_menu(rich_menu_id: str) -> Response:
    """Return one rich menu."""
    return jsonify(_menu_response(_rich_menu_or_404(rich_menu_id)))


@bp.delete("/v2/bot/richmenu/<rich_menu_id>")
def delete_rich_menu(rich_menu_id: str) -> Response:
    """Delete a rich menu."""
    row = _rich_menu_or_404(rich_menu_id)
    session = get_session()
    session.delete(row)
    session.commit()
    return jsonify({})


@bp.post("/v2/bot/richmenu/<rich_menu_id>/content")
def upload_rich_menu_image(rich_menu_id: str) -> Response:
    """Store a rich menu's image (JPEG or PNG, at most 1 MB, as LINE requires)."""
    row = _rich_menu_or_404(rich_menu_id)
    content_type = (request.content_type or "").split(";")[0].strip()
    if content_type not in {"image/jpeg", "image/png"}:
        raise _Refused(415, "Unsupported Media Type")
    data = request.get_data()
    if not data or len(data) > 1024 * 1024:
        raise _Refused(400, "The image must be at most 1 MB")
    row.image, row.image_type = data, content_type
    get_session().commit()
    return jsonify({})


@bp.get("/v2/bot/richmenu/<rich_menu_id>/content")
def download_rich_menu_image(rich_menu_id: str) -> Response:
    """Return a rich menu's image."""
    row = _rich_menu_or_404(rich_menu_id)
    if row.image is None:
        raise _Refused(404, "Not found")
    return Response(row.image, mimetype=row.image_type or "image/png")


@bp.post("/v2/bot/user/all/richmenu/<rich_menu_id>")
def set_default_rich_menu(rich_menu_id: str) -> Response:
    """Make a rich menu (with an image) the one every user sees."""
    row = _rich_menu_or_404(rich_menu_id)
    if row.image is None:
        raise _Refused(400, "An image has not been uploaded to the rich menu")
    session = get_session()
    session.execute(update(SimulatorRichMenu).values(is_default=False))
    row.is_default = True
    session.commit()
    return jsonify({})


@bp.get("/v2/bot/user/all/richmenu")
def get_default_rich_menu() -> Response:
    """Return the default rich menu's id."""
    row = default_rich_menu(get_session())
    if row is None:
        raise _Refused(404, "Not found")
    return jsonify({"richMenuId": row.rich_menu_id})


@bp.delete("/v2/bot/user/all/richmenu")
def clear_default_rich_menu() -> Response:
    """Stop showing a default rich menu."""
    session = get_session()
    session.execute(update(SimulatorRichMenu).values(is_default=False))
    session.commit()
    return jsonify({})
