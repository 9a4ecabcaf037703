"""What conversation logic may use: a session, the municipality, the classifier, the time, a
profile lookup,
and the handlers other parts registered to see a resident's turn first.

Built by the worker for each event; tests build one directly, with no LINE and no Flask.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

import nlp
from bot.municipality import Municipality
from storage.base import utcnow


@dataclass
class Context:
    """Everything a handler needs besides the event itself."""

    session: Session
    municipality: Municipality
    # Sorts a text into the plan; its taxonomy names the categories residents read.
    classifier: nlp.Classifier
    # Returns the LINE display name of a user id, or None.
    display_name: Callable[[str], str | None] = lambda _user_id: None
    config: Mapping[str, Any] = field(default_factory=dict)
    now: datetime = field(default_factory=utcnow)
    # Registered by other parts (a running survey) to take a consenting resident's turn first;
    # each is a ``bot.residents.turn.Handler``.
    handlers: Sequence[Callable[..., list[dict[str, Any]] | None]] = ()
