"""Routing in Debian's Chromium at phone width (390×844) against a real server: an admin adds
and edits a routing rule; a member of กองช่าง filters the queue to "my division" and "overdue".
Screenshots go to /tmp/ruamkid-routing-*.png."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from tests.conftest import ACCESS_TOKEN, CHANNEL_SECRET, LineStandIn
from tests.e2e.conftest import ruamkid_server

pytestmark = pytest.mark.browser

PASSWORD = "routing-password-1234"
PHONE = {"width": 390, "height": 844}
CLERK = "สำนักปลัดเทศบาล (งานป้องกันและบรรเทาสาธารณภัย)"


@dataclass
class Seeded:
    url: str
    tracking: dict[str, str]


def _seed(database_url: str) -> dict[str, str]:
    """Migrate; add divisions, an admin, a member of กองช่าง and three routed needs."""
    from sqlalchemy import select

    from bot.municipality import load_municipality
    from bot.setup import seed_communities, seed_routing
    from storage import staff
    from storage.base import utcnow
    from storage.db import make_engine, make_session_factory
    from storage.migrate import upgrade
    from storage.models import Community, Submission
    from storage.routing import Division

    upgrade(database_url)
    engine = make_engine(database_url)
    with make_session_factory(engine)() as session:
        seed_communities(session, load_municipality())
        seed_routing(session, load_municipality())
        session.flush()
        works = session.scalar(select(Division).where(Division.code == "works"))
        welfare = session.scalar(select(Division).where(Division.code == "welfare"))
        staff.create_user(session, "admin1", PASSWORD, role="admin", display_name="ผู้ดูแล")
        member = staff.create_user(session, "somsri", PASSWORD, role="staff", display_name="สมศรี")
        member.division_id = works.id
        community = session.scalars(select(Community)).first()
        now = utcnow()
        tracking = {}
        for n, (name, division, due) in enumerate(
            [
                ("late_light", works, now - timedelta(days=2)),
                ("road", works, now + timedelta(days=5)),
                ("late_welfare", welfare, now - timedelta(days=1)),
            ],
            start=1,
        ):
            tracking[name] = f"LPN-69-{n:06d}"
            session.add(
                Submission(
                    tracking_no=tracking[name],
                    community_id=community.id,
                    text="ไฟกิ่งดับหน้าบ้าน",
                    strategy="LPN-S7",
                    subarea="LPN-S7.3",
                    kind="complaint",
                    top3=[],
                    division_id=division.id,
                    due_at=due,
                    created_at=now - timedelta(days=4),
                )
            )
        session.commit()
    engine.dispose()
    return tracking


@pytest.fixture
def served(tmp_path: Path, model_dir: Path, line_api: LineStandIn) -> Iterator[Seeded]:
    """Seed a database and run ``ruamkid serve`` on it."""
    line_api.install_defaults()
    database_url = f"sqlite:///{tmp_path / 'routing.db'}"
    tracking = _seed(database_url)
    env = {
        "DATABASE_URL": database_url,
        "SECRET_KEY": "e2e-secret-" + "r" * 40,
        "LINE_CHANNEL_SECRET": CHANNEL_SECRET,
        "LINE_CHANNEL_ACCESS_TOKEN": ACCESS_TOKEN,
        "LINE_API_HOST": line_api.url,
        "MODEL_DIR": str(model_dir),
    }
    with ruamkid_server(tmp_path, env, "/dashboard/login") as url:
        yield Seeded(url, tracking)


def _phone_page(chromium, url: str, username: str):
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)
    context = chromium.new_context(viewport=PHONE, locale="th-TH", base_url=url, is_mobile=True)
    page = context.new_page()
    page.goto("/dashboard/login")
    page.get_by_test_id("login-username").fill(username)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("current-user")).to_be_visible()
    return page


def _fits(page, locator) -> None:
    box = locator.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 1


def test_an_admin_edits_a_routing_rule_on_a_phone(served: Seeded, chromium):
    from playwright.sync_api import expect

    page = _phone_page(chromium, served.url, "admin1")
    page.goto("/dashboard/admin/routing")
    # A new rule: a fallen tree goes to the health division within 5 days.
    form = page.get_by_test_id("rule-create-form")
    _fits(page, form)
    form.get_by_test_id("rule-subarea").select_option("LPN-S7.6")
    form.get_by_test_id("rule-kind").select_option("complaint")
    form.get_by_test_id("rule-division").select_option(label="กองสาธารณสุขและสิ่งแวดล้อม")
    form.get_by_test_id("rule-days").fill("5")
    form.get_by_test_id("rule-create").click()
    expect(page.locator(".flash--success")).to_contain_text("เพิ่มกฎการส่งต่อแล้ว")
    new_rule = page.locator("[data-testid='rule'][data-subarea='LPN-S7.6'][data-kind='complaint']")
    expect(new_rule).to_contain_text("กองสาธารณสุขและสิ่งแวดล้อม")
    expect(new_rule).to_contain_text("5 วัน")

    # Street lights move from กองช่าง to สำนักปลัด.
    lights = page.locator("[data-testid='rule'][data-subarea='LPN-S7.3'][data-kind='']")
    expect(lights.get_by_test_id("rule-division-name")).to_have_text("กองช่าง")
    lights.locator("summary").click()
    lights.get_by_test_id("rule-division").select_option(
        label="สำนักปลัดเทศบาล (งานป้องกันและบรรเทาสาธารณภัย)"
    )
    _fits(page, lights.get_by_test_id("rule-save"))
    lights.get_by_test_id("rule-save").click()
    expect(page.locator(".flash--success")).to_contain_text("บันทึกกฎการส่งต่อแล้ว")
    lights = page.locator("[data-testid='rule'][data-subarea='LPN-S7.3'][data-kind='']")
    expect(lights.get_by_test_id("rule-division-name")).to_have_text(CLERK)
    page.screenshot(path="/tmp/ruamkid-routing-rules.png", full_page=False)


def _open_filters(page) -> None:
    if not page.get_by_test_id("filter-overdue").is_visible():
        page.get_by_test_id("filters-button").click()


def test_staff_filter_my_division_and_overdue_on_a_phone(served: Seeded, chromium):
    from playwright.sync_api import expect

    page = _phone_page(chromium, served.url, "somsri")
    page.goto("/dashboard/submissions")
    expect(page.get_by_test_id("queue-row")).to_have_count(3)
    _open_filters(page)  # on a phone the list comes first, the filters behind a button
    page.get_by_test_id("filter-my-division").check()
    page.get_by_test_id("filter-submit").click()
    rows = page.get_by_test_id("queue-row")
    expect(rows).to_have_count(2)
    expect(page.locator(f"[data-tracking='{served.tracking['late_welfare']}']")).to_have_count(0)
    _open_filters(page)
    page.get_by_test_id("filter-overdue").check()
    page.get_by_test_id("filter-submit").click()
    expect(rows).to_have_count(1)
    late = page.locator(f"[data-tracking='{served.tracking['late_light']}']")
    expect(late.get_by_test_id("row-overdue")).to_be_visible()
    expect(late.get_by_test_id("row-division")).to_have_text("กองช่าง")
    _fits(page, late)
    page.screenshot(path="/tmp/ruamkid-routing-queue.png", full_page=False)
    # The detail page shows the due date (Buddhist era) and the overdue mark.
    late.get_by_test_id("queue-link").click()
    expect(page.get_by_test_id("detail-due")).to_contain_text("เกินกำหนด")
    expect(page.get_by_test_id("detail-due")).to_contain_text("25")
    expect(page.get_by_test_id("detail-division")).to_have_text("กองช่าง")
