"""One turn of the conversation: the context, the event, the resident and the wording."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from bot.line.events import IncomingEvent
from bot.municipality import Municipality
from bot.residents.context import Context
from bot.wording import Wording, wording
from storage.models import Resident


@dataclass
class Turn:
    """Everything a handler needs to answer one event of one resident."""

    context: Context
    event: IncomingEvent
    resident: Resident
    say: Wording = field(init=False)

    def __post_init__(self) -> None:
        self.say = wording(self.context.municipality)

    @property
    def session(self) -> Session:
        """The database session of this event (the worker commits)."""
        return self.context.session

    @property
    def municipality(self) -> Municipality:
        """The municipality's settings."""
        return self.context.municipality

    @property
    def now(self) -> datetime:
        """The time this event is handled."""
        return self.context.now

    def name(self) -> str:
        """Return how to address the resident, e.g. ``คุณสมศรี`` (empty when unknown)."""
        name = (self.resident.display_name or "").strip()
        return f"คุณ{name}" if name else ""
