"""``POST /callback``: verify the signature, store every event durably, answer 200 at once.

Processing happens later in the worker (a thread of this process, or ``ruamkid worker``), so
the answer never waits for classification, downloads or pushes. An event that does not fit
LINE's spec or our columns is logged (without its values) and skipped; the others are stored.

The webhook is a small WSGI app in front of Flask rather than a blueprint: LINE's signed calls
need no session, CSRF token, sign-in, rate limit or template, and Flask's hooks for those cost
about 40% of the webhook's CPU (``bench/webhook.py``). Every other request goes on to Flask.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask import Flask
from linebot.v3.webhook import SignatureValidator
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Request, Response

from bot import db, logs
from bot.line import worker
from bot.line.events import BadBody, BadEvent, from_raw, load_events
from storage.mailbox import store_inbox_events

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

logger = logging.getLogger(__name__)

PATH = "/callback"


def init_app(app: Flask) -> None:
    """Put the webhook in front of the app's other routes."""
    app.wsgi_app = Webhook(app, app.wsgi_app)  # type: ignore[method-assign]


class Webhook:
    """Answer ``PATH`` itself; pass every other request to ``wrapped`` (Flask)."""

    def __init__(self, app: Flask, wrapped: WSGIApplication):
        self.app = app
        self.wrapped = wrapped
        self.validator = SignatureValidator(app.config["LINE_CHANNEL_SECRET"])
        self.writer = InboxWriter(app)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse):
        if environ.get("PATH_INFO") != PATH:
            return self.wrapped(environ, start_response)
        request = Request(environ)
        request.max_content_length = self.app.config.get("MAX_CONTENT_LENGTH")
        try:
            response = self.answer(request)
        except Exception as exc:
            # Its type and frames only: a database error's message would carry LINE ids and text.
            logger.error("request POST %s failed:\n%s", PATH, logs.describe_error(exc))
            response = _plain("internal error", 500)  # LINE redelivers the batch later
        return response(environ, start_response)

    def answer(self, request: Request) -> Response:
        """Read the signed body, then :meth:`check_and_store` it."""
        if request.method != "POST":
            return _plain("method not allowed", 405, Allow="POST")
        signature = request.headers.get("X-Line-Signature")
        if not signature:
            logger.warning("webhook refused: no X-Line-Signature header")
            return _plain("missing signature", 400)
        try:
            body = request.get_data().decode("utf-8")
        except RequestEntityTooLarge:
            logger.warning("webhook refused: body over MAX_CONTENT_LENGTH")
            return _plain("body too large", 413)
        except UnicodeDecodeError:
            logger.warning("webhook refused: body is not UTF-8")
            return _plain("invalid body", 400)
        # Counted from here, not before the body is read: a write may wait for this request
        # to join it, but never for a slow client's upload.
        with self.writer.arriving():
            return self.check_and_store(body, signature)

    def check_and_store(self, body: str, signature: str) -> Response:
        """Return 400 on a bad signature or body, 200 once the events are stored."""
        if not self.validator.validate(body, signature):
            logger.warning("webhook refused: bad signature")
            return _plain("bad signature", 400)
        try:
            raw_events = load_events(body)
        except BadBody as exc:
            logger.warning("webhook refused: %s", exc)
            return _plain("invalid body", 400)
        rows = _rows(raw_events)
        if rows:
            self.writer.store(rows)
        return _plain("OK", 200)


def _rows(raw_events: list[Any]) -> list[dict[str, Any]]:
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
    return rows


class InboxWriter:
    """Write the events of concurrent webhook requests together, each request waiting until
    its own events are committed (group commit).

    No thread of its own: the request that finds no write under way writes every request
    waiting, its own among them, with one statement and one commit, then hands the turn to
    the oldest request still waiting, if any. Alone, a request writes at once on its own
    thread; under load, eight requests cost one round trip and one flush of the database's
    log instead of eight. Before writing, the writer waits up to ``gather_seconds`` for the
    requests whose body is read and being checked (``arriving``) to join, as PostgreSQL's
    ``commit_delay`` does for commits: the batch is then about as large as the requests in
    flight. When a shared
    write fails, each of its requests is written alone, so a bad one never fails the others.
    """

    def __init__(self, app: Flask, largest_batch: int = 64, gather_seconds: float = 0.002):
        self.app = app
        self.largest_batch = largest_batch
        self.gather_seconds = gather_seconds
        self._lock = threading.Lock()
        self._joined = threading.Condition(self._lock)  # a request arrived or went away
        self._waiting: deque[_Waiting] = deque()
        self._arriving = 0  # requests being checked that may still join
        self._writing = False
        self._local = threading.local()

    @contextmanager
    def arriving(self) -> Iterator[None]:
        """Count the calling request as on its way (until it stores or goes away)."""
        with self._lock:
            self._arriving += 1
        self._local.arriving = True
        try:
            yield
        finally:
            if self._local.arriving:
                with self._lock:
                    self._arrived()

    def _arrived(self) -> None:
        # Called with the lock held.
        self._arriving -= 1
        self._local.arriving = False
        if self._arriving == 0 or len(self._waiting) >= self.largest_batch:
            self._joined.notify()

    def store(self, rows: list[dict[str, Any]]) -> None:
        """Return once ``rows`` are committed; raise what kept them from it."""
        me = _Waiting(rows)
        with self._lock:
            self._waiting.append(me)
            if getattr(self._local, "arriving", False):
                self._arrived()
            if not self._writing:
                self._writing = me.leads = True
        while True:
            if me.leads:
                me.leads = False
                self._write_next()
            if me.done:
                break
            me.wake.wait()
            me.wake.clear()  # the flags are set before the wake-up, so none is missed
        if me.error is not None:
            raise me.error

    def _write_next(self) -> None:
        """Write the oldest waiting requests, then pass the turn on (or end it)."""
        with self._lock:
            deadline = time.monotonic() + self.gather_seconds
            while self._arriving and len(self._waiting) < self.largest_batch:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._joined.wait(left)
            batch, rows = [], 0
            while self._waiting and (
                not batch or rows + len(self._waiting[0].rows) <= self.largest_batch
            ):
                batch.append(self._waiting.popleft())
                rows += len(batch[-1].rows)
        try:
            self._write(batch)  # never empty: the turn's holder is still waiting
        finally:
            with self._lock:
                if self._waiting:
                    heir = self._waiting[0]
                    heir.leads = True
                    heir.wake.set()
                else:
                    self._writing = False

    def _write(self, batch: list[_Waiting]) -> None:
        try:
            stored = _insert(self.app, [row for waiting in batch for row in waiting.rows])
        except Exception as exc:
            stored = 0
            if len(batch) == 1:
                batch[0].error = exc
            else:
                for waiting in batch:
                    try:
                        stored += _insert(self.app, waiting.rows)
                    except Exception as alone:
                        waiting.error = alone
        finally:
            for waiting in batch:
                waiting.done = True
                waiting.wake.set()
        if stored:
            worker.wake(self.app)
        logger.debug("webhook: %d requests stored together, %d new events", len(batch), stored)


@dataclass(eq=False)
class _Waiting:
    rows: list[dict[str, Any]]
    wake: threading.Event = field(default_factory=threading.Event)
    leads: bool = False  # its thread is to write the next batch
    done: bool = False
    error: BaseException | None = None


def _insert(app: Flask, rows: list[dict[str, Any]]) -> int:
    """Store the events durably (committed) and return how many were new."""
    autocommit = db.autocommit_engine(app)
    if autocommit is None:
        with db.engine(app).begin() as connection:  # SQLite
            return store_inbox_events(connection, rows)
    # On PostgreSQL one autocommitted INSERT is one round trip, durable when it returns: no
    # BEGIN, COMMIT or ping of their own, and no ORM session, on the hottest path.
    with autocommit.connect() as connection:
        try:
            return store_inbox_events(connection, rows)
        except Exception:
            if not connection.invalidated:
                raise
    # The server dropped a pooled connection (a restart): let all of them go, so the next one
    # is new.
    autocommit.dispose()
    with autocommit.connect() as connection:
        return store_inbox_events(connection, rows)


def _plain(text: str, status: int, **headers: str) -> Response:
    return Response(
        text,
        status=status,
        mimetype="text/plain",
        headers={"X-Content-Type-Options": "nosniff", **headers},
    )
