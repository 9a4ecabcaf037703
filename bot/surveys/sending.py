"""Send a survey: pick the recipients, check the month's quota, queue multicasts in the outbox.

Everything for one send happens in the caller's transaction: either every recipient row and
every multicast row is stored, or none is. The worker then sends each multicast with its own
retry key (see ``bot.line.worker``), so a chunk that fails is retried without resending the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import Flask
from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.orm import Session

from bot.db import session_factory
from bot.line.api import LineError, Quota, line_api
from bot.surveys.messages import invitation
from bot.wording import Wording, wording
from storage import mailbox
from storage.base import utcnow
from storage.models import OutboxMessage, Resident
from storage.surveys import Survey, SurveyRecipient, SurveyTarget

logger = logging.getLogger(__name__)

# LINE takes at most 500 user ids per multicast.
CHUNK = 500
QuotaLookup = Callable[[], Quota]


class SurveySendError(Exception):
    """The survey cannot be sent; the message says why in plain Thai for the leader."""


@dataclass(frozen=True)
class SendResult:
    """What was queued: recipients, multicast calls and the messages they cost."""

    recipients: int
    chunks: int
    cost: int


def purpose(survey_id: int) -> str:
    """Return the outbox purpose of a survey's invitations, e.g. ``survey:12``."""
    return f"survey:{survey_id}"


def recipient_rows(session: Session, survey: Survey) -> list[tuple[int, str, int | None]]:
    """Return (resident id, LINE user id, community id) of everyone the survey goes to.

    Active (still following) residents who gave consent, in the target communities.
    """
    statement = (
        select(Resident.id, Resident.line_user_id, Resident.community_id)
        .where(Resident.active.is_(True), Resident.consent == "given")
        .order_by(Resident.id)
    )
    if not survey.all_communities:
        targets = select(SurveyTarget.community_id).where(SurveyTarget.survey_id == survey.id)
        statement = statement.where(Resident.community_id.in_(targets))
    return [(r.id, r.line_user_id, r.community_id) for r in session.execute(statement)]


def check_sendable(survey: Survey) -> None:
    """Raise SurveySendError when the survey is not ready to go out."""
    if survey.status not in {"draft", "scheduled"}:
        raise SurveySendError("แบบสำรวจนี้ส่งไปแล้ว ส่งซ้ำไม่ได้ค่ะ")
    if not survey.title.strip():
        raise SurveySendError("กรุณาใส่ชื่อแบบสำรวจก่อนส่งค่ะ")
    if not survey.questions:
        raise SurveySendError("แบบสำรวจยังไม่มีคำถาม กรุณาเพิ่มคำถามอย่างน้อย 1 ข้อค่ะ")
    for number, question in enumerate(survey.questions, 1):
        if question.type in {"single", "multiple"} and len(question.options) < 2:
            raise SurveySendError(f"คำถามข้อ {number} ต้องมีตัวเลือกอย่างน้อย 2 ตัวเลือกค่ะ")
    if not survey.all_communities and not survey.targets:
        raise SurveySendError("กรุณาเลือกชุมชนที่จะส่งแบบสำรวจอย่างน้อย 1 ชุมชนค่ะ")


def check_quota(quota_lookup: QuotaLookup, needed: int) -> Quota:
    """Ask LINE for the month's quota; raise SurveySendError if ``needed`` messages do not fit."""
    try:
        quota = quota_lookup()
    except LineError as exc:
        logger.warning("quota lookup failed: %s", exc)
        raise SurveySendError(
            "ตรวจสอบโควตาข้อความกับ LINE ไม่สำเร็จในขณะนี้ จึงยังไม่ได้ส่งแบบสำรวจ กรุณาลองใหม่อีกครั้งในภายหลังค่ะ"
        ) from exc
    remaining = quota.remaining
    if remaining is not None and needed > remaining:
        raise SurveySendError(
            f"โควตาข้อความเดือนนี้เหลือ {remaining:,} ข้อความ แต่แบบสำรวจนี้ต้องใช้ {needed:,} ข้อความ "
            "จึงยังไม่ได้ส่งให้ใครเลย กรุณาลดจำนวนชุมชนที่ส่ง หรือรอโควตาเดือนถัดไป "
            "หรือเพิ่มแพ็กเกจ LINE Official Account ค่ะ"
        )
    return quota


def queue_survey(
    session: Session,
    survey: Survey,
    api_quota: QuotaLookup,
    now: datetime | None = None,
    say: Wording | None = None,
) -> SendResult:
    """Queue a survey's invitations for every recipient, or refuse with a Thai reason.

    The invitation is in ``say``'s words (the municipality's; the shipped ones if None).

    The quota is checked before anything is stored; recipients and multicast rows (at most
    500 ids each, each with its own retry key) are added in the caller's transaction.
    """
    now = now or utcnow()
    check_sendable(survey)
    rows = recipient_rows(session, survey)
    if not rows:
        raise SurveySendError("ยังไม่มีผู้รับแบบสำรวจนี้: ไม่มีผู้ติดตามที่ยินยอมให้ข้อมูลในชุมชนที่เลือกค่ะ")
    messages = [invitation(survey, say)]
    cost = len(rows) * len(messages)
    check_quota(api_quota, cost)
    # Claim the survey with a conditional update so two clicks or two workers send it once.
    claimed = session.execute(
        update(Survey)
        .where(Survey.id == survey.id, Survey.status.in_(("draft", "scheduled")))
        .values(status="sending", sent_at=now, send_error=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise SurveySendError("แบบสำรวจนี้กำลังส่งหรือส่งไปแล้วค่ะ")
    survey.status, survey.sent_at, survey.send_error = "sending", now, None
    recipients: list[dict] = []
    chunks = 0
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        outbox = mailbox.enqueue(
            session, [line_id for _, line_id, _ in chunk], messages, purpose=purpose(survey.id)
        )
        session.flush()
        chunks += 1
        recipients.extend(
            {
                "survey_id": survey.id,
                "resident_id": resident_id,
                "community_id": community_id,
                "outbox_id": outbox.id,
                "status": "queued",
                "created_at": now,
            }
            for resident_id, _, community_id in chunk
        )
    session.execute(insert(SurveyRecipient), recipients)
    logger.info("survey %d queued for %d residents in %d multicasts", survey.id, len(rows), chunks)
    return SendResult(recipients=len(rows), chunks=chunks, cost=cost)


def refresh_progress(session: Session, survey: Survey) -> None:
    """Carry the outbox's delivery results to the recipients; mark the survey sent when done."""
    for outbox_statuses, status in ((("sent",), "sent"), (("failed", "skipped"), "failed")):
        done = select(OutboxMessage.id).where(
            OutboxMessage.purpose == purpose(survey.id), OutboxMessage.status.in_(outbox_statuses)
        )
        session.execute(
            update(SurveyRecipient)
            .where(
                SurveyRecipient.survey_id == survey.id,
                SurveyRecipient.status == "queued",
                SurveyRecipient.outbox_id.in_(done),
            )
            .values(status=status)
            .execution_options(synchronize_session=False)
        )
    if survey.status == "sending":
        waiting = session.scalar(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.purpose == purpose(survey.id),
                or_(OutboxMessage.status == "pending", OutboxMessage.status == "sending"),
            )
            .limit(1)
        )
        if waiting is None:
            survey.status = "sent"


def progress(session: Session, survey: Survey) -> dict[str, int]:
    """Return the send's progress by recipient: queued, sent, failed, answering, completed."""
    refresh_progress(session, survey)
    outbox = mailbox.outbox_counts(session, purpose(survey.id))
    delivery = (
        select(OutboxMessage.status, SurveyRecipient.status, func.count())
        .select_from(SurveyRecipient)
        .join(OutboxMessage, OutboxMessage.id == SurveyRecipient.outbox_id)
        .where(SurveyRecipient.survey_id == survey.id)
        .group_by(OutboxMessage.status, SurveyRecipient.status)
    )
    counts = {"recipients": 0, "queued": 0, "sent": 0, "failed": 0, "answering": 0, "completed": 0}
    for outbox_status, recipient_status, number in session.execute(delivery):
        counts["recipients"] += number
        if outbox_status == "sent":
            counts["sent"] += number
        elif outbox_status in {"failed", "skipped"}:
            counts["failed"] += number
        else:
            counts["queued"] += number
        if recipient_status in {"answering", "completed"}:
            counts[recipient_status] += number
    counts["chunks"] = sum(outbox.values())
    counts["chunks_sent"] = outbox.get("sent", 0)
    counts["chunks_failed"] = outbox.get("failed", 0)
    return counts


def close_survey(survey: Survey, now: datetime | None = None) -> None:
    """Stop taking answers."""
    survey.status = "closed"
    survey.closed_at = now or utcnow()


def send_due_surveys(
    session: Session, now: datetime, quota_lookup: QuotaLookup, say: Wording | None = None
) -> dict[str, int]:
    """Send scheduled surveys whose time has come and close those past their closing time.

    A send the quota cannot carry goes back to draft with the reason for the leader. The
    caller commits; the worker loop or ``ruamkid surveys send-due`` calls this.
    """
    done = {"sent": 0, "refused": 0, "closed": 0}
    due = session.scalars(
        select(Survey)
        .where(Survey.status == "scheduled", Survey.send_at <= now)
        .order_by(Survey.send_at, Survey.id)
    )
    for survey in list(due):
        if survey.closes_at is not None and survey.closes_at <= now:
            survey.status = "draft"
            survey.send_error = "ถึงเวลาส่งแต่แบบสำรวจปิดไปแล้ว กรุณาตั้งเวลาใหม่ค่ะ"
            done["refused"] += 1
            continue
        try:
            with session.begin_nested():
                queue_survey(session, survey, quota_lookup, now, say)
        except SurveySendError as exc:
            session.refresh(survey)
            if survey.status == "scheduled":
                survey.status = "draft"
                survey.send_error = str(exc)
            done["refused"] += 1
            logger.warning("scheduled survey %d not sent", survey.id)
        else:
            done["sent"] += 1
    to_close = session.scalars(
        select(Survey).where(
            Survey.status.in_(("sending", "sent")),
            Survey.closes_at.is_not(None),
            Survey.closes_at <= now,
        )
    )
    for survey in list(to_close):
        refresh_progress(session, survey)
        close_survey(survey, now)
        done["closed"] += 1
    for survey in session.scalars(select(Survey).where(Survey.status == "sending")):
        refresh_progress(session, survey)
    return done


def run_send_due(app: Flask, now: datetime | None = None) -> dict[str, int]:
    """Send and close what is due for ``app`` in one transaction (the worker loop's hook)."""
    api = line_api(app)
    try:
        with session_factory(app)() as session:
            say = wording(app.extensions["ruamkid"])
            done = send_due_surveys(session, now or utcnow(), api.quota, say)
            session.commit()
    finally:
        api.close()
    return done
