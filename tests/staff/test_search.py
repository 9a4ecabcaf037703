"""The queue's text search: indexed by trigrams on both databases (pg_trgm, FTS5), and its
results are exactly a substring match, also after texts change or rows go."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, text, update

from storage import search
from storage.models import Submission

TEXTS = [
    "ไฟถนนดับหน้าบ้าน ซอย 3",
    "ถนนหน้าวัดเป็นหลุมใหญ่",
    "น้ำท่วมขังหน้าโรงเรียน",
    'ป้ายเขียนว่า "ด่วน" มาหลายเดือนแล้ว',
    "เห็นด้วย 100% ค่ะ",
    "รหัส a_b ใช้ไม่ได้",
    "เสียงดัง 100 เดซิเบล",
    None,
]
WORDS = ["ถนน", "ไฟ", "น้ำ", "หน้า", '"ด่วน"', "100%", "a_b", "ซอย 3", "ไม่มีคำนี้เลย", "ab"]


def _found(session, words: str) -> set[int]:
    return set(session.scalars(select(Submission.id).where(search.contains(words))))


def _expected(session, words: str) -> set[int]:
    rows = session.execute(select(Submission.id, Submission.text)).all()
    return {ident for ident, words_of in rows if words_of is not None and words in words_of}


@pytest.fixture
def texts(session, make_submission) -> list[Submission]:
    return [make_submission(session, text=words) for words in TEXTS]


@pytest.mark.parametrize("words", WORDS)
def test_search_finds_exactly_the_texts_that_contain_the_words(session, texts, words):
    assert _found(session, words) == _expected(session, words)


def test_search_follows_changed_and_deleted_texts(session, texts):
    road, pothole = texts[0], texts[1]
    assert {road.id, pothole.id} <= _found(session, "ถนน")
    session.execute(update(Submission).where(Submission.id == road.id).values(text="ท่อแตก"))
    session.execute(delete(Submission).where(Submission.id == pothole.id))
    session.commit()
    assert _found(session, "ถนน") == set()
    assert _found(session, "ท่อแตก") == {road.id}
    for words in WORDS:
        assert _found(session, words) == _expected(session, words), words


def test_search_reads_the_trigram_index(session, texts):
    statement = select(Submission.id).where(search.contains("น้ำท่วม"))
    compiled = statement.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
    if session.get_bind().dialect.name == "sqlite":
        plan = session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")).all()
        steps = [row[-1] for row in plan]
        assert any("VIRTUAL TABLE INDEX" in step and search.FTS_TABLE in step for step in steps)
    else:
        session.execute(text("SET LOCAL enable_seqscan = off"))  # a few rows: force the choice
        plan = "\n".join(session.scalars(text(f"EXPLAIN {compiled}")))
        assert search.TRIGRAM_INDEX in plan
