"""A database outage: the worker backs off and logs once when it starts failing and once when
it works again, never a traceback per cycle; nothing is lost."""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import select

from bot.line import worker as worker_module
from bot.line.worker import Worker
from storage.db import make_engine, make_session_factory
from storage.models import InboxEvent
from tests import line_events


def test_an_outage_is_backed_off_and_logged_once_each_way(app, line, line_api, tmp_path, caplog):
    assert line.post(line_events.text("ไฟดับทั้งหมู่บ้าน")).status_code == 200
    worker = Worker(app, name="outage")
    healthy = worker.sessions
    # A database that cannot be reached: the path's folder does not exist.
    unreachable = make_session_factory(make_engine(f"sqlite:///{tmp_path}/gone/ruamkid.db"))
    tries = {"n": 0}

    def outage():
        tries["n"] += 1
        return unreachable()

    worker.sessions = outage
    stop = threading.Event()
    caplog.set_level(logging.INFO, logger=worker_module.__name__)
    thread = threading.Thread(target=worker.run_forever, args=(stop,))
    thread.start()
    time.sleep(3.2)
    during = tries["n"]
    worker.sessions = healthy
    deadline = time.monotonic() + 40
    while not line_api.sent("reply") and time.monotonic() < deadline:
        time.sleep(0.1)
    stop.set()
    thread.join(40)

    # 0, 0.5, 1.5 and 3.5 s: waits of 0.5, 1, 2 … not one try every 0.5 s (that is 7).
    assert 2 <= during <= 4
    messages = [r.getMessage() for r in caplog.records if r.name == worker_module.__name__]
    failed = [m for m in messages if "cycle failed" in m]
    again = [m for m in messages if "working again" in m]
    assert len(failed) == 1 and len(again) == 1
    assert "OperationalError" in failed[0]
    assert len(line_api.sent("reply")) == 1
    with healthy() as session:
        assert session.scalars(select(InboxEvent.status)).all() == ["done"]
