"""Open data: a daily dump of the anonymised needs and the plan's projects as CSV and JSON,
with a data dictionary (field, Thai and English description, type) and a licence, served at
``/opendata/``.

Needs are read through ``storage.public`` only (the one set of anonymity rules). Each dump
replaces the files before it, so erased needs (erasure and the retention purge) leave the files
at the next dump; an erasure brings that dump forward to the worker's next check (within
``CHECK_SECONDS``) instead of the next day. ``ruamkid opendata dump DIR`` writes one now.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from storage import schedule

JOB = "opendata.dump"


def bring_forward(session: Session) -> None:
    """Ask for a new dump at the worker's next check (erased needs leave the files)."""
    schedule.bring_forward(session, JOB)
