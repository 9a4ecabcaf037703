"""Thai dates (Buddhist era, Bangkok time) and numbers."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.thai import parse_thai_date, percent, thai_date, thai_number


@pytest.mark.parametrize(
    "value, kwargs, expected",
    [
        (datetime(2026, 11, 26, 7, 5, tzinfo=UTC), {}, "26 พ.ย. 2569 14:05"),
        (datetime(2026, 12, 31, 18, 30, tzinfo=UTC), {}, "1 ม.ค. 2570 01:30"),
        (datetime(2026, 11, 26, 7, 5, tzinfo=UTC), {"time": False}, "26 พ.ย. 2569"),
        (date(2026, 2, 3), {"long": True}, "3 กุมภาพันธ์ 2569"),
        (None, {}, "–"),
    ],
)
def test_thai_date(value, kwargs, expected):
    assert thai_date(value, **kwargs) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("26/11/2569", date(2026, 11, 26)),
        ("1/1/2026", date(2026, 1, 1)),
        ("2026-11-26", date(2026, 11, 26)),
        ("31/2/2569", None),
        ("ไม่ใช่วันที่", None),
        ("", None),
    ],
)
def test_parse_thai_date(text, expected):
    assert parse_thai_date(text) == expected


def test_numbers():
    assert thai_number(1234567) == "1,234,567"
    assert thai_number(1234.5, 2) == "1,234.50"
    assert thai_number(None) == "–"
    assert percent(0.784) == "78%"
