"""Reply templates per status: previewed, saved, refused with unknown placeholders, used."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.needs import actions, replies
from bot.wording import default_wording
from storage import routing, staff
from storage.models import OutboxMessage, Submission


def test_the_default_template_says_what_the_bot_said_before(session, make_submission):
    need = make_submission(session, resident=True)
    say = default_wording()
    with_note = actions.status_message(say, need, "done", None, None, "ซ่อมแล้วค่ะ")
    assert with_note == "\n".join(
        [
            say("status_changed", tracking_no=need.tracking_no, status="เสร็จสิ้น"),
            say("status_done"),
            say("status_public_note", note="ซ่อมแล้วค่ะ"),
            say("status_footer"),
        ]
    )
    plain = actions.status_message(say, need, "out_of_scope", "การไฟฟ้า", None, None)
    assert "การไฟฟ้า" in plain and "หมายเหตุ" not in plain


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("เรื่อง {tracking} {name}", "ไม่รู้จักช่องข้อมูล {name}"),
        ("เรื่อง {tracking", "วงเล็บปีกกา"),
        ("   ", "กรุณาใส่ข้อความ"),
    ],
)
def test_a_bad_template_is_refused_in_thai(text, error):
    assert error in replies.problem(text)


def test_an_admin_previews_saves_and_residents_get_the_new_words(
    client, session, make_user, make_submission, login, line_api, worker
):
    admin = make_user("admin")
    login(client, admin)
    text = "เรื่อง {tracking} ส่งถึง{division}แล้ว\nกำหนดเสร็จ {due_date}\nหมายเหตุ: {note}"
    page = client.post(
        "/dashboard/admin/replies/in_progress", data={"text": text, "action": "preview"}
    ).get_data(as_text=True)
    assert "เรื่อง LPN-69-000123 ส่งถึงกองช่างแล้ว" in page
    assert routing.reply_template(session, "in_progress") is None  # a preview saves nothing
    bad = client.post(
        "/dashboard/admin/replies/in_progress", data={"text": "{tracking} {ชื่อ}", "action": "save"}
    )
    assert bad.status_code == 400 and "ไม่รู้จักช่องข้อมูล" in bad.get_data(as_text=True)
    client.post("/dashboard/admin/replies/in_progress", data={"text": text, "action": "save"})
    assert routing.reply_template(session, "in_progress") == text

    works = session.scalar(select(routing.Division).where(routing.Division.code == "works"))
    need = make_submission(session, resident=True, division_id=works.id)
    actions.change_status(session, need, "in_progress", actor=f"user:{admin.id}")
    session.commit()
    pushed = session.scalar(select(OutboxMessage)).messages[0]["text"]
    assert pushed == f"เรื่อง {need.tracking_no} ส่งถึงกองช่างแล้ว"  # no due date, no note: left out

    client.post("/dashboard/admin/replies/in_progress", data={"action": "reset"})
    assert routing.reply_template(session, "in_progress") is None
    logged = session.scalars(
        select(staff.AuditLog.action).where(staff.AuditLog.target_type == "reply_template")
    ).all()
    assert logged == ["reply_template.save", "reply_template.reset"]
    assert session.get(Submission, need.id).status == "in_progress"


def test_staff_cannot_edit_replies(client, make_user, login):
    login(client, make_user("staff"))
    assert client.get("/dashboard/admin/replies/").status_code == 403
