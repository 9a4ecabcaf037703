"""Surveys by community leaders: build them in the dashboard, send them over LINE, read results.

``sending`` queues a survey's invitations (multicast through the outbox, after a quota check),
``answering`` walks a resident through the questions, ``results`` counts the answers and
``views`` is the dashboard blueprint.

``init_app`` plugs surveys into the lower parts, which never import them: the conversation
lets ``answering`` take a resident's turn first, and the worker loop sends scheduled surveys.
"""

from __future__ import annotations

from flask import Flask

from bot import residents
from bot.line import worker
from bot.surveys import answering, sending

# Scheduled surveys are due at minute precision; checking twice a minute is plenty.
SEND_DUE_EVERY = 30.0


def init_app(app: Flask) -> None:
    """Register the survey hook with the conversation and the send-due job with the worker."""
    residents.register_handler(app, answering.try_handle)
    worker.register_job(app, worker.Job("surveys", SEND_DUE_EVERY, send_due))


def send_due(app: Flask) -> int:
    """Send the scheduled surveys that are due and close those past their end; count them."""
    return sum(sending.run_send_due(app).values())
