"""Survey pages under /dashboard/surveys: build, preview, schedule, send, follow, read results.

Leaders work on their own community's surveys only (a survey is theirs when it targets their
community and no other); staff and admins on any. Another community's survey answers 404, as
if it did not exist. Only drafts can be edited.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time, timedelta

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response as WerkzeugResponse

from bot.accounts import StaffUser, audit, current_staff, role_required
from bot.db import get_session
from bot.line import worker
from bot.line.api import line_api
from bot.surveys import messages, results, sending
from bot.thai import BANGKOK, parse_thai_date, thai_date
from bot.wording import current_wording
from storage.base import utcnow
from storage.models import Community
from storage.surveys import (
    MAX_LABEL,
    MAX_OPTIONS,
    MAX_QUESTION_TEXT,
    MAX_QUESTIONS,
    MAX_TITLE,
    QUESTION_TYPES,
    Survey,
    SurveyOption,
    SurveyQuestion,
    SurveyTarget,
)

logger = logging.getLogger(__name__)

bp = Blueprint("surveys", __name__, url_prefix="/dashboard/surveys")

STATUS_LABELS = {
    "draft": "ฉบับร่าง",
    "scheduled": "ตั้งเวลาส่งแล้ว",
    "sending": "กำลังส่ง",
    "sent": "ส่งแล้ว เปิดรับคำตอบ",
    "closed": "ปิดรับคำตอบแล้ว",
}


class FormError(ValueError):
    """A form value is not acceptable; the message is shown to the user in Thai."""


# --- permissions ------------------------------------------------------------------------------


def _leader_community(user: StaffUser) -> int | None:
    return user.community_id if user.role == "leader" else None


def may_manage(user: StaffUser, survey: Survey) -> bool:
    """Tell whether ``user`` may see and act on ``survey``."""
    if user.role in {"admin", "staff"}:
        return True
    if user.role != "leader" or user.community_id is None or survey.all_communities:
        return False
    return survey.community_ids == {user.community_id}


def _survey_or_404(survey_id: int) -> Survey:
    survey = get_session().get(Survey, survey_id)
    if survey is None or not may_manage(current_staff(), survey):
        abort(404)
    return survey


def _draft_or_redirect(survey: Survey) -> WerkzeugResponse | None:
    if survey.status != "draft":
        flash("แก้ไขได้เฉพาะแบบสำรวจที่เป็นฉบับร่างเท่านั้นค่ะ", "error")
        return redirect(url_for("surveys.show", survey_id=survey.id))
    return None


def _communities() -> list[Community]:
    statement = select(Community).where(Community.active.is_(True)).order_by(Community.position)
    return list(get_session().scalars(statement))


def _result_communities(survey: Survey) -> list[Community]:
    """Communities a user may filter the results by."""
    user = current_staff()
    rows = _communities()
    if user.role == "leader":
        return [c for c in rows if c.id == user.community_id]
    if survey.all_communities:
        return rows
    return [c for c in rows if c.id in survey.community_ids]


# --- form readers ------------------------------------------------------------------------------


def _text(name: str, limit: int, *, required: str | None = None, multiline: bool = False) -> str:
    raw = request.form.get(name) or ""
    # One-line fields lose stray line breaks and runs of spaces; an introduction keeps its lines.
    value = raw.strip() if multiline else " ".join(raw.split())
    if required and not value:
        raise FormError(required)
    if len(value) > limit:
        raise FormError(f"ข้อความยาวเกิน {limit} ตัวอักษร")
    return value


def _targets() -> tuple[bool, set[int]]:
    user = current_staff()
    if user.role == "leader":
        if user.community_id is None:
            raise FormError("บัญชีผู้นำชุมชนนี้ยังไม่ได้ระบุชุมชน กรุณาติดต่อผู้ดูแลระบบค่ะ")
        return False, {user.community_id}
    if request.form.get("all_communities") == "1":
        return True, set()
    valid = {c.id for c in _communities()}
    chosen = set()
    for raw in request.form.getlist("community_ids"):
        if not raw.isdigit() or int(raw) not in valid:
            raise FormError("ชุมชนที่เลือกไม่ถูกต้อง")
        chosen.add(int(raw))
    if not chosen:
        raise FormError("กรุณาเลือกชุมชนอย่างน้อย 1 ชุมชน หรือเลือกส่งทุกชุมชนค่ะ")
    return False, chosen


def _options() -> list[str]:
    lines = [" ".join(line.split()) for line in (request.form.get("options") or "").splitlines()]
    labels = [line for line in lines if line]
    if len(labels) < 2:
        raise FormError("คำถามแบบเลือกตอบต้องมีตัวเลือกอย่างน้อย 2 ตัวเลือก (บรรทัดละ 1 ตัวเลือก)")
    if len(labels) > MAX_OPTIONS:
        raise FormError(f"ตัวเลือกมีได้ไม่เกิน {MAX_OPTIONS} ตัวเลือก เพื่อให้พอดีกับปุ่มใน LINE")
    long = [label for label in labels if len(label) > MAX_LABEL]
    if long:
        raise FormError(
            f'ตัวเลือก "{long[0]}" ยาวเกิน {MAX_LABEL} ตัวอักษร (ปุ่มใน LINE แสดงได้ไม่เกิน '
            f"{MAX_LABEL} ตัวอักษร) กรุณาย่อให้สั้นลงค่ะ"
        )
    if len(set(labels)) != len(labels):
        raise FormError("มีตัวเลือกซ้ำกัน กรุณาแก้ไขค่ะ")
    return labels


def _moment(prefix: str) -> datetime | None:
    """Read a Bangkok date (Buddhist era accepted) and time from the form, as UTC."""
    raw_date = (request.form.get(f"{prefix}_date") or "").strip()
    raw_time = (request.form.get(f"{prefix}_time") or "").strip() or "00:00"
    if not raw_date:
        return None
    day = parse_thai_date(raw_date)
    if day is None:
        raise FormError(f'อ่านวันที่ "{raw_date[:20]}" ไม่ได้ กรุณาใช้รูปแบบ วว/ดด/ปปปป เช่น 26/11/2569')
    try:
        hours, minutes = (int(p) for p in raw_time.split(":"))
        moment = time(hours, minutes)
    except ValueError:
        raise FormError(f'อ่านเวลา "{raw_time[:10]}" ไม่ได้ กรุณาใช้รูปแบบ ชม:นาที เช่น 09:30') from None
    return datetime.combine(day, moment, tzinfo=BANGKOK).astimezone(UTC)


def _question_from_form(question: SurveyQuestion) -> None:
    kind = request.form.get("type") or question.type
    if kind not in QUESTION_TYPES:
        raise FormError("ประเภทคำถามไม่ถูกต้อง")
    text = _text("text", MAX_QUESTION_TEXT, required="กรุณาพิมพ์คำถามค่ะ")
    labels = _options() if kind in {"single", "multiple"} else []
    question.type = kind
    question.text = text
    question.required = request.form.get("required") == "1"
    question.options.clear()
    get_session().flush()
    for position, label in enumerate(labels):
        question.options.append(SurveyOption(position=position, label=label))


# --- pages -------------------------------------------------------------------------------------


@bp.get("/")
@role_required()
def index() -> str:
    """List the surveys this user may manage."""
    user = current_staff()
    session = get_session()
    surveys = [
        s for s in session.scalars(select(Survey).order_by(Survey.id.desc())) if may_manage(user, s)
    ]
    for survey in surveys:
        if survey.status == "sending":
            sending.refresh_progress(session, survey)
    session.commit()
    return render_template("surveys/index.html", surveys=surveys, STATUS=STATUS_LABELS)


@bp.route("/new", methods=["GET", "POST"])
@role_required()
def new() -> str | WerkzeugResponse:
    """Create a draft survey: title, introduction and the communities it goes to."""
    user = current_staff()
    if request.method == "POST":
        session = get_session()
        try:
            title = _text("title", MAX_TITLE, required="กรุณาใส่ชื่อแบบสำรวจค่ะ")
            intro = _text("intro", 1000, multiline=True)
            everyone, chosen = _targets()
        except FormError as exc:
            flash(str(exc), "error")
            return render_template(
                "surveys/new.html", communities=_communities(), form=request.form
            ), 400
        survey = Survey(title=title, intro=intro, all_communities=everyone, created_by=user.id)
        survey.targets = [SurveyTarget(community_id=c) for c in sorted(chosen)]
        session.add(survey)
        session.flush()
        audit("survey.create", "survey", survey.id)
        session.commit()
        flash("สร้างแบบสำรวจฉบับร่างแล้ว เพิ่มคำถามได้เลยค่ะ", "success")
        return redirect(url_for("surveys.show", survey_id=survey.id))
    return render_template("surveys/new.html", communities=_communities(), form={})


@bp.get("/<int:survey_id>")
@role_required()
def show(survey_id: int) -> str:
    """Show a survey: its questions (editable while a draft), schedule, sending progress."""
    survey = _survey_or_404(survey_id)
    session = get_session()
    progress = (
        sending.progress(session, survey) if survey.status not in {"draft", "scheduled"} else None
    )
    session.commit()
    return render_template(
        "surveys/show.html",
        survey=survey,
        progress=progress,
        communities=_communities(),
        STATUS=STATUS_LABELS,
        TYPES=messages.TYPE_LABELS,
        MAX_OPTIONS=MAX_OPTIONS,
        MAX_LABEL=MAX_LABEL,
        MAX_QUESTIONS=MAX_QUESTIONS,
        target_names=_target_names(survey),
    )


def _target_names(survey: Survey) -> str:
    if survey.all_communities:
        return "ทุกชุมชน"
    return ", ".join(t.community.name for t in survey.targets) or "–"


@bp.post("/<int:survey_id>/edit")
@role_required()
def edit(survey_id: int) -> WerkzeugResponse:
    """Change a draft's title, introduction and communities."""
    survey = _survey_or_404(survey_id)
    if (refused := _draft_or_redirect(survey)) is not None:
        return refused
    try:
        survey.title = _text("title", MAX_TITLE, required="กรุณาใส่ชื่อแบบสำรวจค่ะ")
        survey.intro = _text("intro", 1000, multiline=True)
        survey.all_communities, chosen = _targets()
    except FormError as exc:
        get_session().rollback()
        flash(str(exc), "error")
        return redirect(url_for("surveys.show", survey_id=survey.id))
    survey.targets = [SurveyTarget(community_id=c) for c in sorted(chosen)]
    audit("survey.edit", "survey", survey.id)
    get_session().commit()
    flash("บันทึกแล้วค่ะ", "success")
    return redirect(url_for("surveys.show", survey_id=survey.id))


@bp.post("/<int:survey_id>/questions")
@role_required()
def add_question(survey_id: int) -> WerkzeugResponse:
    """Add a question at the end of a draft."""
    survey = _survey_or_404(survey_id)
    if (refused := _draft_or_redirect(survey)) is not None:
        return refused
    session = get_session()
    if len(survey.questions) >= MAX_QUESTIONS:
        flash(f"แบบสำรวจหนึ่งชุดมีได้ไม่เกิน {MAX_QUESTIONS} ข้อค่ะ", "error")
        return redirect(url_for("surveys.show", survey_id=survey.id))
    position = max((q.position for q in survey.questions), default=-1) + 1
    question = SurveyQuestion(position=position, type="single", text="")
    try:
        _question_from_form(question)
    except FormError as exc:
        session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("surveys.show", survey_id=survey.id))
    survey.questions.append(question)
    session.flush()
    audit("survey.question.add", "survey", survey.id, question=question.id)
    session.commit()
    return redirect(url_for("surveys.show", survey_id=survey.id, _anchor=f"q{question.id}"))


def _question_or_404(survey: Survey, question_id: int) -> SurveyQuestion:
    question = next((q for q in survey.questions if q.id == question_id), None)
    if question is None:
        abort(404)
    return question


@bp.post("/<int:survey_id>/questions/<int:question_id>")
@role_required()
def update_question(survey_id: int, question_id: int) -> WerkzeugResponse:
    """Change a question of a draft, or move it up or down, or remove it."""
    survey = _survey_or_404(survey_id)
    if (refused := _draft_or_redirect(survey)) is not None:
        return refused
    question = _question_or_404(survey, question_id)
    session = get_session()
    action = request.form.get("action", "save")
    if action == "delete":
        survey.questions.remove(question)
        _renumber(survey)
        audit("survey.question.delete", "survey", survey.id, question=question_id)
        session.commit()
        flash("ลบคำถามแล้วค่ะ", "success")
        return redirect(url_for("surveys.show", survey_id=survey.id))
    if action in {"up", "down"}:
        ordered = list(survey.questions)
        index = ordered.index(question)
        other = index - 1 if action == "up" else index + 1
        if 0 <= other < len(ordered):
            ordered[index], ordered[other] = ordered[other], ordered[index]
            for position, item in enumerate(ordered):
                item.position = position
        session.commit()
        return redirect(url_for("surveys.show", survey_id=survey.id, _anchor=f"q{question.id}"))
    try:
        _question_from_form(question)
    except FormError as exc:
        session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("surveys.show", survey_id=survey.id, _anchor=f"q{question.id}"))
    audit("survey.question.edit", "survey", survey.id, question=question.id)
    session.commit()
    flash("บันทึกคำถามแล้วค่ะ", "success")
    return redirect(url_for("surveys.show", survey_id=survey.id, _anchor=f"q{question.id}"))


def _renumber(survey: Survey) -> None:
    for position, item in enumerate(sorted(survey.questions, key=lambda q: q.position)):
        item.position = position


@bp.get("/<int:survey_id>/preview")
@role_required()
def preview(survey_id: int) -> str:
    """Show the messages as a resident will see them in LINE."""
    survey = _survey_or_404(survey_id)
    steps = [[message] for message in messages.preview(survey, current_wording())]
    return render_template("surveys/preview.html", survey=survey, steps=steps)


@bp.post("/<int:survey_id>/schedule")
@role_required()
def schedule(survey_id: int) -> WerkzeugResponse:
    """Set when a draft is sent and when it closes (empty send time: stays a draft)."""
    survey = _survey_or_404(survey_id)
    if survey.status not in {"draft", "scheduled"}:
        flash("แบบสำรวจนี้ส่งไปแล้ว เปลี่ยนเวลาส่งไม่ได้ค่ะ", "error")
        return redirect(url_for("surveys.show", survey_id=survey.id))
    now = utcnow()
    try:
        send_at = _moment("send")
        closes_at = _moment("close")
        if send_at is not None and send_at < now - timedelta(minutes=1):
            raise FormError("เวลาส่งต้องเป็นเวลาในอนาคตค่ะ")
        if closes_at is not None and closes_at <= (send_at or now):
            raise FormError("เวลาปิดรับคำตอบต้องอยู่หลังเวลาส่งค่ะ")
        if send_at is not None:
            sending.check_sendable(survey)
    except (FormError, sending.SurveySendError) as exc:
        flash(str(exc), "error")
        return redirect(url_for("surveys.show", survey_id=survey.id))
    survey.send_at = send_at
    survey.closes_at = closes_at
    survey.send_error = None
    survey.status = "scheduled" if send_at is not None else "draft"
    audit("survey.schedule", "survey", survey.id, scheduled=send_at is not None)
    get_session().commit()
    if send_at is not None:
        flash(f"ตั้งเวลาส่งแล้ว: {thai_date(send_at)} น.", "success")
    else:
        flash("บันทึกเวลาปิดรับคำตอบแล้ว (ยังไม่ได้ตั้งเวลาส่ง)", "success")
    return redirect(url_for("surveys.show", survey_id=survey.id))


@bp.get("/<int:survey_id>/send")
@role_required()
def confirm_send(survey_id: int) -> str | WerkzeugResponse:
    """Ask before sending: how many people, how much quota, and that it cannot be undone."""
    survey = _survey_or_404(survey_id)
    if survey.status not in {"draft", "scheduled"}:
        return redirect(url_for("surveys.show", survey_id=survey.id))
    recipients = len(sending.recipient_rows(get_session(), survey))
    return render_template(
        "surveys/confirm_send.html",
        survey=survey,
        recipients=recipients,
        target_names=_target_names(survey),
    )


@bp.post("/<int:survey_id>/send")
@role_required()
def send(survey_id: int) -> WerkzeugResponse:
    """Send now, once confirmed, after checking the month's message quota with LINE."""
    survey = _survey_or_404(survey_id)
    if request.form.get("confirm") != "1":
        # Sending spends quota and cannot be undone: only the confirmation page's button sends.
        return redirect(url_for("surveys.confirm_send", survey_id=survey.id))
    session = get_session()
    api = line_api()
    try:
        if survey.closes_at is not None and survey.closes_at <= utcnow():
            raise sending.SurveySendError("เวลาปิดรับคำตอบผ่านไปแล้ว กรุณาตั้งเวลาปิดใหม่ก่อนส่งค่ะ")
        result = sending.queue_survey(session, survey, api.quota, say=current_wording())
    except sending.SurveySendError as exc:
        session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("surveys.show", survey_id=survey.id))
    finally:
        api.close()
    audit("survey.send", "survey", survey.id, recipients=result.recipients, chunks=result.chunks)
    session.commit()
    worker.wake()
    flash(
        f"กำลังส่งแบบสำรวจถึงผู้รับ {result.recipients:,} คน (ใช้โควตา {result.cost:,} ข้อความ)",
        "success",
    )
    return redirect(url_for("surveys.show", survey_id=survey.id))


@bp.post("/<int:survey_id>/close")
@role_required()
def close(survey_id: int) -> WerkzeugResponse:
    """Stop taking answers now."""
    survey = _survey_or_404(survey_id)
    if survey.status not in {"sending", "sent"}:
        flash("ปิดรับคำตอบได้เฉพาะแบบสำรวจที่ส่งแล้วค่ะ", "error")
        return redirect(url_for("surveys.show", survey_id=survey.id))
    sending.close_survey(survey)
    audit("survey.close", "survey", survey.id)
    get_session().commit()
    flash("ปิดรับคำตอบแล้วค่ะ", "success")
    return redirect(url_for("surveys.show", survey_id=survey.id))


@bp.post("/<int:survey_id>/delete")
@role_required()
def delete(survey_id: int) -> WerkzeugResponse:
    """Delete a draft."""
    survey = _survey_or_404(survey_id)
    if (refused := _draft_or_redirect(survey)) is not None:
        return refused
    session = get_session()
    session.delete(survey)
    audit("survey.delete", "survey", survey_id)
    session.commit()
    flash("ลบแบบสำรวจฉบับร่างแล้วค่ะ", "success")
    return redirect(url_for("surveys.index"))


# --- results -----------------------------------------------------------------------------------


def _filter(survey: Survey) -> tuple[set[int] | None, int | None]:
    """Return the communities to count (None: all the user may see) and the chosen one."""
    user = current_staff()
    allowed = _result_communities(survey)
    raw = request.args.get("community", "")
    chosen = int(raw) if raw.isdigit() else None
    if chosen is not None and chosen not in {c.id for c in allowed}:
        abort(404)
    if user.role == "leader":
        return {user.community_id}, chosen
    if chosen is not None:
        return {chosen}, chosen
    return None, None


@bp.get("/<int:survey_id>/results")
@role_required()
def results_page(survey_id: int) -> str:
    """Show counts, percentages and charts per question, response rate per community."""
    survey = _survey_or_404(survey_id)
    community_ids, chosen = _filter(survey)
    data = results.survey_results(get_session(), survey, community_ids)
    charts = {q.question.id: results.bar_chart(q.bars) for q in data.questions if q.bars}
    return render_template(
        "surveys/results.html",
        survey=survey,
        results=data,
        charts=charts,
        communities=_result_communities(survey),
        chosen=chosen,
        STATUS=STATUS_LABELS,
    )


def _download(data: bytes, mimetype: str, survey: Survey, extension: str) -> Response:
    filename = f"survey-{survey.id}-results.{extension}"
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<int:survey_id>/results.csv")
@role_required()
def results_csv(survey_id: int) -> Response:
    """Download every respondent's answers as CSV (UTF-8 with BOM)."""
    survey = _survey_or_404(survey_id)
    community_ids, _ = _filter(survey)
    audit("survey.export", "survey", survey.id, format="csv")
    get_session().commit()
    data = results.results_csv(get_session(), survey, community_ids)
    return _download(data, "text/csv; charset=utf-8", survey, "csv")


@bp.get("/<int:survey_id>/results.xlsx")
@role_required()
def results_xlsx(survey_id: int) -> Response:
    """Download the summary and every respondent's answers as an Excel workbook."""
    survey = _survey_or_404(survey_id)
    community_ids, _ = _filter(survey)
    audit("survey.export", "survey", survey.id, format="xlsx")
    get_session().commit()
    data = results.results_xlsx(get_session(), survey, community_ids)
    mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return _download(data, mimetype, survey, "xlsx")


@bp.app_template_filter("survey_status")
def survey_status(code: str) -> str:
    """Return a survey status in Thai."""
    return STATUS_LABELS.get(code, code)
