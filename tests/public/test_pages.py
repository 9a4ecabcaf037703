"""The public pages: what they show, what they never show, their filters, caching and limits."""

from __future__ import annotations

import re

import pytest

from tests.public.conftest import LINE_ID, NAME, PUBLISHED, SECRET

ROUTES = (
    "/public/",
    "/public/?strategy=LPN-S7&status=new",
    "/public/track/LPN-69-000001",
    "/public/projects",
    "/public/strategies/LPN-S7",
    "/public/follow-up",
)


@pytest.mark.parametrize("url", ROUTES)
def test_pages_answer_without_login_and_leak_nothing(client, town, url):
    response = client.get(url)
    assert response.status_code == 200, url
    body = response.get_data(as_text=True)
    for planted in (NAME, LINE_ID, SECRET, "99/9", "18.578391", "99.008123", "user:1"):
        assert planted not in body, (url, planted)
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "public, max-age=30"
    assert response.headers["ETag"]


def test_the_list_counts_filters_and_shows_only_published_words(client, town):
    body = client.get("/public/").get_data(as_text=True)
    assert re.search(r'data-testid="public-total">5<', body)
    assert PUBLISHED in body
    assert body.count('class="need"') == 5
    second = town["second"]
    filtered = client.get(f"/public/?community={second.id}").get_data(as_text=True)
    assert re.search(r'data-testid="public-total">2<', filtered)
    assert "LPN-69-000002" in filtered and "LPN-69-000001" not in filtered
    # A bad filter value is ignored, not an error.
    assert client.get("/public/?status=nope&community=x&page=-3").status_code == 200


def test_the_map_gets_grid_cells_and_community_centres_only(client, town):
    body = client.get("/public/").get_data(as_text=True)
    block = re.search(r'<script type="application/json" id="public-map-data">(.*?)</script>', body)
    assert block
    data = block.group(1)
    assert '"lat": 18.5785, "lng": 99.0085' in data  # the need's ~100 m cell
    assert '"lat": 18.5801, "lng": 99.0012' in data  # a community's centre
    assert 'data-tiles=""' in body  # no tiles configured: the map draws communities only


def test_tracking_shows_the_timeline_and_an_unknown_number_is_404(client, town):
    body = client.get("/public/track/lpn-69-000001").get_data(as_text=True)
    assert "บรรจุในแผน" in body and "ใหม่" in body
    assert "ก่อสร้างรางระบายน้ำซอย 3" in body
    assert (
        client.get("/public/track?no=LPN-69-000001")
        .headers["Location"]
        .endswith("/public/track/LPN-69-000001")
    )
    assert client.get("/public/track/LPN-69-999999").status_code == 404


def test_project_page_shows_progress_budget_and_backing(client, town):
    project = town["project"]
    body = client.get(f"/public/projects/{project.id}").get_data(as_text=True)
    assert "กำลังดำเนินการ" in body and 'value="40"' in body
    assert "2,000,000.00" in body and "600,000.00" in body
    assert "เริ่มขุดวางท่อ" in body
    assert re.search(r'data-testid="public-project-residents">1 คน จาก 2 ชุมชน', body)
    assert client.get("/public/projects/9999").status_code == 404


def test_follow_up_report_page_and_xlsx(client, town):
    body = client.get("/public/follow-up").get_data(as_text=True)
    assert "1,500,000.00" in body and "500,000.00" in body
    response = client.get("/public/follow-up.xlsx")
    assert response.status_code == 200
    assert response.data[:2] == b"PK"


def test_a_second_request_with_the_etag_gets_304(client, town):
    first = client.get("/public/projects")
    again = client.get("/public/projects", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.data == b""


def test_pages_are_kept_for_a_while_in_the_process(app, client, session, town):
    before = client.get("/public/").get_data(as_text=True)
    town["needs"][1].status = "done"
    session.commit()
    assert client.get("/public/").get_data(as_text=True) == before
    app.extensions["ruamkid_public"]["pages"].clear()
    assert client.get("/public/").get_data(as_text=True) != before
