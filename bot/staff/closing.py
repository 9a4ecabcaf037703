"""The "after" photo on its way to the resident: LINE fetches an image message from an HTTPS
address, so the done push names the photo by a signed, expiring token instead of a public path.

Only an "after" photo of a need is reachable this way (never a resident's photo or anything
else); the token cannot be guessed or turned into another id, and it stops working after
``TOKEN_DAYS`` or once the need is erased (the row and file are gone).
"""

from __future__ import annotations

import io
from pathlib import Path

from flask import Blueprint, abort, current_app, send_file
from itsdangerous import BadSignature, URLSafeTimedSerializer
from PIL import Image
from werkzeug.security import safe_join
from werkzeug.wrappers import Response

from bot.db import get_session
from storage.models import Media

bp = Blueprint("closing", __name__)

SALT = "ruamkid.after-photo"
TOKEN_DAYS = 30
# LINE's preview image: small and at most 1 MB.
PREVIEW_SIDE = 240


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def after_photo_url(media: Media) -> str | None:
    """Return the address LINE fetches ``media`` from, or None without a PUBLIC_URL (the
    resident then gets the words only; staff still see the photo)."""
    base = (current_app.config.get("PUBLIC_URL") or "").rstrip("/")
    if not base:
        return None
    return f"{base}/photos/after/{_signer().dumps(media.id)}"


def _stored_after_photo(token: str) -> Path:
    try:
        media_id = _signer().loads(token, max_age=TOKEN_DAYS * 86400)
    except BadSignature:
        abort(404)
    media = get_session().get(Media, media_id) if isinstance(media_id, int) else None
    if media is None or media.role != "after" or media.status != "stored" or not media.path:
        abort(404)
    path = safe_join(current_app.config["MEDIA_DIR"], media.path)
    if path is None or not Path(path).is_file():
        abort(404)
    return Path(path)


def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.get("/photos/after/<token>")
def after_photo(token: str) -> Response:
    """Serve an "after" photo to LINE by its signed token."""
    return _private(send_file(_stored_after_photo(token), mimetype="image/jpeg", max_age=3600))


@bp.get("/photos/after/<token>/preview")
def after_photo_preview(token: str) -> Response:
    """Serve the small preview LINE shows in the chat."""
    with Image.open(_stored_after_photo(token)) as image:
        image.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, "JPEG", quality=80)
    buffer.seek(0)
    return _private(send_file(buffer, mimetype="image/jpeg", max_age=3600))
