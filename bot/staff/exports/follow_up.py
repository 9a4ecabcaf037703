"""The plan's follow-up report (การติดตามและประเมินผลแผน) as XLSX: per strategy and plan year,
projects planned, funded (in the budget ordinance or later), done, cancelled/postponed, the
budget and what was spent. Built from plain rows, so it is tested without Flask."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from openpyxl import Workbook

from bot.spreadsheets import (
    BAHT_FORMAT,
    COUNT_FORMAT,
    HEADER_FILL,
    TOTAL_FILL,
    merge,
    print_setup,
    put,
)
from storage.plan import FollowUpRow

HEADERS = (
    "ยุทธศาสตร์",
    "ปี พ.ศ.",
    "โครงการในแผน",
    "ได้รับงบประมาณ",
    "แล้วเสร็จ",
    "ยกเลิก/ชะลอ",
    "ร้อยละที่แล้วเสร็จ",
    "งบประมาณตามแผน (บาท)",
    "ใช้จ่ายจริง (บาท)",
)


def follow_up_xlsx(
    rows: Iterable[FollowUpRow], names: Mapping[str, str], organisation: str
) -> Workbook:
    """Return the follow-up report as a workbook with one sheet and a grand total."""
    rows = list(rows)
    wb = Workbook()
    ws = wb.active
    ws.title = "ติดตามและประเมินผล"
    put(
        ws,
        1,
        1,
        f"รายงานการติดตามและประเมินผลแผนพัฒนาท้องถิ่น {organisation}",
        bold=True,
        border=False,
        size=16,
    )
    merge(ws, 1, 1, 1, len(HEADERS))
    for column, header in enumerate(HEADERS, 1):
        put(ws, 3, column, header, bold=True, fill=HEADER_FILL, horizontal="center", wrap=True)
    row_no = 4
    for row in rows:
        values = _values(f"{row.strategy} {names.get(row.strategy, '')}".strip(), row.year, row)
        for column, value in enumerate(values, 1):
            put(ws, row_no, column, value, number_format=_format(column))
        row_no += 1
    total = FollowUpRow(
        strategy="รวมทั้งสิ้น",
        year=0,
        planned=sum(r.planned for r in rows),
        funded=sum(r.funded for r in rows),
        done=sum(r.done for r in rows),
        halted=sum(r.halted for r in rows),
        budget=sum((r.budget for r in rows), Decimal("0")),
        spent=sum((r.spent for r in rows), Decimal("0")),
    )
    for column, value in enumerate(_values("รวมทั้งสิ้น", "", total), 1):
        put(ws, row_no, column, value, bold=True, fill=TOTAL_FILL, number_format=_format(column))
    for column, width in enumerate((48, 10, 14, 14, 12, 12, 14, 22, 20), 1):
        ws.column_dimensions[chr(64 + column)].width = width
    print_setup(ws, "3:3")
    return wb


def _values(label: str, year: int | str, row: FollowUpRow) -> list:
    share = round(100 * row.done / row.planned, 1) if row.planned else 0
    return [
        label,
        year,
        row.planned,
        row.funded,
        row.done,
        row.halted,
        share,
        row.budget,
        row.spent,
    ]


def _format(column: int) -> str | None:
    if column in (3, 4, 5, 6):
        return COUNT_FORMAT
    if column in (8, 9):
        return BAHT_FORMAT
    if column == 7:
        return "0.0"
    return None
