"""Thai dates and numbers, in one place: Bangkok time, Buddhist-era years, Thai month names.

Thailand keeps no daylight saving time, so Bangkok is a fixed UTC+7 and needs no tz database.
``init_app`` registers the formatters as Jinja filters; other modules import them directly.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from flask import Flask

# Thailand has no daylight saving time: a fixed offset needs no tz database.
BANGKOK = timezone(timedelta(hours=7), "Asia/Bangkok")
BE_OFFSET = 543

MONTHS_SHORT = (
    "ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.",
    "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค.",
)  # fmt: skip
MONTHS_LONG = (
    "มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน",
    "กรกฎาคม", "สิงหาคม", "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม",
)  # fmt: skip


def to_bangkok(value: datetime) -> datetime:
    """Return ``value`` in Bangkok time (a naive value is taken as UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(BANGKOK)


def thai_date(value: datetime | date | None, time: bool = True, long: bool = False) -> str:
    """Format a date the Thai way, e.g. ``26 พ.ย. 2569 14:05`` (Buddhist era, Bangkok time).

    >>> thai_date(datetime(2026, 11, 26, 7, 5, tzinfo=UTC))
    '26 พ.ย. 2569 14:05'
    >>> thai_date(date(2026, 1, 2), long=True)
    '2 มกราคม 2569'
    """
    if value is None:
        return "–"
    months = MONTHS_LONG if long else MONTHS_SHORT
    if isinstance(value, datetime):
        local = to_bangkok(value)
        text = f"{local.day} {months[local.month - 1]} {local.year + BE_OFFSET}"
        return f"{text} {local:%H:%M}" if time else text
    return f"{value.day} {months[value.month - 1]} {value.year + BE_OFFSET}"


def thai_number(value: float | int | None, decimals: int = 0) -> str:
    """Format a number with thousands separators, e.g. ``1234567.5`` → ``1,234,568``.

    >>> thai_number(1234567.456, 2)
    '1,234,567.46'
    """
    if value is None:
        return "–"
    return f"{value:,.{decimals}f}"


def percent(value: float | None) -> str:
    """Format a 0–1 confidence as a whole percentage, e.g. ``0.784`` → ``78%``."""
    if value is None:
        return "–"
    return f"{round(value * 100)}%"


def be_year(value: datetime | date | int) -> int:
    """Return the Buddhist-era year of a date or a Gregorian year."""
    year = value if isinstance(value, int) else value.year
    return year + BE_OFFSET


def parse_thai_date(text: str) -> date | None:
    """Read ``26/11/2569`` (Buddhist era), ``26/11/2026`` or ``2026-11-26``; None if unreadable.

    >>> parse_thai_date("26/11/2569")
    datetime.date(2026, 11, 26)
    """
    text = (text or "").strip()
    if not text:
        return None
    try:
        if "-" in text and text[:4].isdigit():
            year, month, day = (int(p) for p in text.split("-"))
        else:
            day, month, year = (int(p) for p in text.replace(".", "/").split("/"))
        if year > 2400:
            year -= BE_OFFSET
        return date(year, month, day)
    except ValueError:
        return None


def thai_dmy(value: datetime) -> str:
    """Return a date as the forms show it, e.g. ``26/11/2569`` (Bangkok, Buddhist era).

    >>> thai_dmy(datetime(2026, 11, 26, 7, 5, tzinfo=UTC))
    '26/11/2569'
    """
    local = to_bangkok(value)
    return f"{local.day:02d}/{local.month:02d}/{local.year + BE_OFFSET}"


def thai_hm(value: datetime) -> str:
    """Return the Bangkok time of day, e.g. ``09:30``."""
    return f"{to_bangkok(value):%H:%M}"


def week_label(start: date) -> str:
    """Return a short Buddhist-era week label, e.g. "23 พ.ย. 69"."""
    return f"{start.day} {MONTHS_SHORT[start.month - 1]} {str(start.year + BE_OFFSET)[-2:]}"


def month_label(first: date, *, long: bool = False) -> str:
    """Return "พ.ย. 69" (or "พฤศจิกายน 2569" when ``long``)."""
    if long:
        return f"{MONTHS_LONG[first.month - 1]} {first.year + BE_OFFSET}"
    return f"{MONTHS_SHORT[first.month - 1]} {str(first.year + BE_OFFSET)[-2:]}"


def init_app(app: Flask) -> None:
    """Register the formatters on ``app``'s Jinja environment."""
    app.add_template_filter(thai_date, "thai_date")
    app.add_template_filter(thai_number, "thai_number")
    app.add_template_filter(percent, "percent")
    app.add_template_filter(be_year, "be_year")
    app.add_template_filter(thai_dmy, "thai_dmy")
    app.add_template_filter(thai_hm, "thai_hm")
