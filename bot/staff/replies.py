"""Admin page: the reply residents get for each status, reworded with placeholders, previewed
before saving; unknown placeholders are refused in Thai (``bot.needs.replies``)."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from bot.accounts import audit, current_staff, role_required
from bot.db import get_session
from bot.needs import replies
from bot.needs.statuses import STATUS_LABELS
from bot.thai import thai_date
from bot.wording import current_wording
from storage import routing
from storage.base import utcnow

bp = Blueprint("replies", __name__, url_prefix="/dashboard/admin/replies")


def _sample(status: str) -> dict[str, str]:
    """Values the preview fills in, as a real push would."""
    return {
        "tracking": "LPN-69-000123",
        "status": STATUS_LABELS[status],
        "division": "กองช่าง",
        "due_date": thai_date(utcnow() + timedelta(days=3), time=False),
        "note": "เจ้าหน้าที่จะเข้าไปตรวจสอบในวันพรุ่งนี้ค่ะ",
        "detail": {"duplicate": "LPN-69-000100", "out_of_scope": "การไฟฟ้าส่วนภูมิภาค"}.get(
            status, "อยู่นอกเขตเทศบาล"
        ),
    }


def _page(texts: dict[str, str], previews: dict[str, str], status: int = 200):
    session = get_session()
    saved = routing.reply_templates(session)
    say = current_wording()
    rows = [
        {
            "status": code,
            "label": label,
            "text": texts.get(code)
            or (saved[code].text if code in saved else replies.default_template(say, code)),
            "custom": code in saved,
            "preview": previews.get(code),
        }
        for code, label in STATUS_LABELS.items()
        if code != "new"  # a need starts as new: nobody is told of it
    ]
    return (
        render_template(
            "dashboard/admin_replies.html", rows=rows, placeholders=replies.PLACEHOLDERS
        ),
        status,
    )


@bp.get("/")
@role_required("admin")
def index():
    """Show each status's reply with its placeholders."""
    return _page({}, {})


@bp.post("/<status>")
@role_required("admin")
def save(status: str) -> Response | tuple[str, int]:
    """Preview, save, or go back to the default wording of one status's reply."""
    if status not in STATUS_LABELS:
        abort(404)
    session = get_session()
    text = (request.form.get("text") or "").replace("\r\n", "\n").strip()
    action = request.form.get("action")
    if action == "reset":
        existing = session.get(routing.ReplyTemplate, status)
        if existing is not None:
            session.delete(existing)
            audit("reply_template.reset", "reply_template", status)
            session.commit()
        flash(f"ใช้ข้อความมาตรฐานของสถานะ “{STATUS_LABELS[status]}” แล้ว", "success")
        return redirect(url_for("replies.index") + f"#reply-{status}")
    error = replies.problem(text)
    if error:
        flash(f"{STATUS_LABELS[status]}: {error}", "error")
        return _page({status: text}, {}, 400)
    if action == "preview":
        preview = replies.render(current_wording(), text, _sample(status))
        return _page({status: text}, {status: preview})
    existing = session.get(routing.ReplyTemplate, status)
    if existing is None:
        session.add(
            routing.ReplyTemplate(status=status, text=text, updated_by=current_staff().actor)
        )
    else:
        existing.text, existing.updated_by = text, current_staff().actor
    audit("reply_template.save", "reply_template", status, length=len(text))
    session.commit()
    flash(f"บันทึกข้อความของสถานะ “{STATUS_LABELS[status]}” แล้ว", "success")
    return redirect(url_for("replies.index") + f"#reply-{status}")
