"""The app's database: one engine and session factory per app, one session per app context."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from storage.db import make_engine, make_session_factory

EXTENSION = "ruamkid_db"
AUTOCOMMIT = "ruamkid_db_autocommit"


def init_app(app: Flask) -> None:
    """Bind an engine to ``app`` and close each request's session when it ends."""
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions[EXTENSION] = make_session_factory(engine)
    if engine.dialect.name == "postgresql":
        # Each statement commits itself; no ping before use and no rollback after (the caller
        # retries once when a connection turns out dead): two round trips fewer per webhook.
        app.extensions[AUTOCOMMIT] = make_engine(
            app.config["DATABASE_URL"],
            isolation_level="AUTOCOMMIT",
            pool_pre_ping=False,
            pool_reset_on_return=None,
        )
    app.teardown_appcontext(_close_session)


def session_factory(app: Flask | None = None) -> sessionmaker[Session]:
    """Return the app's session factory (for threads and CLI commands that own their sessions)."""
    return (app or current_app).extensions[EXTENSION]


def engine(app: Flask | None = None) -> Engine:
    """Return the app's engine (for a hot path that needs a connection, not a session)."""
    return session_factory(app).kw["bind"]


def autocommit_engine(app: Flask) -> Engine | None:
    """Return the app's engine for single self-committing statements (PostgreSQL only)."""
    return app.extensions.get(AUTOCOMMIT)


def dispose(app: Flask) -> None:
    """Close the app's pooled connections (tests and short-lived CLI apps)."""
    engine(app).dispose()
    if (autocommit := autocommit_engine(app)) is not None:
        autocommit.dispose()


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
