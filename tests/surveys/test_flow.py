"""End to end: a survey sent over the LINE stand-in, answered with signed postbacks and texts."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from werkzeug import Request, Response

from bot.surveys import sending
from bot.surveys.results import survey_results
from storage.base import utcnow
from storage.models import OutboxMessage, Submission
from storage.surveys import SurveyAnswer, SurveyRecipient
from tests import line_events


def last_reply(line_api) -> dict:
    """Return the last message the bot answered with (by reply, or by push when slow)."""
    bodies = [
        json.loads(request.get_data())
        for request, _ in line_api.server.log
        if request.method == "POST" and request.path.endswith(("/reply", "/push"))
    ]
    return bodies[-1]["messages"][-1]


def actions(message: dict) -> list[dict]:
    return [item["action"] for item in message.get("quickReply", {}).get("items", [])]


def tap(line, resident, data: str) -> None:
    line.send(line_events.postback(data, resident.line_user_id))


def say(line, resident, text: str) -> None:
    line.send(line_events.text(text, resident.line_user_id))


@pytest.fixture
def community_a_survey(session, communities, make_resident, make_survey, monkeypatch):
    """Five consenting residents in A, others who must not get it, and a survey for A."""
    monkeypatch.setattr(sending, "CHUNK", 2)
    a, b = communities[0], communities[1]
    in_a = [make_resident(a) for _ in range(5)]
    make_resident(a, consent="declined")
    make_resident(a, consent="pending")
    make_resident(a, active=False)
    make_resident(b)
    make_resident(None)
    survey = make_survey([a])
    session.commit()
    return survey, in_a


def test_send_answer_change_abandon_resume_close(
    session, line, line_api, worker, send_survey, community_a_survey, model_dir
):
    survey, residents = community_a_survey
    result = send_survey(survey)
    assert (result.recipients, result.chunks, result.cost) == (5, 3, 5)

    # Only A's consenting, following residents, in chunks, each request with its own UUID key.
    bodies = line_api.sent("multicast")
    assert [len(b["to"]) for b in bodies] == [2, 2, 1]
    assert sorted(u for b in bodies for u in b["to"]) == sorted(r.line_user_id for r in residents)
    keys = [r.headers["X-Line-Retry-Key"] for r in line_api.requests("multicast")]
    assert len(set(keys)) == 3 and all(str(uuid.UUID(k)) == k for k in keys)
    invitation = bodies[0]["messages"][0]
    assert invitation["type"] == "flex" and survey.title in invitation["altText"]
    assert sending.progress(session, survey)["sent"] == 5
    session.commit()
    session.refresh(survey)
    assert survey.status == "sent"

    first, second, third = residents[:3]
    single, multiple, rating, text_q = survey.questions

    # 1: answers everything, then changes the first answer.
    tap(line, first, f"sv={survey.id}&a=start")
    assert "ข้อ 1/4" in last_reply(line_api)["text"]
    tap(line, first, actions(last_reply(line_api))[0]["data"])
    o1, o2, o3 = (o.id for o in multiple.options)
    tap(line, first, f"sv={survey.id}&q={multiple.id}&o={o1}")
    tap(line, first, f"sv={survey.id}&q={multiple.id}&o={o2}")
    assert [a["label"] for a in actions(last_reply(line_api))][:2] == ["✓ ออกกำลังกาย", "✓ ฝึกอาชีพ"]
    tap(line, first, f"sv={survey.id}&q={multiple.id}&a=done")
    tap(line, first, f"sv={survey.id}&q={rating.id}&r=5")
    assert "พิมพ์คำตอบ" in last_reply(line_api)["text"]
    say(line, first, "อยากให้ซ่อมไฟส่องสว่างในซอยหน้าวัดที่ดับมาหลายเดือนแล้วค่ะ")
    summary = last_reply(line_api)
    assert "ขอบคุณ" in summary["text"] and "ถนนและทางเท้า" in summary["text"]
    tap(line, first, f"sv={survey.id}&q={single.id}&a=edit")
    tap(line, first, f"sv={survey.id}&q={single.id}&o={single.options[2].id}")
    assert "→ ขยะ" in last_reply(line_api)["text"]

    # The free-text answer is a need in the staff queue, source "survey", linked from the answer.
    filed = session.scalars(select(Submission).where(Submission.source == "survey")).all()
    assert len(filed) == 1 and filed[0].community_id == first.community_id
    linked = session.scalar(select(SurveyAnswer).where(SurveyAnswer.question_id == text_q.id))
    assert linked.submission_id == filed[0].id

    # 2: starts, answers one, types a need while the multiple choice waits (not swallowed),
    # abandons, resumes with "แบบสำรวจ" at the same place.
    tap(line, second, f"sv={survey.id}&a=start")
    tap(line, second, f"sv={survey.id}&q={single.id}&o={single.options[0].id}")
    before = session.scalar(select(func.count()).select_from(SurveyAnswer))
    say(line, second, "ท่อระบายน้ำหน้าบ้านอุดตันค่ะ")
    assert "แบบสำรวจ" not in last_reply(line_api)["text"]
    assert session.scalar(select(func.count()).select_from(SurveyAnswer)) == before
    say(line, second, "แบบสำรวจ")
    resumed = last_reply(line_api)["text"]
    assert "ทำแบบสำรวจต่อ" in resumed and "ข้อ 2/4" in resumed

    # 3: answers the first question only.
    tap(line, third, f"sv={survey.id}&q={single.id}&o={single.options[0].id}")

    # Results before closing: 3 of 5 answered question 1.
    data = survey_results(session, survey)
    q1 = data.questions[0]
    assert q1.answered == 3
    assert [(b.label, b.count, b.percent) for b in q1.bars] == [
        ("ถนนและทางเท้า", 2, 66.7),
        ("ไฟฟ้าส่องสว่าง", 0, 0.0),
        ("ขยะ", 1, 33.3),
    ]
    assert [(b.label, b.count) for b in data.questions[1].bars] == [
        ("ออกกำลังกาย", 1),
        ("ฝึกอาชีพ", 1),
        ("ดูแลผู้สูงอายุ", 0),
    ]
    assert data.questions[2].average == 5.0
    assert data.questions[3].texts[0].classification["kind"] != "other"
    (rate,) = data.communities
    assert (rate.recipients, rate.responded, rate.completed, rate.rate) == (5, 3, 1, 60.0)

    # Closing: the scheduler closes it at closes_at; late answers are refused politely.
    done = sending.send_due_surveys(session, survey.closes_at + timedelta(seconds=1), lambda: None)
    session.commit()
    assert done["closed"] == 1 and survey.status == "closed"
    answers = session.scalar(select(func.count()).select_from(SurveyAnswer))
    tap(line, second, f"sv={survey.id}&q={multiple.id}&o={o1}")
    assert "ปิดรับคำตอบแล้ว" in last_reply(line_api)["text"]
    tap(line, third, f"sv={survey.id}&q={single.id}&o={single.options[1].id}")
    assert "ปิดรับคำตอบแล้ว" in last_reply(line_api)["text"]
    assert session.scalar(select(func.count()).select_from(SurveyAnswer)) == answers
    assert survey_results(session, survey).questions[0].bars[1].count == 0


def test_failed_chunk_is_retried_with_the_same_key_and_nothing_twice(
    session, line_api, worker, send_survey, community_a_survey
):
    survey, residents = community_a_survey
    calls: list[tuple[str, list[str]]] = []

    def multicast(request: Request) -> Response:
        calls.append((request.headers["X-Line-Retry-Key"], json.loads(request.get_data())["to"]))
        if len(calls) == 2:
            return Response('{"message":"boom"}', status=500, content_type="application/json")
        return Response("{}", content_type="application/json")

    line_api.server.clear_all_handlers()
    line_api.server.expect_request("/v2/bot/message/multicast", method="POST").respond_with_handler(
        multicast
    )
    line_api.install_defaults()

    send_survey(survey)
    assert len(calls) == 3  # the rest still went
    progress = sending.progress(session, survey)
    assert (progress["sent"], progress["queued"], progress["failed"]) == (3, 2, 0)
    session.commit()
    # Time passes: the failed chunk is due again.
    session.execute(update(OutboxMessage).values(next_attempt_at=utcnow()))
    session.commit()
    worker.drain()
    assert len(calls) == 4
    assert calls[3] == calls[1]  # the same retry key and the same recipients
    assert len({key for key, _ in calls}) == 3
    delivered = [u for i, (_, to) in enumerate(calls) if i != 1 for u in to]
    assert sorted(delivered) == sorted(r.line_user_id for r in residents)
    progress = sending.progress(session, survey)
    assert (progress["sent"], progress["queued"], progress["failed"]) == (5, 0, 0)
    session.commit()
    worker.drain()
    assert len(calls) == 4  # nothing sent twice


def test_quota_too_small_refuses_and_queues_nothing(
    session, line_api, send_survey, community_a_survey
):
    survey, _ = community_a_survey
    line_api.server.clear_all_handlers()
    line_api.server.expect_request("/v2/bot/message/quota", method="GET").respond_with_json(
        {"type": "limited", "value": 1000}
    )
    line_api.server.expect_request(
        "/v2/bot/message/quota/consumption", method="GET"
    ).respond_with_json({"totalUsage": 997})
    line_api.install_defaults()
    with pytest.raises(sending.SurveySendError) as refused:
        send_survey(survey)
    assert "โควตาข้อความเดือนนี้เหลือ 3 ข้อความ แต่แบบสำรวจนี้ต้องใช้ 5 ข้อความ" in str(refused.value)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(SurveyRecipient)) == 0
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    assert line_api.sent("multicast") == []
    session.refresh(survey)
    assert survey.status == "draft"


def test_scheduled_survey_is_sent_when_due_once(session, line_api, worker, community_a_survey):
    from bot.line.api import Quota

    survey, residents = community_a_survey
    survey.status = "scheduled"
    survey.send_at = utcnow() + timedelta(hours=1)
    session.commit()
    assert sending.send_due_surveys(session, utcnow(), lambda: Quota(None, 0))["sent"] == 0
    later = survey.send_at + timedelta(seconds=1)
    assert sending.send_due_surveys(session, later, lambda: Quota(None, 0))["sent"] == 1
    session.commit()
    assert sending.send_due_surveys(session, later, lambda: Quota(None, 0))["sent"] == 0
    session.commit()
    worker.drain()
    assert sorted(u for b in line_api.sent("multicast") for u in b["to"]) == sorted(
        r.line_user_id for r in residents
    )


def test_scheduled_survey_over_quota_goes_back_to_draft_with_the_reason(
    session, community_a_survey
):
    from bot.line.api import Quota

    survey, _ = community_a_survey
    survey.status = "scheduled"
    survey.send_at = utcnow() - timedelta(minutes=1)
    session.commit()
    done = sending.send_due_surveys(session, utcnow(), lambda: Quota(limit=500, used=498))
    session.commit()
    assert done == {"sent": 0, "refused": 1, "closed": 0}
    assert survey.status == "draft" and "เหลือ 2 ข้อความ" in survey.send_error
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_the_worker_loop_sends_a_due_survey_without_any_command(
    session, line_api, worker, community_a_survey
):
    survey, residents = community_a_survey
    survey.status = "scheduled"
    survey.send_at = utcnow() - timedelta(minutes=1)
    session.commit()
    worker.drain()
    session.refresh(survey)
    assert survey.status != "scheduled"
    assert sorted(u for b in line_api.sent("multicast") for u in b["to"]) == sorted(
        r.line_user_id for r in residents
    )


def test_send_due_command(runner, session, community_a_survey):
    survey, _ = community_a_survey
    survey.status = "scheduled"
    survey.send_at = utcnow() - timedelta(minutes=1)
    session.commit()
    from bot.cli import main

    result = runner.invoke(main, args=["surveys", "send-due"])
    assert result.exit_code == 0, result.output
    assert "sent 1" in result.output
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(SurveyRecipient)) == 5


def test_forged_postbacks_over_the_webhook_are_refused(
    session, line, line_api, send_survey, community_a_survey, communities, make_resident
):
    survey, (member, *_) = community_a_survey
    outsider = make_resident(communities[1])
    session.commit()
    send_survey(survey)
    single, multiple = survey.questions[:2]
    for resident, data in [
        (outsider, f"sv={survey.id}&a=start"),  # not sent to them
        (outsider, f"sv={survey.id}&q={single.id}&o={single.options[0].id}"),
        (member, f"sv={survey.id}&q={single.id}&o={multiple.options[0].id}"),  # option elsewhere
        (member, f"sv={survey.id + 1}&a=start"),  # no such survey
        (member, "sv=1&q=<script>"),  # malformed
    ]:
        tap(line, resident, data)
        assert "ขออภัยค่ะ" in last_reply(line_api)["text"], data
    assert session.scalar(select(func.count()).select_from(SurveyAnswer)) == 0
    assert (
        session.scalar(
            select(func.count())
            .select_from(SurveyRecipient)
            .where(SurveyRecipient.resident_id == outsider.id)
        )
        == 0
    )
