"""``POST /callback``: verify the signature, store every event durably, answer 200 at once.

Processing happens later in the worker (a thread of this process, or ``ruamkid worker``), so
the answer never waits for classification, downloads or pushes. An event that does not fit
LINE's spec or our columns is logged (without its values) and skipped; the others are stored.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from flask import Blueprint, Response, abort, current_app, request
from linebot.v3.webhook import SignatureValidator

from bot import db
from bot.line import worker
from bot.line.events import BadBody, BadEvent, from_raw, load_events
from storage.mailbox import store_inbox_events

logger = logging.getLogger(__name__)

bp = Blueprint("webhook", __name__)
_SQLITE_WRITE_LOCK = threading.Lock()


@bp.post("/callback")
def callback() -> Response:
    """Receive LINE's webhook: 400 on a bad signature or body, 200 once the events are stored."""
    signature = request.headers.get("X-Line-Signature")
    if not signature:
        logger.warning("webhook refused: no X-Line-Signature header")
        abort(400, "missing signature")
    # get_data raises 413 itself when the body is over MAX_CONTENT_LENGTH.
    try:
        body = request.get_data().decode("utf-8")
    except UnicodeDecodeError:
        logger.warning("webhook refused: body is not UTF-8")
        abort(400, "invalid body")
    validator = SignatureValidator(current_app.config["LINE_CHANNEL_SECRET"])
    if not validator.validate(body, signature):
        logger.warning("webhook refused: bad signature")
        abort(400, "bad signature")
    try:
        raw_events = load_events(body)
    except BadBody as exc:
        logger.warning("webhook refused: %s", exc)
        abort(400, "invalid body")

    now_ms = int(time.time() * 1000)
    rows = []
    for number, raw_event in enumerate(raw_events, 1):
        try:
            event = from_raw(raw_event, now_ms)
        except BadEvent as exc:
            logger.warning("webhook: event %d of %d skipped: %s", number, len(raw_events), exc)
            continue
        rows.append(
            {
                "webhook_event_id": event.event_id,
                "event_type": event.type,
                "line_user_id": event.user_id,
                "payload": event.to_dict(),
                "mode": event.mode,
                "is_redelivery": event.is_redelivery,
            }
        )
    if rows:
        stored = _store(rows)
        if stored:
            worker.wake(current_app)
        logger.debug("webhook: %d events, %d new", len(rows), stored)
    return Response("OK", status=200, mimetype="text/plain")


def _store(rows: list[dict[str, Any]]) -> int:
    """Store the events durably (committed) and return how many were new."""
    engine = db.engine()
    if engine.dialect.name == "sqlite":
        # SQLite takes one writer at a time and makes the others sleep and retry (1, 2, 5 …
        # 100 ms); queueing this process's request threads on a lock wakes each as soon as it
        # may write.
        with _SQLITE_WRITE_LOCK, engine.begin() as connection:
            return store_inbox_events(connection, rows)
    # On PostgreSQL one autocommitted INSERT is one round trip, durable when it returns:
    # no BEGIN and COMMIT of their own, and no ORM session, on the hottest path.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        return store_inbox_events(connection, rows)
