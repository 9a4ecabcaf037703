"""The survey pages: building, permissions, draft-only editing, CSRF, sending, results, exports."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from bot.surveys import sending
from storage.base import utcnow
from storage.models import OutboxMessage
from storage.surveys import Survey, SurveyAnswer, SurveyQuestion, SurveyRecipient


@pytest.fixture
def staff_client(client, make_user, login):
    login(client, make_user("staff"))
    return client


@pytest.fixture
def leader_of(app, make_user, login):
    """Return a signed-in test client for a leader of ``community``."""

    def signed_in(community):
        client = app.test_client()
        assert login(client, make_user("leader", community=community.id)).status_code == 302
        return client

    return signed_in


def add_question(client, survey_id: int, **form) -> object:
    return client.post(f"/dashboard/surveys/{survey_id}/questions", data=form)


def test_staff_builds_a_survey_and_previews_it(staff_client, session, communities):
    a, b = communities[:2]
    response = staff_client.post(
        "/dashboard/surveys/new",
        data={
            "title": "สำรวจ <script>alert(1)</script>",
            "intro": "ขอความร่วมมือค่ะ",
            "community_ids": [str(a.id), str(b.id)],
        },
    )
    assert response.status_code == 302
    survey = session.scalar(select(Survey))
    assert survey.community_ids == {a.id, b.id} and not survey.all_communities
    assert (
        add_question(
            staff_client,
            survey.id,
            text="เรื่องใดสำคัญ",
            type="single",
            options="ถนน\nไฟฟ้า\n\nขยะ",
            required="1",
        ).status_code
        == 302
    )
    add_question(staff_client, survey.id, text="ให้คะแนนบริการ", type="rating")
    add_question(staff_client, survey.id, text="ข้อเสนอแนะ", type="text")
    session.expire_all()
    assert [(q.type, q.required) for q in survey.questions] == [
        ("single", True),
        ("rating", False),
        ("text", False),
    ]
    assert [o.label for o in survey.questions[0].options] == ["ถนน", "ไฟฟ้า", "ขยะ"]

    # Reorder: move the rating question up.
    rating = survey.questions[1]
    staff_client.post(
        f"/dashboard/surveys/{survey.id}/questions/{rating.id}", data={"action": "up"}
    )
    session.expire_all()
    assert [q.type for q in survey.questions] == ["rating", "single", "text"]

    page = staff_client.get(f"/dashboard/surveys/{survey.id}/preview")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in html
    assert "rk-preview" in html and "เริ่มทำแบบสำรวจ" in html and "เรื่องใดสำคัญ" in html


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"text": "", "type": "single", "options": "ก\nข"}, "กรุณาพิมพ์คำถาม"),
        ({"text": "เลือก", "type": "single", "options": "ก"}, "อย่างน้อย 2"),
        (
            {"text": "เลือก", "type": "single", "options": "\n".join(f"ข้อ {n}" for n in range(13))},
            "ไม่เกิน 12",
        ),
        ({"text": "เลือก", "type": "multiple", "options": "สั้น\n" + "ย" * 21}, "ยาวเกิน 20"),
        ({"text": "เลือก", "type": "single", "options": "ก\nก"}, "ซ้ำ"),
        ({"text": "เลือก", "type": "essay"}, "ประเภทคำถามไม่ถูกต้อง"),
    ],
)
def test_question_validation(staff_client, session, make_survey, communities, form, error):
    survey = make_survey([communities[0]], questions=[])
    session.commit()
    response = add_question(staff_client, survey.id, **form)
    assert response.status_code == 302
    page = staff_client.get(response.headers["Location"]).get_data(as_text=True)
    assert error in page
    assert session.scalar(select(func.count()).select_from(SurveyQuestion)) == 0


def test_title_is_required(staff_client, session):
    response = staff_client.post(
        "/dashboard/surveys/new", data={"title": " ", "all_communities": "1"}
    )
    assert response.status_code == 400
    assert "กรุณาใส่ชื่อแบบสำรวจ" in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Survey)) == 0


def test_only_drafts_can_be_edited(staff_client, session, make_survey, make_resident, communities):
    make_resident(communities[0])
    survey = make_survey([communities[0]])
    sending.queue_survey(session, survey, lambda: sending.Quota(None, 0))
    session.commit()
    question = survey.questions[0]
    for url, form in [
        (f"/dashboard/surveys/{survey.id}/edit", {"title": "ใหม่", "all_communities": "1"}),
        (f"/dashboard/surveys/{survey.id}/questions", {"text": "ใหม่", "type": "text"}),
        (f"/dashboard/surveys/{survey.id}/questions/{question.id}", {"action": "delete"}),
        (f"/dashboard/surveys/{survey.id}/delete", {}),
    ]:
        response = staff_client.post(url, data=form)
        assert response.status_code == 302
    session.expire_all()
    assert survey.title != "ใหม่" and len(survey.questions) == 4
    page = staff_client.get(f"/dashboard/surveys/{survey.id}").get_data(as_text=True)
    assert "แก้ไขได้เฉพาะแบบสำรวจที่เป็นฉบับร่าง" in page


def test_leader_works_on_own_community_only(leader_of, session, make_survey, communities):
    a, b = communities[:2]
    client = leader_of(a)
    # Even when the form names another community, a leader's survey goes to their own.
    client.post(
        "/dashboard/surveys/new",
        data={"title": "ของชุมชน A", "community_ids": [str(b.id)], "all_communities": "1"},
    )
    own = session.scalar(select(Survey).where(Survey.title == "ของชุมชน A"))
    assert own.community_ids == {a.id} and not own.all_communities

    theirs = make_survey([b], title="ของชุมชน B")
    everyone = make_survey(None, title="ทุกชุมชน")
    session.commit()
    listing = client.get("/dashboard/surveys/").get_data(as_text=True)
    assert "ของชุมชน A" in listing and "ของชุมชน B" not in listing and "ทุกชุมชน" not in listing
    for target in (theirs, everyone):
        q = target.questions[0]
        for url in (
            f"/dashboard/surveys/{target.id}",
            f"/dashboard/surveys/{target.id}/preview",
            f"/dashboard/surveys/{target.id}/results",
            f"/dashboard/surveys/{target.id}/results.csv",
            f"/dashboard/surveys/{target.id}/results.xlsx",
        ):
            assert client.get(url).status_code == 404, url
        for url, form in (
            (f"/dashboard/surveys/{target.id}/edit", {"title": "ยึด"}),
            (f"/dashboard/surveys/{target.id}/questions", {"text": "x", "type": "text"}),
            (f"/dashboard/surveys/{target.id}/questions/{q.id}", {"action": "delete"}),
            (f"/dashboard/surveys/{target.id}/send", {}),
            (f"/dashboard/surveys/{target.id}/schedule", {"send_date": "1/1/2580"}),
            (f"/dashboard/surveys/{target.id}/close", {}),
            (f"/dashboard/surveys/{target.id}/delete", {}),
        ):
            assert client.post(url, data=form).status_code == 404, url
    session.expire_all()
    assert theirs.title == "ของชุมชน B" and theirs.status == "draft" and len(theirs.questions) == 4
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    # A question of B's survey cannot be reached through A's survey either.
    response = client.post(
        f"/dashboard/surveys/{own.id}/questions/{theirs.questions[0].id}", data={"action": "delete"}
    )
    assert response.status_code == 404


@pytest.mark.parametrize("csrf_enabled", [True])
def test_forms_need_the_csrf_token(staff_client, session, make_survey, communities, csrf_enabled):
    survey = make_survey([communities[0]])
    session.commit()
    assert staff_client.post("/dashboard/surveys/new", data={"title": "x"}).status_code == 400
    assert staff_client.post(f"/dashboard/surveys/{survey.id}/send").status_code == 400
    assert session.scalar(select(func.count()).select_from(Survey)) == 1
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_send_from_the_page_checks_the_quota(
    staff_client, session, line_api, make_survey, make_resident, communities
):
    for _ in range(3):
        make_resident(communities[0])
    survey = make_survey([communities[0]])
    session.commit()
    line_api.server.clear_all_handlers()
    line_api.server.expect_request("/v2/bot/message/quota", method="GET").respond_with_json(
        {"type": "limited", "value": 200}
    )
    line_api.server.expect_request(
        "/v2/bot/message/quota/consumption", method="GET"
    ).respond_with_json({"totalUsage": 199})
    line_api.install_defaults()
    response = staff_client.post(f"/dashboard/surveys/{survey.id}/send", data={"confirm": "1"})
    page = staff_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "โควตาข้อความเดือนนี้เหลือ 1 ข้อความ แต่แบบสำรวจนี้ต้องใช้ 3 ข้อความ" in page
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    session.expire_all()
    assert survey.status == "draft"


def test_send_now_asks_first_with_the_quota_it_costs(
    staff_client, session, make_survey, make_resident, communities
):
    for _ in range(2):
        make_resident(communities[0])
    survey = make_survey([communities[0]])
    session.commit()
    show = staff_client.get(f"/dashboard/surveys/{survey.id}").get_data(as_text=True)
    assert f'href="/dashboard/surveys/{survey.id}/send" data-testid="send-now"' in show
    # A post without the confirmation (an old form, a double click) sends nothing.
    response = staff_client.post(f"/dashboard/surveys/{survey.id}/send")
    assert response.headers["Location"].endswith(f"/dashboard/surveys/{survey.id}/send")
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    page = staff_client.get(f"/dashboard/surveys/{survey.id}/send").get_data(as_text=True)
    assert 'data-testid="confirm-recipients">2 คน<' in page
    assert 'data-testid="confirm-cost">2 ข้อความ<' in page
    assert "ยกเลิกไม่ได้" in page
    session.expire_all()
    assert survey.status == "draft"


def test_send_now_and_progress(
    staff_client, session, worker, make_survey, make_resident, communities
):
    for _ in range(3):
        make_resident(communities[0])
    survey = make_survey([communities[0]])
    session.commit()
    response = staff_client.post(f"/dashboard/surveys/{survey.id}/send", data={"confirm": "1"})
    page = staff_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "กำลังส่งแบบสำรวจถึงผู้รับ 3 คน" in page
    assert 'data-testid="progress-queued">3<' in page
    worker.drain()
    page = staff_client.get(f"/dashboard/surveys/{survey.id}").get_data(as_text=True)
    assert 'data-testid="progress-sent">3<' in page
    assert 'data-testid="progress-queued">0<' in page


def test_schedule_with_buddhist_era_dates(staff_client, session, make_survey, communities):
    survey = make_survey([communities[0]], closes_in=None)
    session.commit()
    year = utcnow().year + 543 + 1
    response = staff_client.post(
        f"/dashboard/surveys/{survey.id}/schedule",
        data={"send_date": f"1/2/{year}", "send_time": "09:30", "close_date": f"15/2/{year}"},
    )
    assert response.status_code == 302
    session.expire_all()
    assert survey.status == "scheduled"
    assert (survey.send_at.month, survey.send_at.day, survey.send_at.hour) == (2, 1, 2)  # 09:30 +07
    page = staff_client.get(f"/dashboard/surveys/{survey.id}").get_data(as_text=True)
    assert f"1 ก.พ. {year} 09:30" in page
    assert (survey.closes_at.day, survey.closes_at.hour) == (14, 17)  # 15 Feb 00:00 +07
    # Closing before sending is refused and changes nothing.
    response = staff_client.post(
        f"/dashboard/surveys/{survey.id}/schedule",
        data={"send_date": f"15/2/{year}", "close_date": f"1/2/{year}"},
    )
    assert "เวลาปิดรับคำตอบต้องอยู่หลังเวลาส่ง" in staff_client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    session.expire_all()
    assert (survey.send_at.day, survey.closes_at.day) == (1, 14)


def _answered_survey(session, make_survey, make_resident, communities):
    a, b = communities[:2]
    survey = make_survey([a, b])
    residents = [make_resident(a), make_resident(a), make_resident(b), make_resident(b)]
    sending.queue_survey(session, survey, lambda: sending.Quota(None, 0))
    session.flush()
    single, multiple, rating, text = survey.questions
    recipients = {r.resident_id: r for r in session.scalars(select(SurveyRecipient))}
    first, second, third, _ = (recipients[r.id] for r in residents)
    now = utcnow()
    rows = [
        (first, single, {"option_ids": [single.options[0].id]}),
        (first, multiple, {"option_ids": [multiple.options[0].id, multiple.options[1].id]}),
        (first, rating, {"rating": 4}),
        (first, text, {"text": '=HYPERLINK("http://evil.example","คลิก")'}),
        (second, single, {"option_ids": [single.options[0].id]}),
        (third, single, {"option_ids": [single.options[2].id]}),
        (third, rating, {"skipped": True}),
    ]
    for recipient, question, values in rows:
        session.add(
            SurveyAnswer(
                recipient_id=recipient.id,
                question_id=question.id,
                answered_at=now,
                updated_at=now,
                **values,
            )
        )
    first.status = "completed"
    second.status = third.status = "answering"
    session.commit()
    return survey


def test_results_page_counts_and_rates(
    staff_client, session, make_survey, make_resident, communities
):
    survey = _answered_survey(session, make_survey, make_resident, communities)
    html = staff_client.get(f"/dashboard/surveys/{survey.id}/results").get_data(as_text=True)
    assert "<svg" in html and "ร้อยละ 75.0" in html
    assert 'data-testid="percent">66.7<' in html  # 2 of 3 chose the first option
    assert "=HYPERLINK" in html and '<a href="http://evil' not in html
    a = communities[0]
    filtered = staff_client.get(f"/dashboard/surveys/{survey.id}/results?community={a.id}")
    text = filtered.get_data(as_text=True)
    assert 'data-testid="percent">100.0<' in text  # both of A's respondents chose it


def test_leader_sees_own_community_results_only(
    leader_of, session, make_survey, make_resident, communities
):
    a, b = communities[:2]
    survey = _answered_survey(session, make_survey, make_resident, communities)
    # A survey for A and B is not the leader's: only staff see it.
    assert leader_of(a).get(f"/dashboard/surveys/{survey.id}/results").status_code == 404


def test_exports_open_and_are_formula_safe(
    staff_client, session, make_survey, make_resident, communities
):
    survey = _answered_survey(session, make_survey, make_resident, communities)
    response = staff_client.get(f"/dashboard/surveys/{survey.id}/results.csv")
    assert response.status_code == 200
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:2] == ["ผู้ตอบคนที่", "ชุมชน"]
    assert len(rows) == 4  # header + three respondents (the fourth did not answer)
    assert rows[1][-1] == '\'=HYPERLINK("http://evil.example","คลิก")'
    assert all(not cell.startswith("=") for row in rows for cell in row)

    response = staff_client.get(f"/dashboard/surveys/{survey.id}/results.xlsx")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.get_data()))
    assert workbook.sheetnames == ["สรุปผล", "คำตอบ", "อัตราการตอบ"]
    answers = workbook["คำตอบ"]
    cell = answers.cell(row=2, column=answers.max_column)
    assert cell.value.startswith("=HYPERLINK") and cell.data_type == "s"
    rates = [tuple(r) for r in workbook["อัตราการตอบ"].iter_rows(min_row=2, values_only=True)]
    assert sorted(r[1:] for r in rates) == [(2, 1, 0, 50.0), (2, 2, 1, 100.0)]
