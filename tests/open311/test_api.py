"""Open311 GeoReport v2: discovery, services, requests (search and one), filing with a key,
in JSON and XML, with the spec's fields and its errors (400/403/404 as ``{code, description}``)."""

from __future__ import annotations

from datetime import timedelta
from xml.etree import ElementTree

import pytest
from sqlalchemy import select

from bot.cli import main
from bot.needs import actions
from storage.base import utcnow
from storage.models import Submission
from storage.open311 import Open311Reporter
from storage.public import snap

# GeoReport v2's field lists (http://wiki.open311.org/GeoReport_v2).
SERVICE_FIELDS = {
    "service_code", "service_name", "description", "metadata", "type", "keywords", "group",
}  # fmt: skip
REQUEST_FIELDS = {
    "service_request_id", "status", "status_notes", "service_name", "service_code",
    "description", "agency_responsible", "service_notice", "requested_datetime",
    "updated_datetime", "expected_datetime", "address", "address_id", "zipcode", "lat", "long",
    "media_url",
}  # fmt: skip
BASE = "/open311/v2"
PLACE = {"lat": "18.578391", "long": "99.008123"}


def post(client, key: str | None, **fields):
    data = {"service_code": "LPN-S7.3", **PLACE, **fields}
    if key is not None:
        data["api_key"] = key
    return client.post(f"{BASE}/requests.json", data=data)


def test_discovery_names_the_spec_and_both_formats(client):
    data = client.get(f"{BASE}/discovery.json").get_json()
    endpoint = data["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://localhost/open311/v2"
    assert endpoint["formats"] == ["application/json", "text/xml"]
    root = ElementTree.fromstring(client.get(f"{BASE}/discovery.xml").data)
    assert root.tag == "discovery"
    formats = [f.text for f in root.find("endpoints/endpoint/formats")]
    assert formats == ["application/json", "text/xml"]


def test_services_are_the_taxonomys_subareas(app, client):
    from bot.needs.classification import taxonomy

    with app.app_context():
        codes = list(taxonomy(app).subarea_codes)
    services = client.get(f"{BASE}/services.json").get_json()
    assert [s["service_code"] for s in services] == codes
    assert all(set(s) == SERVICE_FIELDS for s in services)
    drains = next(s for s in services if s["service_code"] == "LPN-S7.2")
    assert drains["group"] == "ด้านโครงสร้างพื้นฐาน ทรัพยากรธรรมชาติและสิ่งแวดล้อม"
    assert drains["metadata"] is False
    root = ElementTree.fromstring(client.get(f"{BASE}/services.xml").data)
    assert root.tag == "services"
    assert [s.findtext("service_code") for s in root.findall("service")] == codes
    assert root.find("service/metadata").text == "false"


def test_service_definition_and_unknown_service(client):
    assert client.get(f"{BASE}/services/LPN-S7.3.json").get_json() == {
        "service_code": "LPN-S7.3",
        "attributes": [],
    }
    missing = client.get(f"{BASE}/services/NOPE.json")
    assert missing.status_code == 404
    assert missing.get_json()[0]["code"] == 404
    xml = client.get(f"{BASE}/services/NOPE.xml")
    root = ElementTree.fromstring(xml.data)
    assert xml.status_code == 404 and root.tag == "errors"
    assert root.findtext("error/code") == "404" and root.findtext("error/description")


def test_filing_with_a_key_goes_to_the_queue_with_its_tracking_number(app, client, api_key):
    answer = post(
        client,
        api_key,
        description="ไฟถนนดับทั้งซอย มืดมากตอนกลางคืน",
        address_string="ซอย 3 ถนนจามเทวี",
        email="somchai@example.com",
        first_name="สมชาย",
        last_name="ใจดี",
        phone="081-234-5678",
        service_code="LPN-S7.3",
    )
    assert answer.status_code == 201, answer.get_data(as_text=True)
    [created] = answer.get_json()
    tracking = created["service_request_id"]
    with app.app_context():
        from bot.db import get_session

        session = get_session()
        need = session.scalar(select(Submission).where(Submission.tracking_no == tracking))
        assert need.source == "open311"
        assert (need.strategy, need.subarea) == ("LPN-S7", "LPN-S7.3")
        assert need.kind != "other" and need.status == "new" and need.model_version
        assert (need.latitude, need.longitude) == (18.578391, 99.008123)
        assert need.address == "ซอย 3 ถนนจามเทวี"
        # Routed to its division on arrival, as a LINE need is.
        assert [e.action for e in need.history] == ["created", "route"]
        assert need.division_id is not None
        assert need.history[0].actor.startswith("open311:")
        reporter = session.scalar(select(Open311Reporter))
        assert (reporter.submission_id, reporter.email, reporter.phone) == (
            need.id,
            "somchai@example.com",
            "081-234-5678",
        )
    # Read back anonymised: no words (not publishable), no address, the grid's place.
    [public] = client.get(f"{BASE}/requests/{tracking}.json").get_json()
    assert set(public) == REQUEST_FIELDS
    assert public["status"] == "open" and public["service_code"] == "LPN-S7.3"
    assert public["description"] is None and public["address"] is None
    assert (public["lat"], public["long"]) == (snap(18.578391), snap(99.008123))
    body = client.get(f"{BASE}/requests/{tracking}.xml").get_data(as_text=True)
    for secret in ("somchai", "สมชาย", "081-234-5678", "มืดมาก", "ซอย 3", "18.578391"):
        assert secret not in body


def test_a_need_without_words_is_filed_in_the_apps_category(app, client, api_key):
    answer = post(client, api_key, service_code="LPN-S7.2")
    assert answer.status_code == 201
    tracking = answer.get_json()[0]["service_request_id"]
    [public] = client.get(f"{BASE}/requests/{tracking}.json").get_json()
    assert public["service_code"] == "LPN-S7.2"


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"service_code": ""}, "service_code is required"),
        ({"service_code": "LPN-S99.9"}, "not found"),
        ({"lat": "", "long": ""}, "location is required"),
        ({"lat": "18.5", "long": ""}, "go together"),
        ({"lat": "north"}, "lat is not a number"),
        ({"long": "181"}, "long is out of range"),
        ({"email": "not-an-email"}, "email"),
        ({"phone": "12ab"}, "phone"),
        ({"description": "ก" * 4001}, "description is longer than 4000"),
        ({"first_name": "ก" * 101}, "first_name is longer"),
    ],
)
def test_bad_fields_are_400_in_the_specs_shape(app, client, api_key, fields, words):
    answer = post(client, api_key, **fields)
    assert answer.status_code == 400
    [problem] = answer.get_json()
    assert problem["code"] == 400 and words in problem["description"]
    with app.app_context():
        from bot.db import get_session

        assert get_session().scalar(select(Submission)) is None


def test_filing_needs_a_live_key(app, client, runner, api_key):
    assert post(client, None).status_code == 403
    assert post(client, "made-up").get_json()[0]["code"] == 403
    assert post(client, api_key).status_code == 201
    result = runner.invoke(main, args=["open311", "keys", "revoke", "1"])
    assert result.exit_code == 0, result.output
    refused = client.post(f"{BASE}/requests.xml", data={"api_key": api_key, **PLACE})
    assert refused.status_code == 403
    assert ElementTree.fromstring(refused.data).findtext("error/code") == "403"


def test_search_filters_by_service_status_and_dates_with_pages(app, client, make_submission):
    now = utcnow()
    with app.app_context():
        from bot.db import get_session

        session = get_session()
        old = make_submission(session, created_at=now - timedelta(days=200), subarea="LPN-S7.3")
        lights = [make_submission(session, subarea="LPN-S7.3") for _ in range(3)]
        drain = make_submission(session, subarea="LPN-S7.2", strategy="LPN-S7")
        actions.change_status(session, lights[0], "done", actor="user:1")
        session.commit()
        ids = {n.id: n.tracking_no for n in [old, *lights, drain]}

    def found(**query) -> list[str]:
        answer = client.get(f"{BASE}/requests.json", query_string=query)
        assert answer.status_code == 200, answer.get_data(as_text=True)
        return [r["service_request_id"] for r in answer.get_json()]

    recent = [ids[n.id] for n in [drain, *reversed(lights)]]
    assert found() == recent  # the last 90 days by default, newest first
    assert found(service_code="LPN-S7.2") == [ids[drain.id]]
    assert found(service_code="LPN-S7.2,LPN-S7.3") == recent
    assert found(status="closed") == [ids[lights[0].id]]
    assert ids[lights[0].id] not in found(status="open")
    since = (now - timedelta(days=365)).isoformat()
    until = (now - timedelta(days=100)).isoformat()
    assert found(start_date=since, end_date=until) == [ids[old.id]]
    assert found(start_date=since) == [*recent, ids[old.id]]
    assert found(page_size="2") == recent[:2]
    assert found(page_size="2", page="2") == recent[2:]
    assert found(service_request_id=f"{ids[drain.id]},{ids[old.id]},LPN-69-999999") == [
        ids[drain.id],
        ids[old.id],
    ]
    closed = client.get(f"{BASE}/requests/{ids[lights[0].id]}.json").get_json()[0]
    assert (closed["status"], closed["status_notes"]) == ("closed", "เสร็จสิ้น")
    root = ElementTree.fromstring(client.get(f"{BASE}/requests.xml").data)
    assert root.tag == "service_requests"
    assert {child.tag for child in root.find("request")} == REQUEST_FIELDS


@pytest.mark.parametrize(
    "query",
    [{"status": "pending"}, {"start_date": "yesterday"}, {"page": "0"}, {"page_size": "9999"}],
)
def test_bad_searches_are_400(client, query):
    answer = client.get(f"{BASE}/requests.json", query_string=query)
    assert answer.status_code == 400
    assert answer.get_json()[0]["code"] == 400


def test_unknown_request_and_format_are_404(client):
    assert client.get(f"{BASE}/requests/LPN-69-000404.json").get_json()[0]["code"] == 404
    assert client.get(f"{BASE}/services.csv").status_code == 404
