"""Rate limits: public reads per client address, filing per API key; 429 in the spec's shape."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest

from bot.db import session_factory
from storage import open311


@pytest.fixture
def app_config(app_config):
    return {**app_config, "RATELIMIT_PUBLIC": "3 per minute", "RATELIMIT_PARTNER": "2 per minute"}


def _from(address: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": address}}


def test_public_reads_are_limited_per_address(client):
    for _ in range(3):
        assert client.get("/open311/v2/services.json", **_from("10.0.0.1")).status_code == 200
    refused = client.get("/open311/v2/requests.json", **_from("10.0.0.1"))
    assert refused.status_code == 429
    assert refused.get_json()[0]["code"] == 429
    assert "Retry-After" in refused.headers
    xml = client.get("/open311/v2/services.xml", **_from("10.0.0.1"))
    assert ElementTree.fromstring(xml.data).findtext("error/code") == "429"
    # Another address is not held back by the first.
    assert client.get("/open311/v2/services.json", **_from("10.0.0.2")).status_code == 200


def test_filing_is_limited_per_key(app, client):
    with session_factory(app)() as session:
        _a, first = open311.issue_key(session, "แอป ก")
        _b, second = open311.issue_key(session, "แอป ข")
        session.commit()

    def file(key: str, address: str) -> int:
        data = {"api_key": key, "service_code": "LPN-S7.3", "lat": "18.58", "long": "99.0"}
        return client.post("/open311/v2/requests.json", data=data, **_from(address)).status_code

    # One partner's key, from two addresses: two needs a minute, then 429.
    assert [file(first, "10.0.1.1"), file(first, "10.0.1.2"), file(first, "10.0.1.3")] == [
        201,
        201,
        429,
    ]
    assert file(second, "10.0.1.4") == 201  # another partner is not held back


def test_limits_can_be_turned_off(app_config, line_api):
    from bot import create_app
    from bot.db import dispose

    line_api.install_defaults()
    app = create_app({**app_config, "RATELIMIT_ENABLED": False})
    client = app.test_client()
    assert all(client.get("/open311/v2/services.json").status_code == 200 for _ in range(6))
    dispose(app)
