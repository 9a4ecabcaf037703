"""One turn of the conversation: the context, the event, the resident, what a text says and
the wording."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.line.events import IncomingEvent
from bot.municipality import Municipality
from bot.residents.context import Context
from bot.residents.reading import Reading
from bot.wording import Wording, polite_name, wording
from storage.models import Resident


@dataclass
class Turn:
    """Everything a handler needs to answer one event of one resident."""

    context: Context
    event: IncomingEvent
    resident: Resident
    # What a text message says, read once (by the worker before its row lock, or here).
    reading: Reading | None = None
    say: Wording = field(init=False)

    def __post_init__(self) -> None:
        self.say = wording(self.context.municipality)
        if self.reading is None and self.event.message_type == "text":
            self.reading = Reading(self.event.text, self.context.classifier)

    @property
    def command(self) -> str | None:
        """The command a text message means, or None (and for anything but a text)."""
        return self.reading.command if self.reading is not None else None

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
        return polite_name(self.resident.display_name)


# Takes a consenting resident's turn before the conversation (a running survey does): returns
# the replies, or None to let the conversation go on. See ``bot.residents.register_handler``.
Handler = Callable[[Turn], list[dict[str, Any]] | None]
