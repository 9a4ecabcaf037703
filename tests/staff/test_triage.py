"""Triage: labels for the classifier, status changes pushed to residents, merging, bulk actions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from storage.models import OutboxMessage, Submission, SubmissionEvent, TrainingLabel
from storage.staff import AuditLog
from tests.staff.conftest import community_id


@pytest.fixture
def staff_user(client, make_user, login):
    user = make_user("staff")
    login(client, user)
    return user


def fresh(session, submission):
    session.expire_all()
    return session.get(Submission, submission.id)


def test_confirming_stores_a_training_label(client, session, staff_user, make_submission):
    sub = make_submission(
        session,
        text="ขอไฟส่องสว่างในซอย",
        strategy="LPN-S7",
        subarea="LPN-S7.3",
        kind="need",
        unsure=True,
    )
    response = client.post(
        f"/dashboard/submissions/{sub.id}/classify",
        data={"strategy": "LPN-S7", "subarea": "LPN-S7.3", "kind": "need"},
    )
    assert response.status_code == 302
    sub = fresh(session, sub)
    assert sub.label_confirmed is True
    label = session.scalars(select(TrainingLabel)).one()
    assert (label.submission_id, label.text, label.strategy, label.subarea, label.kind) == (
        sub.id,
        "ขอไฟส่องสว่างในซอย",
        "LPN-S7",
        "LPN-S7.3",
        "need",
    )
    assert label.created_by == f"user:{staff_user.id}"
    event = session.scalars(select(SubmissionEvent)).one()
    assert event.action == "confirm" and event.actor == f"user:{staff_user.id}"
    assert session.scalars(select(AuditLog.action)).all()[-1] == "submission.confirm"
    # Confirmed: no longer waiting in the "unsure" filter.
    body = client.get("/dashboard/submissions", query_string={"unsure": "1"}).get_data(as_text=True)
    assert f'data-id="{sub.id}"' not in body


def test_correcting_changes_the_category_and_is_shown_in_history(
    client, session, staff_user, make_submission
):
    sub = make_submission(session, strategy="LPN-S7", subarea="LPN-S7.3", kind="complaint")
    client.post(
        f"/dashboard/submissions/{sub.id}/classify",
        data={"strategy": "LPN-S1", "subarea": "LPN-S1.1", "kind": "need"},
    )
    sub = fresh(session, sub)
    assert (sub.strategy, sub.subarea, sub.kind, sub.label_confirmed) == (
        "LPN-S1",
        "LPN-S1.1",
        "need",
        True,
    )
    label = session.scalars(select(TrainingLabel)).one()
    assert (label.strategy, label.subarea, label.kind) == ("LPN-S1", "LPN-S1.1", "need")
    event = session.scalars(
        select(SubmissionEvent).where(SubmissionEvent.action == "reclassify")
    ).one()
    assert event.detail["from"]["strategy"] == "LPN-S7"
    body = client.get(f"/dashboard/submissions/{sub.id}").get_data(as_text=True)
    assert "แก้ไขหมวดหมู่" in body
    # The history names the categories (strategy · sub-area · kind), never bare codes.
    assert "ด้านการสร้างและส่งเสริมหลักประกันสุขภาพ · " in body
    assert "LPN-S1/LPN-S1.1" not in body
    # The queue no longer shows the model's old confidence for a need staff corrected.
    queue = client.get("/dashboard/submissions").get_data(as_text=True)
    assert 'data-testid="row-confirmed"' in queue
    assert 'data-testid="row-confidence"' not in queue


@pytest.mark.parametrize(
    "data",
    [
        {"strategy": "LPN-S1", "subarea": "LPN-S7.3", "kind": "need"},  # sub-area of another
        {"strategy": "NOPE", "subarea": "", "kind": "need"},
        {"strategy": "LPN-S1", "subarea": "", "kind": "bogus"},
        {"strategy": "", "subarea": "", "kind": "need"},  # a request needs a strategy
    ],
)
def test_invalid_categories_are_refused(client, session, staff_user, make_submission, data):
    sub = make_submission(session)
    response = client.post(f"/dashboard/submissions/{sub.id}/classify", data=data)
    assert response.status_code == 302
    assert fresh(session, sub).label_confirmed is False
    assert session.query(TrainingLabel).count() == 0


def test_other_kind_may_have_no_strategy(client, session, staff_user, make_submission):
    sub = make_submission(session)
    client.post(
        f"/dashboard/submissions/{sub.id}/classify",
        data={"strategy": "", "subarea": "", "kind": "other"},
    )
    sub = fresh(session, sub)
    assert (sub.strategy, sub.kind, sub.label_confirmed) == (None, "other", True)


def test_status_change_is_pushed_to_the_resident(
    client, session, staff_user, make_submission, worker, line_api
):
    sub = make_submission(session, resident=True)
    user_id = sub.resident.line_user_id
    response = client.post(
        f"/dashboard/submissions/{sub.id}/status",
        data={
            "status": "planned",
            "public_note": "จะบรรจุในแผนปี 2570 ค่ะ",
            "internal_note": "งบยังไม่พอ อย่าบอกผู้แจ้ง",
        },
    )
    assert response.status_code == 302
    outbox = session.scalars(select(OutboxMessage)).one()
    assert outbox.to == user_id and outbox.purpose == f"status:{sub.id}"
    worker.drain()
    pushes = line_api.sent("push")
    assert len(pushes) == 1 and pushes[0]["to"] == user_id
    text = pushes[0]["messages"][0]["text"]
    assert "บรรจุในแผน" in text and sub.tracking_no in text
    assert "จะบรรจุในแผนปี 2570 ค่ะ" in text
    assert "งบยังไม่พอ" not in text
    sub = fresh(session, sub)
    assert sub.status == "planned" and sub.first_response_at is not None
    body = client.get(f"/dashboard/submissions/{sub.id}").get_data(as_text=True)
    assert 'data-testid="public-note"' in body and 'data-testid="internal-note"' in body
    assert "บันทึกภายใน (ผู้แจ้งไม่เห็น)" in body
    audit = session.scalars(select(AuditLog).where(AuditLog.action == "submission.status")).one()
    assert audit.details["after"] == "planned" and audit.user_id == staff_user.id
    assert "งบ" not in str(audit.details)


@pytest.mark.parametrize(
    "status, detail, expected",
    [
        ("out_of_scope", "การไฟฟ้าส่วนภูมิภาค", "การไฟฟ้าส่วนภูมิภาค"),
        ("rejected", "ข้อมูลไม่เพียงพอ", "เหตุผล: ข้อมูลไม่เพียงพอ"),
    ],
)
def test_closing_statuses_need_their_detail(
    client, session, staff_user, make_submission, worker, line_api, status, detail, expected
):
    sub = make_submission(session, resident=True)
    client.post(f"/dashboard/submissions/{sub.id}/status", data={"status": status})
    assert fresh(session, sub).status == "new"
    assert session.query(OutboxMessage).count() == 0
    client.post(
        f"/dashboard/submissions/{sub.id}/status", data={"status": status, "detail": detail}
    )
    assert fresh(session, sub).status == status
    worker.drain()
    assert expected in line_api.sent("push")[0]["messages"][0]["text"]


def test_duplicate_status_links_by_tracking_number(
    client, session, staff_user, make_submission, worker, line_api
):
    primary = make_submission(session, resident=True)
    dup = make_submission(session, resident=True)
    client.post(f"/dashboard/submissions/{dup.id}/status", data={"status": "duplicate"})
    assert fresh(session, dup).status == "new"
    client.post(
        f"/dashboard/submissions/{dup.id}/status",
        data={"status": "duplicate", "merged_into": primary.tracking_no},
    )
    dup = fresh(session, dup)
    assert dup.status == "duplicate" and dup.merged_into_id == primary.id
    worker.drain()
    (push,) = line_api.sent("push")
    assert primary.tracking_no in push["messages"][0]["text"]


def test_unchanged_status_sends_nothing(client, session, staff_user, make_submission):
    sub = make_submission(session, resident=True)
    client.post(f"/dashboard/submissions/{sub.id}/status", data={"status": "new"})
    assert session.query(OutboxMessage).count() == 0
    assert session.query(SubmissionEvent).count() == 0


def test_duplicates_are_suggested_with_reasons(app, client, session, staff_user, make_submission):
    base = dict(strategy="LPN-S7", latitude=18.5740, longitude=99.0080)
    sub = make_submission(session, text="ไฟถนนดับหน้าวัดพระธาตุหริภุญชัย", **base)
    near = make_submission(
        session,
        text="ไฟถนนดับหน้าวัดพระธาตุหริภุญชัยหลายวันแล้ว",
        strategy="LPN-S7",
        latitude=18.5745,
        longitude=99.0085,
    )
    far_text = make_submission(session, text="ขอให้ตัดกิ่งไม้ริมคูเมือง", **base)
    other_strategy = make_submission(session, text="ไฟถนนดับหน้าวัดพระธาตุหริภุญชัย", strategy="LPN-S1")
    too_old = make_submission(
        session,
        text="ไฟถนนดับหน้าวัดพระธาตุหริภุญชัย",
        strategy="LPN-S7",
        created_at=datetime.now(UTC) - timedelta(days=400),
    )
    body = client.get(f"/dashboard/submissions/{sub.id}").get_data(as_text=True)
    assert f'data-testid="duplicate-row" data-id="{near.id}"' in body
    for absent in (far_text, other_strategy, too_old):
        assert f'data-testid="duplicate-row" data-id="{absent.id}"' not in body
    assert "ข้อความคล้ายกัน" in body and "ห่าง" in body and " ม." in body


def test_an_old_needs_duplicate_is_found_behind_many_newer_needs(
    app, client, session, staff_user, make_submission
):
    """Candidates are the ones nearest in arrival order, not the newest: an old need's twin
    sent an hour later is suggested though 1,600 newer needs fill its 180-day window."""
    start = datetime.now(UTC) - timedelta(days=100)
    old = make_submission(session, text="ท่อระบายน้ำตันหน้าตลาดสดเทศบาล", created_at=start)
    twin = make_submission(
        session, text="ท่อระบายน้ำตันหน้าตลาดสดเทศบาลน้ำท่วมขัง", created_at=start + timedelta(hours=1)
    )
    session.execute(
        insert(Submission),
        [
            {
                "tracking_no": f"LPN-69-9{n:05d}",
                "source": "line",
                "text": f"ขอให้ตัดหญ้าริมถนนสายที่ {n}",
                "strategy": "LPN-S7",
                "kind": "need",
                "top3": [],
                "status": "new",
                "community_id": old.community_id,
                "created_at": start + timedelta(hours=2, minutes=n),
            }
            for n in range(1600)
        ],
    )
    session.commit()
    body = client.get(f"/dashboard/submissions/{old.id}").get_data(as_text=True)
    assert f'data-testid="duplicate-row" data-id="{twin.id}"' in body


def test_merge_counts_distinct_residents_and_communities(
    app, client, session, staff_user, make_submission, worker, line_api
):
    c0, c1 = community_id(app, 0), community_id(app, 1)
    primary = make_submission(session, resident=True, community_id=c0)
    same_person = primary.resident
    d1 = make_submission(session, resident=True, community_id=c1)
    d2 = make_submission(session, resident=same_person, community_id=c0)
    d3 = make_submission(session, resident=True, community_id=c1)
    # d3 already holds a merged one: merging d3 moves it to the primary too.
    d4 = make_submission(
        session, resident=True, community_id=c1, status="duplicate", merged_into_id=d3.id
    )
    response = client.post(
        f"/dashboard/submissions/{primary.id}/merge",
        data={"duplicate_ids": [d1.id, d2.id, d3.id], "public_note": "รวมเรื่องแล้วค่ะ"},
    )
    assert response.status_code == 302
    for dup in (d1, d2, d3, d4):
        row = fresh(session, dup)
        assert row.merged_into_id == primary.id and row.status == "duplicate"
    worker.drain()
    assert len(line_api.sent("push")) == 3  # d1, d2, d3 are told; d4 was told before
    body = client.get(f"/dashboard/submissions/{primary.id}").get_data(as_text=True)
    # Residents: primary's (also d2's), d1's, d3's, d4's = 4 people from 5 submissions.
    assert 'data-testid="reporters" data-count="4"' in body
    assert "(รวม 5 เรื่องที่ซ้ำกัน)" in body
    assert "ชุมชนบ้านท่า-ท่านาง" in body and "ชุมชนพระคงฤาษี" in body
    queue = client.get("/dashboard/submissions").get_data(as_text=True)
    assert "ผู้แจ้ง 4 คน" in queue
    assert session.scalars(select(AuditLog.action)).all()[-1] == "submission.merge"


def test_merge_refuses_a_primary_that_is_itself_merged(
    client, session, staff_user, make_submission
):
    root = make_submission(session)
    merged = make_submission(session, status="duplicate", merged_into_id=root.id)
    other = make_submission(session)
    client.post(f"/dashboard/submissions/{merged.id}/merge", data={"duplicate_ids": other.id})
    assert fresh(session, other).merged_into_id is None


def test_bulk_status_on_ticked_rows(client, session, staff_user, make_submission, worker, line_api):
    rows = [make_submission(session, resident=True) for _ in range(3)]
    response = client.post(
        "/dashboard/submissions/bulk",
        data={"action": "status", "status": "reviewing", "ids": [rows[0].id, rows[1].id]},
    )
    assert response.status_code == 302
    assert [fresh(session, r).status for r in rows] == ["reviewing", "reviewing", "new"]
    worker.drain()
    assert len(line_api.sent("push")) == 2


def test_bulk_status_on_everything_matching_the_filter(
    app, client, session, staff_user, make_submission
):
    c0, c1 = community_id(app, 0), community_id(app, 1)
    a = [make_submission(session, community_id=c0) for _ in range(3)]
    b = make_submission(session, community_id=c1)
    response = client.post(
        f"/dashboard/submissions/bulk?community={c0}",
        data={
            "action": "status",
            "status": "rejected",
            "detail": "ซ้ำซ้อนกับโครงการเดิม",
            "all_matching": "1",
        },
    )
    assert response.headers["Location"].endswith(f"community={c0}")
    assert {fresh(session, r).status for r in a} == {"rejected"}
    assert fresh(session, b).status == "new"


def test_bulk_rejected_without_a_reason_changes_nothing(
    client, session, staff_user, make_submission
):
    sub = make_submission(session)
    client.post(
        "/dashboard/submissions/bulk",
        data={"action": "status", "status": "rejected", "ids": sub.id},
    )
    assert fresh(session, sub).status == "new"


def test_photo_is_served_with_its_type(app, client, session, staff_user, make_submission, tmp_path):
    from storage.models import Media

    sub = make_submission(session)
    (tmp_path / "media").mkdir(exist_ok=True)
    (tmp_path / "media" / "p.jpg").write_bytes(b"\xff\xd8\xff\xe0jpegdata")
    (tmp_path / "secret.txt").write_text("outside media")
    good = Media(submission_id=sub.id, status="stored", content_type="image/jpeg", path="p.jpg")
    evil = Media(
        submission_id=sub.id, status="stored", content_type="text/html", path="../secret.txt"
    )
    pending = Media(submission_id=sub.id, status="pending")
    session.add_all([good, evil, pending])
    session.commit()
    with client.get(f"/dashboard/media/{good.id}") as response:
        assert response.status_code == 200
        assert response.mimetype == "image/jpeg"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "no-store" in response.headers["Cache-Control"]
        assert response.get_data() == b"\xff\xd8\xff\xe0jpegdata"
    with client.get(f"/dashboard/media/{evil.id}") as response:
        assert response.status_code == 404
    with client.get(f"/dashboard/media/{pending.id}") as response:
        assert response.status_code == 404
    body = client.get(f"/dashboard/submissions/{sub.id}").get_data(as_text=True)
    assert f'src="/dashboard/media/{good.id}"' in body


def test_location_shows_a_map_without_external_tiles(client, session, staff_user, make_submission):
    sub = make_submission(session, latitude=18.5741234, longitude=99.0081234)
    body = client.get(f"/dashboard/submissions/{sub.id}").get_data(as_text=True)
    assert 'data-testid="map"' in body and 'data-tiles=""' in body
    assert "/static/vendor/leaflet/leaflet.js" in body
    assert "18.574123, 99.008123" in body
    with client.get("/static/vendor/leaflet/leaflet.js") as response:
        assert response.status_code == 200


def test_residents_own_history_entries_read_in_thai(client, session, staff_user, make_submission):
    from bot.needs.actions import recategorise

    sub = make_submission(session, strategy="LPN-S7", subarea="LPN-S7.3", kind="complaint")
    session.add(SubmissionEvent(submission=sub, actor="resident", action="created"))
    recategorise(session, sub, "LPN-S4", "LPN-S4.3")
    session.commit()
    body = client.get(f"/dashboard/submissions/{sub.id}").get_data(as_text=True)
    assert "ส่งเรื่องเข้ามา" in body
    assert "ผู้แจ้งเลือกหมวดหมู่เอง" in body
    # Names, as people read them, not codes.
    assert "ด้านการเสริมสร้างความเข้มแข็งและหลักประกันความปลอดภัยของชุมชน · " in body
    assert "LPN-S4/LPN-S4.3" not in body
    assert ">\n            created\n" not in body
