"""Survey calls against Prism serving LINE's own OpenAPI spec: quota, multicast, the messages."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid

import pytest
from sqlalchemy import select

from bot.line.api import LineApi, Quota
from bot.line.worker import Worker
from bot.surveys import messages as m
from bot.surveys import sending
from storage.models import OutboxMessage
from tests.contract.conftest import prism_url  # noqa: F401 -- the shared Prism fixture

pytestmark = pytest.mark.prism

LARGEST = [
    {
        "type": "single",
        "text": "ตัวเลือกมากที่สุด",
        "options": [f"ตัวเลือกที่ {n:02d} ยาวพอดี"[:20] for n in range(12)],
        "required": False,
    },
    {"type": "multiple", "text": "เลือกหลายข้อ", "options": [f"ข้อ {n}" for n in range(12)]},
    {"type": "rating", "text": "ให้คะแนน", "required": False},
    {"type": "text", "text": "ข้อเสนอแนะ", "required": False},
]


@pytest.fixture
def prism_api(prism_url: str):  # noqa: F811
    api = LineApi("contract-token", host=prism_url, timeout=10)
    yield api
    api.close()


def test_quota_is_read_from_the_spec(prism_api):
    quota = prism_api.quota()
    assert isinstance(quota, Quota) and isinstance(quota.used, int)


def test_queued_multicasts_and_every_survey_message_fit_the_spec(
    app, session, communities, make_resident, make_survey, prism_api, monkeypatch
):
    monkeypatch.setattr(sending, "CHUNK", 3)
    for _ in range(7):
        make_resident(communities[0])
    survey = make_survey([communities[0]], questions=LARGEST)
    sending.queue_survey(session, survey, lambda: Quota(limit=None, used=0))
    session.commit()
    Worker(app, name="prism-worker", api=prism_api).drain()
    rows = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    session.expire_all()
    assert [(r.kind, len(r.to)) for r in rows] == [
        ("multicast", 3),
        ("multicast", 3),
        ("multicast", 1),
    ]
    assert {r.status for r in session.scalars(select(OutboxMessage))} == {"sent"}

    # Each question (up to 13 quick-reply buttons) and the summary pass the spec's checks.
    user = "U" + "1" * 32
    single, multiple = survey.questions[:2]
    ticked = [o.id for o in multiple.options]
    batch = [m.question_message(survey, q) for q in survey.questions]
    batch.append(m.question_message(survey, multiple, ticks=ticked))
    batch.append(m.summary_message(survey, {}))
    assert len(batch[0]["quickReply"]["items"]) == 13 and len(batch[1]["quickReply"]["items"]) == 13
    for start in range(0, len(batch), 5):
        prism_api.push(user, batch[start : start + 5], "5d7f1c1e-3a4b-4c6d-8e9f-0a1b2c3d4e5f")


def test_prism_rejects_what_breaks_the_spec(prism_url):  # noqa: F811
    """The contract check can fail: a 14-button quick reply or 501 recipients are refused."""
    items = [
        {"type": "action", "action": {"type": "postback", "label": f"{n}", "data": f"sv=1&o={n}"}}
        for n in range(14)
    ]
    too_many_buttons = {
        "to": ["U" + "2" * 32],
        "messages": [{"type": "text", "text": "เกินขีดจำกัด", "quickReply": {"items": items}}],
    }
    too_many_people = {"to": ["U" + "2" * 32] * 501, "messages": [m.text_message("x")]}
    for body in (too_many_buttons, too_many_people):
        request = urllib.request.Request(  # noqa: S310 -- Prism on 127.0.0.1
            f"{prism_url}/v2/bot/message/multicast",
            data=json.dumps(body).encode(),
            headers={
                "Content-Type": "application/json",
                "Authorization": "Bearer contract-token",
                "X-Line-Retry-Key": str(uuid.uuid4()),
            },
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)  # noqa: S310 -- 127.0.0.1 only
        refused.value.close()
        assert refused.value.code == 400
        assert "maxItems" in refused.value.headers.get("sl-violations", "")
    # Our builders never make such requests: at most 13 buttons, at most 500 ids a chunk.
    assert len(m.text_message("x", items)["quickReply"]["items"]) == 13
    assert sending.CHUNK == 500
