"""The daily purge (bot.retention): run by the worker once a day across workers, retried after
a failure; the mailbox's short window; stray photo files; staff searches audited without words."""

from __future__ import annotations

import os
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot import retention
from bot.db import session_factory
from storage import schedule
from storage.base import utcnow
from storage.models import InboxEvent, Media, OutboxMessage, Submission
from storage.staff import AuditLog

USER = "U" + "7" * 32


@pytest.fixture
def make_submission_row(session):
    """Add a bare submission (no resident) and return it."""

    def make() -> Submission:
        need = Submission(text="ท่อแตก", top3=[])
        session.add(need)
        session.commit()
        return need

    return make


def test_the_purge_runs_once_a_day_however_many_workers_ask(app):
    # Six workers' job loops ask at the same moment (other daily jobs are not counted here).
    start = threading.Barrier(6)
    ran: list[int] = []

    def run() -> None:
        start.wait()
        ran.append(retention.run_if_due(app))

    threads = [threading.Thread(target=run) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with session_factory(app)() as session:
        row = schedule.get_run(session, retention.JOB)
    assert row is not None and row.last_result.startswith("submissions=")
    assert row.next_run_at - row.last_started_at == retention.EVERY
    assert sum(1 for handled in ran if handled) == 1
    assert retention.run_if_due(app) == 0  # not due again today


def test_parallel_claims_give_the_run_to_exactly_one(app):
    factory = session_factory(app)
    start = threading.Barrier(8)
    claims: list[bool] = []

    def claim() -> None:
        with factory() as session:
            start.wait()
            claims.append(schedule.claim_run(session, "test.job", timedelta(days=1)))
            session.commit()

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(claims) == [False] * 7 + [True]


def test_a_failed_purge_is_tried_again_within_the_hour(app, monkeypatch, caplog):
    def broken(_app, now=None):
        raise RuntimeError(f"disk full near {USER}")

    monkeypatch.setattr(retention, "purge", broken)
    assert retention.run_if_due(app) == 0
    with session_factory(app)() as session:
        row = schedule.get_run(session, retention.JOB)
    assert row.last_result == "failed: RuntimeError"
    assert timedelta(minutes=55) < row.next_run_at - utcnow() <= retention.RETRY
    assert "privacy purge failed" in caplog.text and USER not in caplog.text


def test_handled_mailbox_rows_lose_ids_and_words_after_the_window(app, session):
    old = utcnow() - timedelta(hours=app.config["MAILBOX_KEEP_HOURS"] + 1)
    words = {"type": "text", "text": "บ้านเลขที่ 9 นางสมศรี"}
    inbox = {}
    for status, mode in (
        ("done", "active"),
        ("skipped", "standby"),
        ("failed", "active"),
        ("pending", "active"),
    ):
        row = InboxEvent(
            webhook_event_id=f"old-{status}",
            event_type="message",
            line_user_id=USER,
            payload={"text": words["text"]},
            mode=mode,
            status=status,
            received_at=old,
        )
        inbox[status] = row
    recent = InboxEvent(
        webhook_event_id="recent",
        event_type="message",
        line_user_id=USER,
        payload={"text": words["text"]},
        mode="standby",
        status="skipped",
    )
    outbox = {
        status: OutboxMessage(kind=kind, to=to, messages=[words], status=status, created_at=old)
        for status, kind, to in (
            ("sent", "push", USER),
            ("failed", "push", USER),
            ("skipped", "multicast", [USER, "U" + "8" * 32]),
            ("pending", "push", USER),
        )
    }
    session.add_all([*inbox.values(), recent, *outbox.values()])
    session.commit()

    report = retention.purge(app)
    assert (report.inbox, report.outbox) == (3, 3)
    session.expire_all()
    for status in ("done", "skipped", "failed"):
        row = session.get(InboxEvent, inbox[status].id)
        assert row.line_user_id is None and row.payload is None, status
    assert session.get(InboxEvent, inbox["pending"].id).payload == {"text": words["text"]}
    assert session.get(InboxEvent, recent.id).line_user_id == USER  # still within the window
    for status in ("sent", "failed", "skipped"):
        row = session.get(OutboxMessage, outbox[status].id)
        assert row.to in ("", []) and row.messages == [], status
    assert session.get(OutboxMessage, outbox["pending"].id).to == USER
    assert retention.purge(app).inbox == 0  # nothing twice


def test_stray_photo_files_go_after_a_day(app, session, make_submission_row):
    media_dir = app.config["MEDIA_DIR"]
    folder = os.path.join(media_dir, "2026", "11")
    os.makedirs(folder)
    paths = {name: os.path.join(folder, name) for name in ("kept.jpg", "stray.part", "new.jpg")}
    for path in paths.values():
        with open(path, "wb") as file:
            file.write(b"\xff\xd8")
    day_old = time.time() - 2 * 86400
    os.utime(paths["kept.jpg"], (day_old, day_old))
    os.utime(paths["stray.part"], (day_old, day_old))
    need = make_submission_row()
    session.add(Media(submission_id=need.id, status="stored", path="2026/11/kept.jpg"))
    session.commit()
    assert retention.purge(app).files == 1
    assert os.path.exists(paths["kept.jpg"]) and os.path.exists(paths["new.jpg"])
    assert not os.path.exists(paths["stray.part"])


def test_an_export_audits_that_staff_searched_never_the_words(app, session, make_user, login):
    client = app.test_client()
    login(client, make_user("staff"))
    response = client.get(
        "/dashboard/exports/submissions.csv", query_string={"q": "นางสมศรี 081", "status": "new"}
    )
    assert response.status_code == 200
    entry = session.scalar(select(AuditLog).where(AuditLog.action == "export.submissions_csv"))
    assert entry.details["filters"] == {"q": "(ค้นหา)", "status": "new"}
    assert "สมศรี" not in str(entry.details)
