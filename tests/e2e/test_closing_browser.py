"""Closing the loop and needs that do not come over LINE, clicked as staff would on a 390 px
phone in Debian's Chromium: mark a need done with an "after" photo (the resident's push carries
it with the rating buttons), take a need by phone, record a forum and type its needs."""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import ACCESS_TOKEN, CHANNEL_SECRET, LineStandIn
from tests.e2e.conftest import ruamkid_server
from tests.e2e.test_dashboard_browser import Seeded, _login, _seed, browser  # noqa: F401

pytestmark = pytest.mark.browser

PUBLIC = "https://ruamkid.example"


@pytest.fixture
def served(tmp_path: Path, model_dir: Path, line_api: LineStandIn) -> Iterator[Seeded]:
    """The dashboard's seeded server, with a PUBLIC_URL so "after" photos reach LINE."""
    line_api.install_defaults()
    database_url = f"sqlite:///{tmp_path / 'closing.db'}"
    ids, tracking, users, project_id = _seed(database_url)
    env = {
        "DATABASE_URL": database_url,
        "SECRET_KEY": "e2e-secret-" + "k" * 40,
        "LINE_CHANNEL_SECRET": CHANNEL_SECRET,
        "LINE_CHANNEL_ACCESS_TOKEN": ACCESS_TOKEN,
        "LINE_API_HOST": line_api.url,
        "MODEL_DIR": str(model_dir),
        "PUBLIC_URL": PUBLIC,
    }
    with ruamkid_server(tmp_path, env, "/dashboard/login") as url:
        yield Seeded(url, ids, tracking, users, project_id)


@pytest.fixture
def phone(browser, served):  # noqa: F811
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="th-TH",
        base_url=served.url,
    )
    page = context.new_page()
    _login(page)
    yield page
    context.close()


def _no_sideways_scroll(page) -> None:
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"{page.url} is {overflow}px wider than the phone"


def _photo() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (1600, 1200), (40, 140, 90)).save(buffer, "JPEG")
    return buffer.getvalue()


def test_done_with_an_after_photo_from_a_phone(served, phone, line_api):
    from playwright.sync_api import expect

    page = phone
    page.goto(f"/dashboard/submissions/{served.ids['drain']}")
    page.get_by_test_id("status-select").select_option("done")
    page.get_by_test_id("status-public-note").fill("ล้างท่อเรียบร้อยแล้วค่ะ")
    page.get_by_test_id("status-after-photo").set_input_files(
        {"name": "after.jpg", "mimeType": "image/jpeg", "buffer": _photo()}
    )
    page.get_by_test_id("status-submit").tap()
    expect(page.get_by_test_id("detail-status")).to_have_attribute("data-status", "done")
    expect(page.get_by_test_id("after-photos").locator("img")).to_have_count(1)
    _no_sideways_scroll(page)
    page.screenshot(path="/tmp/ruamkid-closing-phone-done.png", full_page=True)

    deadline = time.monotonic() + 30
    pushes: list[dict] = []
    while time.monotonic() < deadline and not pushes:
        pushes = [b for b in line_api.sent("push") if b["to"] == served.users["r0"]]
        time.sleep(0.25)
    assert len(pushes) == 1
    image, words = pushes[0]["messages"]
    assert image["type"] == "image" and image["originalContentUrl"].startswith(PUBLIC)
    assert "ล้างท่อเรียบร้อยแล้วค่ะ" in words["text"]
    labels = [item["action"]["label"] for item in words["quickReply"]["items"]]
    assert labels[-1] == "ยังไม่เรียบร้อย" and len(labels) == 6
    # The address LINE fetches serves the photo without signing in.
    path = image["originalContentUrl"].removeprefix(PUBLIC)
    anonymous = page.context.browser.new_context(base_url=served.url)
    response = anonymous.request.get(path)
    assert response.status == 200 and response.headers["content-type"] == "image/jpeg"
    anonymous.close()


def test_a_need_taken_by_phone_gets_its_tracking_number(served, phone):
    from playwright.sync_api import expect

    page = phone
    page.get_by_test_id("nav-intake").tap()
    expect(page.get_by_test_id("intake-form")).to_be_visible()
    page.get_by_test_id("intake-source-phone").check()
    page.get_by_test_id("intake-community").select_option(index=3)
    page.get_by_test_id("intake-text").fill("ไฟทางดับทั้งซอย 7 มาสองคืนแล้ว มืดมาก")
    page.get_by_test_id("intake-contact-name").fill("นางสมพร")
    page.get_by_test_id("intake-contact-phone").fill("081 234 5678")
    # Without the resident's consent the contact is refused, with a Thai reason.
    page.get_by_test_id("intake-submit").tap()
    expect(page.get_by_test_id("flashes")).to_contain_text("กรุณาขอความยินยอมจากผู้แจ้ง")
    page.get_by_test_id("intake-consent").check()
    page.get_by_test_id("intake-submit").tap()
    number = page.get_by_test_id("taken-tracking")
    expect(number).to_have_text(re.compile(r"^LPN-\d\d-\d{6}$"))
    _no_sideways_scroll(page)
    page.screenshot(path="/tmp/ruamkid-intake-phone-taken.png", full_page=True)
    page.get_by_test_id("taken-detail").tap()
    expect(page.get_by_test_id("contact")).to_have_text("นางสมพร · โทร 0812345678")
    expect(page.get_by_test_id("source")).to_have_text("โทรศัพท์")


def test_a_forum_and_its_needs_typed_into_the_table(served, phone):
    from playwright.sync_api import expect

    page = phone
    page.get_by_test_id("nav-forums").tap()
    page.get_by_test_id("forum-date").fill("20/1/2570")
    page.get_by_test_id("forum-community").select_option(index=1)
    page.get_by_test_id("forum-place").fill("ศาลาเอนกประสงค์ชุมชน")
    page.get_by_test_id("forum-attendees").fill("48")
    page.get_by_test_id("forum-minutes").set_input_files(
        {"name": "minutes.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 minutes"}
    )
    page.get_by_test_id("forum-submit").tap()
    expect(page.get_by_test_id("forum-facts")).to_contain_text("48 คน")
    expect(page.get_by_test_id("forum-minutes-link")).to_have_text("minutes.pdf")

    rows = page.get_by_test_id("entry-row")
    expect(rows).to_have_count(5)
    first, second = rows.nth(0), rows.nth(1)
    first.get_by_test_id("entry-text").fill("ท่อระบายน้ำอุดตัน น้ำท่วมขังหน้าบ้านทุกครั้งที่ฝนตก")
    first.get_by_test_id("entry-rank").fill("2")
    # Classified as typed: the guess is shown and preselected.
    expect(first.get_by_test_id("entry-guess")).to_contain_text("ระบบจัดให้")
    expect(first.get_by_test_id("entry-strategy")).not_to_have_value("")
    # A second need, corrected by hand before saving.
    second.get_by_test_id("entry-text").fill("อยากให้มีลานกีฬาสำหรับเด็กและเยาวชน")
    expect(second.get_by_test_id("entry-guess")).to_contain_text("ระบบจัดให้")
    second.get_by_test_id("entry-kind").select_option("need")
    second.get_by_test_id("entry-strategy").select_option("LPN-S3")
    second.get_by_test_id("entry-subarea").select_option("LPN-S3.5")
    second.get_by_test_id("entry-rank").fill("1")
    page.get_by_test_id("entry-add-row").tap()
    expect(rows).to_have_count(6)
    _no_sideways_scroll(page)
    page.get_by_test_id("entry-submit").tap()
    expect(page.get_by_test_id("flashes")).to_contain_text("บันทึกความต้องการจากประชาคมแล้ว 2 เรื่อง")
    needs = page.get_by_test_id("forum-need")
    expect(needs).to_have_count(2)
    # In the forum's order: the sports ground (rank 1) first, with the staff's category.
    expect(needs.nth(0)).to_contain_text("ลานกีฬา")
    expect(needs.nth(0)).to_contain_text("กีฬาและนันทนาการ")
    _no_sideways_scroll(page)
    page.screenshot(path="/tmp/ruamkid-forum-phone.png", full_page=True)
