"""Migrations go up and down on SQLite and PostgreSQL, match the models exactly, form one line
with one head, and upgrade a database filled by the branched history without losing a row."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from storage import search
from storage.db import make_engine, make_session_factory
from storage.migrate import LINE, MigrationError, alembic_config, downgrade, upgrade
from storage.models import Community, Submission, SubmissionEvent
from storage.schema import metadata
from tests import branched_database


@pytest.fixture
def empty_url(tmp_path):
    """An empty database: a new SQLite file, or a fresh schema on TEST_DATABASE_URL."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    schema = "migrations_test"
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    separator = "&" if "?" in url else "?"
    yield f"{url}{separator}options=-csearch_path%3D{schema}"
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    engine.dispose()


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"} - search.FTS_TABLES
    finally:
        engine.dispose()


def _not_search_index(name: str | None, kind: str, _parents: dict) -> bool:
    """The search index (FTS5 tables, the pg_trgm index) is made by SQL, not by the models."""
    return name not in search.FTS_TABLES and name != search.TRIGRAM_INDEX


def _differences(url: str) -> list:
    engine = make_engine(url, poolclass=NullPool)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": _not_search_index}
        )
        differences = compare_metadata(context, metadata)
    engine.dispose()
    return differences


def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config("sqlite://"))


def test_upgrade_creates_every_table_and_downgrade_removes_them(empty_url):
    upgrade(empty_url)
    assert _tables(empty_url) == set(metadata.tables)
    downgrade(empty_url, "base")
    assert _tables(empty_url) == set()
    upgrade(empty_url)
    assert _tables(empty_url) == set(metadata.tables)


def test_migrations_match_the_models(empty_url):
    upgrade(empty_url)
    assert _differences(empty_url) == []


# --- one line, one head -----------------------------------------------------------------------


def test_history_is_one_line_with_one_head():
    script = _script()
    revisions = list(script.walk_revisions())  # newest first
    assert len(script.get_heads()) == 1
    assert not any(r.is_branch_point or r.is_merge_point or r.dependencies for r in revisions)
    for newer, older in zip(revisions, revisions[1:], strict=False):
        assert newer.down_revision == older.revision
    assert [r.revision for r in reversed(revisions)][: len(LINE)] == list(LINE)


# --- databases made by the branched history ---------------------------------------------


@dataclass
class Scratch:
    """Two databases of one kind: ``original`` to fill, ``copy`` to receive a copy of it."""

    original: str
    copy: str

    def copy_original(self) -> None:
        """Copy ``original`` to ``copy`` as an operator would before upgrading."""
        if make_url(self.original).get_backend_name() == "sqlite":
            source = sqlite3.connect(make_url(self.original).database)
            target = sqlite3.connect(make_url(self.copy).database)
            source.backup(target)
            source.close()
            target.close()
            return
        name = make_url(self.copy).database
        template = make_url(self.original).database
        with _autocommit(self.original) as connection:
            connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))


@contextmanager
def _autocommit(url: str) -> Iterator[Connection]:
    """Connect to the server at ``url`` outside a transaction, to create and drop databases."""
    engine = make_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        yield connection
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def scratch(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Scratch]:
    """SQLite files, or databases named after TEST_DATABASE_URL's (CREATEDB needed)."""
    if request.param == "sqlite":
        yield Scratch(f"sqlite:///{tmp_path / 'branched.db'}", f"sqlite:///{tmp_path / 'copy.db'}")
        return
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        pytest.skip("needs TEST_DATABASE_URL pointing at PostgreSQL")
    base = make_url(url)
    names = [f"{base.database}_branched", f"{base.database}_upgraded"]

    def drop() -> None:
        with _autocommit(url) as connection:
            for name in names:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    drop()
    with _autocommit(url) as connection:
        connection.execute(text(f'CREATE DATABASE "{names[0]}"'))
    yield Scratch(*(base.set(database=name).render_as_string(False) for name in names))
    drop()


# What later revisions remove on purpose: 0007_privacy replaced the sign-in log by counters
# and the per-user session token by session rows.
DROPPED_TABLES = {"login_attempts"}
DROPPED_COLUMNS = {("users", "session_token")}


def test_a_filled_database_from_the_branched_history_upgrades_without_loss(scratch):
    branched_database.build(scratch.original)
    assert branched_database.stamps(scratch.original) == branched_database.BRANCHED_HEADS
    before = branched_database.rows(scratch.original)
    assert all(before.values()), [table for table, rows in before.items() if not rows]
    scratch.copy_original()

    upgrade(scratch.copy)

    assert branched_database.stamps(scratch.copy) == set(_script().get_heads())
    after = branched_database.rows(scratch.copy)
    for table, rows in before.items():
        if table in DROPPED_TABLES:
            assert table not in after
            continue
        columns = [column for column in rows[0] if (table, column) not in DROPPED_COLUMNS]
        kept = [{column: row[column] for column in columns} for row in after[table]]
        assert kept == [{column: row[column] for column in columns} for row in rows], table
    assert after["submissions"][0]["text"] == branched_database.NEED
    assert _differences(scratch.copy) == []
    # The copy was a copy: the original still has its stamps and rows.
    assert branched_database.stamps(scratch.original) == branched_database.BRANCHED_HEADS
    assert branched_database.rows(scratch.original) == before
    # The app adds rows to the upgraded copy after the old ones (sequences came along).
    engine = make_engine(scratch.copy, poolclass=NullPool)
    with make_session_factory(engine)() as session:
        community = Community(name="ชุมชนใหม่")
        need = Submission(text="ท่อระบายน้ำอุดตัน", community=community)
        session.add(SubmissionEvent(submission=need, actor="resident", action="created"))
        session.commit()
        assert community.id > max(row["id"] for row in before["communities"])
        assert need.id > max(row["id"] for row in before["submissions"])
    engine.dispose()


@pytest.mark.parametrize(
    ("reached", "stamps"),
    [
        ("0004_surveys", {"0003_plan", "0004_surveys"}),
        ("0002_staff", {"0001_core", "0002_staff"}),
    ],
    ids=["plan+surveys", "core+staff"],
)
def test_a_partly_upgraded_branched_database_upgrades(empty_url, reached, stamps):
    upgrade(empty_url, reached)
    branched_database.stamp(empty_url, stamps)
    upgrade(empty_url)
    assert _tables(empty_url) == set(metadata.tables)
    assert branched_database.stamps(empty_url) == set(_script().get_heads())


def test_branched_stamps_that_no_point_of_the_line_means_are_refused(empty_url):
    upgrade(empty_url, "0002_staff")
    branched_database.stamp(empty_url, {"0002_staff", "0005_simulator"})
    with pytest.raises(MigrationError, match="previous release"):
        upgrade(empty_url)
    assert branched_database.stamps(empty_url) == {"0002_staff", "0005_simulator"}
