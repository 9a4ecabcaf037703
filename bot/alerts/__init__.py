"""Staff and leaders on LINE: link a dashboard account to a LINE account, alerts of needs routed
to a division, a daily digest of overdue needs, and leaders' daily summaries.

``init_app`` plugs the parts in: the conversation lets ``linking`` read every sender's text
first (staff need not consent as residents), and the worker runs the alert job each minute and
the digest once a day at 08:00 Bangkok time (once across workers, ``storage.schedule``).
"""

from __future__ import annotations

import logging

from flask import Flask

from bot import residents
from bot.alerts import linking, sending
from bot.db import session_factory
from bot.line import worker
from bot.line.api import line_api
from bot.needs.classification import taxonomy
from bot.wording import wording
from storage import schedule
from storage.base import utcnow

logger = logging.getLogger(__name__)

ALERTS_EVERY = 60.0
DIGEST_CHECK_EVERY = 300.0


def init_app(app: Flask) -> None:
    """Register the linking hook with the conversation and the alert jobs with the worker."""
    residents.register_handler(app, linking.on_text, before_consent=True)
    worker.register_job(app, worker.Job("division_alerts", ALERTS_EVERY, run_alerts))
    worker.register_job(app, worker.Job("daily_digest", DIGEST_CHECK_EVERY, run_daily))


def settings(app: Flask) -> sending.Settings:
    """The wording, dashboard address and names the alert jobs of ``app`` use."""
    tax = taxonomy(app)
    base_url = app.config.get("PUBLIC_URL") or f"http://127.0.0.1:{app.config['PORT']}"
    return sending.Settings(
        say=wording(app.extensions["ruamkid"]),
        base_url=base_url,
        subarea_names={sub.code: sub.name for s in tax.strategies for sub in s.subareas},
        reserve_share=float(app.config["ALERT_QUOTA_RESERVE"]),
    )


def run_alerts(app: Flask) -> int:
    """Queue the pending division alerts (one run at a time across workers); count messages."""
    api = line_api(app)
    try:
        with session_factory(app)() as session:
            done = sending.send_division_alerts(session, settings(app), api.quota, utcnow())
            session.commit()
    finally:
        api.close()
    if done["messages"] or done["deferred"]:
        logger.info("division alerts: %s", done)
    return done["messages"]


def run_daily(app: Flask) -> int:
    """Queue the daily digests and summaries when their hour has come (once across workers)."""
    now = utcnow()
    with session_factory(app)() as session:
        # The first run waits for the digest hour rather than running at start-up.
        schedule.add_job(session, "daily_digest", first_run_at=sending.next_digest_time(now))
        session.commit()
        if not schedule.claim_run(session, "daily_digest", sending.DAY, now):
            return 0
        session.commit()
        api = line_api(app)
        try:
            done = sending.send_daily(session, settings(app), api.quota, now)
            schedule.finish_run(
                session, "daily_digest", str(done), retry_at=sending.next_digest_time(now)
            )
            session.commit()
        finally:
            api.close()
    logger.info("daily digest: %s", done)
    return done["messages"]
