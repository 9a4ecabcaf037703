"""Alembic migrations, driven from code so the CLI and the tests need no alembic.ini.

The history is one line with one head; a new revision revises the head. Until 2026-11-30 the
released revisions 0002–0005 branched from 0001 and ``upgrade`` went to "heads", so databases
made then carry several stamps: :func:`upgrade` rewrites those to the one stamp that means the
same tables before Alembic runs (the revision files themselves were not changed, only re-chained).
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, inspect, text
from sqlalchemy.pool import NullPool

from storage import search
from storage.db import make_engine

MIGRATIONS = Path(__file__).with_name("migrations")

# The branched history: what each old stamp implied was applied. The same revisions in order
# form today's line, so a set of old stamps whose implied revisions are the first k of this
# order means exactly today's stamp LINE[k-1].
LINE = ("0001_core", "0002_staff", "0003_plan", "0004_surveys", "0005_simulator")
_BRANCHED_ANCESTRY = {
    "0001_core": {"0001_core"},
    "0002_staff": {"0001_core", "0002_staff"},
    "0003_plan": {"0001_core", "0002_staff", "0003_plan"},
    "0004_surveys": {"0001_core", "0002_staff", "0004_surveys"},
    "0005_simulator": {"0001_core", "0005_simulator"},
}


class MigrationError(RuntimeError):
    """The database's migration stamps cannot be read as one point of the history."""


def alembic_config(url: str) -> Config:
    """Return an Alembic configuration for the database at ``url``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser treats % as interpolation; URLs may contain %-escapes.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` (after rewriting stamps of the branched history)."""
    engine = make_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            linearise_stamps(connection)
    finally:
        engine.dispose()
    command.upgrade(alembic_config(url), revision)
    # Batch mode on SQLite copies a table to alter it, which drops its triggers: the search
    # index's triggers on submissions come back here after any later migration.
    engine = make_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            search.repair_index(connection)
    finally:
        engine.dispose()


def downgrade(url: str, revision: str = "base") -> None:
    """Undo migrations down to ``revision``."""
    command.downgrade(alembic_config(url), revision)


def linearise_stamps(connection: Connection) -> str | None:
    """Replace several stamps of the branched history by the one that means the same tables.

    Returns the stamp written, or None when there was nothing to rewrite (no version table, or
    a single stamp). Raises MigrationError for a set of stamps that no point of the line means.
    """
    if not inspect(connection).has_table("alembic_version"):
        return None
    stamps = set(connection.scalars(text("SELECT version_num FROM alembic_version")))
    if len(stamps) < 2:
        return None
    unknown = stamps - set(_BRANCHED_ANCESTRY)
    if unknown:
        raise MigrationError(f"unknown migration stamps {sorted(unknown)} beside {sorted(stamps)}")
    applied = set().union(*(_BRANCHED_ANCESTRY[stamp] for stamp in stamps))
    if applied != set(LINE[: len(applied)]):
        raise MigrationError(
            f"stamps {sorted(stamps)} mean revisions {sorted(applied)}, which are not the start "
            f"of the history {list(LINE)}: upgrade this database with the previous release first"
        )
    stamp = LINE[len(applied) - 1]
    connection.execute(text("DELETE FROM alembic_version"))
    connection.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": stamp})
    return stamp
