"""The admin's mailbox page: parked LINE events and messages, retried or discarded (CSRF,
audited, admins only)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage import mailbox
from storage.models import InboxEvent, OutboxMessage
from storage.staff import AuditLog
from tests.line.test_poison import USER, poisoned_outbox
from tests.staff.conftest import csrf_token


def _park_one_of_each(session) -> tuple[int, int]:
    outbox = poisoned_outbox(session)
    inbox = InboxEvent(
        webhook_event_id="01PARKED", event_type="message", line_user_id=USER, payload={}
    )
    session.add(inbox)
    session.flush()
    mailbox.park(session, inbox, "TypeError")
    session.get(OutboxMessage, outbox).status = "parked"
    session.commit()
    return inbox.id, outbox


@pytest.mark.parametrize("csrf_enabled", [True])
def test_admins_see_parked_rows_and_retry_or_discard_them(
    client, session, make_user, login, csrf_enabled
):
    inbox_id, outbox_id = _park_one_of_each(session)
    admin = make_user("admin")
    login(client, admin)
    page = client.get("/dashboard/admin/mailbox")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'data-id="{inbox_id}"' in html and f'data-id="{outbox_id}"' in html
    assert 'data-kind="outbox" data-status="parked"' in html
    assert USER not in html and "12345" not in html

    token = csrf_token(client, "/dashboard/admin/mailbox")
    assert (
        client.post("/dashboard/admin/mailbox/inbox/retry", data={"ids": [inbox_id]}).status_code
        == 400
    )
    response = client.post(
        "/dashboard/admin/mailbox/inbox/retry", data={"ids": [inbox_id], "csrf_token": token}
    )
    assert response.status_code == 302
    response = client.post(
        "/dashboard/admin/mailbox/outbox/discard",
        data={"ids": [outbox_id], "csrf_token": token},
    )
    assert response.status_code == 302

    session.expire_all()
    inbox = session.get(InboxEvent, inbox_id)
    assert inbox.status == "pending" and inbox.attempts == 0
    outbox = session.get(OutboxMessage, outbox_id)
    assert outbox.status == "skipped" and outbox.to == "" and outbox.messages == []
    actions = session.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()
    assert actions[-2:] == ["mailbox.retry", "mailbox.discard"]


@pytest.mark.parametrize("role", ["staff", "leader"])
def test_only_admins_reach_the_mailbox(client, make_user, login, role):
    login(client, make_user(role))
    assert client.get("/dashboard/admin/mailbox").status_code == 403
