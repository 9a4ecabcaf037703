"""The rules of anonymity (storage.public) with personal data planted in every place it could
leak from: names, LINE ids, photos, exact places, unpublished words, staff notes."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from storage.db import make_engine, make_session_factory
from storage.models import Community, Media, Resident, Submission, SubmissionEvent
from storage.public import (
    PHONE_MASK,
    PublicNeed,
    public_counts,
    public_need,
    public_needs,
    public_timeline,
    snap,
)

NAME = "สมหญิง ใจดีมาก"
LINE_ID = "U0123456789abcdef0123456789abcdef"
SECRET = "บ้านเลขที่ 99/9 ของนางสมหญิง"
LAT, LON = 18.578391, 99.008123
T0 = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)


@pytest.fixture
def session(database_url):
    engine = make_engine(database_url)
    with make_session_factory(engine)() as session:
        yield session
    engine.dispose()


@pytest.fixture
def world(session):
    """Communities (one with a centre), a resident with a name and LINE id, and needs of every
    kind the rules treat differently."""
    centre = Community(name="ชุมชนจามเทวี", position=1, latitude=18.5801, longitude=99.0012)
    bare = Community(name="ชุมชนมหาวัน", position=2)
    resident = Resident(line_user_id=LINE_ID, display_name=NAME, consent="given")
    session.add_all([centre, bare, resident])
    session.flush()

    def need(n: int, **fields) -> Submission:
        values = {
            "tracking_no": f"LPN-69-{n:06d}",
            "resident": resident,
            "community_id": centre.id,
            "text": f"{SECRET} โทร 081-234-5678",
            "strategy": "LPN-S7",
            "subarea": "LPN-S7.3",
            "kind": "complaint",
            "status": "new",
            "latitude": LAT,
            "longitude": LON,
            "address": "99/9 ถนนจามเทวี",
            "created_at": T0 + timedelta(days=n),
        } | fields
        submission = Submission(**values)
        session.add(submission)
        session.flush()
        return submission

    needs = {
        "placed": need(1),
        "published": need(2, publishable=True, strategy="LPN-S1", subarea=None),
        "unplaced": need(3, latitude=None, longitude=None),
        "nowhere": need(4, latitude=None, longitude=None, community_id=bare.id),
        "erased": need(5, text=None, redacted_at=T0, latitude=None, longitude=None),
        "small_talk": need(6, kind="other", strategy=None, subarea=None),
    }
    needs["merged"] = need(7, merged_into_id=needs["placed"].id, status="duplicate")
    needs["placed"].media.append(Media(line_message_id="m1", status="stored", path="a/b.jpg"))
    session.add(
        SubmissionEvent(
            submission=needs["placed"],
            actor="user:1",
            action="status",
            at=T0 + timedelta(days=10),
            detail={"from": "new", "to": "reviewing", "detail": SECRET},
            public_note=f"เรียนคุณ{NAME}",
            internal_note=SECRET,
        )
    )
    session.commit()
    return {"centre": centre, "bare": bare, **needs}


def _all_values(need: PublicNeed) -> str:
    return " ".join(str(v) for v in dataclasses.asdict(need).values())


def test_only_real_live_requests_are_listed_newest_first(session, world):
    listed = [n.tracking for n in public_needs(session)]
    assert listed == ["LPN-69-000004", "LPN-69-000003", "LPN-69-000002", "LPN-69-000001"]
    for hidden in ("erased", "small_talk", "merged"):
        assert public_need(session, world[hidden].tracking_no) is None
        assert public_timeline(session, world[hidden].tracking_no) == []


def test_nothing_personal_leaks_and_words_only_when_published(session, world):
    planted = (NAME, LINE_ID, "ถนนจามเทวี", "a/b.jpg", "081-234-5678", str(LAT), str(LON))
    for need in public_needs(session):
        values = _all_values(need)
        assert not [p for p in planted if p in values]
        if need.tracking != "LPN-69-000002":
            assert SECRET not in values
    assert public_need(session, "LPN-69-000001").text is None
    published = public_need(session, "lpn-69-000002")
    assert published.text == f"{SECRET} โทร {PHONE_MASK}"
    assert {f.name for f in dataclasses.fields(PublicNeed)} == {
        "tracking",
        "strategy",
        "subarea",
        "kind",
        "status",
        "community",
        "created_at",
        "updated_at",
        "latitude",
        "longitude",
        "text",
    }


def test_places_snap_to_a_fixed_grid_or_the_community_centre(session, world):
    placed = public_need(session, "LPN-69-000001")
    assert (placed.latitude, placed.longitude) == (18.5785, 99.0085)
    assert abs(placed.latitude - LAT) < 0.001 and abs(placed.longitude - LON) < 0.001
    # Two places in the same cell are indistinguishable: the grid, not the point, decides.
    assert snap(18.57801) == snap(18.57899) == 18.5785
    assert snap(18.57901) != snap(18.57899)
    unplaced = public_need(session, "LPN-69-000003")
    assert (unplaced.latitude, unplaced.longitude) == (18.5801, 99.0012)
    assert unplaced.community == "ชุมชนจามเทวี"
    nowhere = public_need(session, "LPN-69-000004")
    assert (nowhere.latitude, nowhere.longitude) == (None, None)


def test_the_timeline_shows_statuses_and_dates_only(session, world):
    steps = public_timeline(session, "LPN-69-000001")
    assert [(s.status, s.at) for s in steps] == [
        ("new", T0 + timedelta(days=1)),
        ("reviewing", T0 + timedelta(days=10)),
    ]
    assert SECRET not in repr(steps) and NAME not in repr(steps)


def test_filters_and_counts_agree(session, world):
    counts = public_counts(session)
    assert counts.total == 4
    assert counts.by_strategy == {"LPN-S7": 3, "LPN-S1": 1}
    assert counts.by_status == {"new": 4}
    assert counts.by_community == {"ชุมชนจามเทวี": 3, "ชุมชนมหาวัน": 1}
    assert [n.tracking for n in public_needs(session, strategy="LPN-S1")] == ["LPN-69-000002"]
    assert [n.tracking for n in public_needs(session, community=world["bare"].id)] == [
        "LPN-69-000004"
    ]
    window = {"since": T0 + timedelta(days=2), "until": T0 + timedelta(days=4)}
    assert [n.tracking for n in public_needs(session, **window)] == [
        "LPN-69-000003",
        "LPN-69-000002",
    ]
    assert public_counts(session, **window).total == 2
    assert public_counts(session, subarea="LPN-S7.3", community=world["centre"].id).total == 2
    assert [n.tracking for n in public_needs(session, limit=2, offset=1)] == [
        "LPN-69-000003",
        "LPN-69-000002",
    ]
