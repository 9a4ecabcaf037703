"""The queue: filters, Thai search, counts, keyset pagination, merged rows, escaping."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from storage.models import Media, Submission
from tests.staff.conftest import community_id

ROW_RE = re.compile(r'data-testid="queue-row" data-id="(\d+)"')
NEXT_RE = re.compile(r'href="([^"]+)" rel="next"')


def ids_on(body: str) -> list[int]:
    return [int(i) for i in ROW_RE.findall(body)]


def walk(client, **query) -> list[int]:
    """Follow the "next" links from the first page; return every id in order."""
    seen: list[int] = []
    url = "/dashboard/submissions"
    response = client.get(url, query_string=query)
    for _ in range(100):
        body = response.get_data(as_text=True)
        seen.extend(ids_on(body))
        match = NEXT_RE.search(body)
        if not match:
            return seen
        response = client.get(match.group(1).replace("&amp;", "&"))
    raise AssertionError("pagination did not end")


@pytest.fixture
def staff_client(client, make_user, login):
    login(client, make_user("staff"))
    return client


@pytest.mark.parametrize("sort", ["new", "old", "confidence"])
def test_keyset_pages_return_every_row_exactly_once(
    app, session, staff_client, make_submission, sort
):
    app.config["DASHBOARD_PAGE_SIZE"] = 4
    confidences = [0.5, None, 0.5, 0.2, 0.9, None, 0.5, 0.7, 0.2, 0.33, 0.5]
    made = [make_submission(session, confidence=c).id for c in confidences]
    seen = walk(staff_client, sort=sort)
    assert sorted(seen) == sorted(made)
    assert len(seen) == len(set(seen))
    if sort == "new":
        assert seen == sorted(made, reverse=True)
    elif sort == "old":
        assert seen == sorted(made)
    else:
        by_id = dict(zip(made, confidences, strict=True))
        keys = [(by_id[i] is None, by_id[i] or 0, i) for i in seen]
        assert keys == sorted(keys)


def test_pagination_with_a_filter(app, session, staff_client, make_submission):
    app.config["DASHBOARD_PAGE_SIZE"] = 2
    wanted = [make_submission(session, status="reviewing").id for _ in range(5)]
    for _ in range(3):
        make_submission(session, status="done")
    assert walk(staff_client, status="reviewing") == sorted(wanted, reverse=True)


def test_filters(app, session, staff_client, make_submission):
    c0, c1 = community_id(app, 0), community_id(app, 1)
    old = datetime(2026, 1, 10, 5, 0, tzinfo=UTC)
    a = make_submission(
        session,
        strategy="LPN-S1",
        subarea="LPN-S1.1",
        kind="need",
        community_id=c0,
        unsure=True,
        created_at=old,
    )
    b = make_submission(
        session,
        strategy="LPN-S7",
        subarea="LPN-S7.2",
        kind="complaint",
        community_id=c1,
        latitude=18.57,
        longitude=99.0,
        source="survey",
    )
    c = make_submission(
        session,
        strategy="LPN-S7",
        subarea="LPN-S7.3",
        kind="complaint",
        community_id=c1,
        status="done",
        label_confirmed=True,
    )
    session.add(Media(submission_id=c.id, status="stored", content_type="image/jpeg", path="x"))
    session.commit()

    def shown(**query):
        return set(
            ids_on(
                staff_client.get("/dashboard/submissions", query_string=query).get_data(
                    as_text=True
                )
            )
        )

    assert shown() == {a.id, b.id, c.id}
    assert shown(strategy="LPN-S7") == {b.id, c.id}
    assert shown(subarea="LPN-S7.2") == {b.id}
    assert shown(kind="need") == {a.id}
    assert shown(status="done") == {c.id}
    assert shown(community=c1) == {b.id, c.id}
    assert shown(unsure="1") == {a.id}
    assert shown(unconfirmed="1") == {a.id, b.id}
    assert shown(photo="1") == {c.id}
    assert shown(location="1") == {b.id}
    assert shown(source="survey") == {b.id}
    # Dates are typed in the Buddhist era; the day is a Bangkok day.
    assert shown(date_from="1/1/2569", date_to="31/1/2569") == {a.id}
    assert shown(date_to="9/1/2569") == set()
    assert shown(date_from="2026-01-11") == {b.id, c.id}
    assert shown(strategy="LPN-S7", status="done", community=c1) == {c.id}


def test_bad_filter_values_do_not_crash(staff_client, session, make_submission):
    make_submission(session)
    for query in (
        {"date_from": "32/13/2569"},
        {"status": "nope"},
        {"community": "abc"},
        {"sort": "drop table"},
        {"after": "!!!not-a-cursor"},
        {"q": "%_\\"},
        {"q": "x" * 5000},
        {"date_to": "2569"},
    ):
        response = staff_client.get("/dashboard/submissions", query_string=query)
        assert response.status_code == 200, query
    body = staff_client.get(
        "/dashboard/submissions", query_string={"date_from": "32/13/2569"}
    ).get_data(as_text=True)
    assert "อ่านตั้งแต่วันที่ไม่ได้" in body


@pytest.mark.parametrize(
    "query, expected",
    [
        ("ไฟดับ", {"light"}),
        ("ถนน", {"road", "road2"}),
        ("หลุม", {"road"}),
        ("ขยะ", set()),
        ("100%", {"percent"}),
    ],
)
def test_thai_search(session, staff_client, make_submission, query, expected):
    made = {
        "light": make_submission(session, text="ไฟดับที่ซอย 3 มาสามคืนแล้วเจ้า"),
        "road": make_submission(session, text="ถนนหน้าวัดเป็นหลุมใหญ่"),
        "road2": make_submission(session, text="ขอให้ซ่อมถนนในชุมชน"),
        "percent": make_submission(session, text="เห็นด้วย 100% ค่ะ"),
        "noise": make_submission(session, text="เสียงดัง 100 เดซิเบล"),
    }
    body = staff_client.get("/dashboard/submissions", query_string={"q": query}).get_data(
        as_text=True
    )
    assert set(ids_on(body)) == {made[k].id for k in expected}


def test_search_by_tracking_number(session, staff_client, make_submission):
    target = make_submission(session, text="เรื่องหนึ่ง")
    make_submission(session, text="เรื่องสอง")
    body = staff_client.get(
        "/dashboard/submissions", query_string={"q": target.tracking_no.lower()}
    ).get_data(as_text=True)
    assert ids_on(body) == [target.id]


def test_counts_per_value_follow_the_other_filters(app, session, staff_client, make_submission):
    c0, c1 = community_id(app, 0), community_id(app, 1)
    for status, strategy, community in [
        ("new", "LPN-S1", c0),
        ("new", "LPN-S7", c0),
        ("done", "LPN-S7", c0),
        ("done", "LPN-S7", c1),
        ("reviewing", "LPN-S2", c1),
    ]:
        make_submission(session, status=status, strategy=strategy, community_id=community)
    body = staff_client.get(
        "/dashboard/submissions", query_string={"community": c0, "status": "new"}
    ).get_data(as_text=True)
    status_counts = dict(re.findall(r'data-status="(\w+)" data-count="(\d+)"', body))
    # The status facet ignores the status filter itself, so staff see the other choices.
    assert status_counts == {"new": "2", "done": "1"}
    strategy_counts = dict(re.findall(r'data-strategy="([\w.-]*)" data-count="(\d+)"', body))
    assert strategy_counts == {"LPN-S1": "1", "LPN-S7": "1"}
    assert "(2 เรื่อง)" in body


def test_merged_submissions_are_hidden_unless_asked(session, staff_client, make_submission):
    primary = make_submission(session)
    merged = make_submission(session, status="duplicate", merged_into_id=primary.id)
    assert ids_on(staff_client.get("/dashboard/submissions").get_data(as_text=True)) == [primary.id]
    shown = ids_on(
        staff_client.get("/dashboard/submissions", query_string={"merged": "1"}).get_data(
            as_text=True
        )
    )
    assert set(shown) == {primary.id, merged.id}


def test_queue_shows_how_many_residents_raised_a_need(session, staff_client, make_submission):
    primary = make_submission(session, resident=True)
    for _ in range(2):
        make_submission(session, resident=True, status="duplicate", merged_into_id=primary.id)
    body = staff_client.get("/dashboard/submissions").get_data(as_text=True)
    assert "ผู้แจ้ง 3 คน" in body


XSS = "<script>alert(1)</script><img src=x onerror=alert(2)>"


def test_resident_text_is_escaped_everywhere(session, staff_client, make_submission):
    sub = make_submission(session, text=XSS + "\nบรรทัดที่สอง", address=XSS)
    make_submission(session, text=XSS + " ซ้ำ")
    for url in (
        "/dashboard/submissions",
        f"/dashboard/submissions/{sub.id}",
        "/dashboard/submissions?q=script",
    ):
        body = staff_client.get(url).get_data(as_text=True)
        assert "<script>alert" not in body
        assert "<img src=x" not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;" in body
    detail = staff_client.get(f"/dashboard/submissions/{sub.id}").get_data(as_text=True)
    # Line breaks are kept by CSS (white-space: pre-wrap), not by HTML.
    assert "alert(2)&gt;\nบรรทัดที่สอง" in detail


def test_dates_are_shown_in_the_buddhist_era(session, staff_client, make_submission):
    sub = make_submission(session, created_at=datetime(2026, 11, 26, 7, 5, tzinfo=UTC))
    body = staff_client.get(f"/dashboard/submissions/{sub.id}").get_data(as_text=True)
    assert "26 พ.ย. 2569 14:05" in body


def test_recent_first_by_default_and_empty_state(session, staff_client, make_submission):
    body = staff_client.get("/dashboard/submissions").get_data(as_text=True)
    assert 'data-testid="queue-empty"' in body
    older = make_submission(session, created_at=datetime.now(UTC) - timedelta(days=1))
    newer = make_submission(session)
    body = staff_client.get("/dashboard/submissions").get_data(as_text=True)
    assert ids_on(body) == [newer.id, older.id]


# --- a date range: pages in creation order, served by the index on created_at ------------------

RANGE = {"date_from": "10/01/2569", "date_to": "12/01/2569"}  # 10–12 Jan 2026, Bangkok days


def _dated(session, make_submission) -> dict[int, datetime]:
    """Needs whose ids do not follow their creation times (as concurrent saves can do), two
    saved at the same instant, and one just outside the range at each end."""
    inside = datetime(2026, 1, 10, 3, 0, 0, 123456, tzinfo=UTC)
    times = [
        datetime(2026, 1, 9, 16, 59, 59, 999999, tzinfo=UTC),  # 9 Jan 23:59:59 in Bangkok
        inside + timedelta(hours=5),
        inside,
        inside + timedelta(hours=30),
        inside + timedelta(hours=5),  # the same instant as the second
        inside + timedelta(seconds=1),
        datetime(2026, 1, 12, 17, 0, tzinfo=UTC),  # 13 Jan 00:00 in Bangkok
        inside + timedelta(hours=50),
        inside + timedelta(microseconds=1),
    ]
    return {make_submission(session, created_at=t).id: t for t in times}


def _in_range(made: dict[int, datetime], newest_first: bool) -> list[int]:
    low = datetime(2026, 1, 9, 17, tzinfo=UTC)
    high = datetime(2026, 1, 12, 17, tzinfo=UTC)
    kept = [(t, i) for i, t in made.items() if low <= t < high]
    return [i for _, i in sorted(kept, reverse=newest_first)]


@pytest.mark.parametrize("sort", ["new", "old"])
def test_date_range_pages_hold_exactly_the_range_in_creation_order(
    app, session, staff_client, make_submission, sort
):
    app.config["DASHBOARD_PAGE_SIZE"] = 2
    made = _dated(session, make_submission)
    expected = _in_range(made, newest_first=sort == "new")
    assert len(expected) == 7
    assert walk(staff_client, sort=sort, **RANGE) == expected
    app.config["DASHBOARD_PAGE_SIZE"] = 1
    assert walk(staff_client, sort=sort, **RANGE) == expected


def test_date_cursor_round_trips_the_creation_time_to_the_microsecond(session, make_submission):
    from bot.staff import queries

    row = make_submission(session, created_at=datetime(2026, 1, 10, 3, 4, 5, 6, tzinfo=UTC))
    cursor = queries.encode_cursor(row, "new", by_date=True)
    assert queries._decode_cursor(cursor, "new") == (row.created_at, row.id)
    assert queries._decode_cursor(cursor, "old") == (row.created_at, row.id)
    # Without a date range the same cursor continues after its id.
    assert queries._decode_cursor(queries.encode_cursor(row, "new"), "new") == (None, row.id)


def test_a_cursor_from_an_undated_link_continues_a_dated_page(
    app, session, staff_client, make_submission
):
    """Links shown before dated pages were ordered by time carry only an id: the page goes on
    after that need's creation time, so nothing in the range is skipped or repeated."""
    from bot.staff import queries

    app.config["DASHBOARD_PAGE_SIZE"] = 3
    made = _dated(session, make_submission)
    expected = _in_range(made, newest_first=True)
    start = session.get(Submission, expected[2])
    old_cursor = queries.encode_cursor(start, "new")  # the id alone
    response = staff_client.get(
        "/dashboard/submissions", query_string={**RANGE, "after": old_cursor}
    )
    rest = ids_on(response.get_data(as_text=True))
    match = NEXT_RE.search(response.get_data(as_text=True))
    while match:
        response = staff_client.get(match.group(1).replace("&amp;", "&"))
        rest.extend(ids_on(response.get_data(as_text=True)))
        match = NEXT_RE.search(response.get_data(as_text=True))
    assert rest == expected[3:]


def test_an_undated_cursor_of_a_removed_need_still_pages_by_id(
    app, session, staff_client, make_submission
):
    from bot.staff import queries

    app.config["DASHBOARD_PAGE_SIZE"] = 50
    made = _dated(session, make_submission)
    in_range = set(_in_range(made, newest_first=True))
    gone = make_submission(session, created_at=datetime(2026, 1, 11, tzinfo=UTC))
    cursor = queries.encode_cursor(gone, "new")
    session.delete(gone)
    session.commit()
    response = staff_client.get("/dashboard/submissions", query_string={**RANGE, "after": cursor})
    assert response.status_code == 200
    assert ids_on(response.get_data(as_text=True)) == sorted(in_range, reverse=True)


def test_a_search_with_words_every_need_holds_lists_exactly_the_phrase(
    app, session, staff_client, make_submission
):
    from storage import search

    search._samples.clear()  # the sample of texts is kept per database: start afresh
    app.config["DASHBOARD_PAGE_SIZE"] = 2
    texts = [
        "ไฟดับ บ้านเลขที่ 399 ซอย 29",
        "ถนนพัง ซอย 29 บ้านเลขที่ 399",
        "ท่อตัน บ้านเลขที่ 399 ซอย 290",
        "ขยะล้น บ้านเลขที่ 12 ซอย 4",
        "น้ำท่วม บ้านเลขที่ 3990 ซอย 29",
        "ป้ายหาย บ้านเลขที่ 399 ซอย 29 หน้าตลาด",
    ]
    made = {make_submission(session, text=t).id: t for t in texts}
    words = "บ้านเลขที่ 399 ซอย 29"
    expected = sorted((i for i, t in made.items() if words in t), reverse=True)
    assert len(expected) == 3
    assert walk(staff_client, q=words) == expected
