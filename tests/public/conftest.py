"""Public pages' fixtures: a small town of needs and projects with personal data planted."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from storage import plan as store
from storage.models import Community, Resident, Submission, SubmissionEvent

NAME = "สมหญิง ใจดีมาก"
LINE_ID = "U0123456789abcdef0123456789abcdef"
SECRET = "ท่อแตกหน้าบ้านเลขที่ 99/9"
PUBLISHED = "ขอไฟส่องสว่างถนนรอบคูเมือง"
T0 = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)


@pytest.fixture
def app_config(app_config):
    """No map tiles (the offline office) unless a test sets them."""
    return {**app_config, "TILE_URL": "", "WTF_CSRF_ENABLED": False}


@pytest.fixture
def town(app, session):
    """Two communities with centres, a resident with a name, needs and one linked project."""
    communities = list(session.scalars(select(Community).order_by(Community.position)))
    first, second = communities[0], communities[1]
    first.latitude, first.longitude = 18.5801, 99.0012
    second.latitude, second.longitude = 18.5702, 99.0155
    resident = Resident(line_user_id=LINE_ID, display_name=NAME, consent="given")
    session.add(resident)
    session.flush()
    needs = []
    for n in range(1, 6):
        needs.append(
            Submission(
                tracking_no=f"LPN-69-{n:06d}",
                resident=resident,
                community_id=(first if n % 2 else second).id,
                text=PUBLISHED if n == 2 else SECRET,
                publishable=n == 2,
                strategy="LPN-S7",
                subarea="LPN-S7.3",
                kind="need",
                status="new",
                latitude=18.578391 if n == 1 else None,
                longitude=99.008123 if n == 1 else None,
                created_at=T0 + timedelta(days=n),
            )
        )
    session.add_all(needs)
    session.flush()
    session.add(
        SubmissionEvent(
            submission=needs[0],
            actor="user:1",
            action="status",
            at=T0 + timedelta(days=9),
            detail={"from": "new", "to": "planned"},
            public_note=f"เรียนคุณ{NAME}",
            internal_note=SECRET,
        )
    )
    needs[0].status = "planned"
    project = store.create_project(
        session,
        strategy="LPN-S7",
        programme="อุตสาหกรรมและการโยธา",
        name="ก่อสร้างรางระบายน้ำซอย 3",
        division="กองช่าง",
        budgets={2569: "1,500,000", 2570: "500,000"},
        created_by="user:1",
    )
    for need in needs[:2]:
        session.add(store.ProjectNeed(project=project, submission_id=need.id, linked_by="user:1"))
    store.set_progress(project, execution="in_progress", percent_done=40, spent="600000")
    store.add_milestone(
        session, project, held_on=date(2026, 11, 20), title="เริ่มขุดวางท่อ", created_by="user:1"
    )
    session.commit()
    return {"needs": needs, "project": project, "first": first, "second": second}


@pytest.fixture
def budget_total() -> Decimal:
    return Decimal("2000000")
