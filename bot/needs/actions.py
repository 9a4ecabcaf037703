"""Actions on submissions shared by the dashboard, the conversation and the CLI."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.needs.statuses import NEEDS_DETAIL, STATUS_LABELS, status_label
from storage.base import utcnow
from storage.mailbox import enqueue
from storage.models import Submission, SubmissionEvent


def change_status(
    session: Session,
    submission: Submission,
    status: str,
    *,
    actor: str,
    public_note: str | None = None,
    internal_note: str | None = None,
    detail: str | None = None,
    merged_into: Submission | None = None,
) -> SubmissionEvent | None:
    """Move a submission to ``status``, record it in its history and tell the resident.

    ``detail`` is the agency for ``out_of_scope`` and the reason for ``rejected``; a
    ``duplicate`` needs ``merged_into``. The resident's push goes through the outbox (in the
    caller's transaction). Internal notes never reach the resident. Returns None when the
    status did not change.
    """
    if status not in STATUS_LABELS:
        raise ValueError(f"unknown status {status!r}")
    need = NEEDS_DETAIL.get(status)
    if need == "merged_into" and merged_into is None:
        raise ValueError("a duplicate must name the submission it duplicates")
    if need in {"agency", "reason"} and not (detail and detail.strip()):
        raise ValueError(f"status {status!r} needs the {need}")
    if merged_into is not None and merged_into.id == submission.id:
        raise ValueError("a submission cannot duplicate itself")
    old = submission.status
    if old == status and merged_into is None:
        return None
    submission.status = status
    if merged_into is not None:
        submission.merged_into_id = merged_into.id
    if submission.first_response_at is None and actor.startswith("user:"):
        submission.first_response_at = utcnow()
    event = SubmissionEvent(
        submission=submission,
        actor=actor,
        action="status",
        detail={
            "from": old,
            "to": status,
            **({"detail": detail.strip()} if detail else {}),
            **({"merged_into": merged_into.tracking_no} if merged_into else {}),
        },
        public_note=(public_note or "").strip() or None,
        internal_note=(internal_note or "").strip() or None,
    )
    session.add(event)
    resident = submission.resident
    if resident is not None and resident.active and resident.consent == "given":
        text = status_message(submission, status, detail, merged_into, event.public_note)
        enqueue(
            session,
            resident.line_user_id,
            [{"type": "text", "text": text}],
            purpose=f"status:{submission.id}",
        )
    return event


def status_message(
    submission: Submission,
    status: str,
    detail: str | None,
    merged_into: Submission | None,
    public_note: str | None,
) -> str:
    """Return the plain-Thai push a resident gets when a submission's status changes."""
    lines = [
        f"เรื่องเลขที่ {submission.tracking_no} ของท่าน",
        f"สถานะล่าสุด: {status_label(status)}",
    ]
    if status == "duplicate" and merged_into is not None:
        lines.append(
            f"เรื่องนี้มีผู้แจ้งไว้แล้ว จึงรวมไว้กับเรื่องเลขที่ {merged_into.tracking_no} "
            "และจะแจ้งความคืบหน้าให้ทราบต่อไปค่ะ"
        )
    elif status == "out_of_scope" and detail:
        lines.append(f"เรื่องนี้อยู่ในความรับผิดชอบของ {detail.strip()} ซึ่งเทศบาลได้ประสานต่อให้แล้วค่ะ")
    elif status == "rejected" and detail:
        lines.append(f"เหตุผล: {detail.strip()}")
    elif status == "done":
        lines.append("ขอบคุณที่ร่วมแจ้งเรื่องเพื่อพัฒนาชุมชนของเราค่ะ")
    if public_note:
        lines.append(f"หมายเหตุจากเจ้าหน้าที่: {public_note}")
    lines.append('พิมพ์ "ติดตามเรื่อง" เพื่อดูเรื่องทั้งหมดของท่าน')
    return "\n".join(lines)
