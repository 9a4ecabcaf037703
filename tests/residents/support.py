"""Helpers for the conversation tests: walk a resident through consent, read what LINE got,
and check every message against LINE's limits."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

import nlp
from bot.municipality import load_municipality
from bot.residents.context import Context
from storage.models import Community, Resident
from tests import line_events

TRACKING = re.compile(r"\b[A-Z0-9]{1,6}-\d{2}-\d{6}\b")
USER = "U" + "1" * 32
OTHER_USER = "U" + "2" * 32


def check_limits(messages: list[dict[str, Any]]) -> None:
    """Assert LINE's limits on every message, button, label and postback."""
    assert 1 <= len(messages) <= 5
    for message in messages:
        if message["type"] == "text":
            assert 0 < len(message["text"]) <= 5000
        items = (message.get("quickReply") or {}).get("items", [])
        assert len(items) <= 13
        for item in items:
            action = item["action"]
            assert 0 < len(action["label"]) <= 20, action["label"]
            if action["type"] == "postback":
                assert 0 < len(action["data"]) <= 300
                assert len(action.get("displayText", "")) <= 300
            if action["type"] == "message":
                assert 0 < len(action["text"]) <= 300


def replies(line_api) -> list[list[dict[str, Any]]]:
    """Return the messages of every reply LINE got, in order, after checking LINE's limits."""
    bodies = [body["messages"] for body in line_api.sent("reply")]
    for messages in bodies:
        check_limits(messages)
    return bodies


def last(line_api) -> list[dict[str, Any]]:
    """Return the messages of the latest reply."""
    return replies(line_api)[-1]


def last_text(line_api) -> str:
    """Return the texts of the latest reply joined."""
    return "\n".join(m.get("text", "") for m in last(line_api))


def buttons(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the actions of the quick replies of the last message that has some."""
    for message in reversed(messages):
        items = (message.get("quickReply") or {}).get("items")
        if items:
            return [item["action"] for item in items]
    return []


def button(messages: list[dict[str, Any]], label_part: str) -> dict[str, Any]:
    """Return the button labelled ``label_part``, else the first whose label contains it."""
    for action in buttons(messages):
        if action["label"] == label_part:
            return action
    for action in buttons(messages):
        if label_part in action["label"]:
            return action
    raise AssertionError(f"no button {label_part!r} in {[a['label'] for a in buttons(messages)]}")


def press(line, action: dict[str, Any], user: str = USER) -> None:
    """Press a postback button as LINE would send it."""
    assert action["type"] == "postback"
    line.send(line_events.postback(action["data"], user))


def join(line, line_api, user: str = USER, community: str | None = "ช่างฆ้อง") -> Resident:
    """Follow, consent and pick a community (from page 1) the way a resident does."""
    line.send(line_events.event("follow", user))
    press(line, button(last(line_api), "ยินยอม"), user)
    if community is not None:
        press(line, button(last(line_api), community), user)


def resident(session, user: str = USER) -> Resident | None:
    """Return the resident row of ``user`` as stored now."""
    session.expire_all()
    return session.scalar(select(Resident).where(Resident.line_user_id == user))


def community_id(session, name: str) -> int:
    """Return a community's id by name."""
    return session.scalar(select(Community.id).where(Community.name == name))


def context(session, classifier: nlp.Classifier, **kwargs: Any) -> Context:
    """Build a Context by hand (no Flask, no LINE)."""
    kwargs.setdefault("municipality", load_municipality())
    return Context(session=session, classifier=classifier, **kwargs)
