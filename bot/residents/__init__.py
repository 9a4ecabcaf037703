"""What the resident experiences: plain functions from an event to the messages to answer.

``handle_event`` is the worker's entry point. It finds the resident, keeps everything behind
consent, lets the handlers other parts registered (a running survey, see
:func:`register_handler`) take the event first, then hands it to one handler per event type
(follow, unfollow, message, postback) and, for messages and buttons, one per kind. Handlers
return LINE message objects as plain JSON; the worker sends them as the reply.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Flask

from bot.line.events import IncomingEvent
from bot.residents import (
    basics,
    closing,
    community,
    consent,
    my_data,
    needs,
    news,
    postbacks,
    status,
)
from bot.residents import replies as r
from bot.residents.context import Context
from bot.residents.reading import Reading, reading_ahead
from bot.residents.turn import Handler, Turn
from bot.wording import wording
from storage import residents

__all__ = ["Reading", "handle_event", "handlers", "reading_ahead", "register_handler"]

logger = logging.getLogger(__name__)

Messages = list[dict[str, Any]]
MAX_MESSAGES = 5
EXTENSION = "ruamkid_residents"

# Commands typed (or sent by the rich menu) by a resident who has consented.
COMMANDS: dict[str, Callable[[Turn], Messages]] = {
    "status": status.on_status,
    "my_data": my_data.on_my_data,
    "delete": my_data.ask_delete,
    "report": basics.on_report,
    "help": basics.on_help,
    "survey": basics.on_survey,
    "consent": basics.on_already_consented,
    "decline": consent.decline,
    "community": lambda turn: community.page(turn, 1),
    "news_off": news.turn_off,
    "news_on": news.turn_on,
}

# Buttons (postback actions); each checks that what it touches is the sender's own.
BUTTONS: dict[str, Callable[[Turn, postbacks.Postback], Messages]] = {
    "consent": consent.on_postback,
    "page": community.on_page,
    "com": community.on_choose,
    "fix": needs.on_fix,
    "all": needs.on_all,
    "str": needs.on_strategy,
    "cat": needs.on_category,
    "done": needs.on_done,
    "del": my_data.on_delete,
    "nodel": my_data.on_cancel,
    "rate": closing.on_rate,
    "reopen": closing.on_reopen,
}


def register_handler(app: Flask, handler: Handler) -> None:
    """Let ``handler`` take each consenting resident's message or button first in ``app``.

    It returns the replies, or None to let the conversation go on (surveys register theirs).
    """
    app.extensions.setdefault(EXTENSION, []).append(handler)


def handlers(app: Flask) -> tuple[Handler, ...]:
    """Return the handlers registered in ``app``, in order (for the worker's ``Context``)."""
    return tuple(app.extensions.get(EXTENSION, ()))


def handle_event(
    context: Context, event: IncomingEvent, reading: Reading | None = None
) -> Messages:
    """Handle one event and return up to five LINE message objects (plain JSON) to reply.

    ``reading`` is what the worker already read of a text message (see ``reading_ahead``).
    """
    if not event.user_id:
        return []  # nobody to answer (e.g. a group event without a user)
    if event.type == "message":
        return handle_message(context, event, reading)[:MAX_MESSAGES]
    handler = EVENTS.get(event.type, handle_other)
    return handler(context, event)[:MAX_MESSAGES]


def handle_follow(context: Context, event: IncomingEvent) -> Messages:
    """Greet a follower and ask for consent (or welcome them back)."""
    resident, _created = residents.get_or_create_resident(context.session, event.user_id or "")
    if not residents.follow_changed(context.session, resident, True, event.timestamp_ms):
        return []  # they unfollowed after this follow: LINE redelivered it late
    return consent.on_follow(Turn(context, event, resident))


def handle_unfollow(context: Context, event: IncomingEvent) -> Messages:
    """Mark the resident inactive: no more pushes (a later follow reactivates; an unfollow
    older than the latest follow, redelivered late, changes nothing)."""
    resident = residents.get_resident(context.session, event.user_id or "")
    if resident is not None:
        residents.follow_changed(context.session, resident, False, event.timestamp_ms)
    return []


def handle_message(
    context: Context, event: IncomingEvent, reading: Reading | None = None
) -> Messages:
    """Handle a text, photo, place, sticker or anything else the resident sends."""
    turn = _turn(context, event, reading)
    if turn.resident.consent != "given":
        if turn.command == "consent":
            return consent.give(turn)
        if turn.command == "decline":
            return consent.decline(turn)
        return consent.ask_again(turn)  # nothing they sent is kept
    taken = _registered_handlers(turn)
    if taken is not None:
        return taken
    handler = MESSAGES.get(event.message_type or "", _unsupported)
    return handler(turn)


def handle_postback(context: Context, event: IncomingEvent) -> Messages:
    """Handle a button press; forged or stale data gets a polite refusal and changes nothing."""
    turn = _turn(context, event)
    postback = postbacks.parse(event.postback_data)
    if turn.resident.consent != "given":
        if postback is not None and postback.action == "consent":
            return consent.on_postback(turn, postback)
        return consent.ask_again(turn)
    taken = _registered_handlers(turn)
    if taken is not None:
        return taken
    if postback is None:
        logger.info("resident %d: unreadable postback", turn.resident.id)
        return [r.text(turn.say("stale_button"))]
    return BUTTONS[postback.action](turn, postback)


def handle_other(context: Context, event: IncomingEvent) -> Messages:
    """Answer an event type the bot does not use, politely and without storing anything."""
    if not event.reply_token:
        return []
    return [r.text(wording(context.municipality)("unsupported_event"))]


# Messages go to ``handle_message`` with what the worker read of them.
EVENTS: dict[str, Callable[[Context, IncomingEvent], Messages]] = {
    "follow": handle_follow,
    "unfollow": handle_unfollow,
    "postback": handle_postback,
}


# --- message kinds ----------------------------------------------------------------------------


def _on_text(turn: Turn) -> Messages:
    if turn.command is not None:
        return COMMANDS[turn.command](turn)
    return needs.on_text(turn)


def _unsupported(turn: Turn) -> Messages:
    return basics.on_unsupported_media(turn)


MESSAGES: dict[str, Callable[[Turn], Messages]] = {
    "text": _on_text,
    "image": needs.on_image,
    "location": needs.on_location,
    "sticker": basics.on_sticker,
}


# --- helpers ----------------------------------------------------------------------------------


def _turn(context: Context, event: IncomingEvent, reading: Reading | None = None) -> Turn:
    resident, _created = residents.get_or_create_resident(context.session, event.user_id or "")
    return Turn(context, event, resident, reading)


def _registered_handlers(turn: Turn) -> Messages | None:
    """Let each registered handler (a running survey) take the event first, in order."""
    for handler in turn.context.handlers:
        replies = handler(turn)
        if replies is not None:
            return replies
    return None
