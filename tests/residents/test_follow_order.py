"""Follow and unfollow apply in LINE's time order per resident: a late redelivered event older
than the latest one applied changes nothing."""

from __future__ import annotations

import time

from storage import mailbox
from tests import line_events
from tests.residents.support import USER, join, resident


def _later(seconds: float) -> int:
    """LINE's time ``seconds`` after now (after the follow that ``join`` sends)."""
    return int((time.time() + seconds) * 1000)


def test_a_late_unfollow_older_than_the_latest_follow_does_not_silence_the_resident(
    line, line_api, session
):
    join(line, line_api)
    line.send(line_events.event("unfollow", USER, timestamp_ms=_later(10)))
    line.send(line_events.event("follow", USER, timestamp_ms=_later(30)))
    # LINE redelivers an unfollow from before that follow.
    line.send(line_events.event("unfollow", USER, timestamp_ms=_later(20), redelivery=True))
    session.expire_all()
    assert resident(session).active is True

    mailbox.enqueue(
        session, USER, [{"type": "text", "text": "เรื่องของท่านเสร็จแล้วค่ะ"}], purpose="status"
    )
    session.commit()
    line.worker.drain()
    assert [body["to"] for body in line_api.sent("push")] == [USER]


def test_an_unfollow_after_the_latest_follow_silences_the_resident(line, line_api, session):
    join(line, line_api)
    line.send(line_events.event("follow", USER, timestamp_ms=_later(10)))
    line.send(line_events.event("unfollow", USER, timestamp_ms=_later(20)))
    session.expire_all()
    assert resident(session).active is False

    mailbox.enqueue(
        session, USER, [{"type": "text", "text": "เรื่องของท่านเสร็จแล้วค่ะ"}], purpose="status"
    )
    session.commit()
    line.worker.drain()
    assert line_api.sent("push") == []


def test_a_late_follow_older_than_the_latest_unfollow_is_not_answered(line, line_api, session):
    join(line, line_api)
    line.send(line_events.event("unfollow", USER, timestamp_ms=_later(20)))
    replies_before = len(line_api.sent("reply"))
    line.send(line_events.event("follow", USER, timestamp_ms=_later(10), redelivery=True))
    session.expire_all()
    assert resident(session).active is False
    assert len(line_api.sent("reply")) == replies_before
