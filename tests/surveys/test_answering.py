"""The answering state machine as plain functions: events in, LINE messages out, answers stored."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.line.api import Quota
from bot.line.events import IncomingEvent
from bot.municipality import load_municipality
from bot.residents.context import Context
from bot.residents.turn import Turn
from bot.setup import seed_communities
from bot.surveys import answering, sending
from bot.surveys.messages import Postback, parse_postback
from storage.base import utcnow
from storage.db import make_engine, make_session_factory
from storage.models import OutboxMessage, Submission
from storage.surveys import SurveyAnswer, SurveyRecipient

MUNICIPALITY = load_municipality()


@pytest.fixture
def session(database_url):
    """A session on a migrated, empty database with the communities; no Flask app."""
    engine = make_engine(database_url)
    with make_session_factory(engine)() as db_session:
        seed_communities(db_session, MUNICIPALITY)
        db_session.commit()
        yield db_session
    engine.dispose()


def unlimited() -> Quota:
    return Quota(limit=None, used=0)


@pytest.fixture
def sent(session, communities, make_resident, make_survey):
    """A survey sent to three consenting residents of the first community."""
    a, b = communities[0], communities[1]
    residents = [make_resident(a) for _ in range(3)]
    make_resident(b)
    survey = make_survey([a])
    sending.queue_survey(session, survey, unlimited)
    session.commit()
    return survey, residents


def event(resident, *, data: str | None = None, text: str | None = None) -> IncomingEvent:
    if data is not None:
        return IncomingEvent(
            event_id="e",
            type="postback",
            timestamp_ms=0,
            user_id=resident.line_user_id,
            postback_data=data,
        )
    return IncomingEvent(
        event_id="e",
        type="message",
        timestamp_ms=0,
        user_id=resident.line_user_id,
        message_type="text",
        text=text,
    )


@pytest.fixture
def run(session, classifier):
    """Let the survey engine take one event of ``resident``; return its replies (or None)."""

    def take(resident, now=None, **kwargs):
        context = Context(
            session=session,
            municipality=MUNICIPALITY,
            classifier=classifier,
            now=now or utcnow(),
        )
        replies = answering.try_handle(Turn(context, event(resident, **kwargs), resident))
        session.commit()
        return replies

    return take


def buttons(message) -> list[dict]:
    return [item["action"] for item in message.get("quickReply", {}).get("items", [])]


def answer_of(session, survey, resident, question):
    recipient = session.scalar(
        select(SurveyRecipient).where(
            SurveyRecipient.survey_id == survey.id, SurveyRecipient.resident_id == resident.id
        )
    )
    return session.scalar(
        select(SurveyAnswer).where(
            SurveyAnswer.recipient_id == recipient.id, SurveyAnswer.question_id == question.id
        )
    ), recipient


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("sv=12&a=start", Postback(12, action="start")),
        ("sv=12&q=3&o=2", Postback(12, 3, option_id=2)),
        ("sv=12&q=3&r=5", Postback(12, 3, rating=5)),
        ("sv=12&q=3&a=done", Postback(12, 3, action="done")),
        ("sv=12&q=3&a=edit", Postback(12, 3, action="edit")),
        ("sv=12", None),
        ("sv=12&q=3", None),
        ("sv=12&o=2", None),
        ("sv=12&q=3&o=2&a=done", None),
        ("sv=12&q=3&a=drop", None),
        ("sv=-1&a=start", None),
        ("sv=12&a=start&x=<script>", None),
        ("sv=" + "9" * 400, None),
    ],
)
def test_postback_data_is_parsed_strictly(data, expected):
    assert parse_postback(data) == expected
    if expected is not None:
        assert expected.encode() == data


def test_not_for_a_survey_returns_none(session, sent, run):
    survey, (resident, *_) = sent
    assert run(resident, text="ถนนหน้าบ้านเป็นหลุมค่ะ") is None
    assert run(resident, data="action=consent&v=yes") is None


def test_single_multiple_rating_skip_and_summary(session, sent, run):
    survey, (resident, *_) = sent
    single, multiple, rating, text = survey.questions

    first = run(resident, data=f"sv={survey.id}&a=start")
    assert "ข้อ 1/4" in first[0]["text"]
    labels = [a["label"] for a in buttons(first[0])]
    assert labels == ["ถนนและทางเท้า", "ไฟฟ้าส่องสว่าง", "ขยะ"]
    assert all(len(a["data"]) <= 300 for a in buttons(first[0]))

    reply = run(resident, data=buttons(first[0])[1]["data"])
    assert "ข้อ 2/4" in reply[0]["text"]
    answer, recipient = answer_of(session, survey, resident, single)
    assert answer.option_ids == [single.options[1].id]
    assert recipient.status == "answering"

    o1, o2, o3 = (o.id for o in multiple.options)
    reply = run(resident, data=f"sv={survey.id}&q={multiple.id}&o={o1}")
    reply = run(resident, data=f"sv={survey.id}&q={multiple.id}&o={o3}")
    labels = [a["label"] for a in buttons(reply[0])]
    assert labels == ["✓ ออกกำลังกาย", "ฝึกอาชีพ", "✓ ดูแลผู้สูงอายุ", "เสร็จ"]
    reply = run(resident, data=f"sv={survey.id}&q={multiple.id}&o={o3}")
    assert [a["label"] for a in buttons(reply[0])][2] == "ดูแลผู้สูงอายุ"
    # Nothing is stored until "เสร็จ".
    assert answer_of(session, survey, resident, multiple)[0] is None
    reply = run(resident, data=f"sv={survey.id}&q={multiple.id}&a=done")
    assert answer_of(session, survey, resident, multiple)[0].option_ids == [o1]
    assert "ข้อ 3/4" in reply[0]["text"]
    assert [a["label"] for a in buttons(reply[0])][-1] == "ข้ามข้อนี้"

    reply = run(resident, data=f"sv={survey.id}&q={rating.id}&r=4")
    assert answer_of(session, survey, resident, rating)[0].rating == 4
    assert "ข้อ 4/4" in reply[0]["text"]
    assert resident.state["survey"] == {"id": survey.id, "q": text.id}

    reply = run(resident, data=f"sv={survey.id}&q={text.id}&a=skip")
    summary = reply[0]["text"]
    assert "ขอบคุณ" in summary and "ไฟฟ้าส่องสว่าง" in summary and "4 ⭐" in summary
    assert [a["label"] for a in buttons(reply[0])] == [f"แก้ไขข้อ {n}" for n in range(1, 5)]
    _, recipient = answer_of(session, survey, resident, text)
    assert recipient.status == "completed"
    assert "survey" not in resident.state


def test_changing_an_answer_updates_the_same_row(session, sent, run):
    survey, (resident, *_) = sent
    single = survey.questions[0]
    run(resident, data=f"sv={survey.id}&q={single.id}&o={single.options[0].id}")
    reply = run(resident, data=f"sv={survey.id}&q={single.id}&a=edit")
    assert "คำตอบเดิมของท่าน: ถนนและทางเท้า" in reply[0]["text"]
    run(resident, data=f"sv={survey.id}&q={single.id}&o={single.options[2].id}")
    rows = session.scalars(select(SurveyAnswer).where(SurveyAnswer.question_id == single.id))
    assert [r.option_ids for r in rows] == [[single.options[2].id]]


def test_required_questions_cannot_be_skipped(session, sent, run):
    survey, (resident, *_) = sent
    single, multiple = survey.questions[:2]
    reply = run(resident, data=f"sv={survey.id}&q={single.id}&a=skip")
    assert "จำเป็นต้องตอบ" in reply[0]["text"]
    assert answer_of(session, survey, resident, single)[0] is None
    reply = run(resident, data=f"sv={survey.id}&q={multiple.id}&a=done")
    assert "อย่างน้อย 1 คำตอบ" in reply[0]["text"]
    assert answer_of(session, survey, resident, multiple)[0] is None


def test_a_need_typed_during_buttons_is_not_swallowed_and_resume_keeps_place(session, sent, run):
    survey, (resident, *_) = sent
    single, multiple = survey.questions[:2]
    run(resident, data=f"sv={survey.id}&a=start")
    run(resident, data=f"sv={survey.id}&q={single.id}&o={single.options[0].id}")
    assert run(resident, text="ไฟกิ่งหน้าบ้านดับสามวันแล้วค่ะ") is None
    reply = run(resident, text="แบบสำรวจ")
    assert "ทำแบบสำรวจต่อ" in reply[0]["text"]
    assert "ข้อ 2/4" in reply[0]["text"] and multiple.text in reply[0]["text"]


def test_free_text_question_takes_the_next_message_but_not_commands(session, sent, run):
    survey, (resident, *_) = sent
    text_q = survey.questions[3]
    reply = run(resident, data=f"sv={survey.id}&q={text_q.id}&a=edit")
    assert "พิมพ์คำตอบ" in reply[0]["text"]
    assert run(resident, text="ติดตามเรื่อง") is None
    assert run(resident, text="ข้อมูลของฉันค่ะ") is None
    reply = run(resident, text="อยากให้ซ่อมถนนหน้าวัดที่เป็นหลุมเป็นบ่อค่ะ")
    answer, _ = answer_of(session, survey, resident, text_q)
    assert answer.text == "อยากให้ซ่อมถนนหน้าวัดที่เป็นหลุมเป็นบ่อค่ะ"
    assert answer.classification["kind"] != "other"
    submission = session.get(Submission, answer.submission_id)
    assert submission.source == "survey"
    assert submission.community_id == resident.community_id
    assert submission.text == answer.text
    assert submission.tracking_no.startswith("LPN-")
    # The free-text question was answered; the next one asked is the first unanswered one.
    assert "ข้อ 1/4" in reply[0]["text"]


def test_free_text_wait_expires(session, sent, run):
    survey, (resident, *_) = sent
    text_q = survey.questions[3]
    run(resident, data=f"sv={survey.id}&q={text_q.id}&a=edit")
    later = utcnow() + answering.TEXT_ANSWER_WINDOW + timedelta(minutes=1)
    assert run(resident, now=later, text="ขอให้มาเก็บขยะด้วยค่ะ") is None
    assert answer_of(session, survey, resident, text_q)[0] is None


@pytest.mark.parametrize("kind", ["other_survey", "other_question", "other_option", "bad_rating"])
def test_forged_postbacks_are_refused_without_change(session, sent, make_survey, kind, run):
    survey, (resident, *_) = sent
    single, multiple, rating, _ = survey.questions
    unsent = make_survey(None, title="แบบสำรวจที่ไม่ได้ส่ง")
    session.commit()
    foreign_q, foreign_o = unsent.questions[0].id, unsent.questions[0].options[0].id
    data = {
        "other_survey": f"sv={unsent.id}&q={foreign_q}&o={foreign_o}",
        "other_question": f"sv={survey.id}&q={foreign_q}&o={foreign_o}",
        "other_option": f"sv={survey.id}&q={single.id}&o={multiple.options[0].id}",
        "bad_rating": f"sv={survey.id}&q={rating.id}&r=9",
    }[kind]
    state_before = dict(resident.state or {})
    reply = run(resident, data=data)
    assert "ขออภัยค่ะ" in reply[0]["text"]
    assert session.scalar(select(func.count()).select_from(SurveyAnswer)) == 0
    assert (resident.state or {}) == state_before


def test_non_recipient_is_refused(session, sent, communities, make_resident, run):
    survey, _ = sent
    outsider = make_resident(communities[1])
    session.commit()
    reply = run(outsider, data=f"sv={survey.id}&a=start")
    assert "ขออภัยค่ะ" in reply[0]["text"]
    assert (
        session.scalar(
            select(func.count())
            .select_from(SurveyRecipient)
            .where(SurveyRecipient.resident_id == outsider.id)
        )
        == 0
    )


def test_closed_survey_refuses_politely(session, sent, run):
    survey, (resident, *_) = sent
    single = survey.questions[0]
    run(resident, data=f"sv={survey.id}&a=start")
    later = survey.closes_at + timedelta(seconds=1)
    reply = run(resident, now=later, data=f"sv={survey.id}&q={single.id}&o={single.options[0].id}")
    assert "ปิดรับคำตอบแล้ว" in reply[0]["text"]
    assert answer_of(session, survey, resident, single)[0] is None
    assert "survey" not in resident.state
    # No survey open: the conversation answers "แบบสำรวจ" in its own words.
    assert run(resident, now=later, text="แบบสำรวจ") is None


def test_several_open_surveys_are_listed(session, sent, make_survey, communities, run):
    survey, (resident, *_) = sent
    second = make_survey([communities[0]], title="สำรวจตลาดนัดชุมชน")
    sending.queue_survey(session, second, unlimited)
    session.commit()
    reply = run(resident, text="แบบสำรวจ")
    actions = buttons(reply[0])
    assert [a["data"] for a in actions] == [f"sv={survey.id}&a=start", f"sv={second.id}&a=start"]
    assert all(len(a["label"]) <= 20 for a in actions)


def test_queue_counts_and_outbox(session, sent):
    survey, residents = sent
    rows = list(session.scalars(select(OutboxMessage)))
    assert len(rows) == 1 and rows[0].kind == "multicast"
    assert sorted(rows[0].to) == sorted(r.line_user_id for r in residents)
    assert rows[0].purpose == f"survey:{survey.id}"


def test_changed_free_text_updates_its_untouched_submission(session, sent, run):
    survey, (resident, *_) = sent
    text_q = survey.questions[3]
    run(resident, data=f"sv={survey.id}&q={text_q.id}&a=edit")
    run(resident, text="อยากให้ซ่อมถนนหน้าวัดที่เป็นหลุมเป็นบ่อค่ะ")
    first = answer_of(session, survey, resident, text_q)[0].submission_id
    run(resident, data=f"sv={survey.id}&q={text_q.id}&a=edit")
    run(resident, text="ขอให้เพิ่มไฟส่องสว่างในซอยมืด ๆ หลังตลาดค่ะ")
    answer = answer_of(session, survey, resident, text_q)[0]
    assert answer.submission_id == first
    assert session.get(Submission, first).text == "ขอให้เพิ่มไฟส่องสว่างในซอยมืด ๆ หลังตลาดค่ะ"
    assert session.scalar(select(func.count()).select_from(Submission)) == 1


def test_forgetting_a_resident_erases_their_words_but_keeps_counts(session, sent, run):
    from storage.surveys import forget_resident

    survey, (resident, *_) = sent
    single, _, _, text_q = survey.questions
    run(resident, data=f"sv={survey.id}&q={single.id}&o={single.options[0].id}")
    _, recipient = answer_of(session, survey, resident, single)
    session.add(SurveyAnswer(recipient_id=recipient.id, question_id=text_q.id, text="บ้านเลขที่ 12/3"))
    session.commit()
    assert forget_resident(session, resident.id) == 1
    session.commit()
    rows = list(session.scalars(select(SurveyAnswer).order_by(SurveyAnswer.id)))
    assert [(r.option_ids, r.text) for r in rows] == [([single.options[0].id], None), ([], None)]
    session.refresh(recipient)
    assert recipient.resident_id is None
