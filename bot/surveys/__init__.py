"""Surveys by community leaders: build them in the dashboard, send them over LINE, read results.

``sending`` queues a survey's invitations (multicast through the outbox, after a quota check),
``answering`` walks a resident through the questions, ``results`` counts the answers and
``views`` is the dashboard blueprint.
"""
