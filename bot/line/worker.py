"""The worker: process stored webhook events, download photos, send the outbox, and run the
periodic jobs other parts registered (scheduled surveys).

Runs as ``ruamkid worker`` (the Procfile's worker) and, by default, as a thread inside the web
process so one command is enough. Any number of them may run against one database: every row
is claimed by exactly one (see ``storage.mailbox``).
"""

from __future__ import annotations

import logging
import mimetypes
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session

from bot import residents
from bot.db import session_factory
from bot.line.api import (
    LineApi,
    LineError,
    PermanentLineError,
    TransientLineError,
    UnreadableAnswer,
    line_api,
)
from bot.line.events import IncomingEvent
from bot.logs import describe_error
from bot.needs import classification
from bot.residents.context import Context
from storage import mailbox, schedule
from storage.base import utcnow
from storage.models import InboxEvent, Media, OutboxMessage, Resident

logger = logging.getLogger(__name__)

EXTENSION = "ruamkid_worker"
# LINE accepts a reply token for about a minute; keep a margin.
REPLY_TOKEN_LIFETIME = timedelta(seconds=50)
IMAGE_TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp"}
MAX_IMAGE_BYTES = 10 * 1024 * 1024
POLL_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 30.0
# A reply whose outcome is unknown is tried again at once, this often, while its token is fresh.
REPLY_TRIES = 3
# Errors of the database connection rather than of a row: a row is never parked for these.
DATABASE_DOWN = (OperationalError, InterfaceError)
REPLY_RETRY_PAUSE = 0.5


@dataclass(frozen=True)
class Job:
    """Work the loop runs every ``every`` seconds; ``run(app)`` returns how much it handled."""

    name: str
    every: float
    run: Callable[[Flask], int]


@dataclass
class _State:
    wake: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    jobs: list[Job] = field(default_factory=list)


def init_app(app: Flask) -> None:
    """Prepare the wake-up signal; start the inline worker on the first request if enabled."""
    state = _State()
    app.extensions[EXTENSION] = state
    if app.config["INLINE_WORKER"]:

        @app.before_request
        def _start_inline_worker() -> None:
            if state.thread is None:
                start_thread(app)


def start_thread(app: Flask) -> threading.Thread:
    """Start the worker loop in a daemon thread of this process (once)."""
    state: _State = app.extensions[EXTENSION]
    with state.lock:
        if state.thread is None:
            worker = Worker(app)
            state.thread = threading.Thread(
                target=worker.run_forever, name="ruamkid-worker", daemon=True
            )
            state.thread.start()
    return state.thread


def run_claimed(
    app: Flask, job: str, every: timedelta, retry: timedelta, what: str, work: Callable[[], str]
) -> int:
    """Run a job once per ``every`` across all workers: the one that claims the due run calls
    ``work`` (which returns a summary without personal data) and records it; a failure is
    logged as its type and frames and tried again after ``retry``. Return 1 if it ran."""
    factory = session_factory(app)
    with factory() as session:
        claimed = schedule.claim_run(session, job, every)
        session.commit()
    if not claimed:
        return 0
    try:
        summary = work()
    except Exception as exc:  # the worker goes on; the job is tried again after ``retry``
        logger.error("%s failed:\n%s", what, describe_error(exc))
        with factory() as session:
            schedule.finish_run(
                session, job, f"failed: {type(exc).__name__}", retry_at=utcnow() + retry
            )
            session.commit()
        return 0
    with factory() as session:
        schedule.finish_run(session, job, summary)
        session.commit()
    logger.info("%s: %s", what, summary)
    return 1


def run_threads(app: Flask, count: int, stop: threading.Event) -> None:
    """Run ``count`` workers in threads of this process until ``stop`` is set.

    They share the work as separate processes do: each claims its own rows.
    """
    base = f"{socket.gethostname()}:{os.getpid()}"
    workers = [Worker(app, name=f"{base}:{number}") for number in range(count)]
    workers[0].warm_up()  # once, before the threads: they then find the model loaded
    threads = [
        threading.Thread(target=w.run_forever, args=(stop,), name=w.name, daemon=True)
        for w in workers
    ]
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads):
        for thread in threads:
            thread.join(0.5)


def wake(app: Flask | None = None) -> None:
    """Tell this process's worker (the current app's by default) that new rows are waiting;
    start the inline worker first if it is on and not running yet."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    state: _State = app.extensions[EXTENSION]
    if app.config["INLINE_WORKER"] and state.thread is None:
        start_thread(app)
    state.wake.set()


def register_job(app: Flask, job: Job) -> None:
    """Run ``job`` in every worker loop of ``app`` (surveys register their send-due job)."""
    app.extensions[EXTENSION].jobs.append(job)


class Worker:
    """One worker: a name for its claims, and the loop that drains the inbox, outbox and photos."""

    def __init__(self, app: Flask, name: str | None = None, api: LineApi | None = None):
        self.app = app
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.sessions = session_factory(app)
        self._api = api
        self._next_run: dict[str, float] = {}
        self.lease = timedelta(seconds=float(app.config["MAILBOX_LEASE_SECONDS"]))

    @property
    def api(self) -> LineApi:
        """The LINE API facade, made on first use."""
        if self._api is None:
            self._api = line_api(self.app)
        return self._api

    def run_forever(self, stop: threading.Event | None = None) -> None:
        """Drain the inbox, outbox and photos until ``stop`` is set; sleep only when idle.

        While cycles fail (the database is down, say) the loop waits 0.5, 1, 2 … up to
        ``MAX_BACKOFF_SECONDS`` between tries and logs only when failing starts and ends.
        """
        stop = stop or threading.Event()
        wake_event: threading.Event = self.app.extensions[EXTENSION].wake
        logger.info("worker %s started", self.name)
        self.warm_up()
        failing_since: float | None = None
        delay = POLL_SECONDS
        while not stop.is_set():
            try:
                busy = self.run_once()
            except Exception as exc:  # keep the loop alive; the database may be unavailable
                if failing_since is None:
                    failing_since = time.monotonic()
                    logger.error(
                        "worker %s: cycle failed; retrying with backoff until it works:\n%s",
                        self.name,
                        describe_error(exc),
                    )
                else:
                    delay = min(delay * 2, MAX_BACKOFF_SECONDS)
                stop.wait(delay)
                continue
            if failing_since is not None:
                logger.warning(
                    "worker %s: working again after %.0f s",
                    self.name,
                    time.monotonic() - failing_since,
                )
                failing_since, delay = None, POLL_SECONDS
            if not busy:
                wake_event.wait(POLL_SECONDS)
                wake_event.clear()
        logger.info("worker %s stopped", self.name)

    def warm_up(self) -> None:
        """Load the classifier and its embedding engine before the first resident writes."""
        try:
            version = classification.classifier(self.app).warm_up()
        except Exception:  # the first message will try again; answering must not wait on this
            logger.exception("worker %s: could not load the classifier yet", self.name)
        else:
            logger.info("worker %s: classifier model %s loaded", self.name, version)

    def run_once(self) -> int:
        """Run one cycle over the inbox, jobs, outbox and photos; return how much was handled."""
        handled = self.process_inbox()
        handled += self.run_jobs()
        handled += self.process_outbox()
        handled += self.process_media()
        return handled

    def run_jobs(self) -> int:
        """Run the registered jobs whose time has come; return how much they handled."""
        handled = 0
        for job in self.app.extensions[EXTENSION].jobs:
            now = time.monotonic()
            if now < self._next_run.get(job.name, 0.0):
                continue
            self._next_run[job.name] = now + job.every
            handled += job.run(self.app)
        return handled

    def drain(self, max_cycles: int = 100) -> None:
        """Run cycles until nothing is left that is due now (tests, ``worker --once``)."""
        for _ in range(max_cycles):
            if not self.run_once():
                return

    # --- inbox -----------------------------------------------------------------------------

    def process_inbox(self, limit: int = 20) -> int:
        """Process claimed webhook events, each in its own transaction."""
        with self.sessions() as session:
            ids = mailbox.claim_inbox(session, self.name, limit, self.lease)
            session.commit()
        for inbox_id in ids:
            self._process_event(inbox_id)
        return len(ids)

    def _process_event(self, inbox_id: int) -> None:
        with self.sessions() as session:
            try:
                self._process_claimed(session, inbox_id)
            except DATABASE_DOWN:
                raise  # not this event's fault: the loop backs off; the lease brings it back
            except Exception as exc:  # one bad event must not block the others
                session.rollback()
                logger.error("inbox %d failed: %s", inbox_id, type(exc).__name__)
                row = session.get(InboxEvent, inbox_id)
                if row is not None and row.claimed_by == self.name:
                    mailbox.fail_inbox(session, row, describe_error(exc))
                    session.commit()

    def _process_claimed(self, session: Session, inbox_id: int) -> None:
        claimed = mailbox.claimed_payload(session, inbox_id, self.name)
        if claimed is None:
            return  # no longer ours: another worker took it over
        payload, consent = claimed
        event = IncomingEvent.from_dict(payload)
        reading = residents.reading_ahead(event, consent, classification.classifier(self.app))
        if reading is not None:
            # Before the row lock, with no transaction open: the first classification in a
            # process may train the model for seconds.
            session.commit()
            reading.read()
        row = mailbox.load_claimed_inbox(session, inbox_id, self.name)
        if row is None:
            return
        if event.standby:
            # Another channel is answering this user: say nothing; the payload goes after
            # MAILBOX_KEEP_HOURS (bot.retention).
            row.status = "skipped"
            row.processed_at = utcnow()
        else:
            self._handle(session, event, reading)
            mailbox.finish_inbox(session, row)
        session.commit()

    def _handle(
        self, session: Session, event: IncomingEvent, reading: residents.Reading | None
    ) -> None:
        context = Context(
            session=session,
            municipality=self.app.extensions["ruamkid"],
            classifier=classification.classifier(self.app),
            display_name=self.api.display_name,
            config=self.app.config,
            handlers=residents.handlers(self.app),
        )
        replies = residents.handle_event(context, event, reading)
        if replies and event.user_id:
            deadline = None
            if event.reply_token and event.timestamp_ms:
                sent_at = _from_ms(event.timestamp_ms)
                deadline = sent_at + REPLY_TOKEN_LIFETIME
            mailbox.enqueue(
                session,
                event.user_id,
                replies[:5],
                purpose="reply",
                reply_token=event.reply_token,
                reply_deadline=deadline,
            )

    # --- outbox ----------------------------------------------------------------------------

    def process_outbox(self, limit: int = 20) -> int:
        """Send claimed outbox rows, each in its own transaction: one failing row never stops
        the others; what cannot succeed is parked for an admin."""
        with self.sessions() as session:
            ids = mailbox.claim_outbox(session, self.name, limit, self.lease)
            session.commit()
        for outbox_id in ids:
            with self.sessions() as session:
                try:
                    row = mailbox.load_claimed_outbox(session, outbox_id, self.name)
                    if row is None:
                        continue
                    self._send(session, row)
                    mailbox.forget_unknown_recipient(session, row)  # e.g. an erasure's confirmation
                    session.commit()
                except DATABASE_DOWN:
                    raise  # not this row's fault: the loop backs off; the lease brings it back
                except Exception as exc:
                    session.rollback()
                    logger.error("outbox %d parked: %s", outbox_id, type(exc).__name__)
                    row = mailbox.load_claimed_outbox(session, outbox_id, self.name)
                    if row is not None:
                        mailbox.park(session, row, describe_error(exc))
                        session.commit()
        return len(ids)

    def _send(self, session: Session, row: OutboxMessage) -> None:
        if not mailbox.valid_recipient(row.to):
            mailbox.park(session, row, "ผู้รับไม่ใช่รหัสผู้ใช้ LINE (recipient is not a LINE id)")
            logger.warning("outbox %d parked: its recipient is not a LINE user id", row.id)
            return
        if row.kind == "push" and not _may_push(session, row.to):
            row.status = "skipped"
            row.last_error = "ผู้รับเลิกติดตามบัญชีแล้ว (unfollowed)"
            return
        if row.reply_token and self._reply(session, row):
            return
        self._push(session, row)

    def _reply(self, session: Session, row: OutboxMessage) -> bool:
        """Use the row's reply token; return False when the message must be pushed instead.

        A token is good once, for about a minute. ``attempt_kind == "reply"`` on arrival means an
        earlier call with it may have reached LINE (a crash, a time-out, a 5xx). While the token
        is fresh, trying it again is safe: LINE either delivers (the first call never arrived)
        or refuses the spent token. Once it is stale the outcome cannot be learnt, and a push
        could be a second message: the row is left "unconfirmed" and never repeated.
        """
        token = row.reply_token or ""
        tried = row.attempt_kind == "reply"
        fresh = row.reply_deadline is None or utcnow() < row.reply_deadline
        if not fresh:
            row.reply_token = None
            if tried:
                row.status = "unconfirmed"
                row.attempt_kind = None
                row.last_error = "ไม่ทราบผลการตอบกลับ จึงไม่ส่งซ้ำ (reply outcome unknown)"
                logger.warning("outbox %d: reply outcome unknown; not repeated", row.id)
                return True
            return False
        for _ in range(REPLY_TRIES):
            if not self._record_attempt(session, row, "reply"):
                return True
            try:
                self.api.reply(token, row.messages)
            except UnreadableAnswer:
                self._mark_sent(row, "reply")
            except PermanentLineError as exc:
                if tried and exc.status == 400:
                    # Refused while fresh: spent, by the earlier call that LINE accepted.
                    self._mark_sent(row, "reply")
                    return True
                logger.info("outbox %d: reply refused (%s); pushing instead", row.id, exc)
                row.reply_token, row.attempt_kind = None, None  # refused: nothing delivered
                return False
            except LineError as exc:
                if exc.status == 429:
                    if not tried:
                        # Refused before use and no earlier call may have spent the token.
                        row.attempt_kind = None
                elif row.reply_deadline is None or utcnow() < row.reply_deadline:
                    # Unknown outcome: ask again now, while the token can still tell.
                    tried = True
                    time.sleep(REPLY_RETRY_PAUSE)
                    continue
                self._retry_later(session, row, exc)
            else:
                self._mark_sent(row, "reply")
            return True
        self._retry_later(session, row, TransientLineError("LINE reply outcome still unknown"))
        return True

    def _push(self, session: Session, row: OutboxMessage) -> None:
        """Push or multicast with the row's retry key: LINE takes a repeat as the same request."""
        if not self._record_attempt(session, row, row.kind):
            return
        try:
            if row.kind == "multicast":
                self.api.multicast(row.to, row.messages, row.retry_key)
            else:
                self.api.push(row.to, row.messages, row.retry_key)
        except UnreadableAnswer:
            self._mark_sent(row, row.kind)
        except PermanentLineError as exc:
            if exc.status == 409:
                # LINE already accepted a request with this retry key: it was sent.
                self._mark_sent(row, row.kind)
                return
            row.status = "failed"
            row.attempt_kind = None
            row.last_error = str(exc)
            row.request_id = exc.request_id
            logger.warning("outbox %d failed for good: %s", row.id, exc)
        except LineError as exc:
            self._retry_later(session, row, exc)
        else:
            self._mark_sent(row, row.kind)

    def _record_attempt(self, session: Session, row: OutboxMessage, kind: str) -> bool:
        """Commit the attempt before calling LINE; False if the claim was lost meanwhile."""
        recorded = mailbox.record_attempt(session, row, self.name, kind)
        session.commit()
        return recorded

    def _retry_later(self, session: Session, row: OutboxMessage, exc: LineError) -> None:
        row.last_error = str(exc)
        row.request_id = exc.request_id
        if row.attempts >= mailbox.MAX_OUTBOX_ATTEMPTS:
            mailbox.park(session, row, f"ลองครบ {row.attempts} ครั้ง ({exc})")
            logger.warning("outbox %d parked after %d tries", row.id, row.attempts)
        else:
            row.status = "pending"
            row.claimed_by = None
            row.next_attempt_at = utcnow() + mailbox.backoff(row.attempts)
            logger.info("outbox %d will retry: %s", row.id, exc)

    @staticmethod
    def _mark_sent(row: OutboxMessage, via: str) -> None:
        row.status = "sent"
        row.sent_via = via
        row.sent_at = utcnow()
        row.reply_token = None
        row.attempt_kind = None
        row.last_error = None

    # --- photos ----------------------------------------------------------------------------

    def process_media(self, limit: int = 5) -> int:
        """Download photos from LINE into MEDIA_DIR before LINE deletes them."""
        with self.sessions() as session:
            ids = mailbox.claim_media(session, self.name, limit, self.lease)
            session.commit()
        for media_id in ids:
            with self.sessions() as session:
                media = session.get(Media, media_id)
                if media is None or media.status != "downloading":
                    continue
                self._download(media)
                session.commit()
        return len(ids)

    def _download(self, media: Media) -> None:
        try:
            data, content_type = self.api.content(media.line_message_id or "")
        except PermanentLineError as exc:
            media.status, media.error = "failed", str(exc)
            return
        except LineError as exc:
            media.error = str(exc)
            media.status = "failed" if media.attempts >= mailbox.MAX_MEDIA_ATTEMPTS else "pending"
            media.next_attempt_at = utcnow() + mailbox.backoff(media.attempts)
            return
        if content_type not in IMAGE_TYPES or len(data) > MAX_IMAGE_BYTES:
            media.status = "failed"
            media.error = f"ไม่รับไฟล์ประเภท {content_type} ขนาด {len(data)} ไบต์"
            return
        extension = mimetypes.guess_extension(content_type) or ".bin"
        relative = Path(utcnow().strftime("%Y/%m")) / f"{uuid.uuid4().hex}{extension}"
        target = Path(self.app.config["MEDIA_DIR"]) / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_suffix(".part")
        temporary.write_bytes(data)
        temporary.replace(target)
        media.path = str(relative)
        media.content_type = content_type
        media.size = len(data)
        media.status = "stored"
        media.error = None


def _may_push(session: Session, line_user_id: str) -> bool:
    """Only residents who still follow the account get pushes."""
    active = session.scalar(select(Resident.active).where(Resident.line_user_id == line_user_id))
    return active is not False


def _from_ms(timestamp_ms: int) -> datetime:
    return datetime.fromtimestamp(timestamp_ms / 1000, UTC)
