"""A need's life, in one place: created, classified, corrected, moved through its statuses,
merged, linked to the plan's projects, and erased.

``actions`` holds one function per change; each writes the row, its history event, its audit
entry and the messages to the resident together. The conversation, the staff pages, surveys
and the CLI call those functions; none of them builds a history row by hand.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from storage.models import Submission


def notify_division_reopened(session: Session, need: Submission) -> None:
    """Alert the division responsible for ``need`` that its resident reopened it.

    The seam for divisions and staff alerts on LINE (issue 11 §1–§3): today there are no
    divisions, so nobody is alerted; the reopen itself is in the need's history and queue.
    """
