"""Nothing personal leaks from any route anyone may call without signing in.

A database full of personal data (residents' names and LINE ids, unpublished words, addresses,
photos, exact coordinates, staff names and notes, Open311 reporters' email, names and phones)
is planted through the product's own paths; then every GET rule of ``app.url_map`` is called
by an anonymous visitor, with every value its arguments can take here (tracking numbers,
service codes, formats, project ids, open-data files), redirects followed, and each answer
(body, XLSX members, headers) is searched for every marker.
"""

from __future__ import annotations

import io
import itertools
import uuid
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.routing import BuildError

from bot.db import session_factory
from bot.needs import actions
from bot.opendata import dump as opendata
from storage import open311
from storage.models import Community, Media, Resident, Submission
from storage.plan import Project, ProjectBudget

LAT, LON = "18.578391", "99.008123"


def _marker(name: str) -> str:
    return f"mk{uuid.uuid4().hex[:8]}{name}"


@pytest.fixture
def app_config(app_config):
    # The walk calls hundreds of URLs from one address.
    return {**app_config, "RATELIMIT_ENABLED": False, "PUBLIC_RATE_LIMIT": 0}


@pytest.fixture
def planted(app, client, make_user, login):
    """Plant every kind of personal data; return the markers and the values for URLs."""
    m = {
        name: _marker(name)
        for name in (
            "display", "text", "address", "photo", "public_note", "internal_note", "agency",
            "staff", "staffuser", "email", "first", "last", "o311text", "o311address",
        )
    }  # fmt: skip
    m["line_id"] = "U" + uuid.uuid4().hex
    m["phone"] = "089-765-4321"
    m["o311phone"] = "+66 81 555 0199"
    media = app.config["MEDIA_DIR"]
    with session_factory(app)() as session:
        community = session.scalars(select(Community)).first()
        resident = Resident(
            line_user_id=m["line_id"],
            display_name=m["display"],
            consent="given",
            community=community,
        )
        session.add(resident)
        session.flush()
        private = actions.create_need(
            session, resident, prefix="LPN", text=f"{m['text']} โทร {m['phone']}"
        )
        private.strategy, private.subarea, private.kind = "LPN-S7", "LPN-S7.3", "complaint"
        actions.set_place(private, float(LAT), float(LON), m["address"])
        photo = f"photos/{m['photo']}.jpg"
        (Path(media) / "photos").mkdir(parents=True, exist_ok=True)
        (Path(media) / photo).write_bytes(m["photo"].encode())
        session.add(Media(submission=private, status="stored", path=photo, line_message_id="1"))
        shared = actions.create_need(
            session, resident, prefix="LPN", text=f"ไฟดับหน้าวัด โทร {m['phone']}"
        )
        shared.strategy, shared.subarea, shared.kind = "LPN-S7", "LPN-S7.3", "complaint"
        shared.publishable = True
        project = Project(strategy="LPN-S7", programme="เคหะและชุมชน", name="ติดตั้งไฟถนน")
        project.budgets.append(ProjectBudget(year=2569, amount=Decimal("50000")))
        session.add(project)
        _row, key = open311.issue_key(session, "แอปพันธมิตร")
        session.commit()
        ids = {"private": private.id, "shared": shared.id, "project": project.id}
    staff = make_user("staff", username=m["staffuser"])
    with session_factory(app)() as session:
        user = session.get(type(staff), staff.id)
        user.display_name = m["staff"]
        session.commit()
    staff_client = app.test_client()
    login(staff_client, staff)
    base = f"/dashboard/submissions/{ids['private']}"
    staff_client.post(
        f"{base}/status",
        data={
            "status": "out_of_scope",
            "detail": m["agency"],
            "public_note": m["public_note"],
            "internal_note": m["internal_note"],
        },
    )
    staff_client.post(
        f"/dashboard/submissions/{ids['shared']}/status", data={"status": "reviewing"}
    )
    filed = client.post(
        "/open311/v2/requests.json",
        data={
            "api_key": key,
            "service_code": "LPN-S7.2",
            "lat": LAT,
            "long": LON,
            "address_string": m["o311address"],
            "description": m["o311text"],
            "email": f"{m['email']}@example.com",
            "first_name": m["first"],
            "last_name": m["last"],
            "phone": m["o311phone"],
        },
    )
    assert filed.status_code == 201, filed.get_data(as_text=True)
    with session_factory(app)() as session:
        project = session.get(Project, ids["project"])
        actions.link_need(
            session, project, session.get(Submission, ids["private"]), actor=f"user:{staff.id}"
        )
        session.commit()
        trackings = list(session.scalars(select(Submission.tracking_no)))
    opendata.dump(app)
    values = {
        "tracking": trackings,
        "code": ["LPN-S7", "LPN-S7.3", "LPN-S7.2"],
        "fmt": ["json", "xml"],
        "name": list(opendata.FILES),
        "project_id": [ids["project"]],
        "milestone_id": [1],
    }
    secrets = {**m, "lat": LAT, "lon": LON, "lat5": LAT[:8], "lon5": LON[:8]}
    return secrets, values


def _texts(body: bytes) -> str:
    """The answer as text; an XLSX (zip) as its members' text."""
    if body[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(body)) as book:
            return "\n".join(book.read(n).decode("utf-8", "replace") for n in book.namelist())
    return body.decode("utf-8", "replace")


def _urls(app, values) -> list[tuple[str, str]]:
    """(endpoint, URL) for every GET rule with every value its arguments can take here."""
    urls = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "GET" not in (rule.methods or ()) or rule.endpoint == "static":
                continue
            names = sorted(rule.arguments)
            pools = [values.get(n, [1]) for n in names]
            for combo in itertools.product(*pools):
                try:
                    url = app.url_for(rule.endpoint, **dict(zip(names, combo, strict=True)))
                except BuildError:
                    continue
                urls.append((rule.endpoint, url))
    return urls


def test_no_public_route_leaks_personal_data(app, planted):
    secrets, values = planted
    client = app.test_client()  # anonymous: no staff session
    public: set[str] = set()
    extra = [
        ("open311.requests_list", f"/open311/v2/requests.json?service_request_id={t}")
        for t in values["tracking"]
    ] + [
        ("open311.requests_list", "/open311/v2/requests.xml?status=open,closed&page_size=500"),
        ("public.index", "/public/?status=out_of_scope"),
    ]
    calls = _urls(app, values) + extra
    leaks = []
    for endpoint, url in calls:
        with client.get(url, follow_redirects=True) as answer:
            text = _texts(answer.get_data()) + "\n" + str(answer.headers)
            if answer.status_code == 200 and answer.request.path != "/dashboard/login":
                public.add(endpoint)
        leaks += [(url, name) for name, secret in secrets.items() if secret in text]
    assert leaks == []
    # The walk saw the public surfaces with data in them, and the dashboard stayed shut.
    for endpoint in (
        "open311.discovery",
        "open311.services",
        "open311.requests_list",
        "open311.request_detail",
        "opendata.index",
        "opendata.file",
        "public.index",
        "public.track",
    ):
        assert endpoint in public, endpoint
    assert not any(e.startswith(("queue.", "admin.", "plan.", "open311_keys.")) for e in public)
    assert len(calls) > 60


def test_public_words_hide_phone_numbers(app, planted):
    secrets, values = planted
    client = app.test_client()
    body = client.get("/open311/v2/requests.json").get_data(as_text=True)
    assert "ไฟดับหน้าวัด" in body  # staff made these words public
    assert secrets["phone"] not in body
