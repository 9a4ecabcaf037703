"""Tell the residents behind a plan project on LINE when it reaches the budget ordinance,
starts and is done: one multicast per stage (≤ 500 ids a call) through the outbox.

The worker runs :func:`queue_news` every minute (never a web request: it asks LINE for the
month's quota). A project at a news stage whose news is not in the outbox yet gets it, once:
the outbox rows carry the purpose ``project:<id>:<stage>`` and a retry key derived from the
project, the stage and the chunk, so a second worker, a retry or a project moved back and
forth never sends it twice. A stage the quota cannot carry waits for the next run.
Residents turn the news off in chat ("ไม่รับข่าวโครงการ", ``bot.residents.news``).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db import session_factory
from bot.line import worker
from bot.line.api import LineError, Quota, line_api
from bot.residents import replies as r
from bot.wording import Wording, wording
from storage import mailbox
from storage import plan as store
from storage.models import OutboxMessage

logger = logging.getLogger(__name__)

CHUNK = 500
EVERY = 60.0
# uuid5 namespace of the retry keys (fixed: the same project and stage give the same keys).
NAMESPACE = uuid.UUID("5f0c7a2e-4a57-4b7e-9a43-2f1d3f0d6c11")


def init_app(app: Flask) -> None:
    """Run the news job in the worker loop of ``app``."""
    worker.register_job(app, worker.Job("project-news", EVERY, run))


def purpose(project_id: int, stage: str) -> str:
    """Return the outbox purpose of a project's news at ``stage``, e.g. ``project:7:done``."""
    return f"project:{project_id}:{stage}"


def retry_key(project_id: int, stage: str, chunk: int) -> str:
    """Return the X-Line-Retry-Key of one multicast of a stage's news (stable across runs)."""
    return str(uuid.uuid5(NAMESPACE, f"{purpose(project_id, stage)}:{chunk}"))


def message(say: Wording, project: store.Project, public_url: str | None) -> dict:
    """Return the news of the project's current stage, with a quick reply to turn news off."""
    link = ""
    if public_url:
        url = f"{public_url.rstrip('/')}/public/projects/{project.id}"
        link = say("project_news_link", url=url)
    body = say(f"project_news_{project.execution}", project=project.name, link=link).strip()
    return r.text(body, [r.say(say("project_news_off_button"))])


def queue_news(
    session: Session,
    quota_lookup: Callable[[], Quota],
    say: Wording,
    public_url: str | None = None,
) -> int:
    """Queue the news of every project at a news stage that has none yet; return how many
    multicasts were queued. The caller commits."""
    sent = set(
        session.scalars(
            select(OutboxMessage.purpose).where(OutboxMessage.purpose.like("project:%")).distinct()
        )
    )
    waiting = [
        p
        for p in session.scalars(
            select(store.Project)
            .where(store.Project.execution.in_(store.NEWS_STAGES))
            .order_by(store.Project.id)
        )
        if purpose(p.id, p.execution) not in sent
    ]
    queued = 0
    quota: Quota | None = None
    for project in waiting:
        to = store.news_recipients(session, project)
        if not to:
            continue
        if quota is None:
            try:
                quota = quota_lookup()
            except LineError as exc:
                logger.warning("project news waits: quota lookup failed (%s)", exc)
                return queued
        remaining = quota.remaining
        if remaining is not None and len(to) > remaining:
            logger.warning(
                "project %d news waits: %d messages, %d left this month",
                project.id,
                len(to),
                remaining,
            )
            continue
        news = [message(say, project, public_url)]
        try:
            with session.begin_nested():
                for n, start in enumerate(range(0, len(to), CHUNK)):
                    row = mailbox.enqueue(
                        session,
                        to[start : start + CHUNK],
                        news,
                        purpose=purpose(project.id, project.execution),
                    )
                    row.retry_key = retry_key(project.id, project.execution, n)
                    queued += 1
                session.flush()
        except IntegrityError:
            # Another worker queued the same stage first (same retry keys): it goes once.
            logger.info("project %d news already queued elsewhere", project.id)
            continue
        if quota.limit is not None:
            quota = Quota(limit=quota.limit, used=quota.used + len(to))
        logger.info(
            "project %d: %s news queued for %d residents", project.id, project.execution, len(to)
        )
    return queued


def run(app: Flask) -> int:
    """Queue what is due for ``app`` in one transaction (the worker loop's job)."""
    api = line_api(app)
    try:
        with session_factory(app)() as session:
            say = wording(app.extensions["ruamkid"])
            queued = queue_news(session, api.quota, say, app.config.get("PUBLIC_URL"))
            session.commit()
    finally:
        api.close()
    if queued:
        worker.wake(app)
    return queued
