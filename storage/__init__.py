"""Persistence for Ruamkid: typed SQLAlchemy 2 models, engines and repository functions.

Never imports Flask, LINE or ``bot``. Repository functions take a ``Session`` and leave
committing to the caller (a view, a CLI command or the worker).
"""
