"""The duplicate scorer's text folding: the fast fold (one ``str.translate``) keeps exactly the
characters the original per-character rule kept, so suggestions and their scores do not move."""

from __future__ import annotations

import random
import sys
import unicodedata

from bot.staff import duplicates
from bot.staff.duplicates import fold, jaccard, trigrams


def reference_fold(text: str | None) -> str:
    """The rule as first written: NFC, lower case, keep letters, digits and non-spacing marks."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", text).lower()
    return "".join(ch for ch in text if ch.isalnum() or unicodedata.category(ch) == "Mn")


def reference_trigrams(text: str | None) -> frozenset[str]:
    folded = reference_fold(text)
    if len(folded) < 3:
        return frozenset({folded}) if folded else frozenset()
    return frozenset(folded[i : i + 3] for i in range(len(folded) - 2))


def reference_jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def test_fold_keeps_the_same_characters_for_every_code_point():
    # Every code point, in runs (NFC and lower() see their neighbours, as in real text) and one
    # by one between spaces; past the table's size limit the rule is applied without storing.
    points = [chr(c) for c in range(sys.maxunicode + 1)]
    for start in range(0, len(points), 4096):
        for run in ("".join(points[start : start + 4096]), " ".join(points[start : start + 4096])):
            assert fold(run) == reference_fold(run), hex(start)
    assert len(duplicates._KEEP) <= duplicates._KEEP_TABLE_MAX


def _alphabet() -> list[str]:
    thai = [chr(c) for c in range(0x0E01, 0x0E5C)]  # consonants, vowels, tone marks, digits
    latin = list("abcxyzABCXYZ") + ["é", "É", "ß", "İ", "ǅ", "Σ", "ς", "ﬁ", "Ａ", "ｚ"]
    digits = list("0123456789") + ["๕", "٣", "²", "½", "Ⅻ", "①"]
    marks = ["\u0301", "\u0308", "\u0327", "\u0e31", "\u0e48", "\u0e49", "\u0e4c", "\u20dd"]
    emoji = ["😀", "👍", "🏽", "\u200d", "\ufe0f", "🇹", "🇭", "🚰", "❤"]
    other = list(" \t\n\u00a0\u3000.,-_/()#@!?\"'") + ["\u200b", "\u0e2f", "\u0e46", "\ufffd"]
    return thai + latin + digits + marks + emoji + other


def test_fold_trigrams_and_jaccard_match_the_original_on_mixed_text():
    rng = random.Random(20261201)
    alphabet = _alphabet()
    samples = [
        None,
        "",
        "ไฟถนนดับหน้าวัดพระธาตุหริภุญชัย",
        "ท่อระบายน้ำตัน ซอย 5 (หน้าร้าน 7-Eleven) 😡😡",
        "Cafe\u0301 CAFÉ ﬁx İstanbul ΣΟΦΟΣ",
        "น\u0e49\u0e33ท\u0e48วม",  # tone mark before the vowel
    ]
    samples += ["".join(rng.choices(alphabet, k=rng.randint(0, 60))) for _ in range(3000)]
    for text in samples:
        assert fold(text) == reference_fold(text), repr(text)
        assert trigrams(text) == reference_trigrams(text), repr(text)
    sets = [reference_trigrams(t) for t in samples[:200]]
    for a in sets:
        for b in sets[:50]:
            assert jaccard(a, b) == reference_jaccard(a, b)


def test_suggestions_and_scores_match_the_original_scoring(session, make_submission):
    """``suggest`` dismisses most candidates before building their trigram sets; the needs it
    suggests, their order and their scores are those of the original all-pairs scoring."""
    rng = random.Random(7)
    pieces = ["ไฟถนนดับ", "หน้าวัดพระธาตุ", "ท่อระบายน้ำตัน", "ซอย 5", "ขยะล้น", "ถนนเป็นหลุม",
              "น้ำท่วมขัง", "บ้านเลขที่ 12", "ตลาดสด", "Km 7", "!!", "😡"]  # fmt: skip
    centre = (18.5740, 99.0080)
    subs = []
    for n in range(240):
        text = (
            " ".join(rng.choices(pieces, k=rng.randint(1, 5))) if n % 37 else rng.choice(["", "ไฟ"])
        )
        located = rng.random() < 0.6
        subs.append(
            make_submission(
                session,
                text=text,
                latitude=centre[0] + rng.uniform(-0.004, 0.004) if located else None,
                longitude=centre[1] + rng.uniform(-0.004, 0.004) if located else None,
            )
        )
    checked = 0
    for sub in subs[::12]:
        got = [(s.submission.id, s.score, s.text_similarity, s.distance_m) for s in
               duplicates.suggest(session, sub, limit=1000)]  # fmt: skip
        mine = reference_trigrams(sub.text)
        expected = []
        for other in subs:
            if other.id == sub.id:
                continue
            similarity = reference_jaccard(mine, reference_trigrams(other.text))
            metres = None
            if None not in (sub.latitude, sub.longitude, other.latitude, other.longitude):
                metres = duplicates.distance_m(
                    sub.latitude, sub.longitude, other.latitude, other.longitude
                )
            nearby = metres is not None and metres <= duplicates.NEARBY_METRES
            if similarity < 0.3 and not (nearby and similarity >= 0.12):
                continue
            score = similarity + (0.25 * (1 - metres / 250.0) if nearby else 0.0)
            expected.append((other.id, round(min(score, 1.0), 4), similarity, metres))
        expected.sort(key=lambda x: (-x[1], -x[0]))
        assert got == expected
        checked += len(expected)
    assert checked > 50  # the texts overlap enough that many pairs pass each threshold
