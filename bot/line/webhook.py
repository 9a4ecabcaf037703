"""``POST /callback``: verify the signature, store every event durably, answer 200 at once.

Processing happens later in the worker (a thread of this process, or ``ruamkid worker``), so
the answer never waits for classification, downloads or pushes.
"""

from __future__ import annotations

import json
import logging
import threading
from contextlib import nullcontext

from flask import Blueprint, Response, abort, current_app, request
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.webhook import WebhookParser
from pydantic import ValidationError

from bot.db import get_session
from bot.line import worker
from bot.line.events import to_plain
from storage.db import is_sqlite
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
    body = request.get_data(as_text=True)
    parser = WebhookParser(current_app.config["LINE_CHANNEL_SECRET"])
    try:
        events = parser.parse(body, signature)
        raw_events = json.loads(body)["events"]
        plain = [to_plain(event, raw) for event, raw in zip(events, raw_events, strict=True)]
    except InvalidSignatureError:
        logger.warning("webhook refused: bad signature")
        abort(400, "bad signature")
    except json.JSONDecodeError as exc:
        logger.warning("webhook refused: malformed JSON at position %d", exc.pos)
        abort(400, "malformed JSON")
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['type']}" for err in exc.errors()
        )
        logger.warning("webhook refused: event does not match LINE's schema (%s)", problems)
        abort(400, "invalid event")
    except (KeyError, TypeError, ValueError) as exc:
        logger.warning("webhook refused: unexpected body shape (%s)", type(exc).__name__)
        abort(400, "invalid body")

    rows = [
        {
            "webhook_event_id": event.event_id,
            "event_type": event.type,
            "line_user_id": event.user_id,
            "payload": event.to_dict(),
            "mode": event.mode,
            "is_redelivery": event.is_redelivery,
        }
        for event in plain
    ]
    session = get_session()
    # SQLite takes one writer at a time and makes the others sleep and retry (1, 2, 5 … 100 ms);
    # queueing this process's request threads on a lock wakes each one as soon as it may write.
    with _SQLITE_WRITE_LOCK if is_sqlite(session) else nullcontext():
        stored = store_inbox_events(session, rows)
        session.commit()
    if stored:
        worker.wake(current_app)
    logger.info("webhook: %d events, %d new", len(rows), stored)
    return Response("OK", status=200, mimetype="text/plain")
