"""How the classifier learns from the municipality: real labels, imports, training runs.

Staff confirm or correct needs in the queue and import last years' complaint books; admins
press "train now" (or run ``ruamkid nlp train``) and a worker trains, compares and activates.
"""

from __future__ import annotations

import time
from pathlib import Path

from flask import Flask

from bot.line import worker
from bot.training import runs
from bot.training.views import UPLOADS

UPLOAD_LIFETIME = 24 * 3600  # seconds an uploaded, never-imported file may stay


def init_app(app: Flask) -> None:
    """Let every worker start queued training runs and remove stale uploaded files."""
    worker.register_job(app, worker.Job("training", runs.CHECK_EVERY, runs.start_queued))
    worker.register_job(app, worker.Job("label-uploads", 3600.0, remove_stale_uploads))


def remove_stale_uploads(app: Flask) -> int:
    """Delete uploaded label files that were previewed but never imported (residents' words)."""
    folder = Path(app.instance_path) / UPLOADS
    if not folder.is_dir():
        return 0
    cutoff = time.time() - UPLOAD_LIFETIME
    removed = 0
    for path in folder.iterdir():
        if path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
