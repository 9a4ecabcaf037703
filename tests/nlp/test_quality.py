"""Quality gates on the fixed held-out split, on the independent real-style set, and on messages
written outside the corpus.

The thresholds sit a little under the figures measured when this was written (README and
docs/nlp.md), so a regression fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import nlp
from nlp.corpus import is_heldout

EVAL = Path(__file__).parents[2] / "nlp" / "data" / "eval"


def test_corpus_meets_the_issue(untrained: nlp.Classifier) -> None:
    from collections import Counter

    rows = untrained.corpus_examples()
    per_strategy = Counter(r.strategy for r in rows if r.strategy)
    assert all(per_strategy[code] >= 150 for code in untrained.taxonomy.strategy_codes), (
        per_strategy
    )
    assert sum(r.kind == "other" for r in rows) >= 200
    kinds = Counter(r.kind for r in rows)
    assert all(kinds[k] >= 100 for k in ("complaint", "need", "question", "suggestion", "other"))
    heldout = untrained.heldout_examples()
    assert len(heldout) >= 0.2 * len(rows)
    assert all(is_heldout(r.text) for r in heldout)


def test_strategy_macro_f1(heldout_report) -> None:
    assert heldout_report.labels["strategy"].macro_f1 >= 0.86  # measured 0.887


def test_strategy_top3_accuracy(heldout_report) -> None:
    assert heldout_report.extra["strategy_top3_accuracy"] >= 0.98  # measured 0.993


def test_kind_macro_f1(heldout_report) -> None:
    assert heldout_report.labels["kind"].macro_f1 >= 0.85  # measured 0.885; target 0.85


def test_every_request_of_the_heldout_split_is_kept(heldout_report) -> None:
    assert heldout_report.requests_kept == 1.0


def test_subarea_accuracy(heldout_report) -> None:
    assert heldout_report.labels["subarea"].accuracy >= 0.81  # measured 0.845


def test_unsure_flag_precision_and_coverage(heldout_report) -> None:
    # At the default threshold: measured 73% of requests sure, 97% of those right.
    assert heldout_report.unsure_threshold == pytest.approx(0.9)
    assert heldout_report.coverage >= 0.68
    assert heldout_report.precision_when_sure >= 0.95


def test_confidences_are_calibrated(heldout_report) -> None:
    assert heldout_report.extra["strategy_ece"] < 0.05  # measured 0.025


# --- the independent real-style set (nlp/data/eval/realstyle.csv, never trained on) -----------

FOUR = ("LPN-S1", "LPN-S2", "LPN-S4", "LPN-S7")


@pytest.fixture(scope="module")
def realstyle(shipped: nlp.Classifier) -> tuple[nlp.Report, nlp.Report]:
    """The shipped model on the real-style set: all rows, and the four strategies alone."""
    rows, labels = shipped.read_examples(EVAL / "realstyle.csv")
    four = [r for r in rows if r.strategy in FOUR]
    return shipped.evaluate(rows, labels=labels), shipped.evaluate(four, labels=("strategy",))


def test_real_style_reports_are_never_taken_for_small_talk(realstyle) -> None:
    report, _ = realstyle
    assert report.requests_kept >= 0.995  # measured 1.000 (758 of 758); target 0.995


def test_real_style_small_talk_is_recognised(realstyle) -> None:
    report, _ = realstyle
    assert report.small_talk_recall >= 0.95  # measured 1.000 (111 of 111); target 0.95


def test_real_style_strategy_balanced_accuracy(realstyle) -> None:
    _, four = realstyle
    assert four.labels["strategy"].balanced_accuracy >= 0.90  # measured 0.937; target 0.70
    report, _ = realstyle
    assert report.strategy_plausible >= 0.95  # measured 0.972


def test_real_style_confidence_means_what_it_says(realstyle) -> None:
    report, _ = realstyle
    assert report.extra["strategy_ece"] <= 0.05  # measured 0.014; target 0.05
    assert report.precision_when_sure >= 0.95  # measured 0.979 at 82% coverage; target 0.95


# Written for this test, in styles the corpus writers did not use, as an outsider might.
OUTSIDE = [
    ("ท่อน้ำทิ้งหน้าร้านก๋วยเตี๋ยวอุดตัน น้ำขังส่งกลิ่นไปทั้งซอย", "LPN-S7"),
    ("street light in front of my house has been broken for a week, please fix", "LPN-S7"),
    ("หลุมบนถนนเส้นหน้าโรงพยาบาลลึกมาก มอไซค์ล้มไปสองคันแล้ว", "LPN-S7"),
    ("อยากให้เพิ่มรอบรถเก็บขยะ วันเว้นวันไม่พอ", "LPN-S7"),
    ("ยายอายุ 82 อยู่คนเดียว ขอให้มีคนมาเยี่ยมดูแลบ้าง", "LPN-S2"),
    ("ขอทราบขั้นตอนลงทะเบียนรับเบี้ยคนพิการค่ะ", "LPN-S2"),
    ("ขอให้ฉีดพ่นยากันยุงลาย ช่วงนี้คนในซอยเป็นไข้เลือดออกหลายคน", "LPN-S1"),
    ("ร้านหมูกระทะข้างบ้านปล่อยควันกับกลิ่นทุกคืน", "LPN-S1"),
    ("ศูนย์พัฒนาเด็กเล็กควรมีครูพี่เลี้ยงเพิ่มค่ะ", "LPN-S3"),
    ("อยากให้จัดแข่งฟุตบอลเยาวชนต้านยาเสพติดช่วงปิดเทอม", "LPN-S3"),
    ("ซอยนี้มืดมาก มีคนโดนกระชากกระเป๋า อยากได้กล้องวงจรปิด", "LPN-S4"),
    ("วัยรุ่นขับรถซิ่งเสียงดังตอนตีสองทุกคืน", "LPN-S4"),
    ("อยากให้ซ่อมกำแพงเมืองโบราณที่ร้าว ก่อนจะพังลงมา", "LPN-S5"),
    ("ควรมีแผนที่เที่ยวเมืองเก่าแจกนักท่องเที่ยวที่หน้าวัด", "LPN-S5"),
    ("อยากให้เทศบาลเปิดคอร์สสอนทำขนมไทยไปขายเป็นอาชีพเสริม", "LPN-S6"),
    ("แม่ค้าในตลาดสดอยากได้ที่จอดรถขนของตอนเช้า", "LPN-S6"),
    ("ชำระภาษีป้ายออนไลน์ได้หรือยังคะ", "LPN-S8"),
    ("เจ้าหน้าที่ห้องทะเบียนพูดจาไม่ดีกับคนแก่", "LPN-S8"),
]


def test_messages_from_outside_the_corpus(shipped: nlp.Classifier) -> None:
    preds = shipped.classify_many([text for text, _ in OUTSIDE])
    assert all(p.is_request for p in preds)
    right = sum(p.strategy == want for p, (_, want) in zip(preds, OUTSIDE, strict=True))
    in_top3 = sum(
        want in {s.code for s in p.top3} for p, (_, want) in zip(preds, OUTSIDE, strict=True)
    )
    assert right >= 0.8 * len(OUTSIDE), [
        (want, p.strategy)
        for p, (_, want) in zip(preds, OUTSIDE, strict=True)
        if p.strategy != want
    ]
    assert in_top3 >= 0.95 * len(OUTSIDE)


@pytest.mark.parametrize("text", ["ถนนพัง", "ไฟดับ", "ขยะเหม็น", "ยุงเยอะ"])
def test_short_complaints_are_requests(shipped: nlp.Classifier, text: str) -> None:
    assert shipped.classify(text).is_request


@pytest.mark.parametrize(
    "text",
    ["สวัสดีปีใหม่เจ้า 🎉", "ขอบคุณที่ช่วยนะคะ", "ทดสอบระบบ", "อรุณสวัสดิ์ค่ะ 🌞", "555555 ตลกดี", "ok ครับ"],
)
def test_small_talk_is_other(shipped: nlp.Classifier, text: str) -> None:
    pred = shipped.classify(text)
    assert pred.kind == "other" and not pred.is_request
