"""Spreadsheet helpers shared by the staff's exports and the survey results: Thai fonts,
borders, text cells that never run as formulas (XLSX and CSV), Buddhist-era dates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import Cell
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.worksheet.worksheet import Worksheet

from bot.thai import thai_date

COUNT_FORMAT = "#,##0"
BAHT_FORMAT = "#,##0.00"
FONT_NAME = "TH SarabunPSK"
THIN = Side(style="thin", color="000000")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADER_FILL = PatternFill("solid", fgColor="D9E2F3")
GROUP_FILL = PatternFill("solid", fgColor="F2F2F2")
TOTAL_FILL = PatternFill("solid", fgColor="FFF2CC")
# Text that spreadsheet programs would run as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Excel reads a CSV as UTF-8 (and shows Thai) only after this mark.
BOM = "\ufeff"


def csv_safe(value: Any) -> str:
    """Return a cell as CSV text that Excel or LibreOffice will not run as a formula."""
    if value is None:
        return ""
    text = str(value)
    if text.startswith(FORMULA_START):
        return "'" + text
    return text


def thai_datetime(value: datetime | None, *, time: bool = True) -> str:
    """Format a UTC datetime as Thai Buddhist-era text, e.g. "26 พ.ย. 2569 21:05"."""
    return "" if value is None else thai_date(value, time=time)


def year_range(years: tuple[int, ...] | list[int]) -> str:
    """Return "พ.ศ. 2566 – 2570" for the plan's years."""
    return f"พ.ศ. {min(years)} – {max(years)}" if years else ""


def put(
    ws: Worksheet,
    row: int,
    column: int,
    value: Any,
    *,
    bold: bool = False,
    number_format: str | None = None,
    horizontal: str | None = None,
    wrap: bool = False,
    border: bool = True,
    fill: PatternFill | None = None,
    size: int = 14,
) -> Cell:
    """Write one cell with the form's look; text is always stored as text, never a formula."""
    cell = ws.cell(row=row, column=column)
    cell.value = value
    if isinstance(value, str) and value.startswith("="):
        # openpyxl would store "=..." as a formula; staff- or resident-typed text must stay text.
        cell.data_type = "s"
    cell.style = _style(ws.parent, bold, number_format, horizontal, wrap, border, fill, size)
    return cell


def _style(
    wb: Workbook,
    bold: bool,
    number_format: str | None,
    horizontal: str | None,
    wrap: bool,
    border: bool,
    fill: PatternFill | None,
    size: int,
) -> str:
    """Return the name of a named style for this look, adding it to the workbook once.

    Assigning one named style per cell is several times faster than setting font, alignment,
    border and fill one by one (openpyxl hashes each style object on every assignment).
    """
    key = (bold, number_format, horizontal, wrap, border, fill.fgColor.rgb if fill else None, size)
    registry: dict[tuple, str] = wb.__dict__.setdefault("_ruamkid_styles", {})
    name = registry.get(key)
    if name is None:
        name = f"ruamkid-{len(registry) + 1}"
        style = NamedStyle(name=name)
        style.font = Font(name=FONT_NAME, size=size, bold=bold)
        style.alignment = Alignment(horizontal=horizontal, vertical="top", wrap_text=wrap)
        if number_format:
            style.number_format = number_format
        if border:
            style.border = BORDER
        if fill is not None:
            style.fill = fill
        wb.add_named_style(style)
        registry[key] = name
    return name


def merge(ws: Worksheet, row: int, column: int, last_row: int, last_column: int) -> None:
    """Merge a block; openpyxl draws the top-left cell's border around the whole block."""
    ws.merge_cells(start_row=row, start_column=column, end_row=last_row, end_column=last_column)


def print_setup(ws: Worksheet, header_rows: str) -> None:
    """Landscape A4, fitted to one page wide, header rows repeated on every page."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.print_title_rows = header_rows
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.5
