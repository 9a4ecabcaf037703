"""A real Open311 client from PyPI (``georeport``) reads our API from a live server on
127.0.0.1, in JSON and in XML; a partner app files a need with ``requests`` (the client only
reads) and the client then finds it by its tracking number."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import requests
from georeport import GeoReport
from werkzeug.serving import make_server


@pytest.fixture
def live(app) -> Iterator[str]:
    """Serve ``app`` on a free port of 127.0.0.1; return the Open311 root address."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/open311/v2"
    server.shutdown()
    thread.join(5)
    server.server_close()


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_georeport_client_reads_what_a_partner_filed(live, api_key, fmt):
    client = GeoReport(live, output_format=fmt)
    services = client.get_service_list()
    codes = [s["service_code"] for s in services]
    assert "LPN-S7.3" in codes and len(codes) > 10
    definition = client.get_service_definition("LPN-S7.3")
    assert definition["service_code"] == "LPN-S7.3"

    filed = requests.post(
        f"{live}/requests.{fmt}",
        data={"api_key": api_key, "service_code": "LPN-S7.3", "lat": "18.58", "long": "99.0"},
        timeout=10,
    )
    assert filed.status_code == 201
    tracking = (
        filed.json()[0]["service_request_id"]
        if fmt == "json"
        else filed.text.split("<service_request_id>")[1].split("<")[0]
    )
    one = client.get_service_request(tracking)
    assert one["service_request_id"] == tracking and one["status"] == "open"
    found = client.get_service_requests(service_request_id=tracking, status="open")
    found = found if isinstance(found, list) else [found]  # xmltodict: one item is a dict
    assert [r["service_request_id"] for r in found] == [tracking]
    with pytest.raises(requests.HTTPError) as missing:
        client.get_service_request("LPN-69-999999")
    assert missing.value.response.status_code == 404
