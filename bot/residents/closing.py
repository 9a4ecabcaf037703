"""The resident's answer to a finished need: a rating (1–5) or "ยังไม่เรียบร้อย"."""

from __future__ import annotations

import logging

from bot.needs import actions
from bot.residents import postbacks
from bot.residents import replies as r
from bot.residents.replies import Message
from bot.residents.turn import Turn
from storage.models import Submission

logger = logging.getLogger(__name__)


def _own_done_need(turn: Turn, postback: postbacks.Postback) -> Submission | None:
    """Return the done need the button names if it is the sender's own; None otherwise."""
    need_id = postback.integer("s")
    need = turn.session.get(Submission, need_id) if need_id is not None else None
    if need is None or need.resident_id != turn.resident.id or need.status != "done":
        return None
    return need


def on_rate(turn: Turn, postback: postbacks.Postback) -> list[Message]:
    """Keep the rating ``a=rate&s=<need>&v=<1–5>`` of the sender's own finished need."""
    need = _own_done_need(turn, postback)
    rating = postback.integer("v")
    if need is None or rating not in actions.RATINGS:
        return [r.text(turn.say("stale_button"))]
    actions.rate_need(turn.session, need, rating, now=turn.now)
    logger.info("submission %d rated %d", need.id, rating)
    return [r.text(turn.say("rating_thanks", rating=rating, tracking_no=need.tracking_no))]


def on_reopen(turn: Turn, postback: postbacks.Postback) -> list[Message]:
    """Reopen the sender's finished need ``a=reopen&s=<need>``, or start a linked new one."""
    need = _own_done_need(turn, postback)
    if need is None:
        return [r.text(turn.say("stale_button"))]
    result = actions.reopen_need(
        turn.session,
        need,
        prefix=turn.municipality.tracking_prefix,
        say=turn.say,
        now=turn.now,
    )
    if result is need:
        logger.info("submission %d reopened", need.id)
        return [r.text(turn.say("reopened", tracking_no=need.tracking_no))]
    logger.info("submission %d followed up by %d", need.id, result.id)
    days = actions.REOPEN_WINDOW.days
    return [
        r.text(
            turn.say(
                "reopened_as_new", old=need.tracking_no, days=days, tracking_no=result.tracking_no
            )
        )
    ]
