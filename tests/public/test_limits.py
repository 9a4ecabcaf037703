"""Each address may ask for PUBLIC_RATE_LIMIT public pages a minute; others are not affected."""

from __future__ import annotations

import pytest


@pytest.fixture
def app_config(app_config):
    return {**app_config, "PUBLIC_RATE_LIMIT": 3}


def test_each_address_is_limited(client):
    codes = [client.get("/public/projects").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    refused = client.get("/public/projects")
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    other = client.get("/public/projects", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 200
