"""What a text message says, each part worked out once: the command it is, else its
classification.

The worker reads a text before it locks the event's inbox row (:func:`read_ahead`): the first
classification in a process may train the model for seconds and must not hold the lock. The
conversation and a running survey then share the same reading, so ``command_of`` and the
classifier run at most once per message.
"""

from __future__ import annotations

from functools import cached_property

import nlp
from bot.line.events import IncomingEvent
from bot.residents.keywords import command_of


class Reading:
    """A text message's command and classification, each computed on first use."""

    def __init__(self, text: str | None) -> None:
        self.text = text or ""

    @cached_property
    def command(self) -> str | None:
        """The command the whole message means (``status``, ``my_data``, …), or None."""
        return command_of(self.text)

    @cached_property
    def prediction(self) -> nlp.Prediction:
        """What the classifier says about the message."""
        return nlp.classify(self.text)


def read_ahead(event: IncomingEvent) -> Reading | None:
    """Read a text message before its row is locked: its command, else its classification.

    None for anything but a text the bot may answer (photos, places, buttons, standby).
    """
    if event.type != "message" or event.message_type != "text" or event.standby:
        return None
    reading = Reading(event.text)
    if reading.command is None:
        _ = reading.prediction  # classify now, before the worker takes the row lock
    return reading
