"""Closing the loop (issue 11 §5): staff mark a need done with an "after" photo; the resident
gets it with quick replies to rate 1–5 or say "ยังไม่เรียบร้อย", which reopens the need within
14 days and starts a linked new one later. Satisfaction and reopen rate reach the overview."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from storage.base import utcnow
from storage.models import Media, OutboxMessage, Submission, SubmissionEvent
from tests import line_events
from tests.residents.support import OTHER_USER, USER, button, check_limits, join, last, press

PUBLIC = "https://ruamkid.example"


@pytest.fixture
def app_config(app_config):
    return {**app_config, "PUBLIC_URL": PUBLIC}


def _png(width: int = 1200, height: int = 900) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (30, 120, 200)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def need(line, line_api, session) -> Submission:
    join(line, line_api)
    line.send(line_events.text("ไฟถนนหน้าบ้านดับมาสามวันแล้วค่ะ ช่วยมาซ่อมด้วย", USER))
    session.expire_all()
    return session.scalars(select(Submission).order_by(Submission.id.desc())).first()


@pytest.fixture
def staff(client, make_user, login):
    login(client, make_user("staff"))
    return client


def _mark_done(staff, need, photo: bytes | None = None, name: str = "after.png"):
    data = {"status": "done", "public_note": "เปลี่ยนหลอดไฟแล้วค่ะ"}
    if photo is not None:
        data["after_photo"] = (io.BytesIO(photo), name)
    return staff.post(
        f"/dashboard/submissions/{need.id}/status", data=data, content_type="multipart/form-data"
    )


def _done_push(line, line_api) -> list[dict]:
    line.worker.drain()
    pushes = [b for b in line_api.sent("push") if b["to"] == USER]
    assert len(pushes) == 1  # once, through the outbox
    messages = pushes[0]["messages"]
    check_limits(messages)
    return messages


def test_done_with_an_after_photo_reaches_the_resident_with_rating_buttons(
    app, staff, need, line, line_api, session
):
    response = _mark_done(staff, need, _png())
    assert response.status_code == 302
    session.expire_all()
    need = session.get(Submission, need.id)
    assert need.status == "done" and need.done_at is not None
    after = [m for m in need.media if m.role == "after"]
    assert len(after) == 1 and after[0].content_type == "image/jpeg"

    messages = _done_push(line, line_api)
    image, words = messages
    assert image["type"] == "image"
    assert image["originalContentUrl"].startswith(f"{PUBLIC}/photos/after/")
    assert image["previewImageUrl"] == image["originalContentUrl"] + "/preview"
    assert "เปลี่ยนหลอดไฟแล้วค่ะ" in words["text"] and "ให้คะแนน" in words["text"]
    labels = [item["action"]["label"] for item in words["quickReply"]["items"]]
    assert labels == ["5 พอใจมาก", "4 พอใจ", "3 พอใช้", "2 ไม่ค่อยพอใจ", "1 ไม่พอใจ", "ยังไม่เรียบร้อย"]

    # LINE fetches the photo by its signed address (no sign-in); a shrunk copy is the preview.
    path = image["originalContentUrl"].removeprefix(PUBLIC)
    fetcher = app.test_client()
    with fetcher.get(path) as full:
        assert full.status_code == 200 and full.mimetype == "image/jpeg"
        assert Image.open(io.BytesIO(full.data)).size == (1200, 900)
    with fetcher.get(f"{path}/preview") as preview:
        assert max(Image.open(io.BytesIO(preview.data)).size) <= 240
    # Nothing else is reachable that way: a changed token, or a resident's photo by its id.
    assert fetcher.get(path[:-2] + "xx").status_code == 404
    assert fetcher.get(f"/photos/after/{after[0].id}").status_code == 404
    # The staff page shows it apart from the resident's photos.
    page = staff.get(f"/dashboard/submissions/{need.id}").get_data(as_text=True)
    assert 'data-testid="after-photos"' in page


@pytest.mark.parametrize(
    ("content", "name", "reason"),
    [
        (b"%PDF-1.4 not a photo", "after.jpg", "ไม่ใช่รูปภาพ"),
        (b"GIF89a" + b"\0" * 64, "after.gif", "ไม่ใช่รูปภาพ"),
    ],
)
def test_a_wrong_after_photo_is_refused_and_nothing_changes(
    staff, need, session, content, name, reason
):
    response = _mark_done(staff, need, content, name)
    page = staff.get(response.headers["Location"]).get_data(as_text=True)
    assert reason in page
    session.expire_all()
    assert session.get(Submission, need.id).status == "new"
    assert (
        session.scalars(select(OutboxMessage).where(OutboxMessage.purpose.like("status:%"))).all()
        == []
    )


def test_a_photo_over_10_mb_is_refused_before_it_is_decoded(tmp_path):
    from werkzeug.datastructures import FileStorage

    from bot.staff.uploads import MAX_UPLOAD_BYTES, store_photo

    big = FileStorage(io.BytesIO(b"\xff\xd8" + b"x" * MAX_UPLOAD_BYTES), "big.jpg")
    with pytest.raises(ValueError, match="ใหญ่เกิน 10 MB"):
        store_photo(big, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_done_without_a_photo_still_asks_for_a_rating(staff, need, line, line_api):
    _mark_done(staff, need)
    (words,) = _done_push(line, line_api)
    assert [i["action"]["label"] for i in words["quickReply"]["items"]][-1] == "ยังไม่เรียบร้อย"


def test_rating_then_not_fixed_within_14_days_reopens(staff, need, line, line_api, session):
    _mark_done(staff, need, _png())
    messages = _done_push(line, line_api)
    press(line, button(messages, "4 พอใจ"))
    assert "ขอบคุณสำหรับคะแนน 4 จาก 5" in last(line_api)[0]["text"]
    session.expire_all()
    assert session.get(Submission, need.id).rating == 4

    # Someone else pressing the same buttons (forged data) changes nothing.
    join(line, line_api, user=OTHER_USER)
    press(line, button(messages, "1 ไม่พอใจ"), OTHER_USER)
    press(line, button(messages, "ยังไม่เรียบร้อย"), OTHER_USER)
    assert "ปุ่มนี้ใช้ไม่ได้แล้ว" in last(line_api)[0]["text"]
    session.expire_all()
    assert session.get(Submission, need.id).rating == 4
    assert session.get(Submission, need.id).status == "done"

    press(line, button(messages, "ยังไม่เรียบร้อย"))
    assert "เปิดเรื่องเลขที่" in last(line_api)[0]["text"]
    session.expire_all()
    reopened = session.get(Submission, need.id)
    assert (reopened.status, reopened.reopen_count) == ("reviewing", 1)
    actions = [e.action for e in reopened.history]
    assert actions[-1] == "reopened"
    # Pressed again, the old button no longer reopens or rates anything.
    press(line, button(messages, "ยังไม่เรียบร้อย"))
    press(line, button(messages, "5 พอใจมาก"))
    session.expire_all()
    assert session.get(Submission, need.id).reopen_count == 1
    assert session.get(Submission, need.id).rating == 4

    page = staff.get(f"/dashboard/submissions/{need.id}").get_data(as_text=True)
    assert 'data-testid="reopen-count">1 ครั้ง' in page
    assert "ผู้แจ้งให้คะแนนความพึงพอใจ" in page and "เปิดเรื่องอีกครั้ง" in page

    # The overview: one done need of its strategy, rated 4, reopened once.
    overview = staff.get("/dashboard/overview/").get_data(as_text=True)
    assert f'<tr data-strategy="{reopened.strategy or ""}">' in overview
    assert 'data-testid="closing-average">4.0<' in overview
    assert 'data-testid="closing-reopen">100% (1)<' in overview


def test_not_fixed_after_14_days_starts_a_linked_need(staff, need, line, line_api, session):
    _mark_done(staff, need)
    messages = _done_push(line, line_api)
    session.get(Submission, need.id).done_at = utcnow() - timedelta(days=15)
    session.commit()
    press(line, button(messages, "ยังไม่เรียบร้อย"))
    reply = last(line_api)[0]["text"]
    session.expire_all()
    old = session.get(Submission, need.id)
    new = session.scalar(select(Submission).where(Submission.reopened_from_id == old.id))
    assert new is not None and new.tracking_no in reply and "เกิน 14 วัน" in reply
    assert (old.status, old.reopen_count) == ("done", 0)
    assert (new.status, new.resident_id, new.community_id) == (
        "new",
        old.resident_id,
        old.community_id,
    )
    assert (new.strategy, new.subarea) == (old.strategy, old.subarea)
    assert old.history[-1].action == "followed_up"
    page = staff.get(f"/dashboard/submissions/{new.id}").get_data(as_text=True)
    assert f">{old.tracking_no}</a>" in page  # "ต่อจากเรื่อง" links back


def test_the_after_photo_goes_with_the_residents_erasure(app, staff, need, line, line_api, session):
    _mark_done(staff, need, _png())
    messages = _done_push(line, line_api)
    path = messages[0]["originalContentUrl"].removeprefix(PUBLIC)
    session.expire_all()
    stored = session.scalars(select(Media).where(Media.role == "after")).one()
    file = Path(app.config["MEDIA_DIR"]) / stored.path
    assert file.is_file()
    line.send(line_events.text("ลบข้อมูลของฉัน", USER))
    press(line, button(last(line_api), "ยืนยันลบข้อมูล"))
    assert not file.exists()
    assert session.scalars(select(Media)).all() == []
    assert app.test_client().get(path).status_code == 404
    assert (
        session.scalars(select(SubmissionEvent).where(SubmissionEvent.action == "rated")).all()
        == []
    )
