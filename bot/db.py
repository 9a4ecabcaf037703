"""The app's database: one engine and session factory per app, one session per app context."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from storage.db import make_engine, make_session_factory

EXTENSION = "ruamkid_db"


def init_app(app: Flask) -> None:
    """Bind an engine to ``app`` and close each request's session when it ends."""
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions[EXTENSION] = make_session_factory(engine)
    app.teardown_appcontext(_close_session)


def session_factory(app: Flask | None = None) -> sessionmaker[Session]:
    """Return the app's session factory (for threads and CLI commands that own their sessions)."""
    return (app or current_app).extensions[EXTENSION]


def engine(app: Flask | None = None) -> Engine:
    """Return the app's engine (for a hot path that needs a connection, not a session)."""
    return session_factory(app).kw["bind"]


def dispose(app: Flask) -> None:
    """Close the app's pooled connections (tests and short-lived CLI apps)."""
    engine(app).dispose()


def get_session() -> Session:
    """Return the session of the current app context, creating it on first use."""
    if "db_session" not in g:
        g.db_session = session_factory()()
    return g.db_session


def _close_session(exc: BaseException | None) -> None:
    session: Session | None = g.pop("db_session", None)
    if session is not None:
        if exc is not None:
            session.rollback()
        session.close()
