"""The public pages in Debian's Chromium at a 390×844 phone: nothing wider than the screen on
any page, and the map drawn without tiles (none configured, or tiles that cannot load).
Screenshots go to /tmp/ruamkid-public-*.png."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.conftest import ACCESS_TOKEN, CHANNEL_SECRET, LineStandIn
from tests.e2e.conftest import ruamkid_server

pytestmark = pytest.mark.browser

LONG_WORDS = "ขอให้ซ่อมท่อระบายน้ำที่อุดตันบริเวณหน้าตลาดสดและทางเท้าที่แตกชำรุดยาวต่อเนื่อง" * 3


def _seed(database_url: str) -> int:
    """Communities with centres, 60 needs (some placed, some published) and a project."""
    from bot.municipality import load_municipality
    from bot.setup import seed_communities
    from storage import plan
    from storage.base import utcnow
    from storage.db import make_engine, make_session_factory
    from storage.migrate import upgrade
    from storage.models import Community, Submission

    upgrade(database_url)
    engine = make_engine(database_url)
    with make_session_factory(engine)() as session:
        seed_communities(session, load_municipality())
        session.flush()
        communities = session.query(Community).order_by(Community.position).all()
        for i, community in enumerate(communities):
            community.latitude = 18.565 + 0.002 * i
            community.longitude = 98.995 + 0.0015 * (i % 7)
        now = utcnow()
        needs = []
        for n in range(60):
            needs.append(
                Submission(
                    tracking_no=f"LPN-69-{n + 1:06d}",
                    text=LONG_WORDS,
                    publishable=n % 3 == 0,
                    strategy="LPN-S7",
                    subarea="LPN-S7.1",
                    kind="need",
                    status=("new", "reviewing", "planned", "done")[n % 4],
                    community_id=communities[n % len(communities)].id,
                    latitude=18.5741 + n * 0.0003 if n % 2 else None,
                    longitude=99.0087 if n % 2 else None,
                    created_at=now - timedelta(days=n),
                )
            )
        session.add_all(needs)
        session.flush()
        project = plan.create_project(
            session,
            strategy="LPN-S7",
            programme="อุตสาหกรรมและการโยธา",
            name="ก่อสร้างรางระบายน้ำ คสล. พร้อมบ่อพักและฝาตะแกรงเหล็กหล่อ ซอย 3 ชุมชนจามเทวี",
            division="กองช่าง",
            budgets={2569: "1,500,000", 2570: "2,750,000.50"},
        )
        for need in needs[:6]:
            session.add(plan.ProjectNeed(project=project, submission_id=need.id, linked_by="x"))
        plan.set_progress(project, execution="in_progress", percent_done=35, spent="480000")
        plan.add_milestone(session, project, held_on=date(2026, 11, 2), title="ลงนามสัญญาจ้าง")
        session.commit()
        project_id = project.id
    engine.dispose()
    return project_id


@pytest.fixture(
    params=["off", "http://127.0.0.1:9/{z}/{x}/{y}.png"], ids=["no-tiles", "dead-tiles"]
)
def served(
    request, tmp_path: Path, model_dir: Path, line_api: LineStandIn
) -> Iterator[tuple[str, int]]:
    """Run ``ruamkid serve`` with no tile URL, or one that cannot be reached."""
    line_api.install_defaults()
    database_url = f"sqlite:///{tmp_path / 'public.db'}"
    project_id = _seed(database_url)
    env = {
        "DATABASE_URL": database_url,
        "SECRET_KEY": "e2e-secret-" + "k" * 40,
        "LINE_CHANNEL_SECRET": CHANNEL_SECRET,
        "LINE_CHANNEL_ACCESS_TOKEN": ACCESS_TOKEN,
        "LINE_API_HOST": line_api.url,
        "MODEL_DIR": str(model_dir),
        "TILE_URL": request.param,
    }
    with ruamkid_server(tmp_path, env, "/public/track") as url:
        yield url, project_id


def test_public_pages_fit_a_phone_and_the_map_works_offline(served, chromium, request):
    from playwright.sync_api import expect

    url, project_id = served
    context = chromium.new_context(base_url=url, viewport={"width": 390, "height": 844})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    tag = request.node.callspec.id
    for path in (
        "/public/",
        "/public/?strategy=LPN-S7&page=2",
        "/public/track/LPN-69-000001",
        "/public/projects",
        f"/public/projects/{project_id}",
        "/public/strategies/LPN-S7",
        "/public/follow-up",
    ):
        page.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, (path, width)
    page.goto("/public/")
    box = page.get_by_test_id("public-map")
    # 14 communities + the 50 listed needs (at their cell, or their community's centre)
    expect(box).to_have_attribute("data-ready", "64")
    expect(box).to_have_attribute("data-offline", "1", timeout=30_000)
    assert page.locator(".leaflet-tooltip").count() == 14
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=f"/tmp/ruamkid-public-{tag}.png", full_page=False)
    assert errors == []
    context.close()
