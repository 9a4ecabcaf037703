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


# --- words most needs hold: the index is asked for the rarer ones, the phrase is checked -------

ADDRESSES = [
    "ไฟดับ บ้านเลขที่ 399 ซอย 29",
    "ท่อตัน บ้านเลขที่ 399 ซอย 290",
    "ถนนพัง ซอย 29 บ้านเลขที่ 399",  # every word, another order
    "น้ำท่วม บ้านเลขที่ 3990 ซอย 29",
    "หลุมลึก บ้านเลขที่ 399  ซอย 29",  # two spaces
    "ขยะล้น บ้านเลขที่ 12 ซอย 4",
    "ไฟกิ่งดับ บ้านเลขที่ 7 ซอย 29",
    "ป้ายหาย บ้านเลขที่ 399 ซอย 2",
    "สุนัขจรจัด บ้านเลขที่ 40 ซอย 9",
    "เสียงดัง บ้านเลขที่ 15 ซอย 1",
] + [f"ขอซ่อมไฟ บ้านเลขที่ {n} ซอย {n % 7 + 1}" for n in range(100, 140)]
PHRASES = ["บ้านเลขที่ 399 ซอย 29", "399 ซอย 29", "บ้านเลขที่ 3990", "ซอย 29 บ้านเลขที่", "ซอย 4"]


@pytest.fixture
def addresses(session, make_submission) -> list[Submission]:
    search._samples.clear()  # the sample is per database and minutes long: start afresh
    return [make_submission(session, text=words) for words in ADDRESSES]


def test_frequent_words_are_those_most_needs_hold(session, addresses):
    frequent = search.frequent_words(session, "บ้านเลขที่ 399 ซอย 29")
    if session.get_bind().dialect.name == "postgresql":
        assert frequent == {"บ้านเลขที่", "ซอย"}  # in 50 of 50; "399" in 6, "29" too short
    else:
        assert frequent == frozenset()  # FTS5 reads the phrase as it is
    assert search.frequent_words(session, "บ้านเลขที่") == frozenset()  # one word: nothing to drop


@pytest.mark.parametrize("words", PHRASES)
def test_a_search_with_frequent_words_finds_exactly_the_phrase(session, addresses, words):
    frequent = search.frequent_words(session, words)
    found = set(session.scalars(select(Submission.id).where(search.contains(words, frequent))))
    assert found == _expected(session, words)
    assert found == _found(session, words)


def test_the_index_is_asked_only_for_the_rarer_words(session, addresses):
    words = "บ้านเลขที่ 399 ซอย 29"
    frequent = search.frequent_words(session, words)
    statement = select(Submission.id).where(search.contains(words, frequent))
    compiled = statement.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
    if session.get_bind().dialect.name == "sqlite":
        plain = select(Submission.id).where(search.contains(words))
        kw = {"compile_kwargs": {"literal_binds": True}}
        assert str(compiled) == str(plain.compile(session.get_bind(), **kw))
        return
    session.execute(text("SET LOCAL enable_seqscan = off"))
    plan = "\n".join(session.scalars(text(f"EXPLAIN {compiled}")))
    index_conditions = [line for line in plan.splitlines() if "Index Cond" in line]
    assert search.TRIGRAM_INDEX in plan
    assert index_conditions and all("บ้านเลขที่" not in c for c in index_conditions)
    assert any("%399%" in c for c in index_conditions)
