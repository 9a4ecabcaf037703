"""Residents behind a plan project hear on LINE when it reaches the budget ordinance, starts and
is done: one multicast per stage through the outbox, sent exactly once, ≤ 500 ids a call,
within the month's quota, and never to someone who turned the news off in chat."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from bot.line.worker import Worker
from bot.staff import project_news
from storage import plan as store
from storage.base import utcnow
from storage.models import OutboxMessage, Resident, Submission
from tests import line_events


def uid(n: int) -> str:
    return f"U{n:032x}"


@pytest.fixture
def staff_user(client, make_user, login):
    user = make_user("staff")
    login(client, user)
    return user


@pytest.fixture
def project(session):
    """A project with needs from residents: consenting, merged, opted out, unfollowed, erased."""

    def resident(n: int, **fields) -> Resident:
        values = {"line_user_id": uid(n), "consent": "given", "active": True} | fields
        row = Resident(**values)
        session.add(row)
        session.flush()
        return row

    def need(n: int, who: Resident, **fields) -> Submission:
        values = {"tracking_no": f"LPN-69-{n:06d}", "text": "ขอท่อระบายน้ำ", "kind": "need"}
        row = Submission(resident=who, **(values | fields))
        session.add(row)
        session.flush()
        return row

    first = need(1, resident(1))
    need(2, resident(2), merged_into_id=first.id, status="duplicate")
    second = need(3, resident(3, project_updates=False))
    third = need(4, resident(4, active=False))
    fourth = need(5, resident(5), redacted_at=utcnow(), text=None)
    item = store.create_project(
        session, strategy="LPN-S7", programme="อุตสาหกรรมและการโยธา", name="รางระบายน้ำซอย 3"
    )
    for linked in (first, second, third, fourth):
        session.add(store.ProjectNeed(project=item, submission_id=linked.id, linked_by="user:1"))
    session.commit()
    return item


def move(client, item, execution: str, **extra):
    response = client.post(
        f"/dashboard/plan/projects/{item.id}/progress",
        data={"execution": execution, "percent_done": "10", "spent": "", **extra},
    )
    assert response.status_code == 302, response.get_data(as_text=True)


def fresh_worker(app) -> Worker:
    """A worker whose jobs are all due now (as one that just started)."""
    return Worker(app, name="news-worker")


def test_each_stage_is_told_once_to_the_right_residents(
    app, client, session, line_api, staff_user, project
):
    move(client, project, "ordinance")
    fresh_worker(app).drain()
    move(client, project, "in_progress")
    worker = fresh_worker(app)
    worker.drain()
    # Moved back and forth, and the job run again: nothing is sent twice.
    move(client, project, "ordinance")
    move(client, project, "in_progress")
    worker.drain()
    fresh_worker(app).drain()

    bodies = line_api.sent("multicast")
    assert [sorted(b["to"]) for b in bodies] == [[uid(1), uid(2)], [uid(1), uid(2)]]
    texts = [b["messages"][0]["text"] for b in bodies]
    assert "ข้อบัญญัติงบประมาณ" in texts[0] and "รางระบายน้ำซอย 3" in texts[0]
    assert "เริ่มดำเนินการแล้ว" in texts[1]
    quick = bodies[0]["messages"][0]["quickReply"]["items"][0]["action"]
    assert quick == {"type": "message", "label": "ไม่รับข่าวโครงการ", "text": "ไม่รับข่าวโครงการ"}
    keys = [r.headers["X-Line-Retry-Key"] for r in line_api.requests("multicast")]
    assert keys == [
        project_news.retry_key(project.id, "ordinance", 0),
        project_news.retry_key(project.id, "in_progress", 0),
    ]
    purposes = session.scalars(select(OutboxMessage.purpose).order_by(OutboxMessage.id)).all()
    assert purposes == [f"project:{project.id}:ordinance", f"project:{project.id}:in_progress"]


def test_a_resident_turns_the_news_off_and_on_in_chat(
    app, client, line, session, line_api, staff_user, project
):
    line.send(line_events.text("ไม่รับข่าวโครงการค่ะ", uid(1)))
    session.expire_all()
    assert (
        session.scalar(select(Resident.project_updates).where(Resident.line_user_id == uid(1)))
        is False
    )
    assert "จะไม่ส่งข่าวความคืบหน้า" in line_api.texts_to(uid(1))[-1]
    move(client, project, "done")
    fresh_worker(app).drain()
    assert [b["to"] for b in line_api.sent("multicast")] == [[uid(2)]]
    assert "แล้วเสร็จ" in line_api.sent("multicast")[0]["messages"][0]["text"]
    line.send(line_events.text("รับข่าวโครงการ", uid(1)))
    session.expire_all()
    assert (
        session.scalar(select(Resident.project_updates).where(Resident.line_user_id == uid(1)))
        is True
    )


def test_stages_without_news_and_a_quota_too_small_send_nothing(
    app, client, session, line_api, staff_user, project
):
    move(client, project, "procurement")
    fresh_worker(app).drain()
    assert line_api.sent("multicast") == []
    line_api.server.clear_all_handlers()
    line_api.server.expect_request("/v2/bot/message/quota", method="GET").respond_with_json(
        {"type": "limited", "value": 100}
    )
    line_api.server.expect_request(
        "/v2/bot/message/quota/consumption", method="GET"
    ).respond_with_json({"totalUsage": 99})
    line_api.install_defaults()
    move(client, project, "in_progress")
    fresh_worker(app).drain()
    assert line_api.sent("multicast") == []
    assert session.scalar(select(OutboxMessage.id)) is None  # it waits for next month's quota


def test_more_than_500_residents_go_in_calls_of_500(app, session, line_api, project):
    first = session.scalar(select(Submission).where(Submission.tracking_no == "LPN-69-000001"))
    for n in range(100, 100 + 510):
        resident = Resident(line_user_id=uid(n), consent="given", active=True)
        session.add(resident)
        session.add(
            Submission(
                tracking_no=f"LPN-69-{n:06d}",
                resident=resident,
                kind="need",
                merged_into_id=first.id,
                status="duplicate",
            )
        )
    store.set_progress(project, execution="done")
    session.commit()
    fresh_worker(app).drain()
    sizes = [len(b["to"]) for b in line_api.sent("multicast")]
    assert sizes == [500, 12]
    keys = {r.headers["X-Line-Retry-Key"] for r in line_api.requests("multicast")}
    assert len(keys) == 2


def test_progress_form_checks_its_fields(client, session, staff_user, project):
    url = f"/dashboard/plan/projects/{project.id}/progress"
    assert client.get(url).status_code == 200
    refused = client.post(url, data={"execution": "halted", "percent_done": "120"})
    assert refused.status_code == 400
    body = refused.get_data(as_text=True)
    assert "กรุณาระบุเหตุผลที่ยกเลิกหรือชะลอโครงการ" in body
    assert "ความคืบหน้าต้องอยู่ระหว่าง 0-100" in body
    move(client, project, "halted", execution_reason="รองบประมาณปีถัดไป", spent="12,500.50")
    session.expire_all()
    item = store.get_project(session, project.id)
    assert (item.execution, item.execution_reason, str(item.spent)) == (
        "halted",
        "รองบประมาณปีถัดไป",
        "12500.50",
    )


def test_a_milestone_photo_is_reencoded_and_public(client, session, staff_user, project, app):
    import io

    from PIL import Image

    picture = io.BytesIO()
    image = Image.new("RGB", (40, 30), "red")
    exif = Image.Exif()
    exif[0x010E] = "บ้านนางสมหญิง"  # ImageDescription: metadata must not survive
    image.save(picture, "JPEG", exif=exif)
    response = client.post(
        f"/dashboard/plan/projects/{project.id}/milestones",
        data={
            "held_on": "2026-11-20",
            "title": "เทคอนกรีตแล้ว",
            "photo": (io.BytesIO(picture.getvalue()), "work.jpg"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    session.expire_all()
    milestone = store.get_project(session, project.id).milestones[0]
    assert (milestone.held_on, milestone.title) == (date(2026, 11, 20), "เทคอนกรีตแล้ว")
    photo = client.get(f"/public/projects/{project.id}/milestones/{milestone.id}/photo")
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    assert "บ้านนางสมหญิง".encode() not in photo.data
    assert not Image.open(io.BytesIO(photo.data)).getexif()
    photo.close()
    bad = client.post(
        f"/dashboard/plan/projects/{project.id}/milestones",
        data={"held_on": "2026-11-21", "title": "x", "photo": (io.BytesIO(b"not a jpeg"), "a.jpg")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 400
    assert "อ่านไฟล์รูปภาพไม่ได้" in bad.get_data(as_text=True)
