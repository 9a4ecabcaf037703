"""Text search over submissions' words, indexed on both databases.

Thai has no spaces between words, so staff expect a substring match (``LIKE '%…%'``). Both
databases index substrings by trigrams:

- PostgreSQL: a ``pg_trgm`` GIN index on ``submissions.text``; the ``LIKE`` itself uses it.
  (pg_trgm reads Thai as word characters under a UTF-8 ``LC_CTYPE`` such as ``C.UTF-8`` or
  ``th_TH.UTF-8``; under plain ``C`` the index holds no Thai and searches read every row.)
- SQLite: an FTS5 table with the ``trigram`` tokenizer over ``submissions.text`` (external
  content, so it stores no copy of the words), kept in step by triggers. A phrase query of
  three characters or more picks the candidates, the same ``LIKE`` confirms them, so results
  are exactly those of a plain ``LIKE`` (shorter words fall back to it).

The indexes are created by migration ``0013_search``; :func:`contains` is the one way to search.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Connection,
    and_,
    literal,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.visitors import InternalTraversal

from storage.models import Submission

TRIGRAM_INDEX = "ix_submissions_text_trgm"
FTS_TABLE = "submissions_fts"
# FTS5 keeps its index in these tables; they are the search index, not models.
FTS_TABLES = frozenset(
    {FTS_TABLE} | {f"{FTS_TABLE}_{part}" for part in ("data", "idx", "docsize", "config")}
)
# Trigram FTS5 needs three characters to use its index.
_TRIGRAM = 3

SQLITE_CREATE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS submissions_fts USING fts5("
    "text, content='submissions', content_rowid='id', tokenize='trigram')",
    # SQLite drops a table's triggers with the table (Alembic's batch mode copies tables), so
    # storage.migrate re-runs these after every upgrade: IF NOT EXISTS keeps that harmless.
    "CREATE TRIGGER IF NOT EXISTS submissions_fts_ai AFTER INSERT ON submissions BEGIN "
    "INSERT INTO submissions_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER IF NOT EXISTS submissions_fts_ad AFTER DELETE ON submissions BEGIN "
    "INSERT INTO submissions_fts(submissions_fts, rowid, text) "
    "VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER IF NOT EXISTS submissions_fts_au AFTER UPDATE OF text ON submissions BEGIN "
    "INSERT INTO submissions_fts(submissions_fts, rowid, text) "
    "VALUES ('delete', old.id, old.text); "
    "INSERT INTO submissions_fts(rowid, text) VALUES (new.id, new.text); END",
)
SQLITE_REBUILD = "INSERT INTO submissions_fts(submissions_fts) VALUES ('rebuild')"
SQLITE_OPTIMIZE = "INSERT INTO submissions_fts(submissions_fts) VALUES ('optimize')"
SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS submissions_fts_ai",
    "DROP TRIGGER IF EXISTS submissions_fts_ad",
    "DROP TRIGGER IF EXISTS submissions_fts_au",
    "DROP TABLE IF EXISTS submissions_fts",
)
POSTGRESQL_EXTENSION = "CREATE EXTENSION IF NOT EXISTS pg_trgm"
# The operator class is named with the extension's schema, which need not be on search_path.
POSTGRESQL_INDEX = (
    f"CREATE INDEX IF NOT EXISTS {TRIGRAM_INDEX} ON submissions "
    'USING gin (text "{schema}".gin_trgm_ops)'
)
POSTGRESQL_DROP = (f"DROP INDEX IF EXISTS {TRIGRAM_INDEX}",)


def escape_like(words: str) -> str:
    """Escape ``LIKE``'s wildcards (with ``\\``) so the words match literally."""
    return words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contains(words: str) -> ColumnElement[bool]:
    """Return the condition "the submission's text contains ``words``" (an indexed search)."""
    like = Submission.text.like("%" + escape_like(words) + "%", escape="\\")
    if len(words) < _TRIGRAM:
        return like
    return _Contains(like, words)


class _Contains(ColumnElement[bool]):
    """``like``, narrowed first by the FTS5 index on SQLite; compiled per dialect."""

    type = Boolean()
    inherit_cache = True
    _traverse_internals = [
        ("like", InternalTraversal.dp_clauseelement),
        ("phrase", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, like: ColumnElement[bool], words: str) -> None:
        self.like = like
        # An FTS5 phrase: the words in double quotes, a quote doubled.
        self.phrase = literal('"' + words.replace('"', '""') + '"')


@compiles(_Contains)
def _compile_like(element: _Contains, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.like, **kw)


@compiles(_Contains, "sqlite")
def _compile_fts(element: _Contains, compiler: Any, **kw: Any) -> str:
    candidates = (
        select(literal_column("rowid"))
        .select_from(table(FTS_TABLE))
        .where(literal_column(FTS_TABLE).op("MATCH")(element.phrase))
    )
    return compiler.process(and_(Submission.id.in_(candidates), element.like), **kw)


def create_index(connection: Connection) -> None:
    """Create the search index of this database if missing (and fill it, on SQLite)."""
    if connection.dialect.name == "sqlite":
        missing = (
            connection.scalar(
                text("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE :n"),
                {"n": f"{FTS_TABLE}_a%"},
            )
            < 3
        )
        for statement in SQLITE_CREATE:
            connection.exec_driver_sql(statement)
        if missing:  # new, or triggers lost: what changed meanwhile is not in the index
            connection.exec_driver_sql(SQLITE_REBUILD)
    elif connection.dialect.name == "postgresql":
        connection.exec_driver_sql(POSTGRESQL_EXTENSION)
        schema = connection.scalar(
            text(
                "SELECT n.nspname FROM pg_extension e "
                "JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'"
            )
        )
        connection.exec_driver_sql(POSTGRESQL_INDEX.format(schema=schema))


def repair_index(connection: Connection) -> None:
    """Recreate SQLite's search triggers (and refill the index) where a table copy lost them."""
    if connection.dialect.name == "sqlite" and connection.scalar(
        text("SELECT count(*) FROM sqlite_master WHERE name = :n"), {"n": FTS_TABLE}
    ):
        create_index(connection)


def drop_index(connection: Connection) -> None:
    """Drop the search index of this database."""
    statements = {"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP}
    for statement in statements.get(connection.dialect.name, ()):
        connection.exec_driver_sql(statement)


def forget_erased(session: Session) -> None:
    """Purge erased words from the search index itself.

    FTS5 marks a deleted row's trigrams as deleted and removes them only when it merges its
    segments; after an erasure, ``optimize`` merges them now. (PostgreSQL's GIN index holds
    trigrams, not text, and drops dead entries at vacuum, like the table's old row versions.)
    """
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text(SQLITE_OPTIMIZE))


__all__ = [
    "FTS_TABLES",
    "TRIGRAM_INDEX",
    "contains",
    "create_index",
    "drop_index",
    "escape_like",
    "forget_erased",
    "repair_index",
]
