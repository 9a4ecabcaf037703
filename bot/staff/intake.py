"""Needs that do not arrive over LINE: taken by phone, on paper or at the counter, and the
needs of a community forum (ประชาคม) entered in one table and ranked as the forum did.

Each is classified like a LINE need and gets a tracking number to hand to the resident. A
contact (name, phone) is personal data: shown to staff only, erased with the need
(``bot.needs.erasure``), never logged, audited or exported.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from sqlalchemy import func, select
from werkzeug.security import safe_join
from werkzeug.wrappers import Response

from bot.accounts import audit, current_staff, role_required
from bot.db import get_session
from bot.needs import actions, erasure
from bot.needs.classification import classification_of, classifier, taxonomy
from bot.staff import queries, uploads
from bot.thai import parse_thai_date
from storage.models import Community, Forum, Submission

logger = logging.getLogger(__name__)

bp = Blueprint("intake", __name__, url_prefix="/dashboard/intake")

ROLES = ("admin", "staff")
# Where a need staff type in came from (the forum's have their own page).
SOURCES = {code: queries.SOURCES[code] for code in ("phone", "paper", "counter")}
MAX_TEXT = 2000
MAX_NAME = 200
MAX_PLACE = 300
# A Thai number as people write it: 0 and 8–9 more digits (landline or mobile), or +66.
_PHONE = re.compile(r"^0\d{8,9}$")
# Thailand, roughly: a place outside is a typing mistake.
LATITUDES = (5.0, 21.0)
LONGITUDES = (97.0, 106.0)


class FormError(ValueError):
    """A field a person typed is not acceptable; the message says why in Thai."""


def _text(name: str, limit: int, *, required: str | None = None) -> str:
    value = (request.form.get(name) or "").strip()
    if required and not value:
        raise FormError(required)
    if len(value) > limit:
        raise FormError(f"ข้อความยาวเกิน {limit:,} ตัวอักษร")
    return value


def normalise_phone(text: str) -> str:
    """Return a phone number as digits (``081-234-5678`` → ``0812345678``); raise FormError.

    >>> normalise_phone("+66 81 234 5678")
    '0812345678'
    """
    digits = re.sub(r"[\s\-().]", "", text or "")
    if digits.startswith("+66"):
        digits = "0" + digits[3:]
    if not _PHONE.match(digits):
        raise FormError("เบอร์โทรศัพท์ไม่ถูกต้อง เช่น 081-234-5678 หรือ 053-511-013")
    return digits


def _community(session, value: str | None, *, required: bool = True) -> Community | None:
    if not (value or "").isdigit():
        if required:
            raise FormError("กรุณาเลือกชุมชน")
        return None
    community = session.get(Community, int(value))
    if community is None:
        raise FormError("ไม่พบชุมชนที่เลือก")
    return community


def _place() -> tuple[float, float] | None:
    lat, lon = (request.form.get(k, "").strip() for k in ("latitude", "longitude"))
    if not lat and not lon:
        return None
    try:
        latitude, longitude = float(lat), float(lon)
    except ValueError:
        raise FormError("พิกัดต้องเป็นตัวเลขทั้งละติจูดและลองจิจูด เช่น 18.5741, 99.0087") from None
    if not (
        LATITUDES[0] <= latitude <= LATITUDES[1] and LONGITUDES[0] <= longitude <= LONGITUDES[1]
    ):
        raise FormError("พิกัดอยู่นอกประเทศไทย กรุณาตรวจสอบละติจูดและลองจิจูด")
    return latitude, longitude


def _classify(text: str):
    return classification_of(classifier().classify(text))


def _prefix() -> str:
    return current_app.extensions["ruamkid"].tracking_prefix


# --- a need by phone, on paper, at the counter -----------------------------------------------


@bp.get("/new")
@role_required(*ROLES)
def new() -> str:
    """Show the form for a need taken by phone, on paper or at the counter."""
    return render_template(
        "intake/new.html",
        sources=SOURCES,
        communities=queries.communities(get_session(), active_only=True),
        form=request.args,
    )


@bp.post("/new")
@role_required(*ROLES)
def create() -> str | Response:
    """File the need, classified like any other; show its tracking number."""
    session = get_session()
    user = current_staff()
    uploads.allow_upload(request)
    try:
        source = request.form.get("source") or ""
        if source not in SOURCES:
            raise FormError("กรุณาเลือกช่องทางที่รับเรื่อง")
        community = _community(session, request.form.get("community"))
        text = _text("text", MAX_TEXT, required="กรุณาพิมพ์เรื่องที่ผู้แจ้งต้องการ")
        place = _place()
        address = _text("address", 500)
        contact_name = _text("contact_name", MAX_NAME)
        phone_text = _text("contact_phone", 40)
        contact_phone = normalise_phone(phone_text) if phone_text else ""
        if (contact_name or contact_phone) and request.form.get("contact_consent") != "1":
            raise FormError("กรุณาขอความยินยอมจากผู้แจ้งก่อนบันทึกชื่อหรือเบอร์โทรศัพท์")
        upload = request.files.get("photo")
        stored = (
            uploads.store_photo(upload, current_app.config["MEDIA_DIR"])
            if uploads.chosen(upload)
            else None
        )
    except ValueError as exc:
        flash(str(exc), "error")
        return render_template(
            "intake/new.html",
            sources=SOURCES,
            communities=queries.communities(session, active_only=True),
            form=request.form,
        ), 400
    need = actions.take_need(
        session,
        prefix=_prefix(),
        source=source,
        community=community,
        text=text,
        classification=_classify(text),
        actor=user.actor,
        contact_name=contact_name,
        contact_phone=contact_phone,
    )
    if place is not None:
        actions.set_place(need, place[0], place[1], address)
    if stored is not None:
        actions.add_staff_photo(session, need, stored.path, stored.content_type, stored.size)
    session.commit()
    logger.info("submission %d taken by user %d (%s)", need.id, user.id, source)
    return redirect(url_for("intake.taken", submission_id=need.id))


@bp.get("/taken/<int:submission_id>")
@role_required(*ROLES)
def taken(submission_id: int) -> str:
    """Show the tracking number to hand to the resident."""
    need = get_session().get(Submission, submission_id)
    if need is None or need.source not in {*SOURCES, "forum"}:
        abort(404)
    return render_template("intake/taken.html", s=need, sources=queries.SOURCES)


@bp.post("/erase/<int:submission_id>")
@role_required("admin")
def erase(submission_id: int) -> Response:
    """Erase a need's personal content at its resident's request (words, photos, contact)."""
    session = get_session()
    need = session.get(Submission, submission_id)
    if need is None:
        abort(404)
    if request.form.get("confirm") != "1":
        flash("กรุณาติ๊กยืนยันก่อนลบข้อมูลส่วนบุคคลของเรื่องนี้", "error")
        return redirect(url_for("queue.detail", submission_id=need.id))
    erasure.erase_need(session, need, current_app.config["MEDIA_DIR"])
    audit("submission.erase", "submission", need.id)
    session.commit()
    flash("ลบข้อความ รูปภาพ ตำแหน่ง และข้อมูลติดต่อของเรื่องนี้แล้ว", "success")
    return redirect(url_for("queue.detail", submission_id=need.id))


# --- forums (ประชาคม) --------------------------------------------------------------------------

MAX_ROWS = 50


@bp.get("/forums")
@role_required(*ROLES)
def forums() -> str:
    """List recorded forums, newest first, with the form to record one."""
    session = get_session()
    rows = list(session.scalars(select(Forum).order_by(Forum.held_on.desc(), Forum.id.desc())))
    counts = _forum_counts(session, [f.id for f in rows])
    return render_template(
        "intake/forums.html",
        forums=rows,
        counts=counts,
        communities=queries.communities(session, active_only=True),
        form=request.args,
    )


def _forum_counts(session, ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    statement = (
        select(Submission.forum_id, func.count())
        .where(Submission.forum_id.in_(ids))
        .group_by(Submission.forum_id)
    )
    return dict(session.execute(statement).all())


@bp.post("/forums")
@role_required(*ROLES)
def create_forum() -> str | Response:
    """Record a forum: its date (Buddhist era), community, place, attendees and minutes."""
    session = get_session()
    user = current_staff()
    uploads.allow_upload(request)
    try:
        held_on = parse_thai_date(request.form.get("held_on") or "")
        if held_on is None:
            raise FormError("กรุณาระบุวันที่จัดประชาคมเป็นวัน/เดือน/ปี พ.ศ. เช่น 15/1/2570")
        if held_on > date.today().replace(year=date.today().year + 1):
            raise FormError("วันที่จัดประชาคมอยู่ไกลเกินไปในอนาคต กรุณาตรวจสอบปี พ.ศ.")
        community = _community(session, request.form.get("community"), required=False)
        place = _text("place", MAX_PLACE, required="กรุณาระบุสถานที่จัดประชาคม")
        attendees_text = (request.form.get("attendees") or "").strip()
        if not attendees_text.isdigit() or int(attendees_text) > 100_000:
            raise FormError("จำนวนผู้เข้าร่วมต้องเป็นตัวเลข 0 ขึ้นไป")
        upload = request.files.get("minutes")
        minutes = (
            uploads.store_minutes(upload, current_app.config["MEDIA_DIR"])
            if uploads.chosen(upload)
            else None
        )
    except ValueError as exc:
        flash(str(exc), "error")
        return render_template(
            "intake/forums.html",
            forums=list(session.scalars(select(Forum).order_by(Forum.held_on.desc()))),
            counts={},
            communities=queries.communities(session, active_only=True),
            form=request.form,
        ), 400
    forum = Forum(
        held_on=held_on,
        community=community,
        place=place,
        attendees=int(attendees_text),
        created_by=user.actor,
    )
    if minutes is not None:
        forum.minutes_path = minutes.path
        forum.minutes_type = minutes.content_type
        forum.minutes_name = Path(upload.filename or "minutes").name[:200]
    session.add(forum)
    session.flush()
    audit("forum.create", "forum", forum.id, minutes=minutes is not None)
    session.commit()
    flash("บันทึกประชาคมแล้ว กรอกความต้องการจากที่ประชุมได้เลย", "success")
    return redirect(url_for("intake.forum", forum_id=forum.id))


def _forum_or_404(forum_id: int) -> Forum:
    forum = get_session().get(Forum, forum_id)
    if forum is None:
        abort(404)
    return forum


def _forum_needs(forum: Forum) -> list[Submission]:
    statement = (
        select(Submission)
        .where(Submission.forum_id == forum.id)
        .order_by(Submission.forum_rank.asc().nulls_last(), Submission.id)
    )
    return list(get_session().scalars(statement))


@bp.get("/forums/<int:forum_id>")
@role_required(*ROLES)
def forum(forum_id: int) -> str:
    """Show a forum, its needs in the forum's order, and the table to enter more."""
    forum = _forum_or_404(forum_id)
    tax = taxonomy()
    return render_template(
        "intake/forum.html",
        forum=forum,
        needs=_forum_needs(forum),
        taxonomy=tax,
        strategy_names={s.code: s.name for s in tax.strategies},
        subarea_names={sub.code: sub.name for s in tax.strategies for sub in s.subareas},
        kind_names={k.code: k.name for k in tax.kinds},
        blank_rows=range(5),
        max_rows=MAX_ROWS,
    )


@bp.get("/forums/<int:forum_id>/minutes")
@role_required(*ROLES)
def minutes(forum_id: int) -> Response:
    """Download the forum's minutes (staff only)."""
    forum = _forum_or_404(forum_id)
    path = safe_join(current_app.config["MEDIA_DIR"], forum.minutes_path or "")
    if not forum.minutes_path or path is None or not Path(path).is_file():
        abort(404)
    response = send_file(
        path,
        mimetype=forum.minutes_type or "application/octet-stream",
        as_attachment=True,
        download_name=forum.minutes_name or Path(path).name,
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.post("/forums/<int:forum_id>/classify")
@role_required(*ROLES)
def classify(forum_id: int) -> tuple[dict[str, Any], int] | dict[str, Any]:
    """Classify one typed need (JSON ``{"text": ...}``) so the table shows it as typed."""
    _forum_or_404(forum_id)
    body = request.get_json(silent=True) or {}
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str) or not text.strip():
        return {"error": "กรุณาพิมพ์ความต้องการ"}, 400
    if len(text) > MAX_TEXT:
        return {"error": f"ข้อความยาวเกิน {MAX_TEXT:,} ตัวอักษร"}, 400
    c = _classify(text.strip())
    return {
        "kind": c.kind,
        "strategy": c.strategy,
        "strategy_name": c.strategy_name,
        "subarea": c.subarea,
        "subarea_name": c.subarea_name,
        "confidence": round(float(c.confidence), 4),
        "unsure": bool(c.unsure),
    }


@dataclass(frozen=True)
class _Row:
    text: str
    rank: int | None
    strategy: str | None
    subarea: str | None
    kind: str | None


def _read_rows() -> tuple[list[_Row], list[str]]:
    """Read the table's rows; a bad row is reported by its number and the others still go."""
    tax = taxonomy()
    texts = request.form.getlist("text")[:MAX_ROWS]
    ranks = request.form.getlist("rank")
    strategies = request.form.getlist("strategy")
    subareas = request.form.getlist("subarea")
    kinds = request.form.getlist("kind")
    rows: list[_Row] = []
    errors: list[str] = []

    def at(values: list[str], i: int) -> str:
        return (values[i] if i < len(values) else "").strip()

    for i, raw in enumerate(texts):
        text = raw.strip()
        if not text:
            continue
        number = i + 1
        rank_text, strategy, subarea, kind = (
            at(v, i) for v in (ranks, strategies, subareas, kinds)
        )
        if len(text) > MAX_TEXT:
            errors.append(f"แถวที่ {number}: ข้อความยาวเกิน {MAX_TEXT:,} ตัวอักษร")
            continue
        if rank_text and not (rank_text.isdigit() and 1 <= int(rank_text) <= 999):
            errors.append(f"แถวที่ {number}: ลำดับต้องเป็นตัวเลข 1–999")
            continue
        if strategy and strategy not in tax.strategy_codes:
            errors.append(f"แถวที่ {number}: ไม่พบ{tax.plan.top_label}ที่เลือก")
            continue
        allowed = {sub.code for sub in tax.strategy(strategy).subareas} if strategy else set()
        if subarea and subarea not in allowed:
            errors.append(f"แถวที่ {number}: {tax.plan.sub_label}ไม่อยู่ใน{tax.plan.top_label}ที่เลือก")
            continue
        if kind and kind not in tax.kind_codes:
            errors.append(f"แถวที่ {number}: ไม่พบประเภทที่เลือก")
            continue
        rows.append(
            _Row(
                text,
                int(rank_text) if rank_text else None,
                strategy or None,
                subarea or None,
                kind or None,
            )
        )
    return rows, errors


@bp.post("/forums/<int:forum_id>/needs")
@role_required(*ROLES)
def add_needs(forum_id: int) -> Response:
    """File the table's rows as the forum's needs, classified, with staff's corrections."""
    session = get_session()
    user = current_staff()
    forum = _forum_or_404(forum_id)
    rows, errors = _read_rows()
    for error in errors:
        flash(error, "error")
    for row in rows:
        need = actions.take_need(
            session,
            prefix=_prefix(),
            source="forum",
            community=forum.community,
            text=row.text,
            classification=_classify(row.text),
            actor=user.actor,
            forum=forum,
            forum_rank=row.rank,
        )
        chosen = (row.strategy, row.subarea, row.kind or need.kind)
        if row.strategy and chosen != (need.strategy, need.subarea, need.kind):
            actions.correct_classification(
                session,
                need,
                strategy=row.strategy,
                subarea=row.subarea,
                kind=row.kind or need.kind,
                actor=user.actor,
            )
    session.commit()
    if rows:
        flash(f"บันทึกความต้องการจากประชาคมแล้ว {len(rows)} เรื่อง", "success")
    elif not errors:
        flash("กรุณากรอกความต้องการอย่างน้อยหนึ่งแถว", "error")
    return redirect(url_for("intake.forum", forum_id=forum.id))


@bp.post("/forums/<int:forum_id>/ranks")
@role_required(*ROLES)
def rank(forum_id: int) -> Response:
    """Save the order the forum gave its needs (1 = what the forum wants first)."""
    session = get_session()
    user = current_staff()
    forum = _forum_or_404(forum_id)
    ranks: dict[int, int | None] = {}
    for need in _forum_needs(forum):
        value = (request.form.get(f"rank-{need.id}") or "").strip()
        if value and not (value.isdigit() and 1 <= int(value) <= 999):
            flash(f"ลำดับของเรื่อง {need.tracking_no} ต้องเป็นตัวเลข 1–999", "error")
            return redirect(url_for("intake.forum", forum_id=forum.id))
        ranks[need.id] = int(value) if value else None
    changed = actions.rank_forum_needs(session, forum, ranks, actor=user.actor)
    session.commit()
    flash(f"บันทึกลำดับความสำคัญแล้ว ({changed} เรื่องเปลี่ยนลำดับ)", "success")
    return redirect(url_for("intake.forum", forum_id=forum.id))
