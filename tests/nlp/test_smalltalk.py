"""Small talk is a closed class: what it takes in, and that no request ever falls into it."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from nlp.smalltalk import is_small_talk, thanks_or_greeting_only

DATA = Path(__file__).parents[2] / "nlp" / "data"


@pytest.mark.parametrize(
    "text",
    [
        "สวัสดีค่ะ",
        "สวัสดีคร้าบบบ 🙏",
        "หวัดดีจ้า",
        "อรุณสวัสดิ์ค่ะ 🌞",
        "สวัสดีวันจันทร์ค่ะ 💛",
        "สุขสันต์วันสงกรานต์ค่ะ",
        "ขอบคุณค่ะ",
        "ขอบคุณมากๆ เลยนะคะ",
        "ขอบใจหลายเจ้า",
        "thank you ค่ะ",
        "ok",
        "OK ครับ",
        "โอเคค่ะ",
        "ค่ะ",
        "รับทราบครับผม",
        "5555555",
        "ฮ่าๆๆ",
        "👍👍",
        "🙏",
        "(^_^)",
        "ทดสอบ",
        "Test 123",
        "ลองส่งข้อความค่ะ",
        "",
    ],
)
def test_greetings_thanks_acknowledgements_laughter_emoji_and_tests(text: str) -> None:
    assert is_small_talk(text)


@pytest.mark.parametrize(
    "text",
    [
        "ถนนพัง",
        "ไฟดับ",
        "น้ำเน่า",
        "ฝุ่นเยอะมาก",
        "หมาตายกลางถนน",
        "สวัสดีค่ะ ไฟหน้าบ้านดับ",
        "ขอบคุณค่ะ แต่ไฟยังดับอยู่",
        "ทดสอบ ถนนเป็นหลุม",
        "https://maps.app/x",
        "081-234-5678",
        "กินข้าวยังคะ",
        "ขายครีมหน้าใส ส่งฟรี",
    ],
)
def test_anything_else_is_not_small_talk(text: str) -> None:
    assert not is_small_talk(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ขอบคุณที่มาเก็บขยะให้ครับ", True),
        ("ขอบคุณที่ช่วยเหลือค่ะ", True),
        ("สวัสดีปีใหม่ค่ะ ขอบคุณที่ดูแลชาวบ้านตลอดปี", True),
        ("ขอบคุณค่ะ แต่ไฟยังดับอยู่", False),
        ("ขอบคุณครับ ช่วยมาดูท่ออีกทีได้ไหม", False),
        ("ถนนพัง ขอบคุณครับ", False),
    ],
)
def test_thanks_for_service_counts_only_when_nothing_is_still_wrong(
    text: str, expected: bool
) -> None:
    assert thanks_or_greeting_only(text) is expected


def _requests(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as fh:
        return [row["text"] for row in csv.DictReader(fh) if row["kind"] != "other"]


@pytest.mark.parametrize(
    "path",
    sorted((DATA / "corpus").glob("*.csv")) + sorted((DATA / "eval").glob("*.csv")),
    ids=lambda p: p.name,
)
def test_no_request_written_for_the_project_is_small_talk(path: Path) -> None:
    texts = _requests(path)
    assert texts
    taken = [t for t in texts if is_small_talk(t) or thanks_or_greeting_only(t)]
    assert taken == []
