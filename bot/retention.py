"""What Ruamkid keeps about residents and for how long, and the daily purge that applies it.

- A need's words, photos and place, its staff notes, its training labels' words and the words
  of survey answers: ``retention_years`` (municipality settings, 5 by default, the figure of
  the privacy notice) after they were sent; then only the anonymous count stays.
- A resident (LINE id, display name, community, consent) with nothing sent, answered or
  changed for ``retention_years``: erased as if they had asked.
- Webhook events once handled (standby-mode events included) and messages once sent, skipped
  or given up: their LINE ids and words for ``MAILBOX_KEEP_HOURS`` (24 by default).
- The simulator's chats and photos: ``retention_years``; its reply tokens: as the mailbox.
- Staff sessions until they end (12 hours at most); sign-in counts for their 15-minute window;
  photo files no row points at (a download cut short): a day.

The worker runs :func:`purge` once a day across every worker process (``storage.schedule``);
``ruamkid privacy purge`` runs it now.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from bot.db import session_factory
from bot.line.worker import Job, register_job, run_claimed
from bot.needs import erasure
from storage import mailbox, simulator, staff
from storage.base import utcnow
from storage.models import Resident, Submission
from storage.surveys import SurveyRecipient, forget_answer_texts

logger = logging.getLogger(__name__)

JOB = "privacy.purge"
EVERY = timedelta(days=1)
# How often each worker asks whether the day's purge is due (a cheap update of one row).
CHECK_SECONDS = 600.0
# A failed purge is tried again this much later rather than the next day.
RETRY = timedelta(hours=1)
BATCH = 500
STRAY_FILES_AFTER = timedelta(days=1)


@dataclass(frozen=True)
class PurgeReport:
    """What one purge erased (counts only)."""

    submissions: int
    residents: int
    answers: int
    inbox: int
    outbox: int
    simulator: int
    sessions: int
    files: int

    def summary(self) -> str:
        """Return the counts as ``name=count`` pairs."""
        return " ".join(f"{name}={count}" for name, count in asdict(self).items())


def init_app(app: Flask) -> None:
    """Run the purge from every worker loop of ``app``, once a day in all."""
    register_job(app, Job(JOB, CHECK_SECONDS, run_if_due))


def retention_cutoff(app: Flask, now: datetime) -> datetime:
    """Return the moment before which residents' data is no longer kept."""
    years = app.extensions["ruamkid"].retention_years
    return now - timedelta(days=round(365.25 * years))


def purge(app: Flask, now: datetime | None = None) -> PurgeReport:
    """Erase everything past its keeping period (see the module's docstring); commits in
    batches so a large first run never holds one long transaction."""
    now = now or utcnow()
    cutoff = retention_cutoff(app, now)
    window = now - timedelta(hours=float(app.config["MAILBOX_KEEP_HOURS"]))
    media_dir = app.config["MEDIA_DIR"]
    with session_factory(app)() as session:
        submissions = _in_batches(
            session, lambda: erasure.erase_older_than(session, cutoff, media_dir, now, BATCH)
        )
        residents = _in_batches(session, lambda: _erase_idle(session, cutoff, media_dir, now))
        answers = forget_answer_texts(session, before=cutoff)
        inbox, outbox = mailbox.forget_handled(session, window)
        chats = simulator.forget_before(session, cutoff) + simulator.forget_reply_tokens(
            session, window
        )
        sessions = staff.delete_expired_sessions(session, now)
        staff.delete_old_login_limits(session, now)
        session.commit()
        files = erasure.remove_stray_files(session, media_dir, now - STRAY_FILES_AFTER)
    return PurgeReport(submissions, residents, answers, inbox, outbox, chats, sessions, files)


def _in_batches(session: Session, step) -> int:
    total = 0
    while True:
        done = step()
        session.commit()
        total += done
        if done < BATCH:
            return total


def _erase_idle(session: Session, cutoff: datetime, media_dir: str, now: datetime) -> int:
    """Erase up to a batch of residents who sent, answered and changed nothing since
    ``cutoff``."""
    recent_need = exists().where(
        Submission.resident_id == Resident.id, Submission.created_at >= cutoff
    )
    recent_answer = exists().where(
        SurveyRecipient.resident_id == Resident.id, SurveyRecipient.last_activity_at >= cutoff
    )
    idle = list(
        session.scalars(
            select(Resident)
            .where(Resident.updated_at < cutoff, ~recent_need, ~recent_answer)
            .order_by(Resident.id)
            .limit(BATCH)
        )
    )
    for resident in idle:
        erasure.erase_resident(session, resident, media_dir, now)
    return len(idle)


def run_if_due(app: Flask) -> int:
    """The worker's job: purge if today's run is due and no other worker took it (a failed
    run is tried again within the hour)."""
    return run_claimed(app, JOB, EVERY, RETRY, "privacy purge", lambda: purge(app).summary())
