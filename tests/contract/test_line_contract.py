"""Every kind of call the bot makes to LINE, checked by Prism against LINE's OpenAPI spec.

Prism answers 400/401/422 to a request that breaks the spec, so a call that succeeds here has
the shape LINE expects. The conversation's real messages (quick replies, Flex) are sent through
the worker with ``LINE_API_HOST`` pointing at Prism.
"""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select

from bot.line.api import LineApi, PermanentLineError
from storage.models import InboxEvent, OutboxMessage, Submission
from tests import line_events

pytestmark = pytest.mark.prism

USER = "U" + "4" * 32
TEXT = [{"type": "text", "text": "เรื่องของท่านได้รับแล้วค่ะ"}]
QUICK_REPLY = {
    "items": [
        {"type": "action", "action": {"type": "camera", "label": "ถ่ายรูป"}},
        {"type": "action", "action": {"type": "location", "label": "ส่งตำแหน่ง"}},
        {
            "type": "action",
            "action": {
                "type": "postback",
                "label": "เสร็จ",
                "data": "a=done",
                "displayText": "เสร็จ",
            },
        },
        {"type": "action", "action": {"type": "message", "label": "ติดตาม", "text": "ติดตามเรื่อง"}},
    ]
}


@pytest.fixture
def api(prism_url: str) -> Iterator[LineApi]:
    """The bot's LINE facade talking to Prism."""
    facade = LineApi("contract-test-token", prism_url, timeout=10.0)
    yield facade
    facade.close()


def _raw_post(url: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> int:
    """POST JSON without the SDK (which refuses some bad requests before sending them)."""
    request = urllib.request.Request(  # noqa: S310 -- Prism on 127.0.0.1
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as error:
        error.close()
        return error.code


# --- each call of bot/line/api.py ------------------------------------------------------------


def test_reply_with_quick_replies(api):
    api.reply("nHuyWiB7yP5Zw52FIkcQobQuGDXCTA", [{**TEXT[0], "quickReply": QUICK_REPLY}])


def test_push_with_retry_key(api):
    api.push(USER, TEXT, str(uuid.uuid4()))


def test_multicast_with_retry_key(api):
    api.multicast([USER, "U" + "5" * 32], TEXT, str(uuid.uuid4()))


def test_content_download(api):
    data, content_type = api.content("325708")
    assert isinstance(data, bytes) and data
    assert content_type


def test_profile(api):
    assert api.display_name(USER)


def test_quota(api):
    quota = api.quota()
    assert quota.used >= 0
    assert quota.limit is None or quota.limit >= 0


def test_rich_menu_creation_image_and_default(api):
    image = io.BytesIO()
    Image.new("RGB", (2500, 843), "#06c755").save(image, "PNG")
    menu = {
        "size": {"width": 2500, "height": 843},
        "selected": True,
        "name": "ruamkid",
        "chatBarText": "เมนู",
        "areas": [
            {
                "bounds": {"x": 625 * i, "y": 0, "width": 625, "height": 843},
                "action": {"type": "message", "label": label, "text": label},
            }
            for i, label in enumerate(("แจ้งเรื่อง", "ติดตามเรื่อง", "แบบสำรวจ", "ข้อมูลของฉัน"))
        ],
    }
    assert api.create_rich_menu(menu, image.getvalue())


# --- Prism is a real check -------------------------------------------------------------------


def test_more_than_five_messages_are_refused(prism_url):
    body = {"to": USER, "messages": TEXT * 6}
    auth = {"Authorization": "Bearer contract-test-token"}
    assert _raw_post(f"{prism_url}/v2/bot/message/push", body, auth) == 400
    assert _raw_post(f"{prism_url}/v2/bot/message/push", {**body, "messages": TEXT}, auth) == 200


def test_more_than_thirteen_quick_replies_are_refused(prism_url):
    items = [
        {"type": "action", "action": {"type": "message", "label": f"{i}", "text": f"{i}"}}
        for i in range(14)
    ]
    body = {"to": USER, "messages": [{**TEXT[0], "quickReply": {"items": items}}]}
    auth = {"Authorization": "Bearer contract-test-token"}
    assert _raw_post(f"{prism_url}/v2/bot/message/push", body, auth) == 400
    body["messages"][0]["quickReply"]["items"] = items[:13]
    assert _raw_post(f"{prism_url}/v2/bot/message/push", body, auth) == 200


def test_a_retry_key_that_is_not_a_uuid_is_refused(api):
    with pytest.raises(PermanentLineError) as error:
        api.push(USER, TEXT, "not-a-uuid")
    assert error.value.status == 400


def test_a_missing_token_is_refused(prism_url):
    assert _raw_post(f"{prism_url}/v2/bot/message/push", {"to": USER, "messages": TEXT}) == 401


# --- the conversation's real messages ----------------------------------------------------------


@pytest.fixture
def app_config(app_config: dict[str, Any], prism_url: str) -> dict[str, Any]:
    """The app sends everything to Prism instead of the pytest-httpserver stand-in."""
    return {**app_config, "LINE_API_HOST": prism_url}


def _actions(node: Any) -> Iterator[dict[str, Any]]:
    """Every LINE action in messages: quick replies, Flex buttons, template actions."""
    if isinstance(node, dict):
        action = node.get("action")
        if isinstance(action, dict) and "type" in action:
            yield action
        for key, value in node.items():
            if key != "action":
                yield from _actions(value)
    elif isinstance(node, list):
        for item in node:
            yield from _actions(item)


def _latest_messages(session) -> list[dict[str, Any]]:
    session.expire_all()
    row = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    return row.messages if row else []


def _tap(line, session, *prefer: str) -> None:
    """Tap the first postback button whose label starts with one of ``prefer`` (else the first)."""
    postbacks = [a for a in _actions(_latest_messages(session)) if a["type"] == "postback"]
    if not postbacks:
        return
    chosen = next(
        (a for word in prefer for a in postbacks if a.get("label", "").startswith(word)),
        postbacks[0],
    )
    line.send(line_events.postback(chosen["data"], user_id=USER))


def test_the_conversations_messages_pass_lines_contract(line, session):
    line.send(line_events.event("follow", USER))
    _tap(line, session, "ยินยอม", "ตกลง")
    _tap(line, session, "ชุมชน")
    line.send(line_events.text("ถนนหน้าบ้านเป็นหลุมลึก รถจักรยานยนต์ล้มบ่อยมากค่ะ", user_id=USER))
    _tap(line, session, "ไม่ใช่")
    _tap(line, session)
    line.send(line_events.event("location", USER, address="ถนนอินทยงยศ ลำพูน"))
    line.send(line_events.event("image", USER))
    line.send(line_events.event("sticker", USER))
    for words in ("ติดตามเรื่อง", "ข้อมูลของฉัน", "สวัสดีค่ะ", "ขอบคุณค่ะ"):
        line.send(line_events.text(words, user_id=USER))

    submission = session.scalars(select(Submission)).first()
    if submission is not None:
        from bot.needs.actions import change_status

        change_status(session, submission, "in_progress", actor="system:contract")
        session.commit()
        line.worker.drain()

    session.expire_all()
    inbox = session.scalars(select(InboxEvent)).all()
    assert inbox and {row.status for row in inbox} == {"done"}, [r.error for r in inbox]
    outbox = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert len(outbox) >= 10
    refused = [(row.id, row.last_error) for row in outbox if row.status != "sent"]
    assert refused == [], "Prism refused messages the bot built"
    sent = [message for row in outbox for message in row.messages]
    assert any(message.get("quickReply") for message in sent)
    assert {row.sent_via for row in outbox} <= {"reply", "push"}
