"""The overview: counts, trends, the unsure share, median first response, map; who sees what."""

from __future__ import annotations

import json
import re
import threading
import time
from datetime import date, timedelta

import pytest
from markupsafe import Markup
from sqlalchemy import select

from bot import thai
from bot.staff import overview
from bot.staff.charts import bar_chart, line_chart
from storage.base import utcnow
from storage.models import Submission
from tests.staff.conftest import community_id


@pytest.fixture
def seeded(app, session, make_submission):
    """Eight submissions over two communities with known times and answers."""
    now = utcnow()
    first, second = community_id(app, 0), community_id(app, 1)
    specs = [
        # strategy, community, kind, unsure, days ago, minutes to first response
        ("LPN-S7", first, "complaint", False, 1, 30),
        ("LPN-S7", first, "need", True, 2, 90),
        ("LPN-S7", second, "need", False, 3, None),
        ("LPN-S1", first, "need", False, 10, 60 * 24),
        ("LPN-S1", second, "question", True, 40, 10),
        ("LPN-S3", second, "suggestion", False, 70, None),
        (None, first, "other", True, 5, None),
        ("LPN-S7", None, "need", False, 400, 5),  # outside the default 12 months
    ]
    rows = []
    for strategy, community, kind, unsure, days, minutes in specs:
        created = now - timedelta(days=days)
        rows.append(
            make_submission(
                session,
                strategy=strategy,
                subarea=None,
                community_id=community,
                kind=kind,
                unsure=unsure,
                created_at=created,
                first_response_at=created + timedelta(minutes=minutes) if minutes else None,
                latitude=18.57 if kind == "need" else None,
                longitude=99.0 if kind == "need" else None,
            )
        )
    return rows


def test_stats_for_a_seeded_dataset(session, seeded):
    period = select(Submission).where(Submission.created_at >= utcnow() - timedelta(days=365))
    stats = overview.compute_stats(session, period)
    assert stats.total == 7
    assert stats.unsure == 3
    assert stats.unsure_share == pytest.approx(3 / 7)
    # answered: 30 min, 90 min, 1 day, 10 min → median = (30 + 90) / 2 = 60 minutes
    assert stats.responded == 4
    assert stats.median_response == timedelta(minutes=60)
    assert dict(stats.by_kind) == {
        "need": 3,
        "complaint": 1,
        "question": 1,
        "suggestion": 1,
        "other": 1,
    }
    cell = {(s, c): n for (s, c), n in stats.matrix.items()}
    first, second = seeded[0].community_id, seeded[2].community_id
    assert cell[("LPN-S7", first)] == 2
    assert cell[("LPN-S7", second)] == 1
    assert cell[("LPN-S1", first)] == 1
    assert cell[(None, first)] == 1
    assert ("LPN-S7", None) not in cell


def test_median_with_an_odd_count(session, make_submission):
    now = utcnow()
    for minutes in (5, 50, 500):
        make_submission(session, created_at=now, first_response_at=now + timedelta(minutes=minutes))
    stats = overview.compute_stats(session, select(Submission))
    assert stats.median_response == timedelta(minutes=50)


def test_weeks_and_months_are_zero_filled_and_summed():
    today = date(2026, 11, 26)  # a Thursday
    days = {
        date(2026, 11, 23): 2,  # Monday this week
        date(2026, 11, 26): 1,
        date(2026, 11, 22): 4,  # Sunday last week
        date(2026, 1, 5): 7,
        date(2025, 11, 30): 9,  # before the 12 months
    }
    weeks = overview.weekly(days, today)
    assert len(weeks) == 12
    assert weeks[-1] == (date(2026, 11, 23), 3)
    assert weeks[-2] == (date(2026, 11, 16), 4)
    assert weeks[0][0] == date(2026, 9, 7)
    months = overview.monthly(days, today)
    assert [m for m, _ in months][0] == date(2025, 12, 1)
    assert dict(months)[date(2026, 11, 1)] == 7
    assert dict(months)[date(2026, 1, 1)] == 7
    assert sum(n for _, n in months) == 14
    assert thai.week_label(date(2026, 11, 23)) == "23 พ.ย. 69"
    assert thai.month_label(date(2026, 11, 1), long=True) == "พฤศจิกายน 2569"


@pytest.mark.parametrize(
    ("minutes", "label"),
    [
        (None, "–"),
        (45, "45 นาที"),
        (60, "1 ชั่วโมง"),
        (135, "2 ชั่วโมง 15 นาที"),
        (60 * 27, "1 วัน 3 ชั่วโมง"),
    ],
)
def test_duration_label(minutes, label):
    value = None if minutes is None else timedelta(minutes=minutes)
    assert overview.duration_label(value) == label


def test_charts_escape_labels_and_describe_themselves():
    svg = bar_chart([("<script>x</script>", 3), ("ถนน", 1)], title="จำนวน & เรื่อง", chart_id="c1")
    assert isinstance(svg, Markup)
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    assert '<title id="c1-t">จำนวน &amp; เรื่อง</title>' in svg
    assert 'role="img"' in svg and 'aria-labelledby="c1-t c1-d"' in svg
    widths = [float(w) for w in re.findall(r'class="bar" x="\d+" y="[\d.]+" width="([\d.]+)"', svg)]
    assert widths[0] == pytest.approx(3 * widths[1], abs=0.5)
    line = line_chart([("ม.ค. 69", 0), ("ก.พ. 69", 4)], title="แนวโน้ม", chart_id="c2")
    assert "<polyline" in line and "ก.พ. 69: 4" in line


def test_overview_page_for_staff(client, make_user, login, seeded):
    login(client, make_user("staff"))
    page = client.get("/dashboard/overview/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-testid="stat-total">7<' in html
    assert 'data-testid="stat-unsure">43%<' in html
    assert 'data-testid="stat-median">1 ชั่วโมง<' in html
    assert 'data-testid="chart-strategy"' in html and 'data-testid="chart-week"' in html
    assert "ยังไม่จัดยุทธศาสตร์" in html
    points = json.loads(re.search(r'id="overview-map-data">(.*?)</script>', html, re.S).group(1))
    assert len(points) == 4  # every located need, whatever the period
    assert set(points[0]) == {"lat", "lng", "no", "status", "url"}
    assert "<script>" not in html.split('id="overview-map-data">')[1].split("</script>")[0]
    everything = client.get("/dashboard/overview/?months=0").get_data(as_text=True)
    assert 'data-testid="stat-total">8<' in everything
    assert client.get("/dashboard/overview/?months=abc").status_code == 200


def test_leader_sees_only_their_community(app, client, make_user, login, seeded):
    login(client, make_user("leader", community=community_id(app, 1)))
    html = client.get("/dashboard/overview/").get_data(as_text=True)
    assert 'data-testid="stat-total">3<' in html
    first_name = "ชุมชนบ้านท่า-ท่านาง"
    assert first_name not in html  # not even as a heat-map column
    points = json.loads(re.search(r'id="overview-map-data">(.*?)</script>', html, re.S).group(1))
    assert [p["no"] for p in points] == [seeded[2].tracking_no]


def test_logged_out_gets_nothing(client, seeded):
    response = client.get("/dashboard/overview/")
    assert response.status_code == 302
    assert "/dashboard/login" in response.headers["Location"]


def test_numbers_are_cached_for_a_minute_then_recomputed(app, client, make_user, login, session,
                                                         make_submission):  # fmt: skip
    login(client, make_user("staff"))
    make_submission(session)
    assert 'data-testid="stat-total">1<' in client.get("/dashboard/overview/").get_data(True)
    make_submission(session)
    # within the cache's lifetime the page shows the same numbers
    assert 'data-testid="stat-total">1<' in client.get("/dashboard/overview/").get_data(True)
    app.config["OVERVIEW_CACHE_SECONDS"] = 0
    assert 'data-testid="stat-total">2<' in client.get("/dashboard/overview/").get_data(True)


def test_expired_numbers_are_shown_at_once_and_recounted_in_the_background(
    app, client, make_user, login, session, make_submission
):
    """Past its lifetime the overview shows the previous numbers without waiting, while a
    thread with its own session counts the new ones (seconds on a million needs)."""
    app.config["OVERVIEW_CACHE_SECONDS"] = 0.5
    login(client, make_user("staff"))
    make_submission(session)
    assert 'data-testid="stat-total">1<' in client.get("/dashboard/overview/").get_data(True)
    make_submission(session)
    time.sleep(0.6)
    assert 'data-testid="stat-total">1<' in client.get("/dashboard/overview/").get_data(True)
    for thread in threading.enumerate():
        if thread.name == "ruamkid-overview":
            thread.join(10)
    assert 'data-testid="stat-total">2<' in client.get("/dashboard/overview/").get_data(True)
