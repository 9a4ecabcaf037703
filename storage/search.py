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

import time
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
# A word found in this share of the newest submissions is left out of the index condition.
FREQUENT_SHARE = 0.2
SAMPLE_SIZE = 2000
SAMPLE_SECONDS = 600.0
_samples: dict[str, tuple[float, list[str]]] = {}

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


def contains(words: str, frequent: frozenset[str] = frozenset()) -> ColumnElement[bool]:
    """Return the condition "the submission's text contains ``words``" (an indexed search).

    ``frequent`` (from :func:`frequent_words`) names words most submissions hold. On
    PostgreSQL the index is then asked only for the other words (of three characters or more)
    and the whole phrase is checked on the rows it finds: GIN otherwise reads the long posting
    lists of every trigram of the frequent words (a house number with "บ้านเลขที่" and "ซอย",
    which every address holds, took ~300 ms on 1,000,000 needs; "399" alone takes ~1 ms). The
    rows are exactly those of the plain ``LIKE`` either way.
    """
    pattern = "%" + escape_like(words) + "%"
    like = Submission.text.like(pattern, escape="\\")
    if len(words) < _TRIGRAM:
        return like
    pieces = words.split()
    rare = [w for w in dict.fromkeys(pieces) if len(w) >= _TRIGRAM and w not in frequent]
    if rare and any(w in frequent for w in pieces):
        indexed = [Submission.text.like("%" + escape_like(w) + "%", escape="\\") for w in rare]
        # ``text || ''`` is no indexed expression: the phrase is a check on the rows found.
        whole = Submission.text.concat("").like(pattern, escape="\\")
        return _Contains(like, words, and_(*indexed, whole))
    return _Contains(like, words, like)


def frequent_words(session: Session, words: str) -> frozenset[str]:
    """Return the words of ``words`` found in at least ``FREQUENT_SHARE`` of the newest
    ``SAMPLE_SIZE`` submissions (kept per database for ``SAMPLE_SECONDS``), for
    :func:`contains`. Only PostgreSQL uses them, and only for a search of several words."""
    pieces = {w for w in words.split() if len(w) >= _TRIGRAM}
    bind = session.get_bind()
    if len(words.split()) < 2 or not pieces or bind.dialect.name != "postgresql":
        return frozenset()
    key = bind.engine.url.render_as_string(hide_password=True)
    now = time.monotonic()
    cached = _samples.get(key)
    if cached is None or now - cached[0] > SAMPLE_SECONDS:
        texts = select(Submission.text).order_by(Submission.id.desc()).limit(SAMPLE_SIZE)
        cached = (now, [t or "" for t in session.scalars(texts)])
        _samples[key] = cached
    sample = cached[1]
    if not sample:
        return frozenset()
    return frozenset(
        w for w in pieces if sum(w in t for t in sample) >= FREQUENT_SHARE * len(sample)
    )


class _Contains(ColumnElement[bool]):
    """``like``, narrowed first by the FTS5 index on SQLite; ``postgresql`` is the same
    condition as PostgreSQL is to read it (see :func:`contains`). Compiled per dialect."""

    type = Boolean()
    inherit_cache = True
    _traverse_internals = [
        ("like", InternalTraversal.dp_clauseelement),
        ("phrase", InternalTraversal.dp_clauseelement),
        ("postgresql", InternalTraversal.dp_clauseelement),
    ]

    def __init__(
        self, like: ColumnElement[bool], words: str, postgresql: ColumnElement[bool]
    ) -> None:
        self.like = like
        # An FTS5 phrase: the words in double quotes, a quote doubled.
        self.phrase = literal('"' + words.replace('"', '""') + '"')
        self.postgresql = postgresql


@compiles(_Contains)
def _compile_like(element: _Contains, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.like, **kw)


@compiles(_Contains, "postgresql")
def _compile_postgresql(element: _Contains, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.postgresql, **kw)


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
    "frequent_words",
    "repair_index",
]
