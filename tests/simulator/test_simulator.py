"""The simulator: the Thai chat page, signed events through /callback, the LINE API stand-in."""

from __future__ import annotations

import io
import re
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from linebot.v3.webhook import WebhookParser
from sqlalchemy import select, update
from werkzeug.serving import make_server

from bot import create_app
from bot.config import ConfigError
from bot.line.api import LineApi, PermanentLineError
from bot.simulator import events as sim_events
from storage.base import utcnow
from storage.models import InboxEvent
from storage.simulator import SimulatorMessage, SimulatorReplyToken, bot_messages
from tests.conftest import JPEG, free_port


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """Simulator mode: no LINE channel, so the app signs its own events and answers as LINE."""
    config = dict(app_config)
    for key in ("LINE_CHANNEL_SECRET", "LINE_CHANNEL_ACCESS_TOKEN", "LINE_API_HOST"):
        config.pop(key)
    config["PORT"] = free_port()
    return config


@pytest.fixture
def server(app) -> Iterator[str]:
    """Serve the app on 127.0.0.1:PORT so the SDK's requests reach the built-in stand-in."""
    http = make_server("127.0.0.1", app.config["PORT"], app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{app.config['PORT']}"
    http.shutdown()
    thread.join(5)


@pytest.fixture
def api(app, server) -> Iterator[LineApi]:
    """The bot's own LINE facade, pointed (by simulator mode) at the stand-in."""
    facade = LineApi(app.config["LINE_CHANNEL_ACCESS_TOKEN"], app.config["LINE_API_HOST"], 5.0)
    yield facade
    facade.close()


def _resident(client, follow: bool = True) -> str:
    user_id = client.post("/simulator/residents", json={}).get_json()["user_id"]
    if follow:
        assert _send(client, user_id, kind="follow").status_code == 200
    return user_id


def _send(client, user_id: str, **payload: Any):
    return client.post("/simulator/send", json={"user_id": user_id, **payload})


def _chat(client, user_id: str) -> list[dict[str, Any]]:
    return client.get(f"/simulator/messages?user_id={user_id}").get_json()["messages"]


# --- the page ------------------------------------------------------------------------------


def test_page_is_a_thai_line_like_chat(app, client):
    response = client.get("/simulator")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="th">' in html
    assert app.extensions["ruamkid"].name in html
    for words in ("ผู้ใช้จำลอง", "เพิ่มเพื่อน", "พิมพ์ข้อความ", "ส่งรูปภาพ", "ส่งตำแหน่งที่ตั้ง"):
        assert words in html
    # Lamphun's default location in the form, and nothing loaded from another site.
    assert 'value="18.5776"' in html and 'value="99.0087"' in html
    assert not re.search(r"""(src|href)=["']https?://""", html)
    for asset in ("render.js", "chat.js", "chat.css"):
        with client.get(f"/static/simulator/{asset}") as static:
            assert static.status_code == 200


def test_simulator_is_absent_when_a_line_channel_is_configured(
    database_url, tmp_path, model_dir, line_api
):
    configured = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "MODEL_DIR": str(model_dir),
            "LINE_CHANNEL_SECRET": "a-real-channel-secret",
            "LINE_CHANNEL_ACCESS_TOKEN": "a-real-token",
            "INLINE_WORKER": False,
        }
    )
    client = configured.test_client()
    assert client.get("/simulator").status_code == 404
    assert client.post("/simulator/send", json={}).status_code == 404
    assert client.get("/simulator/line-api/v2/bot/message/quota").status_code == 404
    configured.extensions["ruamkid_db"].kw["bind"].dispose()


def test_production_never_runs_the_simulator(tmp_path):
    with pytest.raises(ConfigError):
        create_app(
            {
                "RUAMKID_ENV": "production",
                "SECRET_KEY": "s" * 40,
                "INSTANCE_PATH": str(tmp_path),
                "LINE_CHANNEL_ACCESS_TOKEN": "token-without-secret",
            }
        )


def test_preview_macro_escapes_residents_text(app):
    messages = [
        {"type": "text", "text": '<script>alert(1)</script> ถนน\' "พัง"'},
        {
            "type": "text",
            "text": "เลือก",
            "quickReply": {
                "items": [
                    {"type": "action", "action": {"type": "message", "label": "ใช่", "text": "ใช่"}}
                ]
            },
        },
    ]
    template = app.jinja_env.from_string(
        '{% from "simulator/macros.html" import line_preview %}{{ line_preview(messages) }}'
    )
    with app.test_request_context():
        html = template.render(messages=messages)
    assert "<script>" not in html
    assert "data-messages='" in html
    assert "'" not in html.split("data-messages='", 1)[1].rsplit("'", 1)[0]


# --- events through /callback --------------------------------------------------------------


def test_events_are_shaped_like_lines_and_signed():
    secret = "some-channel-secret"
    kinds = {
        "text": {"text": "ไฟทางดับ"},
        "image": {},
        "location": {"latitude": 18.57, "longitude": 99.0, "address": "ลำพูน", "title": "จุด"},
        "postback": {"data": "consent=yes"},
        "follow": {},
        "unfollow": {},
    }
    built = {kind: sim_events.make_event(kind, "U" + "b" * 32, **f) for kind, f in kinds.items()}
    raw = sim_events.body(*built.values())
    parsed = WebhookParser(secret).parse(raw.decode(), sim_events.sign(raw, secret))
    assert [type(e).__name__ for e in parsed] == [
        "MessageEvent",
        "MessageEvent",
        "MessageEvent",
        "PostbackEvent",
        "FollowEvent",
        "UnfollowEvent",
    ]
    for kind, event in built.items():
        assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{26}", event["webhookEventId"])
        assert event["deliveryContext"] == {"isRedelivery": False}
        assert event["mode"] == "active" and event["timestamp"] > 0
        assert ("replyToken" in event) == (kind != "unfollow")
    assert built["text"]["message"]["quoteToken"] and built["image"]["message"]["quoteToken"]
    assert built["image"]["message"]["contentProvider"] == {"type": "line"}


def test_sent_events_go_through_the_webhook_into_the_inbox(client, session):
    user_id = _resident(client)
    response = _send(client, user_id, kind="text", text="ถนนหน้าบ้านเป็นหลุมใหญ่")
    assert response.status_code == 200
    assert response.get_json()["callback_status"] == 200
    rows = session.scalars(select(InboxEvent).order_by(InboxEvent.id)).all()
    assert [(r.event_type, r.line_user_id) for r in rows] == [
        ("follow", user_id),
        ("message", user_id),
    ]
    assert rows[1].webhook_event_id == response.get_json()["event_id"]
    assert rows[1].payload["text"] == "ถนนหน้าบ้านเป็นหลุมใหญ่"
    assert rows[1].payload["reply_token"]


def test_the_bot_answers_through_the_sdk_to_the_stand_in(client, session, server, worker):
    user_id = _resident(client)
    _send(client, user_id, kind="text", text="<script>alert(1)</script>😀")
    worker.drain()
    replies = bot_messages(session, user_id)
    assert replies, "the bot's reply should reach the stand-in"
    assert {r.via for r in replies} == {"reply"}
    chat = _chat(client, user_id)
    assert [m["sender"] for m in chat[:2]] == ["resident", "resident"]
    assert chat[1]["message"] == {"type": "text", "text": "<script>alert(1)</script>😀"}
    assert chat[-1]["sender"] == "bot" and chat[-1]["message"]["type"] in {"text", "flex"}
    # Every issued reply token was used exactly once.
    tokens = session.scalars(select(SimulatorReplyToken)).all()
    assert tokens and all(t.used_at is not None for t in tokens)


def test_a_stale_reply_token_makes_the_bot_push(client, session, server, worker):
    user_id = _resident(client, follow=False)
    client.post("/simulator/send", json={"kind": "follow", "user_id": user_id})
    session.execute(update(SimulatorReplyToken).values(issued_at=utcnow() - timedelta(minutes=5)))
    session.commit()
    worker.drain()
    sent = bot_messages(session, user_id)
    assert sent and {m.via for m in sent} == {"push"}
    assert all(uuid.UUID(m.retry_key) for m in sent)


def test_photo_upload_becomes_line_message_content(client, api, session):
    user_id = _resident(client)
    response = client.post(
        "/simulator/send",
        data={"user_id": user_id, "photo": (io.BytesIO(JPEG), "photo.jpg", "image/jpeg")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    row = session.scalars(select(InboxEvent).where(InboxEvent.event_type == "message")).one()
    message_id = row.payload["message_id"]
    assert row.payload["message_type"] == "image"
    assert api.content(message_id) == (JPEG, "image/jpeg")
    assert client.get(f"/simulator/photo/{message_id}").data == JPEG


def test_photo_that_is_not_an_image_is_refused(client, session):
    user_id = _resident(client)
    response = client.post(
        "/simulator/send",
        data={"user_id": user_id, "photo": (io.BytesIO(b"<html>"), "x.jpg", "image/jpeg")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert len(session.scalars(select(InboxEvent)).all()) == 1  # the follow only


def test_location_and_postback_events(client, session):
    user_id = _resident(client)
    _send(client, user_id, kind="location", latitude=18.58, longitude=99.01, address="ลำพูน")
    _send(client, user_id, kind="postback", data="a=consent&v=yes", display_text="ยินยอม")
    rows = session.scalars(select(InboxEvent).order_by(InboxEvent.id)).all()
    assert rows[1].payload["latitude"] == 18.58 and rows[1].payload["address"] == "ลำพูน"
    assert rows[2].event_type == "postback"
    assert rows[2].payload["postback_data"] == "a=consent&v=yes"
    assert _chat(client, user_id)[-1]["message"]["displayText"] == "ยินยอม"


@pytest.mark.parametrize(
    "payload, status",
    [
        ({"kind": "text", "user_id": "not-a-user"}, 400),
        ({"kind": "dance", "user_id": "U" + "0" * 32}, 400),
        ({"kind": "text", "text": "x", "user_id": "U" + "0" * 32}, 404),
        ({"kind": "location", "latitude": "north", "user_id": None}, 400),
    ],
    ids=["bad-user-id", "unknown-kind", "unknown-resident", "bad-latitude"],
)
def test_bad_requests_are_refused(client, payload, status):
    if payload.get("user_id") is None:
        payload["user_id"] = _resident(client)
    assert client.post("/simulator/send", json=payload).status_code == status


def test_a_resident_who_has_not_followed_cannot_chat(client, session):
    user_id = _resident(client, follow=False)
    response = _send(client, user_id, kind="text", text="สวัสดี")
    assert response.status_code == 409
    assert "เพิ่มเพื่อน" in response.get_json()["error"]
    assert session.scalars(select(InboxEvent)).all() == []


# --- the LINE API stand-in -----------------------------------------------------------------


def test_stand_in_refuses_a_wrong_token(client):
    response = client.get("/simulator/line-api/v2/bot/message/quota")
    assert response.status_code == 401
    response = client.get(
        "/simulator/line-api/v2/bot/message/quota", headers={"Authorization": "Bearer nope"}
    )
    assert response.status_code == 401


def test_reply_tokens_work_once(client, api, session):
    user_id = _resident(client)
    token = session.scalars(select(SimulatorReplyToken.token)).one()
    api.reply(token, [{"type": "text", "text": "ครั้งแรก"}])
    with pytest.raises(PermanentLineError) as error:
        api.reply(token, [{"type": "text", "text": "ครั้งที่สอง"}])
    assert error.value.status == 400
    with pytest.raises(PermanentLineError):
        api.reply("never-issued", [{"type": "text", "text": "?"}])
    assert [m.message["text"] for m in bot_messages(session, user_id)] == ["ครั้งแรก"]


def test_push_with_a_repeated_retry_key_is_409(client, api, session):
    user_id = _resident(client)
    key = str(uuid.uuid4())
    api.push(user_id, [{"type": "text", "text": "สถานะเปลี่ยน"}], key)
    with pytest.raises(PermanentLineError) as error:
        api.push(user_id, [{"type": "text", "text": "สถานะเปลี่ยน"}], key)
    assert error.value.status == 409
    assert len(bot_messages(session, user_id)) == 1


def test_multicast_reaches_every_resident(client, api, session):
    users = [_resident(client) for _ in range(3)]
    api.multicast(users, [{"type": "text", "text": "แบบสำรวจใหม่"}], str(uuid.uuid4()))
    for user_id in users:
        assert [m.via for m in bot_messages(session, user_id)] == ["multicast"]


@pytest.mark.parametrize(
    "messages",
    [
        [{"type": "text", "text": "x"}] * 6,
        [{"type": "text", "text": ""}],
        [{"type": "text", "text": "ก" * 5001}],
        [
            {
                "type": "text",
                "text": "เลือก",
                "quickReply": {
                    "items": [
                        {
                            "type": "action",
                            "action": {"type": "message", "label": str(i), "text": str(i)},
                        }
                        for i in range(14)
                    ]
                },
            }
        ],
    ],
    ids=["six-messages", "empty-text", "text-too-long", "fourteen-quick-replies"],
)
def test_stand_in_refuses_what_line_refuses(app, client, session, messages):
    user_id = _resident(client)
    # Raw HTTP: line-bot-sdk itself refuses some of these before sending.
    response = client.post(
        "/simulator/line-api/v2/bot/message/push",
        json={"to": user_id, "messages": messages},
        headers={
            "Authorization": f"Bearer {app.config['LINE_CHANNEL_ACCESS_TOKEN']}",
            "X-Line-Retry-Key": str(uuid.uuid4()),
        },
    )
    assert response.status_code == 400
    assert response.get_json()["details"]
    assert bot_messages(session, user_id) == []


def test_profile_and_quota(client, api):
    user_id = _resident(client)
    name = next(r for r in client.get("/simulator/residents").get_json()["residents"])
    assert api.display_name(user_id) == name["display_name"]
    assert api.display_name("U" + "9" * 32) is None
    assert api.quota().limit is None
    before = api.quota().used
    api.push(
        user_id, [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}], str(uuid.uuid4())
    )
    assert api.quota().used == before + 2


def test_rich_menu_shows_on_the_page(client, api):
    from PIL import Image

    image = io.BytesIO()
    Image.new("RGB", (2500, 843), "#06c755").save(image, "PNG")
    menu = {
        "size": {"width": 2500, "height": 843},
        "selected": True,
        "name": "ruamkid",
        "chatBarText": "เมนู",
        "areas": [
            {
                "bounds": {"x": 0, "y": 0, "width": 1250, "height": 843},
                "action": {"type": "message", "label": "ติดตามเรื่อง", "text": "ติดตามเรื่อง"},
            }
        ],
    }
    assert client.get("/simulator/rich-menu").get_json() == {"rich_menu": None}
    rich_menu_id = api.create_rich_menu(menu, image.getvalue())
    shown = client.get("/simulator/rich-menu").get_json()
    assert shown["rich_menu"]["areas"] == menu["areas"]
    assert rich_menu_id in shown["image_url"]
    assert client.get(shown["image_url"]).data == image.getvalue()


def test_unfollow_is_recorded_and_blocks_the_chat(client, session):
    user_id = _resident(client)
    assert _send(client, user_id, kind="unfollow").status_code == 200
    event = session.scalars(select(InboxEvent).order_by(InboxEvent.id.desc())).first()
    assert event.event_type == "unfollow" and event.payload["reply_token"] is None
    assert _send(client, user_id, kind="text", text="ยังอยู่ไหม").status_code == 409
    assert session.scalars(
        select(SimulatorMessage.via).where(SimulatorMessage.user_id == user_id)
    ).all() == ["follow", "unfollow"]
