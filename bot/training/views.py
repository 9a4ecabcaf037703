"""Admin pages for the classifier: the active model, "train now", versions, importing labels."""

from __future__ import annotations

import secrets
from datetime import datetime
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

import nlp
from bot.accounts import audit, current_staff, role_required
from bot.db import get_session
from bot.needs.classification import classifier
from bot.training import runs
from bot.training.imports import LabelFileError, import_labels, read_label_file
from storage import training

bp = Blueprint("training", __name__, url_prefix="/dashboard/admin")

# An uploaded file waits here between its preview and "import" (never longer than a day).
UPLOADS = "label-imports"
SESSION_KEY = "label_import"
SHOWN_PROBLEMS = 200


@bp.get("/model")
@role_required("admin")
def model() -> str:
    """Show the active model, its figures on held-out real labels, runs and versions."""
    db = get_session()
    models = list(reversed(classifier().list_models()))  # newest first
    active = next((m for m in models if m.active), None)
    since = _created(active) if active else None
    return render_template(
        "training/model.html",
        active=active,
        models=models,
        runs=training.recent_runs(db),
        open_run=training.open_run(db),
        labels=training.label_counts(db),
        added_since=sum(training.label_counts(db, since).values()) if since else None,
        created=_created,
    )


@bp.post("/model/train")
@role_required("admin")
def train() -> Response:
    """Queue a training run for a worker; the page shows its progress."""
    run, created = runs.request_run(current_app, current_staff().actor)
    if created:
        audit("model.train", "training_run", run.id)
        get_session().commit()
        flash("ส่งงานฝึกโมเดลให้ระบบแล้ว หน้านี้จะแสดงความคืบหน้า", "success")
    else:
        flash("มีงานฝึกโมเดลที่รอหรือกำลังทำอยู่แล้ว", "info")
    return redirect(url_for("training.model"))


@bp.post("/model/activate")
@role_required("admin")
def activate() -> Response:
    """Make a kept version the active model (roll back or forward)."""
    version = request.form.get("version", "")
    try:
        classifier().activate(version)
    except nlp.ModelError:
        abort(400)
    audit("model.activate", "model", version)
    get_session().commit()
    flash(f"ใช้โมเดลรุ่น {version} แล้ว", "success")
    return redirect(url_for("training.model"))


@bp.get("/labels/import")
@role_required("admin")
def import_form() -> str:
    """Ask for a complaint-book file to import as training labels."""
    return render_template("training/import.html", checked=None)


@bp.post("/labels/import")
@role_required("admin")
def import_preview() -> str | tuple[str, int]:
    """Check an uploaded file and show what it holds; nothing is stored yet."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash("กรุณาเลือกไฟล์", "error")
        return render_template("training/import.html", checked=None), 400
    data = upload.read()
    try:
        checked = read_label_file(data, upload.filename, classifier().taxonomy)
    except LabelFileError as exc:
        flash(f"นำเข้าไม่ได้: {exc}", "error")
        return render_template("training/import.html", checked=None), 400
    token = secrets.token_urlsafe(16)
    suffix = ".xlsx" if upload.filename.lower().endswith(".xlsx") else ".csv"
    _uploads().mkdir(parents=True, exist_ok=True)
    path = _uploads() / f"{token}{suffix}"
    path.write_bytes(data)
    path.chmod(0o600)
    session[SESSION_KEY] = {"token": token, "suffix": suffix, "name": upload.filename[:200]}
    return render_template(
        "training/import.html",
        checked=checked,
        filename=upload.filename,
        shown=checked.problems[:SHOWN_PROBLEMS],
        taxonomy=classifier().taxonomy,
    )


@bp.post("/labels/import/confirm")
@role_required("admin")
def import_confirm() -> Response:
    """Import the file previewed in this session."""
    pending = session.pop(SESSION_KEY, None)
    if not pending or pending.get("token") != request.form.get("token"):
        flash("ไม่พบไฟล์ที่ตรวจไว้ กรุณาอัปโหลดใหม่", "error")
        return redirect(url_for("training.import_form"))
    path = _uploads() / f"{pending['token']}{pending['suffix']}"
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        flash("ไม่พบไฟล์ที่ตรวจไว้ กรุณาอัปโหลดใหม่", "error")
        return redirect(url_for("training.import_form"))
    finally:
        path.unlink(missing_ok=True)  # residents' words: never kept past the import
    db = get_session()
    try:
        checked = read_label_file(data, pending["name"], classifier().taxonomy)
    except LabelFileError as exc:
        flash(f"นำเข้าไม่ได้: {exc}", "error")
        return redirect(url_for("training.import_form"))
    result = import_labels(db, checked, current_staff().actor)
    audit(
        "labels.import",
        added=result.added,
        updated=result.updated,
        unchanged=result.unchanged,
        bad_rows=len(checked.problems),
    )
    db.commit()
    flash(
        f"นำเข้าแล้ว: เพิ่ม {result.added:,} แก้ไข {result.updated:,} ซ้ำของเดิม "
        f"{result.unchanged:,} รายการ — กด “ฝึกโมเดลตอนนี้” เพื่อให้โมเดลเรียนรู้",
        "success",
    )
    return redirect(url_for("training.model"))


def _uploads() -> Path:
    return Path(current_app.instance_path) / UPLOADS


def _created(info: nlp.ModelInfo | None) -> datetime | None:
    """When a version was trained, from its metadata."""
    if info is None or not info.created:
        return None
    try:
        return datetime.fromisoformat(info.created)
    except ValueError:
        return None
