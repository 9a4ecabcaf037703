"""Normalisation and tokenisation of LINE chat text."""

from __future__ import annotations

import pytest

import nlp


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # elongations collapse, Thai and Latin alike
        ("มากกกก", "มาก"),
        ("ซ่อมด้วยยยย", "ซ่อมด้วย"),
        ("ไฟดับบบบ!!!", "ไฟดับ!"),
        ("มากๆๆๆ", "มากๆ"),
        ("helppp", "help"),
        # digits are never collapsed
        ("งบ 100000 บาท", "งบ 100000 บาท"),
        # laughter becomes one token
        ("5555", "<laugh>"),
        ("ตลกมาก 55555+ 555", "ตลกมาก <laugh>"),
        ("ฮ่าๆๆ", "<laugh>"),
        ("๕๕๕๕", "<laugh>"),
        # ...but a house number or an amount stays a number
        ("บ้านเลขที่ 555 ถนนเจริญราษฎร์", "บ้านเลขที่ 555 ถนนเจริญราษฎร์"),
        ("ให้ 555 บาท", "ให้ 555 บาท"),
        # zero-width and control characters vanish
        ("ไฟ\u200bดับ", "ไฟดับ"),
        ("\ufeffถนน\u200cพัง", "ถนนพัง"),
        ("ถนน\x00พัง\tครับ\n", "ถนน พัง ครับ"),
        # Thai digits become Arabic
        ("ซอย ๓ หมู่ ๑๒", "ซอย 3 หมู่ 12"),
        # PyThaiNLP's normaliser: เ + เ typed for แ, doubled tone marks
        ("เเก้ไขด่วนนนน", "แก้ไขด่วน"),
        ("ไฟ่่ดับ", "ไฟ่ดับ"),
        # emoji kept (one of a run), skin tones dropped
        ("ขอบคุณครับ 🙏🙏🙏", "ขอบคุณครับ 🙏"),
        ("👍🏽", "👍"),
        ("ถนนพัง 😡", "ถนนพัง 😡"),
        # URLs and phone numbers masked
        ("ดูรูป https://line.me/R/abc?x=1 นะ", "ดูรูป <url> นะ"),
        ("เว็บ www.lamphun.go.th ล่ม", "เว็บ <url> ล่ม"),
        ("โทร 081-234-5678 ค่ะ", "โทร <phone> ค่ะ"),
        ("ติดต่อ 0 5351 1013", "ติดต่อ <phone>"),
        ("เบอร์ +66 81 234 5678", "เบอร์ <phone>"),
        ("โทร ๐๘๑๒๓๔๕๖๗๘", "โทร <phone>"),
        # short hotlines and years are not phone numbers
        ("แจ้ง 191 ปี 2567", "แจ้ง 191 ปี 2567"),
        # Latin lower-cased, spaces squeezed
        ("CCTV   เสีย", "cctv เสีย"),
        # empty and blank
        ("", ""),
        ("   \n\t ", ""),
        ("\u200b", ""),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert nlp.normalize(raw) == expected


def test_normalize_is_nfc() -> None:
    decomposed = "e\u0301"  # é as e + combining acute
    assert nlp.normalize(decomposed) == "\u00e9"


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("ลำเหมืองตันบ่ไหลเจ้า", "ลำเหมือง"),
        ("คูเมืองมีผักตบชวา", "คูเมือง"),
        ("ไปเที่ยวข่วงคนเตียวมา", "ข่วงคนเตียว"),
        ("ลำเหมืองตันบ่ไหลเจ้า", "บ่"),
        ("ขอบคุณเจ้า", "เจ้า"),
        ("ปี้ๆ ช่วยผ่อหน้อย", "ปี้"),
        ("ชุมชนสันป่ายางหน่อมน้ำท่วม", "สันป่ายางหน่อม"),
        ("ไฟกิ่งดับ", "ไฟกิ่ง"),
    ],
)
def test_tokenize_keeps_local_words(untrained: nlp.Classifier, text: str, word: str) -> None:
    assert word in untrained.tokenize(text)


def test_tokenize_keeps_placeholders_and_drops_spaces(untrained: nlp.Classifier) -> None:
    tokens = untrained.tokenize(nlp.normalize("ตลก 5555 ดู https://x.co/a  โทร 0812345678"))
    assert "<laugh>" in tokens and "<url>" in tokens and "<phone>" in tokens
    assert all(t.strip() for t in tokens)


@pytest.mark.parametrize("blank", ["", "   ", "\n"])
def test_tokenize_blank(untrained: nlp.Classifier, blank: str) -> None:
    assert untrained.tokenize(blank) == []
