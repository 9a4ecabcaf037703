"""The staff dashboard in Debian's Chromium against a real server (``ruamkid serve``).

One staff session goes login → filter → change category → change status (the resident's push
reaches the LINE stand-in) → merge duplicates → link to a project → export ผ.02 (the download
is opened with openpyxl). A resident's message with a script tag shows as text and never runs.
Screenshots (desktop and a 390×844 phone) go to /tmp/ruamkid-dashboard-*.png.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from tests.conftest import ACCESS_TOKEN, CHANNEL_SECRET, LineStandIn
from tests.e2e.conftest import ruamkid_server

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp")
PASSWORD = "staff-password-1234"
XSS = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2"> ไฟทางดับหน้าวัด'
DRAIN = "ท่อระบายน้ำอุดตัน น้ำท่วมขังหน้าบ้านทุกครั้งที่ฝนตก ซอยสามชุมชนเรา"
DRAIN_AGAIN = "ท่อระบายน้ำอุดตัน น้ำท่วมขังหน้าบ้านเวลาฝนตก ซอยสามชุมชนเรา"
PROJECT = "ก่อสร้างรางระบายน้ำ คสล. ซอย 3"


@dataclass
class Seeded:
    url: str
    ids: dict[str, int]
    tracking: dict[str, str]
    users: dict[str, str]
    project_id: int


def _seed(database_url: str) -> tuple[dict[str, int], dict[str, str], dict[str, str], int]:
    """Migrate, add communities, a staff user, residents, submissions and a project."""
    from bot.municipality import load_municipality
    from bot.setup import seed_communities
    from storage import plan, staff
    from storage.base import utcnow
    from storage.db import make_engine, make_session_factory
    from storage.migrate import upgrade
    from storage.models import Community, Resident, Submission

    upgrade(database_url)
    engine = make_engine(database_url)
    with make_session_factory(engine)() as session:
        seed_communities(session, load_municipality())
        session.flush()
        communities = session.query(Community).order_by(Community.position).all()
        staff.create_user(session, "somchai", PASSWORD, role="staff", display_name="สมชาย ใจดี")
        users = {}
        residents = []
        for n in range(3):
            resident = Resident(
                line_user_id=f"U{n + 1:032x}", consent="given", active=True, display_name=None
            )
            session.add(resident)
            residents.append(resident)
        session.flush()
        users = {f"r{n}": r.line_user_id for n, r in enumerate(residents)}
        now = utcnow()
        specs = {
            "drain": dict(text=DRAIN, resident=residents[0], community_id=communities[0].id,
                          latitude=18.5741, longitude=99.0087, subarea="LPN-S7.1"),
            "again": dict(text=DRAIN_AGAIN, resident=residents[1], community_id=communities[1].id,
                          latitude=18.5742, longitude=99.0088, subarea="LPN-S7.2"),
            "xss": dict(text=XSS, resident=residents[2], community_id=communities[2].id,
                        subarea="LPN-S7.3"),
            "health": dict(text="ยุงเยอะมาก ขอพ่นหมอกควันกำจัดยุงด้วยค่ะ", resident=None,
                           community_id=communities[0].id, strategy="LPN-S1",
                           subarea="LPN-S1.1"),
        }  # fmt: skip
        ids: dict[str, int] = {}
        tracking: dict[str, str] = {}
        for i, (key, spec) in enumerate(specs.items()):
            spec = {"strategy": "LPN-S7", **spec}
            row = Submission(
                tracking_no=f"LPN-69-{101 + i:06d}",
                source="line",
                kind="complaint",
                confidence=0.55,
                top3=[],
                unsure=True,
                status="new",
                created_at=now,
                **spec,
            )
            session.add(row)
            session.flush()
            ids[key] = row.id
            tracking[key] = row.tracking_no
        project = plan.create_project(
            session,
            strategy="LPN-S7",
            subarea="LPN-S7.2",
            programme="อุตสาหกรรมและการโยธา",
            name=PROJECT,
            objective="เพื่อแก้ปัญหาน้ำท่วมขัง",
            target="รางระบายน้ำยาว 250 เมตร",
            kpi="น้ำไม่ท่วมขังเกิน 1 ชั่วโมง",
            expected_result="ชุมชนไม่มีน้ำท่วมขัง",
            division="กองช่าง",
            budgets={2568: Decimal("850000")},
        )
        session.commit()
        project_id = project.id
    engine.dispose()
    return ids, tracking, users, project_id


@pytest.fixture
def served(tmp_path: Path, model_dir: Path, line_api: LineStandIn) -> Iterator[Seeded]:
    """Seed a database and run ``ruamkid serve`` on it, talking to the LINE stand-in."""
    line_api.install_defaults()
    database_url = f"sqlite:///{tmp_path / 'dashboard.db'}"
    ids, tracking, users, project_id = _seed(database_url)
    env = {
        "DATABASE_URL": database_url,
        "SECRET_KEY": "e2e-secret-" + "k" * 40,
        "LINE_CHANNEL_SECRET": CHANNEL_SECRET,
        "LINE_CHANNEL_ACCESS_TOKEN": ACCESS_TOKEN,
        "LINE_API_HOST": line_api.url,
        "MODEL_DIR": str(model_dir),
    }
    with ruamkid_server(tmp_path, env, "/dashboard/login") as url:
        yield Seeded(url, ids, tracking, users, project_id)


@pytest.fixture
def browser(chromium):
    """Debian's Chromium through Playwright, with a patient ``expect``."""
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)
    return chromium


def _login(page) -> None:
    from playwright.sync_api import expect

    page.goto("/dashboard/login")
    page.get_by_test_id("login-username").fill("somchai")
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("current-user")).to_contain_text("สมชาย ใจดี")


def _wait_for_push(line_api: LineStandIn, user_id: str, words: str, timeout: float = 30) -> str:
    """Wait until the stand-in got a push to ``user_id`` containing ``words``; return it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for body in line_api.sent("push"):
            if body.get("to") == user_id:
                for message in body["messages"]:
                    if words in message.get("text", ""):
                        return message["text"]
        time.sleep(0.25)
    raise AssertionError(f"no push with {words!r}; pushes: {line_api.sent('push')}")


def test_staff_triage_to_plan_export(served: Seeded, browser, line_api: LineStandIn, tmp_path):
    from playwright.sync_api import expect

    context = browser.new_context(
        viewport={"width": 1280, "height": 900},
        locale="th-TH",
        base_url=served.url,
        accept_downloads=True,
    )
    page = context.new_page()
    csp_errors: list[str] = []
    page.on(
        "console",
        lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None,
    )
    _login(page)

    # Filter the queue by strategy: the health need disappears, the three LPN-S7 ones stay.
    page.goto("/dashboard/submissions")
    page.get_by_test_id("filters-button").click()
    page.get_by_test_id("filter-strategy").select_option("LPN-S7")
    page.get_by_test_id("filter-submit").click()
    rows = page.get_by_test_id("queue-row")
    expect(rows).to_have_count(3)
    expect(page.locator(f"[data-tracking='{served.tracking['health']}']")).to_have_count(0)
    # The resident's script is text in the list and never ran.
    xss_row = page.locator(f"[data-tracking='{served.tracking['xss']}']")
    expect(xss_row.get_by_test_id("row-text")).to_contain_text("<script>window.__xss=1</script>")
    assert page.evaluate("typeof window.__xss") == "undefined"
    page.screenshot(path=str(SHOTS / "ruamkid-dashboard-queue.png"), full_page=True)

    # Change the category of the drain need (a correction: sub-area 7.1 → 7.2, kind → need).
    page.locator(f"[data-tracking='{served.tracking['drain']}']").get_by_test_id(
        "queue-link"
    ).click()
    expect(page.get_by_test_id("tracking-no")).to_contain_text(served.tracking["drain"])
    page.get_by_test_id("classify-kind").select_option("need")
    page.get_by_test_id("classify-strategy").select_option("LPN-S7")
    page.get_by_test_id("classify-subarea").select_option("LPN-S7.2")
    page.get_by_test_id("classify-submit").click()
    expect(page.get_by_test_id("label-confirmed")).to_be_visible()
    expect(page.get_by_test_id("classification")).to_contain_text("LPN-S7.2")

    # Change the status with a note: the resident gets a push through the LINE stand-in.
    page.get_by_test_id("status-select").select_option("reviewing")
    page.get_by_test_id("status-public-note").fill("เจ้าหน้าที่กองช่างจะลงพื้นที่สัปดาห์นี้ค่ะ")
    page.get_by_test_id("status-submit").click()
    expect(page.get_by_test_id("detail-status")).to_have_attribute("data-status", "reviewing")
    push = _wait_for_push(line_api, served.users["r0"], "กำลังพิจารณา")
    assert served.tracking["drain"] in push
    assert "เจ้าหน้าที่กองช่างจะลงพื้นที่สัปดาห์นี้ค่ะ" in push

    # Merge the duplicate suggested on the page: two residents now stand behind the need.
    suggestion = page.locator(f"[data-testid='duplicate-row'][data-id='{served.ids['again']}']")
    expect(suggestion).to_be_visible()
    suggestion.get_by_test_id("duplicate-pick").check()
    page.get_by_test_id("merge-submit").click()
    expect(page.get_by_test_id("reporters")).to_have_attribute("data-count", "2")
    _wait_for_push(line_api, served.users["r1"], served.tracking["drain"])

    # Link it to the plan's project and move it to บรรจุในแผน.
    page.get_by_test_id("link-project-select").select_option(str(served.project_id))
    page.get_by_test_id("link-project-submit").click()
    expect(page.get_by_test_id("linked-projects")).to_contain_text(PROJECT)
    expect(page.get_by_test_id("detail-status")).to_have_attribute("data-status", "planned")
    _wait_for_push(line_api, served.users["r0"], "บรรจุในแผน")
    page.screenshot(path=str(SHOTS / "ruamkid-dashboard-detail.png"), full_page=True)

    # The project page counts the residents (the merged duplicate included).
    page.goto(f"/dashboard/plan/projects/{served.project_id}")
    expect(page.get_by_test_id("project-residents")).to_have_text("2")
    expect(page.get_by_test_id("project-needs")).to_contain_text(served.tracking["drain"])
    page.screenshot(path=str(SHOTS / "ruamkid-dashboard-project.png"), full_page=True)

    # Export ผ.02 through the browser's download and read the cells.
    page.goto("/dashboard/exports/")
    with page.expect_download() as download_info:
        page.get_by_test_id("export-p02").click()
    download = download_info.value
    target = tmp_path / "p02.xlsx"
    download.save_as(target)
    assert download.suggested_filename.endswith(".xlsx")
    wb = openpyxl.load_workbook(target)
    assert wb.sheetnames == ["ผ.02", "ผ.02-1", "ผ.02-2"]
    ws = wb["ผ.02"]
    assert ws["A2"].value == "รายละเอียดโครงการพัฒนา"
    assert ws["A3"].value == "แผนพัฒนาท้องถิ่น (พ.ศ. 2566 – 2570)"
    names = [c.value for c in ws["B"]]
    row = names.index(PROJECT) + 1
    assert [c.value for c in ws[row]] == [
        1, PROJECT, "เพื่อแก้ปัญหาน้ำท่วมขัง", "รางระบายน้ำยาว 250 เมตร",
        "-", "-", 850000, "-", "-",
        "น้ำไม่ท่วมขังเกิน 1 ชั่วโมง", "ชุมชนไม่มีน้ำท่วมขัง", "กองช่าง",
    ]  # fmt: skip

    # The script-tag message on its own page: shown as text, never run.
    page.goto(f"/dashboard/submissions/{served.ids['xss']}")
    text = page.get_by_test_id("resident-text")
    expect(text).to_contain_text('<img src=x onerror="window.__xss=2">')
    expect(text).to_contain_text("<script>window.__xss=1</script>")
    assert text.locator("img, script").count() == 0
    page.wait_for_timeout(300)
    assert page.evaluate("typeof window.__xss") == "undefined"

    page.goto("/dashboard/overview/")
    expect(page.get_by_test_id("stat-total")).to_have_text("4")
    expect(page.get_by_test_id("overview-map")).to_have_attribute("data-ready", "2")
    page.screenshot(path=str(SHOTS / "ruamkid-dashboard-overview.png"), full_page=True)
    assert csp_errors == []
    context.close()


def test_dashboard_on_a_phone(served: Seeded, browser):
    from playwright.sync_api import expect

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
    for name, path in [
        ("queue", "/dashboard/submissions"),
        ("detail", f"/dashboard/submissions/{served.ids['drain']}"),
        ("plan", "/dashboard/plan/?strategy=LPN-S7"),
        ("project", f"/dashboard/plan/projects/{served.project_id}"),
        ("exports", "/dashboard/exports/"),
        ("overview", "/dashboard/overview/"),
    ]:
        page.goto(path)
        expect(page.locator("main h1").first).to_be_visible()
        # Nothing forces the page wider than the phone (tables scroll inside their box).
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 1, f"{name} is {overflow}px wider than the screen"
        page.screenshot(path=str(SHOTS / f"ruamkid-dashboard-phone-{name}.png"), full_page=True)
        page.screenshot(path=str(SHOTS / f"ruamkid-dashboard-phone-{name}-top.png"))
    assert page.evaluate("typeof window.__xss") == "undefined"
    context.close()
