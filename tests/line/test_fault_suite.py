"""The fault suite: Ruamkid as the Procfile runs it (gunicorn web, separate worker processes)
against a LINE stand-in that fails, rate-limits and times out, with workers SIGKILLed while
LINE has their message and (on PostgreSQL) the database cut and restored mid-stream.

Every need gets exactly one reply (or push) and one submission; every row is handled once.
Runs on SQLite, and on PostgreSQL when TEST_DATABASE_URL points at one; a few minutes at most.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
import urllib3
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from storage import mailbox
from storage.base import utcnow
from storage.models import Community, InboxEvent, OutboxMessage, Resident, Submission
from tests import line_events
from tests.conftest import CHANNEL_SECRET, free_port
from tests.line import rig

pytestmark = pytest.mark.faults

NEEDS = 200
LEASE_SECONDS = 8


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """A short LINE time-out, so 'LINE is slow' costs the suite little."""
    return {**app_config, "LINE_TIMEOUT": 1.0}


@pytest.fixture
def faulty_line():
    """A threaded LINE stand-in, stopped after the test."""
    line = rig.FaultyLine()
    yield line
    line.stop()


@pytest.fixture
def processes():
    """Processes the test starts; all stopped after it."""
    started: list[rig.Process] = []
    yield started
    for process in started:
        process.stop()


def _users(count: int) -> list[str]:
    return [f"U{0xFA0000 + i:032x}" for i in range(count)]


def _seed_residents(session, users: list[str]) -> None:
    """Residents who consented and chose a community: their texts are filed as needs."""
    community = session.scalars(select(Community).order_by(Community.position)).first()
    for user in users:
        session.add(
            Resident(line_user_id=user, consent="given", community=community, active=True, state={})
        )
    session.commit()


def _post_until_taken(http: urllib3.PoolManager, url: str, event: dict[str, Any]) -> int:
    """Post one signed event as LINE does: again (a redelivery) until it gets 200."""
    tries = 0
    while True:
        tries += 1
        raw = line_events.body(event)
        headers = {
            "X-Line-Signature": line_events.sign(raw, CHANNEL_SECRET),
            "Content-Type": "application/json",
        }
        try:
            if http.request("POST", url, body=raw, headers=headers).status == 200:
                return tries
        except urllib3.exceptions.HTTPError:
            pass
        event["deliveryContext"]["isRedelivery"] = True
        time.sleep(0.3)


def _database_via(proxy: rig.CuttableProxy, url: str) -> str:
    parsed = make_url(url).set(host="127.0.0.1", port=proxy.port)
    return parsed.render_as_string(hide_password=False)


def _outstanding(session) -> int:
    session.expire_all()
    inbox = session.scalar(select(func.count()).where(InboxEvent.status.in_(mailbox.UNHANDLED)))
    outbox = session.scalar(select(func.count()).where(OutboxMessage.status.in_(mailbox.UNSENT)))
    return inbox + outbox


def test_every_need_gets_one_reply_and_one_submission_through_faults(
    app, app_config, session, database_url, tmp_path, faulty_line, processes
):
    faulty_line.faults = rig.Faults(
        refuse_500=0.04,
        refuse_429=0.04,
        took_then_500=0.03,
        took_then_slow=0.03,
        slow_seconds=1.5,
    )
    line_host = faulty_line.start()
    postgres = database_url.startswith("postgresql")
    proxy = None
    process_database = database_url
    if postgres:
        target = make_url(database_url)
        proxy = rig.CuttableProxy(target.host or "127.0.0.1", target.port or 5432)
        process_database = _database_via(proxy, database_url)
    users = _users(NEEDS)
    _seed_residents(session, users)
    env = rig.environment(
        app_config,
        LINE_API_HOST=line_host,
        DATABASE_URL=process_database,
        MAILBOX_LEASE_SECONDS=LEASE_SECONDS,
    )

    port = free_port()
    web = rig.web(env, tmp_path / "web.log", port).start()
    workers = [
        rig.worker(env, tmp_path / f"worker-{n}.log", concurrency=2).start() for n in range(2)
    ]
    processes.extend([web, *workers])
    rig.wait_until_up(f"http://127.0.0.1:{port}/callback")

    # The 60th message LINE takes: kill every worker before it hears LINE's answer, so the
    # sender of that message dies between LINE taking it and recording it; restart them.
    killed = threading.Event()

    def kill_mid_call(endpoint: str, body: dict[str, Any]) -> None:
        if len(faulty_line.delivered) == 60 and not killed.is_set():
            killed.set()
            for process in workers:
                process.kill()
            threading.Timer(1.0, lambda: [p.start() for p in workers]).start()

    faulty_line.on_taken = kill_mid_call

    token_of: dict[str, str] = {}
    http = urllib3.PoolManager(maxsize=4, timeout=10, retries=False)
    url = f"http://127.0.0.1:{port}/callback"
    redelivered = 0
    cut_at = NEEDS * 3 // 5
    for n, user in enumerate(users):
        if proxy is not None and n == cut_at:
            proxy.cut()
            threading.Timer(3.0, proxy.restore).start()
        text = f"ไฟถนนดับหน้าบ้านเลขที่ {n} ซอย {n % 9 + 1} มาหลายวันแล้วค่ะ"
        event = line_events.text(text, user)  # LINE's time: when the resident sends it
        token_of[event["replyToken"]] = user
        redelivered += _post_until_taken(http, url, event) - 1
        time.sleep(0.04)  # about 25 needs a second

    assert rig.wait_for(lambda: _outstanding(session) == 0, seconds=600), _outstanding(session)
    assert killed.is_set()

    # Exactly one message reached each resident, by reply or by push.
    seen = Counter()
    for endpoint, recipient, _texts in faulty_line.delivered:
        user = token_of.get(recipient) if endpoint == "reply" else recipient.strip('"')
        seen[user] += 1
    assert set(seen) == set(users)
    doubled = [user for user, count in seen.items() if count != 1]
    assert doubled == [], [
        (endpoint, recipient[-6:], [t[:40] for t in texts])
        for endpoint, recipient, texts in faulty_line.delivered
        if (token_of.get(recipient) if endpoint == "reply" else recipient.strip('"')) in doubled
    ]

    session.expire_all()
    per_resident = session.execute(
        select(Resident.line_user_id, func.count(Submission.id))
        .join(Submission, Submission.resident_id == Resident.id)
        .group_by(Resident.line_user_id)
    ).all()
    assert len(per_resident) == NEEDS and {count for _, count in per_resident} == {1}
    inbox = Counter(session.scalars(select(InboxEvent.status)))
    assert inbox == {"done": NEEDS}
    outbox = Counter(session.scalars(select(OutboxMessage.status)))
    assert outbox == {"sent": NEEDS}
    if postgres:
        assert redelivered > 0  # the cut was felt by the webhook too


def _started(process_log) -> bool:
    return process_log.exists() and "started" in process_log.read_text(errors="replace")


def test_a_worker_killed_after_line_took_its_reply_never_sends_it_twice(
    app, app_config, session, tmp_path, faulty_line, processes
):
    env = rig.environment(app_config, LINE_API_HOST=faulty_line.start(), MAILBOX_LEASE_SECONDS=3)
    row = mailbox.enqueue(
        session,
        "U" + "7" * 32,
        [{"type": "text", "text": "รับเรื่องแล้วค่ะ"}],
        purpose="reply",
        reply_token="token-killed-mid-call",
        reply_deadline=utcnow() + timedelta(minutes=5),
    )
    session.commit()
    killed = threading.Event()
    log = tmp_path / "worker.log"
    worker = rig.worker(env, log)

    def kill(endpoint: str, body: dict[str, Any]) -> None:
        if not killed.is_set():
            killed.set()
            worker.kill()  # LINE has the reply; the worker never hears back nor commits

    faulty_line.on_taken = kill
    processes.append(worker.start())
    assert killed.wait(240)
    session.expire_all()
    crashed = session.get(OutboxMessage, row.id)
    assert crashed.status == "sending" and crashed.attempt_kind == "reply"

    faulty_line.on_taken = None
    worker.start()
    assert rig.wait_for(lambda: _outstanding(session) == 0, seconds=240)
    session.expire_all()
    done = session.get(OutboxMessage, row.id)
    # The restarted worker tried the token again: LINE refused the spent token, which
    # confirms the first call; nothing was pushed.
    assert done.status == "sent" and done.sent_via == "reply"
    assert len(faulty_line.delivered) == 1 and faulty_line.calls == 2


def test_two_worker_processes_share_the_rows_and_handle_each_once(
    app, app_config, session, tmp_path, faulty_line, processes
):
    faulty_line.faults = rig.Faults(took_then_slow=1.0, slow_seconds=0.03)
    env = rig.environment(app_config, LINE_API_HOST=faulty_line.start())
    logs = [tmp_path / f"worker-{n}.log" for n in range(2)]
    for log in logs:
        processes.append(rig.worker(env, log, concurrency=2).start())
    assert rig.wait_for(lambda: all(_started(log) for log in logs), seconds=240)

    count = 300
    for n in range(count):
        mailbox.enqueue(
            session, f"U{0xB0000 + n:032x}", [{"type": "text", "text": f"ข่าว {n}"}], purpose="t"
        )
    session.commit()
    assert rig.wait_for(lambda: _outstanding(session) == 0, seconds=240)

    session.expire_all()
    rows = session.scalars(select(OutboxMessage)).all()
    assert {row.status for row in rows} == {"sent"} and {row.attempts for row in rows} == {1}
    assert len(faulty_line.delivered) == faulty_line.calls == count
    processes_used = {row.claimed_by.rsplit(":", 2)[1] for row in rows}
    assert len(processes_used) == 2
