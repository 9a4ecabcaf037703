""" "ไม่รับข่าวโครงการ" / "รับข่าวโครงการ": the resident turns the news of plan projects off or on.

The news itself (a multicast when a project behind the resident's need reaches the budget
ordinance, starts or is done) is ``bot.staff.project_news``; it reads the same switch.
"""

from __future__ import annotations

from bot.residents import replies as r
from bot.residents.replies import Message
from bot.residents.turn import Turn


def turn_off(turn: Turn) -> list[Message]:
    """Stop the project news for this resident."""
    turn.resident.project_updates = False
    return [r.text(turn.say("project_news_off"))]


def turn_on(turn: Turn) -> list[Message]:
    """Send the project news to this resident again."""
    turn.resident.project_updates = True
    return [r.text(turn.say("project_news_on"))]
