"""The resident's conversation through the real path: signed webhook → worker → reply."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.needs import classification
from bot.needs.actions import change_status
from bot.thai import thai_date
from storage.models import OutboxMessage, Submission, SubmissionEvent, TrainingLabel
from tests import line_events
from tests.residents.support import (
    OTHER_USER,
    TRACKING,
    USER,
    button,
    buttons,
    community_id,
    join,
    last,
    last_text,
    press,
    replies,
    resident,
)


def _submissions(session) -> list[Submission]:
    session.expire_all()
    return list(session.scalars(select(Submission).order_by(Submission.id)))


# --- follow, consent, community -------------------------------------------------------------


def test_follow_greets_by_name_and_asks_consent_with_a_privacy_notice(line, line_api, session):
    line_api.display_names[USER] = "สมศรี"
    line.send(line_events.event("follow", USER))
    messages = last(line_api)
    text = "\n".join(m["text"] for m in messages)
    assert "คุณสมศรี" in text
    assert "5 ปี" in text  # how long: the settings' retention_years
    assert "ลบข้อมูลของฉัน" in text  # how to delete
    assert [a["label"] for a in buttons(messages)] == ["ยินยอม", "ไม่ยินยอม"]
    stored = resident(session)
    assert stored.consent == "pending"
    assert stored.display_name is None  # shown, not kept before consent


@pytest.mark.parametrize("shown", ["คุณสมศรี", "สมศรี"])
def test_a_name_that_starts_with_khun_gets_no_second_one(line, line_api, session, shown):
    line_api.display_names[USER] = shown
    line.send(line_events.event("follow", USER))
    text = "\n".join(m["text"] for m in last(line_api))
    assert "คุณสมศรี" in text
    assert "คุณคุณ" not in text


def test_consent_then_community_pages_then_a_need(line, line_api, session):
    line_api.display_names[USER] = "สมศรี"
    line.send(line_events.event("follow", USER))
    press(line, button(last(line_api), "ยินยอม"))
    stored = resident(session)
    assert stored.consent == "given" and stored.consented_at is not None
    assert stored.display_name == "สมศรี"

    first_page = last(line_api)
    labels = [a["label"] for a in buttons(first_page)]
    assert len(labels) <= 13
    assert "ถัดไป ▶" in labels and "อื่น ๆ / ไม่ทราบ" in labels
    assert "สันป่ายางหลวง" not in labels  # the 14th community is on page 2

    press(line, button(first_page, "ถัดไป"))
    second_page = last(line_api)
    labels = [a["label"] for a in buttons(second_page)]
    assert "สันป่ายางหลวง" in labels and "◀ ก่อนหน้า" in labels
    assert "หน้า 2/2" in second_page[-1]["text"]

    press(line, button(second_page, "สันป่ายางหลวง"))
    assert resident(session).community_id == community_id(session, "ชุมชนสันป่ายางหลวง")
    assert "สันป่ายางหลวง" in last_text(line_api)

    line.send(line_events.text("ไฟถนนหน้าวัดดับมาสามวันแล้วค่ะ มืดมาก", USER))
    reply = last_text(line_api)
    number = TRACKING.search(reply).group(0)
    assert re.fullmatch(r"^LPN-\d{2}-\d{6}$", number)
    [submission] = _submissions(session)
    assert submission.tracking_no == number
    assert submission.strategy == "LPN-S7"
    assert "ด้านโครงสร้างพื้นฐาน ทรัพยากรธรรมชาติและสิ่งแวดล้อม" in reply
    assert submission.community_id == community_id(session, "ชุมชนสันป่ายางหลวง")
    assert submission.source == "line" and submission.text.startswith("ไฟถนน")
    assert submission.model_version and submission.embedding
    assert [entry["code"] for entry in submission.top3][0] == "LPN-S7"
    assert submission.history[0].action == "created"
    types = [a["type"] for a in buttons(last(line_api))]
    assert types[:3] == ["camera", "cameraRoll", "location"]
    assert [a["label"] for a in buttons(last(line_api))][-2:] == ["ไม่ใช่หมวดนี้", "เสร็จสิ้น"]


def test_unknown_community_is_accepted(line, line_api, session):
    join(line, line_api, community="อื่น ๆ")
    assert resident(session).community_id is None
    assert resident(session).consent == "given"


def test_declining_keeps_only_the_consent_state_and_can_be_changed_later(line, line_api, session):
    line.send(line_events.event("follow", USER))
    press(line, button(last(line_api), "ไม่ยินยอม"))
    stored = resident(session)
    assert stored.consent == "declined" and stored.display_name is None
    line.send(line_events.text("ถนนเป็นหลุมหน้าบ้านค่ะ", USER))
    assert _submissions(session) == []
    assert "ยังไม่ถูกบันทึก" in last_text(line_api)
    line.send(line_events.text("ยินยอมค่ะ", USER))  # typed, not pressed
    assert resident(session).consent == "given"


def test_text_before_consent_is_not_stored(line, line_api, session):
    secret = "บ้านเลขที่ 12 ท่อแตกค่ะ"
    line.send(line_events.text(secret, USER))  # no follow event either
    assert _submissions(session) == []
    stored = resident(session)
    assert stored.consent == "pending"
    assert secret not in str(stored.state)
    assert "ยินยอม" in [a["label"] for a in buttons(last(line_api))]
    # The inbox row kept the text only until it was handled.
    from storage.models import InboxEvent

    assert all(row.payload is None for row in session.scalars(select(InboxEvent)))


def test_unfollow_stops_pushes_and_follow_again_reactivates(line, line_api, session, worker):
    join(line, line_api)
    line.send(line_events.text("ขอให้ลอกท่อระบายน้ำซอย 3 ค่ะ น้ำท่วมทุกปี", USER))
    [submission] = _submissions(session)
    # Queued while the resident still follows, sent after they left: the worker skips it.
    change_status(session, submission, "reviewing", actor="user:1")
    session.commit()
    line.send(line_events.event("unfollow", USER))
    assert resident(session).active is False
    [queued] = session.scalars(select(OutboxMessage).where(OutboxMessage.purpose.like("status:%")))
    assert queued.status == "skipped"
    assert line_api.sent("push") == []
    # Changed after they left: nothing is even queued.
    change_status(session, _submissions(session)[0], "planned", actor="user:1")
    session.commit()
    worker.drain()
    assert line_api.sent("push") == []
    count = select(func.count()).select_from(OutboxMessage)
    assert session.scalar(count.where(OutboxMessage.purpose.like("status:%"))) == 1

    line.send(line_events.event("follow", USER))
    assert resident(session).active is True
    assert "ยินดีต้อนรับกลับ" in last_text(line_api)
    assert resident(session).consent == "given"  # no second consent needed
    change_status(session, _submissions(session)[0], "in_progress", actor="user:1")
    session.commit()
    worker.drain()
    pushed = [m["text"] for body in line_api.sent("push") for m in body["messages"]]
    assert len(pushed) == 1 and "กำลังดำเนินการ" in pushed[0]


# --- small talk and commands --------------------------------------------------------------


@pytest.mark.parametrize(
    ("greeting", "opening"),
    [
        ("สวัสดีค่ะ", "สวัสดีค่ะ"),
        ("ขอบคุณมากครับ", "ยินดีค่ะ"),
        ("ทดสอบ", "ขอบคุณที่ทักมาค่ะ"),
        ("😊😊", "ขอบคุณที่ทักมาค่ะ"),
        ("555", "ขอบคุณที่ทักมาค่ะ"),
    ],
)
def test_greetings_thanks_and_tests_are_not_submissions(line, line_api, session, greeting, opening):
    line_api.display_names[USER] = "สมศรี"
    join(line, line_api)
    line.send(line_events.text(greeting, USER))
    assert _submissions(session) == []
    reply = last_text(line_api)
    assert reply.startswith(opening) and "คุณสมศรี" in reply
    assert "วิธีแจ้งเรื่อง" in reply


@pytest.mark.parametrize("text", ["ท่อตัน", "ฝุ่นเยอะ", "หมาตาย", "กินข้าวยังคะ"])
def test_anything_but_small_talk_is_filed_for_staff(app, line, line_api, session, text):
    join(line, line_api)
    assert classification.classifier(app).classify(text).is_request  # not a stub: the model
    line.send(line_events.text(text, USER))
    (submission,) = _submissions(session)
    assert submission.text == text and submission.kind != "other"
    assert submission.tracking_no in last_text(line_api)


def test_what_the_model_doubts_is_a_request_is_filed_as_unsure(app, line, line_api, session):
    join(line, line_api)
    advert = "ขายครีมหน้าใส ส่งฟรีทั่วไทย สนใจทักแชท"
    assert classification.classifier(app).classify(advert).unsure
    line.send(line_events.text(advert, USER))
    (submission,) = _submissions(session)
    assert submission.unsure and submission.kind != "other"


def test_sticker_is_a_friendly_reply_not_a_submission(line, line_api, session):
    join(line, line_api)
    line.send(line_events.event("sticker", USER))
    assert _submissions(session) == []
    assert "สติกเกอร์" in last_text(line_api)


@pytest.mark.parametrize("kind", ["video", "audio", "file"])
def test_video_audio_file_get_a_polite_reply(line, line_api, session, kind):
    join(line, line_api)
    line.send(line_events.event(kind, USER))
    assert "ข้อความ รูปภาพ และตำแหน่ง" in last_text(line_api)
    assert _submissions(session) == []


def test_unknown_event_type_gets_a_polite_reply(line, line_api, session):
    line.send(line_events.event("unknown", USER))
    assert "ขอบคุณที่ติดต่อ" in last_text(line_api)


@pytest.mark.parametrize("typed", ["วิธีใช้", " วิธี ใช้ ", "help", "HELP", "วิธีใช้ค่ะ", "วิธีใช้งานครับ"])
def test_help_words_are_tolerant(line, line_api, session, typed):
    join(line, line_api)
    line.send(line_events.text(typed, USER))
    assert "วิธีแจ้งเรื่อง" in last_text(line_api)
    assert _submissions(session) == []


def test_report_word_invites_a_description(line, line_api, session):
    join(line, line_api)
    line.send(line_events.text("แจ้งเรื่อง", USER))
    assert "พิมพ์เล่าเรื่อง" in last_text(line_api)
    assert _submissions(session) == []


def test_survey_word_without_a_survey(line, line_api, session):
    join(line, line_api)
    line.send(line_events.text("แบบสำรวจ", USER))
    assert "แบบสำรวจ" in last_text(line_api)
    assert _submissions(session) == []


# --- photos and places ----------------------------------------------------------------------


def test_photo_first_then_text_fills_the_same_submission(line, line_api, session, app):
    join(line, line_api)
    line.send(line_events.event("image", USER))
    [submission] = _submissions(session)
    assert submission.awaiting_description and submission.text is None
    assert submission.tracking_no in last_text(line_api)
    assert "อธิบาย" in last_text(line_api)
    [media] = submission.media
    assert media.status == "stored"  # the worker downloaded it at once
    assert media.line_message_id

    line.send(line_events.text("ฝาท่อระบายน้ำหน้าบ้านแตก อันตรายค่ะ", USER))
    [submission] = _submissions(session)
    assert submission.text.startswith("ฝาท่อ")
    assert not submission.awaiting_description
    assert submission.strategy == "LPN-S7"
    assert submission.tracking_no in last_text(line_api)
    assert [e.action for e in submission.history] == ["created", "described", "route"]


def test_text_then_photo_and_location_attach_to_it(line, line_api, session):
    join(line, line_api)
    line.send(line_events.text("ขยะไม่มีคนมาเก็บหน้าตลาดหนึ่งอาทิตย์แล้วค่ะ", USER))
    line.send(line_events.event("image", USER))
    line.send(line_events.event("image", USER))
    line.send(line_events.event("location", USER, address="ถนนเจริญราษฎร์ ลำพูน"))
    [submission] = _submissions(session)
    assert len(submission.media) == 2
    assert (submission.latitude, submission.longitude) == (18.5776, 99.0087)
    assert submission.address == "ถนนเจริญราษฎร์ ลำพูน"
    assert "เพิ่มตำแหน่ง" in last_text(line_api)


def test_location_first_starts_a_submission(line, line_api, session):
    join(line, line_api)
    line.send(line_events.event("location", USER))
    [submission] = _submissions(session)
    assert submission.awaiting_description and submission.latitude == 18.5776
    assert "ได้รับตำแหน่ง" in last_text(line_api)


def test_photo_after_the_open_window_starts_a_new_submission(line, line_api, session):
    join(line, line_api)
    line.send(line_events.text("ต้นไม้ใหญ่ล้มขวางถนนซอยสองค่ะ", USER))
    first = _submissions(session)[0]
    first.created_at = first.created_at - timedelta(minutes=31)
    session.commit()
    line.send(line_events.event("image", USER))
    subs = _submissions(session)
    assert len(subs) == 2 and subs[1].awaiting_description and len(subs[0].media) == 0


def test_done_closes_the_submission_for_additions(line, line_api, session):
    join(line, line_api)
    line.send(line_events.text("ขอให้ติดตั้งไฟส่องสว่างในซอยวัดค่ะ", USER))
    press(line, button(last(line_api), "เสร็จสิ้น"))
    assert "ส่งถึงเจ้าหน้าที่แล้ว" in last_text(line_api)
    line.send(line_events.event("image", USER))
    subs = _submissions(session)
    assert len(subs) == 2 and len(subs[0].media) == 0 and len(subs[1].media) == 1


# --- "not this category" --------------------------------------------------------------------


def test_not_this_category_offers_top3_then_all_then_subareas(line, line_api, session):
    join(line, line_api)
    line.send(line_events.text("อยากให้มีการฝึกอาชีพทำขนมให้ผู้สูงอายุในชุมชนค่ะ", USER))
    [submission] = _submissions(session)
    press(line, button(last(line_api), "ไม่ใช่หมวดนี้"))
    offer = last(line_api)
    strategy_buttons = [a for a in buttons(offer) if a["data"].startswith("a=str")]
    assert len(strategy_buttons) == 3
    assert [a["data"].rsplit("=", 1)[1] for a in strategy_buttons] == [
        entry["code"] for entry in submission.top3
    ]
    press(line, button(offer, "ดูทั้งหมด"))
    everything = last(line_api)
    assert len([a for a in buttons(everything) if a["data"].startswith("a=str")]) == 8
    press(line, next(a for a in buttons(everything) if a["data"].endswith("c=LPN-S7")))
    subareas = last(line_api)
    assert "ด้านโครงสร้างพื้นฐาน" in subareas[-1]["text"]
    press(line, next(a for a in buttons(subareas) if a["data"].endswith("c=LPN-S7.2")))
    session.expire_all()
    submission = session.get(Submission, submission.id)
    assert (submission.strategy, submission.subarea) == ("LPN-S7", "LPN-S7.2")
    # The last event but the routing it causes (the new sub-area may go to another division).
    event = [e for e in submission.history if e.action != "route"][-1]
    assert event.actor == "resident" and event.action == "category"
    assert event.detail["to"] == {"strategy": "LPN-S7", "subarea": "LPN-S7.2"}
    # A resident's choice is not a staff label and does not confirm the classification.
    assert session.scalar(select(func.count()).select_from(TrainingLabel)) == 0
    assert submission.label_confirmed is False
    assert "แก้หมวด" in last_text(line_api)


def test_strategy_without_subarea(line, line_api, session):
    join(line, line_api)
    line.send(line_events.text("ถนนหน้าบ้านเป็นหลุมใหญ่มากค่ะ", USER))
    [submission] = _submissions(session)
    line.send(line_events.postback(f"a=str&s={submission.id}&c=LPN-S4", USER))
    press(line, button(last(line_api), "ไม่แน่ใจ"))
    session.expire_all()
    submission = session.get(Submission, submission.id)
    assert (submission.strategy, submission.subarea) == ("LPN-S4", None)


def test_closed_submission_cannot_be_recategorised(line, line_api, session):
    join(line, line_api)
    line.send(line_events.text("ถนนหน้าบ้านเป็นหลุมใหญ่มากค่ะ", USER))
    [submission] = _submissions(session)
    change_status(session, submission, "done", actor="user:1")
    session.commit()
    line.send(line_events.postback(f"a=cat&s={submission.id}&c=LPN-S1.1", USER))
    assert "แก้ไขไม่ได้" in last_text(line_api)
    assert _submissions(session)[0].strategy == "LPN-S7"


# --- forged and stale buttons ---------------------------------------------------------------


def test_another_residents_submission_cannot_be_touched(line, line_api, session):
    join(line, line_api, user=USER)
    join(line, line_api, user=OTHER_USER)
    line.send(line_events.text("ไฟถนนดับทั้งซอยค่ะ", USER))
    [submission] = _submissions(session)
    before = (submission.strategy, submission.subarea)
    for data in (
        f"a=cat&s={submission.id}&c=LPN-S1.1",
        f"a=fix&s={submission.id}",
        f"a=str&s={submission.id}&c=LPN-S1",
        f"a=all&s={submission.id}",
        f"a=done&s={submission.id}",
    ):
        line.send(line_events.postback(data, OTHER_USER))
        assert "ใช้ไม่ได้" in last_text(line_api)
    submission = _submissions(session)[0]
    assert (submission.strategy, submission.subarea) == before
    assert [e.action for e in submission.history] == ["created", "route"]
    assert resident(session, USER).state.get("open_submission") == submission.id


@pytest.mark.parametrize(
    "data",
    [
        "a=com&id=99999",
        "a=com&id=-1",
        "a=com&id=abc",
        "a=cat&s=1&c=LPN-S99.9",
        "a=cat&s=999999&c=LPN-S1.1",
        "a=nothing",
        "garbage",
        "a=com&id=1&id=2",
        "a=del&t=guess",
        "a=" + "x" * 400,
        "",
        "sv=1&q=2&o=3",
        "%ff%fe",
        "a=page&p=999",
    ],
)
def test_forged_or_garbage_postbacks_are_refused_politely(line, line_api, session, data):
    join(line, line_api)
    line.send(line_events.text("ไฟถนนดับทั้งซอยค่ะ", USER))
    community_before = resident(session).community_id
    line.send(line_events.postback(data, USER))
    reply = last_text(line_api)
    assert reply  # always an answer
    stored = resident(session)
    assert stored is not None  # a guessed deletion token deletes nothing
    if data != "a=page&p=999":
        assert stored.community_id == community_before
    [submission] = _submissions(session)
    assert submission.strategy == "LPN-S7"


def test_inactive_community_cannot_be_chosen(line, line_api, session):
    from storage.models import Community

    join(line, line_api, community=None)
    choice = next(
        a
        for a in buttons(last(line_api))
        if a["data"].startswith("a=com&id=") and a["label"] == "ช่างฆ้อง"
    )
    hidden = session.get(Community, community_id(session, "ชุมชนช่างฆ้อง"))
    hidden.active = False
    session.commit()
    press(line, choice)
    assert resident(session).community_id is None
    assert "ไม่พบชุมชน" in last_text(line_api)


def test_buttons_before_consent_ask_for_consent(line, line_api, session):
    line.send(line_events.event("follow", USER))
    line.send(line_events.postback("a=com&id=1", USER))
    assert resident(session).community_id is None
    assert "ยินยอม" in [a["label"] for a in buttons(last(line_api))]


# --- status ---------------------------------------------------------------------------------


def test_status_lists_the_last_five_with_buddhist_era_dates(line, line_api, session):
    join(line, line_api)
    texts = [
        "ไฟถนนดับหน้าวัดพระยืนค่ะ",
        "ขยะล้นถังหน้าตลาดค่ะ",
        "อยากให้มีสวนสาธารณะในชุมชนค่ะ",
        "ท่อระบายน้ำอุดตันซอยสามค่ะ",
        "ยุงเยอะมาก กลัวไข้เลือดออก ขอให้มาพ่นหมอกควันค่ะ",
        "ถนนเป็นหลุมเป็นบ่อหน้าโรงเรียน " + "ยาวมาก" * 30,
    ]
    for text in texts:
        line.send(line_events.text(text, USER))
    subs = _submissions(session)
    assert len(subs) == 6
    change_status(session, subs[-1], "in_progress", actor="user:1")
    session.commit()
    line.send(line_events.text("ติดตามเรื่องค่ะ", USER))
    reply = last_text(line_api)
    assert subs[0].tracking_no not in reply  # only the last five
    for submission in subs[1:]:
        assert submission.tracking_no in reply
    assert "กำลังดำเนินการ" in reply and "ใหม่" in reply
    expected = thai_date(subs[-1].created_at, time=False)
    assert re.fullmatch(r"\d{1,2} \S+ 25\d\d", expected)
    assert f"({expected})" in reply
    assert "ยาวมาก" * 10 not in reply  # excerpts are short


@pytest.mark.parametrize(
    "typed", ["ติดตามเรื่อง", "ติดตาม  เรื่อง", "ติดตามเรื่องงงงง", "ติดตามเรือง", "ติดตามเรื่องครับ"]
)
def test_status_word_is_tolerant(line, line_api, session, typed):
    join(line, line_api)
    line.send(line_events.text(typed, USER))
    assert "ยังไม่มีเรื่อง" in last_text(line_api)
    assert _submissions(session) == []


# --- hostile and odd input ------------------------------------------------------------------


LONG_NEED = (
    "ถนนหน้าบ้านเป็นหลุมใหญ่มาก ฝนตกน้ำขังทุกวัน รถจักรยานยนต์ล้มไปแล้วสองคัน "
    "เด็กนักเรียนเดินผ่านลำบาก ขอให้เทศบาลมาซ่อมด่วนค่ะ "
) * 60


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("ลำเหมืองตันบ่ไหลเจ้า น้ำเอ่อขึ้นมาถนนแล้วเจ้า", True),  # Northern Thai
        ("ไฟดับบบบบบบบบ มืดมากกกกกก ซอยห้าาาาา", True),  # elongation
        ("🚧🚧🕳️🕳️", None),  # emoji only: the classifier decides
        (LONG_NEED[:4990] + "ขอบคุณค่ะ", True),  # 4,999 characters
        ("ถนนพัง" * 833, None),  # 4,998 characters of one word
        ("ไฟ\u200bถนน\u200bดับ\u200b\u200b", True),  # zero-width characters
        ("<script>alert(1)</script>", None),
        ("<script>alert(1)</script> ถนนหน้าบ้านเป็นหลุมค่ะ", True),
        ("<b>ท่อแตก</b> & น้ำไหลนอง", None),
        ("   \n\t  ", False),
        ("\u200b\u200b\u200b", False),
    ],
    ids=[
        "northern",
        "elongated",
        "emoji",
        "5000",
        "5000-repeated",
        "zero-width",
        "script",
        "script-need",
        "html",
        "blank",
        "zw-only",
    ],
)
def test_odd_texts_never_crash_and_are_stored_as_sent(line, line_api, session, text, stored):
    join(line, line_api)
    line.send(line_events.text(text, USER))
    reply = last_text(line_api)
    assert reply
    from storage.models import InboxEvent

    assert all(row.status == "done" for row in session.scalars(select(InboxEvent)))
    subs = _submissions(session)
    if stored is not None:
        assert len(subs) == int(stored)
    for submission in subs:
        assert submission.text == text  # stored as-is; escaped wherever it is shown
        assert submission.tracking_no in reply
        assert "<script>" not in reply  # the reply never echoes the resident's text


def test_five_thousand_characters_reply_fits_line(line, line_api, session):
    join(line, line_api)
    text = LONG_NEED[:5000]
    assert len(text) == 5000
    line.send(line_events.text(text, USER))
    [submission] = _submissions(session)
    assert submission.text == text
    line.send(line_events.text("ติดตามเรื่อง", USER))
    assert len(last_text(line_api)) < 1000


def test_every_reply_in_a_long_conversation_respects_line_limits(line, line_api, session):
    join(line, line_api)
    line.send(line_events.text("ขอให้ซ่อมไฟกิ่งหน้าบ้านค่ะ", USER))
    press(line, button(last(line_api), "ไม่ใช่หมวดนี้"))
    press(line, button(last(line_api), "ดูทั้งหมด"))
    for action in buttons(last(line_api)):
        if action["data"].startswith("a=str"):
            line.send(line_events.postback(action["data"], USER))
    line.send(line_events.text("ข้อมูลของฉัน", USER))
    line.send(line_events.text("ติดตามเรื่อง", USER))
    assert len(replies(line_api)) > 10  # replies() checks every limit
    # The need was created (and routed) once; nothing the buttons did changed it.
    actions = session.scalars(select(SubmissionEvent.action).order_by(SubmissionEvent.id)).all()
    assert actions == ["created", "route"]


def test_choosing_the_same_category_changes_nothing(line, line_api, session):
    join(line, line_api)
    line.send(line_events.text("ถนนหน้าบ้านเป็นหลุมใหญ่มากค่ะ", USER))
    [submission] = _submissions(session)
    line.send(line_events.postback(f"a=cat&s={submission.id}&c={submission.subarea}", USER))
    assert "แก้หมวด" in last_text(line_api)
    assert [e.action for e in _submissions(session)[0].history] == ["created", "route"]
