"""A partner app's reporter (email, names, phone) and the need's words and place go when the
need is erased (the retention period), searched for in every column of every table."""

from __future__ import annotations

from datetime import timedelta

from bot.db import session_factory
from bot.needs import erasure
from storage.base import utcnow
from tests.needs.test_erasure_leaves_nothing import where_found


def test_retention_erases_what_a_partner_app_sent(app, client, api_key, caplog):
    markers = {
        "email": "mkreporter1@example.com",
        "first": "mkfirstname1",
        "last": "mklastname1",
        "phone": "+66 81 555 0142",
        "text": "mkwords1 ถนนพัง",
        "address": "mkaddress1 ซอย 9",
    }
    answer = client.post(
        "/open311/v2/requests.json",
        data={
            "api_key": api_key,
            "service_code": "LPN-S7.1",
            "lat": "18.5801",
            "long": "99.0012",
            "description": markers["text"],
            "address_string": markers["address"],
            "email": markers["email"],
            "first_name": markers["first"],
            "last_name": markers["last"],
            "phone": markers["phone"],
        },
    )
    assert answer.status_code == 201
    logs = caplog.text
    assert set(where_found(app, markers, logs)) == set(markers)  # planted, and seen
    with session_factory(app)() as session:
        assert erasure.erase_older_than(session, utcnow() + timedelta(seconds=1), "/nonexistent")
        session.commit()
    assert where_found(app, markers, caplog.text) == {}
