""" "ติดตามเรื่อง": the resident's last five submissions with their status in words."""

from __future__ import annotations

import re

from bot.needs.statuses import STATUS_LABELS
from bot.residents import replies as r
from bot.residents.community import start_items
from bot.residents.replies import Message
from bot.residents.turn import Turn
from bot.thai import thai_date
from storage import submissions as store

EXCERPT = 40
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")


def excerpt(text: str | None, limit: int = EXCERPT) -> str | None:
    """Return the first words of a text on one line, at most ``limit`` characters."""
    if text is None:
        return None
    one_line = " ".join(_INVISIBLE.sub("", text).split())
    return r.clip(one_line, limit) if one_line else None


def on_status(turn: Turn) -> list[Message]:
    """List the last five submissions: number, date (Buddhist era), excerpt, status."""
    latest = store.latest_submissions(turn.session, turn.resident, limit=5)
    if not latest:
        return [r.text(turn.say("status_empty"), start_items(turn))]
    lines = [turn.say("status_header", count=len(latest))]
    for number, submission in enumerate(latest, 1):
        shown = excerpt(submission.text)
        lines.append(
            turn.say(
                "status_item",
                number=number,
                tracking_no=submission.tracking_no,
                date=thai_date(submission.created_at, time=False),
                excerpt=f"“{shown}”" if shown else turn.say("status_no_text"),
                status=STATUS_LABELS.get(submission.status, submission.status),
            )
        )
    return [r.text("\n\n".join(lines))]
