"""The simulator in Debian's Chromium against a real server: a resident's first report."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import JPEG
from tests.e2e.conftest import ruamkid_server

pytestmark = pytest.mark.browser

SCREENSHOT = Path("/tmp/ruamkid-simulator.png")
# The first need may train the classifier in a fresh model folder (minutes on 2 cores).
SLOW = 360_000


@pytest.fixture
def served(tmp_path: Path, model_dir: Path) -> Iterator[str]:
    """Run ``ruamkid serve`` (gunicorn, worker inside the web process) in simulator mode."""
    no_channel = dict.fromkeys(
        ("LINE_CHANNEL_SECRET", "LINE_CHANNEL_ACCESS_TOKEN", "LINE_API_HOST", "DATABASE_URL")
    )
    with ruamkid_server(tmp_path, {"MODEL_DIR": str(model_dir), **no_channel}, "/simulator") as url:
        yield url


@pytest.fixture
def page(served: str, chromium):
    """A Chromium page, phone-sized, Thai."""
    context = chromium.new_context(
        viewport={"width": 400, "height": 820}, locale="th-TH", base_url=served
    )
    yield context.new_page()
    context.close()


def test_a_resident_follows_consents_reports_and_adds_a_location(page):
    from playwright.sync_api import expect

    page.goto("/simulator")
    expect(page.locator("h1")).to_contain_text("เทศบาล")
    follow = page.locator("#follow")
    expect(follow).to_have_text("เพิ่มเพื่อน")
    follow.click()

    # Greeting, privacy notice and the consent question with quick replies.
    consent = page.get_by_role("button", name="ยินยอม", exact=True)
    expect(consent).to_be_visible(timeout=30_000)
    expect(page.locator(".rk-row-bot").first).to_be_visible()
    consent.click()

    # The community choice: pick one by name.
    community = page.locator(".rk-chip, .rk-flex-button, .rk-template-button").filter(
        has_text="จามเทวี"
    )
    expect(community.first).to_be_visible(timeout=30_000)
    community.first.click()
    expect(page.locator(".rk-row-bot").last).to_contain_text("จามเทวี", timeout=30_000)

    # A need; residents' text is shown as text, never as HTML.
    need = "ถนนหน้าบ้านเป็นหลุมลึก <b>รถล้มบ่อย</b> ช่วยซ่อมด้วยค่ะ"
    page.locator("#text").fill(need)
    page.locator("#send").click()
    expect(page.locator(".rk-row-resident").last).to_have_text(need)
    assert page.locator("#chat b").count() == 0
    tracking = page.locator(".rk-row-bot").filter(has_text=re.compile(r"LPN-\d{2}-\d{6}"))
    expect(tracking.first).to_be_visible(timeout=SLOW)
    number = re.search(r"LPN-\d{2}-\d{6}", tracking.first.inner_text()).group(0)

    # Add the location from the quick reply (a location action opens the form).
    bot_rows = page.locator(".rk-row-bot")
    before = bot_rows.count()
    page.locator(".rk-chip[data-action-type='location']").first.click()
    dialog = page.locator("#location-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("input[name='latitude']")).to_have_value("18.5776")
    dialog.locator("#location-send").click()
    expect(page.locator(".rk-row-resident").last).to_contain_text("ตำแหน่ง")
    expect(bot_rows).to_have_count(before + 1, timeout=60_000)
    expect(bot_rows.last).to_contain_text(number)
    expect(bot_rows.last).to_contain_text("ตำแหน่ง")
    expect(page.locator("#quick-replies .rk-chip").first).to_be_visible()

    # And a photo: uploaded, served to the worker as LINE content, shown in the chat.
    before = bot_rows.count()
    page.locator("#photo").set_input_files(
        files=[{"name": "hole.jpg", "mimeType": "image/jpeg", "buffer": JPEG}]
    )
    expect(page.locator(".rk-row-resident img").last).to_be_visible(timeout=30_000)
    expect(bot_rows).to_have_count(before + 1, timeout=60_000)

    page.screenshot(path=str(SCREENSHOT), full_page=True)
