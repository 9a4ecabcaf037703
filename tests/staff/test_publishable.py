"""The per-need switch that lets the public pages show a need's words: off by default,
changed by triage staff only, written to the need's history and the audit log."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage.models import Submission, SubmissionEvent
from storage.staff import AuditLog


def test_staff_switch_the_words_on_and_off_with_history_and_audit(
    client, session, make_user, login, make_submission
):
    user = make_user("staff")
    login(client, user)
    sub = make_submission(session)
    assert sub.publishable is False
    page = client.get(f"/dashboard/submissions/{sub.id}").get_data(as_text=True)
    assert 'data-testid="publishable-form"' in page

    response = client.post(
        f"/dashboard/submissions/{sub.id}/publishable", data={"publishable": "1"}
    )
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Submission, sub.id).publishable is True
    # Asking again changes nothing and records nothing.
    client.post(f"/dashboard/submissions/{sub.id}/publishable", data={"publishable": "1"})
    client.post(f"/dashboard/submissions/{sub.id}/publishable", data={"publishable": "0"})
    session.expire_all()
    assert session.get(Submission, sub.id).publishable is False
    events = session.scalars(
        select(SubmissionEvent).where(SubmissionEvent.action == "publishable")
    ).all()
    assert [(e.detail, e.actor) for e in events] == [
        ({"to": True}, f"user:{user.id}"),
        ({"to": False}, f"user:{user.id}"),
    ]
    audits = session.scalars(
        select(AuditLog).where(AuditLog.action == "submission.publishable")
    ).all()
    assert [(a.user_id, a.target_id, a.details) for a in audits] == [
        (user.id, str(sub.id), {"to": True}),
        (user.id, str(sub.id), {"to": False}),
    ]


def test_leaders_cannot_publish(client, session, make_user, login, make_submission):
    leader = make_user("leader")
    login(client, leader)
    sub = make_submission(session, community_id=leader.community_id)
    response = client.post(
        f"/dashboard/submissions/{sub.id}/publishable", data={"publishable": "1"}
    )
    assert response.status_code == 403
    session.expire_all()
    assert session.get(Submission, sub.id).publishable is False


@pytest.mark.parametrize("csrf_enabled", [True])
def test_the_switch_needs_a_csrf_token(
    client, session, make_user, login, make_submission, csrf_enabled
):
    login(client, make_user("staff"))
    sub = make_submission(session)
    response = client.post(
        f"/dashboard/submissions/{sub.id}/publishable", data={"publishable": "1"}
    )
    assert response.status_code == 400
    session.expire_all()
    assert session.get(Submission, sub.id).publishable is False
