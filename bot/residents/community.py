"""Choosing one's community: more than 13 do not fit one row of buttons, so they are paged."""

from __future__ import annotations

import math

from bot.residents import postbacks
from bot.residents import replies as r
from bot.residents.replies import Message
from bot.residents.turn import Turn
from storage import residents

# Ten names, "previous", "next" and "other / don't know" make 13: LINE's most.
PAGE_SIZE = 10
COMMUNITY_PREFIXES = ("ชุมชน",)


def start_items(turn: Turn) -> list[r.Item]:
    """Return the buttons that start a need: camera, album, location, how to use."""
    return [
        r.camera(turn.say("add_photo_button")),
        r.camera_roll(turn.say("add_album_button")),
        r.location(turn.say("add_location_button")),
        r.say("วิธีใช้"),
    ]


def page(turn: Turn, number: int) -> list[Message]:
    """Return page ``number`` (from 1) of the community choice."""
    communities = residents.active_communities(turn.session)
    if not communities:
        return [r.text(turn.say("no_communities"), start_items(turn))]
    pages = max(1, math.ceil(len(communities) / PAGE_SIZE))
    number = min(max(1, number), pages)
    shown = communities[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
    items: list[r.Item] = []
    if number > 1:
        items.append(
            r.postback(
                turn.say("community_previous_button"), postbacks.encode("page", p=number - 1)
            )
        )
    for community in shown:
        items.append(
            r.postback(
                r.short_name(community.name, COMMUNITY_PREFIXES),
                postbacks.encode("com", id=community.id),
                display_text=community.name,
            )
        )
    if number < pages:
        items.append(
            r.postback(turn.say("community_next_button"), postbacks.encode("page", p=number + 1))
        )
    items.append(r.postback(turn.say("community_unknown_button"), postbacks.encode("com", id=0)))
    return [r.text(turn.say("community_question", page=number, pages=pages), items)]


def on_page(turn: Turn, postback: postbacks.Postback) -> list[Message]:
    """Show another page of communities (``a=page&p=2``)."""
    return page(turn, postback.integer("p") or 1)


def on_choose(turn: Turn, postback: postbacks.Postback) -> list[Message]:
    """Set the resident's community (``a=com&id=3``; ``id=0`` means other or unknown)."""
    community_id = postback.integer("id")
    if community_id is None:
        return [r.text(turn.say("stale_button"))]
    if community_id == 0:
        residents.set_community(turn.session, turn.resident, None)
        return [r.text(turn.say("community_unknown_set"), start_items(turn))]
    if not residents.set_community(turn.session, turn.resident, community_id):
        return [r.text(turn.say("community_unavailable")), *page(turn, 1)]
    name = turn.resident.community.name if turn.resident.community else ""
    return [r.text(turn.say("community_set", community=_without_prefix(name)), start_items(turn))]


def _without_prefix(name: str) -> str:
    # "บันทึกชุมชน{community}" reads naturally with or without the prefix in the name.
    return r.short_name(name, COMMUNITY_PREFIXES)
