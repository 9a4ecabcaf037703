"""PDPA: "ข้อมูลของฉัน" shows what is kept; "ลบข้อมูลของฉัน" erases it, keeping anonymous counts."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from bot.needs.actions import change_status
from storage.models import (
    InboxEvent,
    Media,
    OutboxMessage,
    Resident,
    Submission,
    TrainingLabel,
)
from tests import line_events
from tests.residents.support import (
    OTHER_USER,
    USER,
    button,
    buttons,
    join,
    last,
    last_text,
    press,
    resident,
)


def _count(session, model, *where) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model).where(*where))


def _fill(line, line_api, user=USER) -> None:
    join(line, line_api, user=user)
    line.send(line_events.text("ถนนหน้าบ้านเป็นหลุมใหญ่ บ้านเลขที่ 9 นางสมศรี", user))
    line.send(line_events.event("image", user))
    line.send(line_events.event("location", user, address="ซอย 3 บ้านนางสมศรี"))
    press(line, button(last(line_api), "เสร็จสิ้น"), user)
    line.send(line_events.event("image", user))  # a second, photo-only submission
    line.send(line_events.text("ไฟถนนดับหน้าบ้านค่ะ", user))


def test_my_data_shows_what_is_kept(line, line_api, session):
    line_api.display_names[USER] = "สมศรี"
    _fill(line, line_api)
    line.send(line_events.text("ข้อมูลของฉัน", USER))
    text = last_text(line_api)
    assert "สมศรี" in text
    assert "ชุมชนช่างฆ้อง" in text
    assert "เรื่องที่แจ้ง: 2 เรื่อง" in text
    assert "รูปภาพ: 2 รูป" in text
    assert "ตำแหน่ง: 1 จุด" in text
    assert "25" in text.split("ให้ความยินยอมเมื่อ:")[1][:15]  # a Buddhist-era year
    labels = [a["label"] for a in buttons(last(line_api))]
    assert "เปลี่ยนชุมชน" in labels and "ลบข้อมูลของฉัน" in labels


def test_deletion_asks_first_then_erases_and_keeps_anonymous_counts(line, line_api, session, app):
    _fill(line, line_api)
    _fill(line, line_api, user=OTHER_USER)  # someone else's data must stay
    media_dir = Path(app.config["MEDIA_DIR"])
    mine = select(Submission.id).join(Resident).where(Resident.line_user_id == USER)
    my_ids = list(session.scalars(mine))
    my_files = [
        media_dir / m.path
        for m in session.scalars(select(Media).where(Media.submission_id.in_(my_ids)))
    ]
    assert len(my_files) == 2 and all(f.exists() for f in my_files)
    session.add(
        TrainingLabel(
            submission_id=my_ids[0], text="ถนนหน้าบ้านเป็นหลุม", strategy="LPN-S7", kind="complaint"
        )
    )
    session.commit()
    total_before = _count(session, Submission)
    line.send(line_events.text("ติดตามเรื่อง", USER))  # its reply quotes the resident's words
    assert "หลุม" in " ".join(str(row.messages) for row in session.scalars(select(OutboxMessage)))

    line.send(line_events.text("ลบข้อมูลของฉัน", USER))
    assert "ใช่ไหม" in last_text(line_api)
    assert resident(session) is not None  # nothing deleted before the confirmation
    # A status push queued while the resident decides must not reach them afterwards.
    change_status(session, session.get(Submission, my_ids[0]), "reviewing", actor="user:1")
    session.commit()
    press(line, button(last(line_api), "ยืนยันลบข้อมูล"))
    assert "ลบข้อมูลของท่านเรียบร้อยแล้ว" in last_text(line_api)  # the confirmation is still sent

    assert resident(session, USER) is None
    assert not any(f.exists() for f in my_files)
    assert _count(session, Media, Media.submission_id.in_(my_ids)) == 0
    assert _count(session, Submission) == total_before  # anonymous counts stay
    for submission in session.scalars(select(Submission).where(Submission.id.in_(my_ids))):
        assert submission.text is None and submission.embedding is None
        assert submission.latitude is None and submission.longitude is None
        assert submission.address is None and submission.resident_id is None
        assert submission.redacted_at is not None
        assert submission.tracking_no  # counts by category, community and status still work
    assert session.scalar(select(TrainingLabel.text)) is None
    # The other resident keeps everything.
    other = resident(session, OTHER_USER)
    assert other is not None
    assert (
        _count(
            session, Submission, Submission.resident_id == other.id, Submission.text.is_not(None)
        )
        == 2
    )
    # Messages to the deleted resident lose their content; the status push is not sent.
    session.expire_all()
    outbox = list(session.scalars(select(OutboxMessage)))
    status_rows = [row for row in outbox if row.purpose.startswith("status:")]
    assert status_rows and all(row.status == "skipped" for row in status_rows)
    assert len(line_api.sent("push")) == 0
    kept = " ".join(str(row.messages) for row in outbox if row.to != OTHER_USER)
    assert "หลุม" not in kept and "สมศรี" not in kept
    assert _count(session, InboxEvent, InboxEvent.line_user_id == USER) == 0


def test_a_stale_or_cancelled_deletion_button_deletes_nothing(line, line_api, session):
    _fill(line, line_api)
    line.send(line_events.text("ลบข้อมูลของฉัน", USER))
    confirm = button(last(line_api), "ยืนยันลบข้อมูล")
    press(line, button(last(line_api), "ยกเลิก"))
    assert "ยกเลิกแล้ว" in last_text(line_api)
    press(line, confirm)
    assert "หมดอายุ" in last_text(line_api)
    assert resident(session) is not None

    line.send(line_events.text("ลบข้อมูลของฉัน", USER))
    confirm = button(last(line_api), "ยืนยันลบข้อมูล")
    stored = resident(session)
    state = dict(stored.state)
    state["delete"] = {**state["delete"], "until": "2000-01-01T00:00:00+00:00"}
    stored.state = state
    session.commit()
    press(line, confirm)
    assert "หมดอายุ" in last_text(line_api)
    assert resident(session) is not None


def test_another_resident_cannot_use_my_deletion_button(line, line_api, session):
    _fill(line, line_api)
    join(line, line_api, user=OTHER_USER)
    line.send(line_events.text("ลบข้อมูลของฉัน", USER))
    confirm = button(last(line_api), "ยืนยันลบข้อมูล")
    press(line, confirm, user=OTHER_USER)
    assert resident(session, USER) is not None and resident(session, OTHER_USER) is not None


def test_after_deletion_the_resident_starts_again_with_consent(line, line_api, session):
    _fill(line, line_api)
    line.send(line_events.text("ลบข้อมูลของฉัน", USER))
    press(line, button(last(line_api), "ยืนยันลบข้อมูล"))
    line.send(line_events.text("ท่อแตกหน้าบ้านค่ะ", USER))
    assert resident(session).consent == "pending"
    assert "ยินยอม" in [a["label"] for a in buttons(last(line_api))]
    assert _count(session, Submission, Submission.text == "ท่อแตกหน้าบ้านค่ะ") == 0


def test_declining_after_consent_offers_deletion(line, line_api, session):
    join(line, line_api)
    line.send(line_events.postback("a=consent&v=0", USER))
    assert "ใช่ไหม" in last_text(line_api)
    assert resident(session).consent == "given"


def test_names_and_texts_never_reach_the_logs(line, line_api, caplog):
    caplog.set_level("DEBUG")
    line_api.display_names[USER] = "สมศรี"
    _fill(line, line_api)
    line.send(line_events.text("ข้อมูลของฉัน", USER))
    line.send(line_events.text("ลบข้อมูลของฉัน", USER))
    press(line, button(last(line_api), "ยืนยันลบข้อมูล"))
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "สมศรี" not in logged and "หลุม" not in logged and "บ้านเลขที่" not in logged


def test_unprocessed_events_of_a_deleted_resident_are_dropped(session, app, classifier):
    from bot.line.events import IncomingEvent
    from bot.needs.erasure import erase_resident
    from bot.residents import handle_event
    from storage.residents import get_or_create_resident
    from tests.residents.support import context

    resident_row, _ = get_or_create_resident(session, USER)
    resident_row.consent = "given"
    waiting = InboxEvent(
        webhook_event_id="later-1",
        event_type="message",
        line_user_id=USER,
        payload={"text": "บ้านเลขที่ 5"},
        status="pending",
    )
    session.add(waiting)
    session.commit()
    erase_resident(session, resident_row, app.config["MEDIA_DIR"])
    session.commit()
    session.expire_all()
    row = session.get(InboxEvent, waiting.id)
    assert row.payload is None and row.status == "skipped" and row.line_user_id is None
    # A later event of that user simply starts over.
    event = IncomingEvent(
        event_id="e1",
        type="message",
        timestamp_ms=0,
        user_id=USER,
        message_type="text",
        text="สวัสดี",
    )
    assert handle_event(context(session, classifier), event)
    assert (
        session.scalar(select(Resident.consent).where(Resident.line_user_id == USER)) == "pending"
    )


def test_deletion_takes_the_resident_out_of_survey_multicasts(line, line_api, session):
    from datetime import timedelta

    from storage.base import utcnow
    from storage.mailbox import enqueue

    join(line, line_api)
    join(line, line_api, user=OTHER_USER)
    invite = [{"type": "text", "text": "แบบสำรวจ"}]
    sent = enqueue(session, [USER, OTHER_USER], invite, purpose="survey:1")
    sent.status = "sent"
    waiting = enqueue(session, [USER], invite, purpose="survey:2")
    waiting.next_attempt_at = utcnow() + timedelta(hours=1)  # still queued when deletion comes
    session.commit()
    line.send(line_events.text("ลบข้อมูลของฉัน", USER))
    press(line, button(last(line_api), "ยืนยันลบข้อมูล"))
    session.expire_all()
    assert session.get(OutboxMessage, sent.id).to == [OTHER_USER]
    assert session.get(OutboxMessage, waiting.id).status == "skipped"
    assert not any(
        USER in (row.to or [])
        for row in session.scalars(select(OutboxMessage))
        if row.kind == "multicast"
    )
    assert [body for body in line_api.sent("multicast") if USER in body["to"]] == []


def test_purge_erases_what_is_older_than_the_retention_period(line, line_api, session, app, runner):
    from datetime import timedelta

    from bot.cli import main
    from storage.base import utcnow

    _fill(line, line_api)
    media_dir = Path(app.config["MEDIA_DIR"])
    old, recent = session.scalars(select(Submission).order_by(Submission.id)).all()[:2]
    old.created_at = utcnow() - timedelta(days=366 * app.extensions["ruamkid"].retention_years)
    old_files = [media_dir / m.path for m in old.media]
    session.commit()
    assert old_files and all(f.exists() for f in old_files)

    result = runner.invoke(main, ["privacy", "purge"])
    assert result.exit_code == 0, result.output
    assert "1 เรื่อง" in result.output
    session.expire_all()
    old, recent = session.get(Submission, old.id), session.get(Submission, recent.id)
    assert old.text is None and old.latitude is None and old.redacted_at is not None
    assert old.media == [] and not any(f.exists() for f in old_files)
    assert old.strategy and old.tracking_no  # the anonymous count stays
    assert recent.text is not None and recent.redacted_at is None
