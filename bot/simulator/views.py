"""The chat page and its small JSON API: act as residents, send signed events to ``/callback``."""

from __future__ import annotations

import logging
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    render_template,
    request,
    url_for,
)
from sqlalchemy import select

from bot.db import get_session
from bot.simulator import events
from storage.simulator import (
    SimulatorContent,
    SimulatorMessage,
    SimulatorReplyToken,
    SimulatorResident,
    default_rich_menu,
    messages_after,
)

logger = logging.getLogger(__name__)

bp = Blueprint("simulator", __name__, url_prefix="/simulator")

KINDS = {"text", "image", "location", "postback", "follow", "unfollow"}
IMAGE_TYPES = {
    "image/jpeg": b"\xff\xd8\xff",
    "image/png": b"\x89PNG",
    "image/gif": b"GIF8",
    "image/webp": b"RIFF",
}
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_TEXT = 5000
# Lamphun municipality's office, the location form's default.
DEFAULT_LOCATION = {"latitude": 18.5776, "longitude": 99.0087}
RESIDENT_NAMES = ("สมชาย", "สมหญิง", "บุญมี", "คำแปง", "ศรีนวล", "อินทร์แก้ว", "จันทร์ดี")


def _user_id(value: Any) -> str:
    if not isinstance(value, str) or not events.USER_ID.match(value):
        abort(400, "user_id must be U followed by 32 hex digits")
    return value


def _resident_dict(resident: SimulatorResident) -> dict[str, Any]:
    return {
        "user_id": resident.user_id,
        "display_name": resident.display_name,
        "following": resident.following,
    }


@bp.get("")
def chat() -> str:
    """Show the LINE-like chat page."""
    municipality = current_app.extensions["ruamkid"]
    return render_template(
        "simulator/chat.html",
        municipality=municipality,
        location={**DEFAULT_LOCATION, "address": municipality.office or municipality.name},
    )


@bp.get("/residents")
def residents() -> Response:
    """List the pretend residents, oldest first."""
    rows = get_session().scalars(select(SimulatorResident).order_by(SimulatorResident.created_at))
    return jsonify({"residents": [_resident_dict(row) for row in rows]})


@bp.post("/residents")
def add_resident() -> Response:
    """Create a pretend resident with a fresh LINE user id."""
    data = request.get_json(silent=True) or {}
    session = get_session()
    count = len(session.scalars(select(SimulatorResident.user_id)).all())
    name = str(data.get("display_name") or "").strip()[:100]
    if not name:
        name = f"คุณ{RESIDENT_NAMES[count % len(RESIDENT_NAMES)]} (ทดสอบ {count + 1})"
    resident = SimulatorResident(user_id=events.new_user_id(), display_name=name, following=False)
    session.add(resident)
    session.commit()
    return jsonify(_resident_dict(resident))


@bp.get("/messages")
def messages() -> Response:
    """Return one resident's chat after message ``after`` (the page polls this)."""
    user_id = _user_id(request.args.get("user_id"))
    after = request.args.get("after", 0, type=int)
    rows = messages_after(get_session(), user_id, after)
    return jsonify(
        {
            "messages": [
                {
                    "id": row.id,
                    "sender": row.sender,
                    "via": row.via,
                    "message": row.message,
                    "at": row.created_at.isoformat(),
                }
                for row in rows
            ]
        }
    )


@bp.get("/photo/<message_id>")
def photo(message_id: str) -> Response:
    """Serve a photo a pretend resident sent, for the page to show."""
    row = get_session().get(SimulatorContent, message_id)
    if row is None:
        abort(404)
    return Response(row.data, mimetype=row.content_type)


@bp.get("/rich-menu")
def rich_menu() -> Response:
    """Return the default rich menu the bot set up through the API, if any."""
    row = default_rich_menu(get_session())
    if row is None:
        return jsonify({"rich_menu": None})
    return jsonify(
        {
            "rich_menu": {
                "chatBarText": row.menu.get("chatBarText", ""),
                "size": row.menu.get("size"),
                "areas": row.menu.get("areas", []),
            },
            "image_url": url_for(".rich_menu_image", rich_menu_id=row.rich_menu_id),
        }
    )


@bp.get("/rich-menu/<rich_menu_id>/image")
def rich_menu_image(rich_menu_id: str) -> Response:
    """Serve the default rich menu's image."""
    row = default_rich_menu(get_session())
    if row is None or row.rich_menu_id != rich_menu_id or row.image is None:
        abort(404)
    return Response(row.image, mimetype=row.image_type or "image/png")


@bp.post("/send")
def send() -> tuple[Response, int]:
    """Build one event as LINE would, sign it, and post it through the real ``/callback``."""
    if request.mimetype == "multipart/form-data":
        # A phone photo is larger than the webhook's 1 MiB body limit.
        request.max_content_length = MAX_PHOTO_BYTES + 64 * 1024
        data: dict[str, Any] = dict(request.form)
        data["kind"] = "image"
    else:
        data = request.get_json(silent=True) or {}
    kind = data.get("kind")
    if kind not in KINDS:
        abort(400, "unknown kind")
    user_id = _user_id(data.get("user_id"))
    session = get_session()
    resident = session.get(SimulatorResident, user_id)
    if resident is None:
        abort(404, "no such simulated resident")
    if kind not in {"follow", "unfollow"} and not resident.following:
        return jsonify({"error": "ยังไม่ได้เพิ่มเพื่อน กด “เพิ่มเพื่อน” ก่อนส่งข้อความ"}), 409

    message_id = events.new_message_id()
    reply_token = None if kind == "unfollow" else events.new_reply_token()
    fields: dict[str, Any] = {}
    shown: dict[str, Any] = {"type": kind}
    if kind == "text":
        text = str(data.get("text") or "")
        if not text.strip():
            abort(400, "empty text")
        fields["text"] = text[:MAX_TEXT]
        shown["text"] = fields["text"]
    elif kind == "image":
        upload = request.files.get("photo")
        if upload is None:
            abort(400, "no photo")
        content = upload.read(MAX_PHOTO_BYTES + 1)
        content_type = (upload.mimetype or "").lower()
        magic = IMAGE_TYPES.get(content_type)
        if magic is None or not content.startswith(magic) or len(content) > MAX_PHOTO_BYTES:
            abort(400, "JPEG, PNG, GIF or WebP up to 10 MB")
        session.add(
            SimulatorContent(
                line_message_id=message_id,
                user_id=user_id,
                content_type=content_type,
                data=content,
            )
        )
        shown["url"] = url_for(".photo", message_id=message_id)
    elif kind == "location":
        try:
            latitude = float(data.get("latitude", DEFAULT_LOCATION["latitude"]))
            longitude = float(data.get("longitude", DEFAULT_LOCATION["longitude"]))
        except (TypeError, ValueError):
            abort(400, "latitude and longitude must be numbers")
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            abort(400, "latitude or longitude out of range")
        fields.update(
            latitude=latitude,
            longitude=longitude,
            address=str(data.get("address") or "")[:300],
            title=str(data.get("title") or "ตำแหน่งของฉัน")[:100],
        )
        shown.update(fields)
    elif kind == "postback":
        fields["data"] = str(data.get("data") or "")[:300]
        params = data.get("params")
        if isinstance(params, dict):
            fields["params"] = {str(k): str(v) for k, v in params.items()}
        shown["data"] = fields["data"]
        shown["displayText"] = str(data.get("display_text") or "")[:300]
    elif kind == "follow":
        resident.following = True
    elif kind == "unfollow":
        resident.following = False

    event = events.make_event(
        kind, user_id, reply_token=reply_token, message_id=message_id, **fields
    )
    session.add(
        SimulatorMessage(
            user_id=user_id, sender="resident", via=kind, message=shown, line_message_id=message_id
        )
    )
    if reply_token:
        session.add(SimulatorReplyToken(token=reply_token, user_id=user_id))
    # Commit before posting: the webhook runs in its own context and writes the inbox.
    session.commit()

    raw = events.body(event)
    signature = events.sign(raw, current_app.config["LINE_CHANNEL_SECRET"])
    answer = current_app.test_client().post(
        "/callback",
        data=raw,
        headers={"X-Line-Signature": signature},
        content_type="application/json; charset=utf-8",
    )
    status = answer.status_code
    answer.close()
    if status != 200:
        logger.warning(
            "simulator: /callback answered %d to event %s", status, event["webhookEventId"]
        )
        return jsonify({"error": f"/callback answered {status}", "callback_status": status}), 502
    return jsonify({"callback_status": status, "event_id": event["webhookEventId"]}), 200
