"""What a text message says, each part worked out once: the command it is, else its
classification.

The worker reads a consenting resident's text before it locks the event's inbox row
(:func:`reading_ahead`, then :meth:`Reading.read`): the first classification in a process may
train the model for seconds and must not hold the lock. The conversation and a running survey
then share the same reading, so ``command_of`` and the classifier run at most once per message.
"""

from __future__ import annotations

from functools import cached_property

import nlp
from bot.line.events import IncomingEvent
from bot.residents.keywords import command_of


class Reading:
    """A text message's command and classification, each computed on first use."""

    def __init__(self, text: str | None, classifier: nlp.Classifier) -> None:
        self.text = text or ""
        self.classifier = classifier

    @cached_property
    def command(self) -> str | None:
        """The command the whole message means (``status``, ``my_data``, …), or None."""
        return command_of(self.text)

    @cached_property
    def prediction(self) -> nlp.Prediction:
        """What the classifier says about the message."""
        return self.classifier.classify(self.text)

    def read(self) -> None:
        """Work out the command now, and the classification unless the message is a command."""
        if self.command is None:
            _ = self.prediction


def reading_ahead(
    event: IncomingEvent, consent: str | None, classifier: nlp.Classifier
) -> Reading | None:
    """Return the reading to do before the event's row is locked: a text from a resident whose
    ``consent`` is given (a stranger's words are never kept, so never classified); else None."""
    if event.type != "message" or event.message_type != "text" or event.standby:
        return None
    return Reading(event.text, classifier) if consent == "given" else None
