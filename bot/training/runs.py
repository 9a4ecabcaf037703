"""Training as a staff action: a run is queued (dashboard button or CLI), a worker runs it.

Training takes tens of seconds, so it never runs in a web request. A worker's periodic job
claims the oldest queued run and trains in a thread of its own, so the same worker keeps
answering residents meanwhile; its progress is written to the run row for the model page. The
new version is activated only when it is not worse than the active one (nlp decides, led by
held-out real labels); every worker process picks up the new active version within seconds.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time

from flask import Flask

import nlp
from bot.db import session_factory
from bot.needs.classification import classifier
from bot.training.labels import real_labels
from nlp.training import Progress
from storage import training
from storage.base import utcnow
from storage.models import TrainingRun

logger = logging.getLogger(__name__)

EXTENSION = "ruamkid_training"
CHECK_EVERY = 5.0  # seconds between looks for a queued run
PROGRESS_EVERY = 0.5  # seconds between progress writes


def request_run(app: Flask, requested_by: str) -> tuple[TrainingRun, bool]:
    """Queue a run (unless one is queued or running); return it and whether it is new."""
    with session_factory(app)() as session:
        run, created = training.queue_run(session, requested_by)
        session.commit()
    return run, created


def start_queued(app: Flask) -> int:
    """The worker's job: claim a queued run and train in a background thread; 1 if started."""
    state = app.extensions.setdefault(EXTENSION, {"thread": None})
    thread: threading.Thread | None = state["thread"]
    if thread is not None and thread.is_alive():
        return 0  # this process is training already
    with session_factory(app)() as session:
        run = training.claim_run(session, worker=f"{socket.gethostname()}:{os.getpid()}")
        session.commit()
    if run is None:
        return 0
    thread = threading.Thread(
        target=run_claimed, args=(app, run.id), name=f"ruamkid-training-{run.id}", daemon=True
    )
    state["thread"] = thread
    thread.start()
    return 1


def training_thread(app: Flask) -> threading.Thread | None:
    """The thread training in this process, if any (tests wait for it)."""
    return app.extensions.get(EXTENSION, {}).get("thread")


def run_next(
    app: Flask,
    requested_by: str = "cli",
    *,
    force: bool = False,
    corpus_only: bool = False,
    progress: Progress | None = None,
) -> tuple[TrainingRun, nlp.TrainResult | None]:
    """Queue a run and train now in this thread (``ruamkid nlp train``).

    Returns the finished run and, when this call trained it, the result. A run another worker
    is already training is waited for rather than started twice (the result is then None).
    """
    run, _ = request_run(app, requested_by)
    with session_factory(app)() as session:
        claimed = training.claim_run(session, worker=requested_by)
        session.commit()
    result = None
    if claimed is not None:
        result = run_claimed(
            app, claimed.id, force=force, corpus_only=corpus_only, progress=progress
        )
        run = claimed
    return _wait(app, run.id), result


def run_claimed(
    app: Flask,
    run_id: int,
    *,
    force: bool = False,
    corpus_only: bool = False,
    progress: Progress | None = None,
) -> nlp.TrainResult | None:
    """Train for a claimed run; record its progress and result on the row (None if it failed).

    ``corpus_only`` leaves the real labels out; ``progress`` hears the stages too.
    """
    sessions = session_factory(app)
    last_write = [0.0]

    def record(stage: str, fraction: float) -> None:
        if progress is not None:
            progress(stage, fraction)
        now = time.monotonic()
        if now - last_write[0] < PROGRESS_EVERY and fraction < 1.0:
            return
        last_write[0] = now
        with sessions() as session:
            row = session.get(TrainingRun, run_id)
            if row is not None:
                row.stage, row.progress = stage, round(fraction, 3)
                session.commit()

    model = classifier(app)
    try:
        labels: list[nlp.Example] = []
        if not corpus_only:
            with sessions() as session:
                labels, skipped = real_labels(session, model.taxonomy)
            if skipped:
                logger.info("training run %d: %d labels skipped", run_id, skipped)
        result = model.train(labels, force=force, progress=record)
    except Exception as exc:  # a failed run is recorded; the active model stays as it was
        logger.exception("training run %d failed", run_id)
        _finish(app, run_id, status="failed", error=type(exc).__name__)
        return None
    _finish(
        app,
        run_id,
        status="done",
        labels_used=len(labels),
        version=result.version,
        activated=result.activated,
        reason=result.reason,
    )
    return result


def _finish(app: Flask, run_id: int, **values) -> None:
    with session_factory(app)() as session:
        row = session.get(TrainingRun, run_id)
        if row is not None:
            for name, value in values.items():
                setattr(row, name, value)
            row.progress = 1.0
            row.finished_at = utcnow()
            session.commit()


def _wait(app: Flask, run_id: int, timeout: float = 3600.0) -> TrainingRun:
    deadline = time.monotonic() + timeout
    while True:
        with session_factory(app)() as session:
            run = session.get(TrainingRun, run_id)
            if run is None or run.status in ("done", "failed") or time.monotonic() > deadline:
                return run
        time.sleep(1.0)
