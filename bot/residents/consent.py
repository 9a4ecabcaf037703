"""Follow, unfollow and consent: the privacy notice comes before anything is kept."""

from __future__ import annotations

from bot.residents import community, my_data, postbacks
from bot.residents import replies as r
from bot.residents.replies import Message
from bot.residents.turn import Turn
from bot.wording import polite_name
from storage import residents


def consent_buttons(turn: Turn) -> list[r.Item]:
    """Return the two consent buttons (they work again later, e.g. after declining)."""
    return [
        r.postback(turn.say("consent_yes_button"), postbacks.encode("consent", v=1)),
        r.postback(turn.say("consent_no_button"), postbacks.encode("consent", v=0)),
    ]


def privacy_notice(turn: Turn) -> Message:
    """Return the privacy notice with the consent buttons."""
    return r.text(turn.say("privacy_notice"), consent_buttons(turn))


def on_follow(turn: Turn) -> list[Message]:
    """Greet a new (or returning) follower; ask for consent unless it was given before."""
    if turn.resident.consent == "given":
        return [r.text(turn.say("greeting_back", name=turn.name()), community.start_items(turn))]
    # The name is shown, not kept: it is stored only once the resident consents.
    name = polite_name(turn.context.display_name(turn.event.user_id or ""))
    return [r.text(turn.say("greeting", name=name)), privacy_notice(turn)]


def ask_again(turn: Turn) -> list[Message]:
    """Answer anything sent before consent: nothing is stored, the notice comes again."""
    return [r.text(turn.say("consent_again")), privacy_notice(turn)]


def give(turn: Turn) -> list[Message]:
    """Record consent (with the LINE name) and move on to the community choice."""
    resident = turn.resident
    if resident.consent != "given":
        name = turn.context.display_name(turn.event.user_id or "")
        residents.give_consent(turn.session, resident, name, turn.now)
    return [r.text(turn.say("consent_given")), *community.page(turn, 1)]


def decline(turn: Turn) -> list[Message]:
    """Record that the resident declined; one who had consented is offered deletion instead."""
    if turn.resident.consent == "given":
        return my_data.ask_delete(turn)
    residents.decline_consent(turn.session, turn.resident)
    return [r.text(turn.say("consent_declined"), consent_buttons(turn))]


def on_postback(turn: Turn, postback: postbacks.Postback) -> list[Message]:
    """Handle the consent buttons: ``a=consent&v=1`` (agree) or ``v=0`` (decline)."""
    value = postback.integer("v")
    if value == 1:
        return give(turn)
    if value == 0:
        return decline(turn)
    return [r.text(turn.say("stale_button"))]
