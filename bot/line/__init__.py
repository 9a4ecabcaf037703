"""The LINE edge: the webhook, its events as plain values, the worker, the outbox and the API.

A need's journey starts here: ``webhook`` verifies and stores each event, ``worker`` hands it
to the conversation (``bot.residents``) and sends the replies it queued through ``api``.
"""
