"""What the resident experiences: plain functions from an event to the messages to answer.

``handle_event`` is the worker's entry point. It finds the resident, keeps everything behind
consent, lets a running survey take the event first, then hands it to one handler per event
type (follow, unfollow, message, postback) and, for messages and buttons, one per kind.
Handlers return LINE message objects as plain JSON; the worker sends them as the reply.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from bot.line.events import IncomingEvent
from bot.residents import (
    basics,
    community,
    consent,
    keywords,
    my_data,
    needs,
    postbacks,
    status,
)
from bot.residents import replies as r
from bot.residents.context import Context
from bot.residents.turn import Turn
from bot.wording import wording
from storage import residents

__all__ = ["handle_event"]

logger = logging.getLogger(__name__)

Messages = list[dict[str, Any]]
MAX_MESSAGES = 5

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
}


def handle_event(context: Context, event: IncomingEvent) -> Messages:
    """Handle one event and return up to five LINE message objects (plain JSON) to reply."""
    if not event.user_id:
        return []  # nobody to answer (e.g. a group event without a user)
    handler = EVENTS.get(event.type, handle_other)
    return handler(context, event)[:MAX_MESSAGES]


def handle_follow(context: Context, event: IncomingEvent) -> Messages:
    """Greet a follower and ask for consent (or welcome them back)."""
    resident, _created = residents.get_or_create_resident(context.session, event.user_id or "")
    return consent.on_follow(Turn(context, event, resident))


def handle_unfollow(context: Context, event: IncomingEvent) -> Messages:
    """Mark the resident inactive: no more pushes (a later follow reactivates)."""
    resident = residents.get_resident(context.session, event.user_id or "")
    if resident is not None:
        residents.set_active(context.session, resident, False)
    return []


def handle_message(context: Context, event: IncomingEvent) -> Messages:
    """Handle a text, photo, place, sticker or anything else the resident sends."""
    turn = _turn(context, event)
    if turn.resident.consent != "given":
        command = keywords.command_of(event.text) if event.message_type == "text" else None
        if command == "consent":
            return consent.give(turn)
        if command == "decline":
            return consent.decline(turn)
        return consent.ask_again(turn)  # nothing they sent is kept
    survey = _survey_hook(turn)
    if survey is not None:
        return survey
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
    survey = _survey_hook(turn)
    if survey is not None:
        return survey
    if postback is None:
        logger.info("resident %d: unreadable postback", turn.resident.id)
        return [r.text(turn.say("stale_button"))]
    return BUTTONS[postback.action](turn, postback)


def handle_other(context: Context, event: IncomingEvent) -> Messages:
    """Answer an event type the bot does not use, politely and without storing anything."""
    if not event.reply_token:
        return []
    return [r.text(wording(context.municipality)("unsupported_event"))]


EVENTS: dict[str, Callable[[Context, IncomingEvent], Messages]] = {
    "follow": handle_follow,
    "unfollow": handle_unfollow,
    "message": handle_message,
    "postback": handle_postback,
}


# --- message kinds ----------------------------------------------------------------------------


def _on_text(turn: Turn) -> Messages:
    text = turn.event.text or ""
    command = keywords.command_of(text)
    if command is not None:
        return COMMANDS[command](turn)
    return needs.on_text(turn, text)


def _unsupported(turn: Turn) -> Messages:
    return basics.on_unsupported_media(turn)


MESSAGES: dict[str, Callable[[Turn], Messages]] = {
    "text": _on_text,
    "image": needs.on_image,
    "location": needs.on_location,
    "sticker": basics.on_sticker,
}


# --- helpers ----------------------------------------------------------------------------------


def _turn(context: Context, event: IncomingEvent) -> Turn:
    resident, _created = residents.get_or_create_resident(context.session, event.user_id or "")
    return Turn(context, event, resident)


def _survey_hook(turn: Turn) -> Messages | None:
    """Let a running survey take the event first (None: not a survey event)."""
    # Imported on use: the survey engine itself imports bot.residents.keywords.
    from bot.surveys import answering

    return answering.try_handle(turn.context, turn.resident, turn.event)
