"""What a newcomer hit, in Debian's Chromium: the queue on a 390 px phone (the list first, the
filters behind a button, a menu that wraps instead of scrolling sideways) and the strategy ×
community table at 1366 px (the total visible, no community name broken inside)."""

from __future__ import annotations

import pytest

from tests.e2e.test_dashboard_browser import _login, browser, served  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


def test_queue_on_a_phone_lists_first_filters_behind_a_button(served, browser):  # noqa: F811
    from playwright.sync_api import expect

    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        locale="th-TH",
        base_url=served.url,
    )
    page = context.new_page()
    _login(page)
    page.goto("/dashboard/submissions")
    # The first need is on the first screen; the filters wait behind their button.
    first = page.get_by_test_id("queue-row").first
    expect(first).to_be_in_viewport()
    expect(page.get_by_test_id("filter-strategy")).to_be_hidden()
    # The whole menu is on screen: it wraps, nothing scrolls sideways or is cut off.
    nav = page.get_by_test_id("main-nav")
    assert nav.evaluate("n => n.scrollWidth - n.clientWidth") <= 1
    for link in nav.locator("a").all():
        box = link.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    page.get_by_test_id("filters-button").tap()
    page.get_by_test_id("filter-strategy").select_option("LPN-S1")
    page.get_by_test_id("filter-submit").tap()
    expect(page.get_by_test_id("queue-row")).to_have_count(1)
    expect(page.get_by_test_id("filters-button")).to_contain_text("กำลังกรอง")
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1
    page.screenshot(path="/tmp/ruamkid-newcomer-phone-queue.png")
    context.close()


def test_strategy_by_community_table_fits_at_1366(served, browser):  # noqa: F811
    from playwright.sync_api import expect

    context = browser.new_context(
        viewport={"width": 1366, "height": 768}, locale="th-TH", base_url=served.url
    )
    page = context.new_page()
    _login(page)
    page.goto("/dashboard/overview/")
    table = page.get_by_test_id("matrix")
    expect(table).to_be_visible()
    wrap = table.locator("xpath=..")
    assert wrap.evaluate("w => w.scrollWidth - w.clientWidth") <= 1
    total = page.get_by_test_id("matrix-total")
    box = total.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 1366
    # Every community name stays on one line (one rectangle of text, whatever its direction).
    headers = page.get_by_test_id("matrix-community")
    assert headers.count() >= 14
    lines = headers.evaluate_all(
        """hs => hs.map(h => {
            const r = document.createRange();
            r.selectNodeContents(h);
            return new Set([...r.getClientRects()].map(c => Math.round(c.left))).size;
        })"""
    )
    assert set(lines) == {1}, lines
    page.screenshot(path="/tmp/ruamkid-newcomer-matrix-1366.png", full_page=True)
    context.close()
