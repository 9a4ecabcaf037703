"""The plan's export, in one place: the official tables ผ.01 บัญชีสรุปโครงการพัฒนา and ผ.02
รายละเอียดโครงการพัฒนา (with ผ.02/1 and ผ.02/2 on their own sheets), their frame from the
taxonomy, and the projects read as plain rows.

The builders take plain values (``PlanRow``, ``PlanOutline``) and return openpyxl workbooks,
so they are tested without Flask or a database.

Cells hold computed values (not formulas), so the file reads the same in every program and the
numbers can be checked by opening it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import groupby

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy.orm import Session

from bot.spreadsheets import (
    BAHT_FORMAT,
    COUNT_FORMAT,
    GROUP_FILL,
    HEADER_FILL,
    TOTAL_FILL,
    merge,
    print_setup,
    put,
    year_range,
)
from nlp import Taxonomy
from storage import plan as plan_store

ZERO = Decimal("0")
# Sheet names cannot contain "/", so ผ.02/1 lives on the sheet "ผ.02-1" (its title says ผ.02/1).
P02_SHEETS = (
    ("own", "ผ.02", "แบบ ผ.02", ""),
    ("community", "ผ.02-1", "แบบ ผ.02/1", "โครงการพัฒนาที่นำมาจากแผนชุมชน"),
    (
        "beyond",
        "ผ.02-2",
        "แบบ ผ.02/2",
        "โครงการพัฒนาที่เกินศักยภาพขององค์กรปกครองส่วนท้องถิ่น (ประสานหน่วยงานอื่น)",
    ),
)


@dataclass(frozen=True)
class PlanRow:
    """One project as plain values, as the forms need it."""

    strategy: str
    programme: str
    name: str
    subarea: str | None = None
    objective: str = ""
    target: str = ""
    kpi: str | None = None
    expected_result: str = ""
    division: str = ""
    origin: str = "own"
    budgets: Mapping[int, Decimal] = field(default_factory=dict)
    reason: str | None = None

    def budget(self, year: int) -> Decimal:
        """Return this project's budget for a plan year (zero when none)."""
        return Decimal(self.budgets.get(year, ZERO) or ZERO)


@dataclass(frozen=True)
class PlanOutline:
    """What the forms print around the projects: the plan, its years and its strategies."""

    organisation: str
    years: tuple[int, ...]
    strategies: tuple[tuple[str, str], ...]
    subareas: Mapping[str, str] = field(default_factory=dict)
    programmes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    plan_name: str = "แผนพัฒนาท้องถิ่น"
    top_label: str = "ยุทธศาสตร์"
    sub_label: str = "แนวทาง"
    # "" for the original plan, or e.g. "เพิ่มเติม ครั้งที่ 1"
    edition: str = ""

    @property
    def plan_line(self) -> str:
        """Return e.g. "แผนพัฒนาท้องถิ่น (พ.ศ. 2566 – 2570) เพิ่มเติม ครั้งที่ 1"."""
        line = f"{self.plan_name} ({year_range(self.years)})"
        return f"{line} {self.edition}" if self.edition else line

    def strategy_name(self, code: str) -> str:
        """Return the Thai name of a strategy code (the code itself if unknown)."""
        return dict(self.strategies).get(code, code)

    def strategy_number(self, code: str) -> int:
        """Return the 1-based position of a strategy in the plan (after the known ones if not)."""
        codes = [c for c, _ in self.strategies]
        return codes.index(code) + 1 if code in codes else len(codes) + 1


def plan_outline(taxonomy: Taxonomy, organisation: str, edition: str = "original") -> PlanOutline:
    """Return the forms' frame from the taxonomy and the municipality's name."""
    tax = taxonomy
    return PlanOutline(
        organisation=organisation,
        years=tuple(tax.plan.years),
        strategies=tuple((s.code, s.name) for s in tax.strategies),
        subareas={sub.code: sub.name for s in tax.strategies for sub in s.subareas},
        programmes={s.code: tuple(s.programmes) for s in tax.strategies},
        plan_name=tax.plan.name,
        top_label=tax.plan.top_label,
        sub_label=tax.plan.sub_label,
        edition="" if edition == "original" else plan_store.edition_label(edition),
    )


def plan_rows(session: Session, edition: str) -> list[PlanRow]:
    """Return the projects of one plan edition as plain rows for the form builders."""
    return [
        PlanRow(
            strategy=p.strategy,
            subarea=p.subarea,
            programme=p.programme,
            name=p.name,
            objective=p.objective,
            target=p.target,
            kpi=p.kpi,
            expected_result=p.expected_result,
            division=p.division,
            origin=p.origin,
            budgets={b.year: b.amount for b in p.budgets},
            reason=p.reason,
        )
        for p in plan_store.list_projects(session, edition=edition)
    ]


def _programme_order(outline: PlanOutline, strategy: str, programmes: Iterable[str]) -> list[str]:
    known = list(outline.programmes.get(strategy, ()))
    return sorted(set(programmes), key=lambda p: (known.index(p) if p in known else len(known), p))


def _strategy_order(outline: PlanOutline, rows: Iterable[PlanRow]) -> list[str]:
    codes = [c for c, _ in outline.strategies]
    extra = sorted({r.strategy for r in rows} - set(codes))
    return codes + extra


def _title_block(ws: Worksheet, last_col: int, form: str, lines: list[str]) -> int:
    """Write "แบบ ผ.0x" top right and the centred title lines; return the next free row."""
    put(ws, 1, last_col, form, bold=True, horizontal="right", border=False, size=14)
    row = 2
    for i, text in enumerate(lines):
        put(ws, row, 1, text, bold=True, horizontal="center", border=False, size=16 if i else 18)
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=last_col)
        row += 1
    return row + 1


# --- ผ.01 -----------------------------------------------------------------------------------


def build_p01(rows: Iterable[PlanRow], outline: PlanOutline) -> Workbook:
    """Build ผ.01: per strategy and แผนงาน, projects and budget per plan year, with totals.

    A project counts in a year when it has a budget that year; the five-year count is the sum
    of the yearly counts, as on the official form.
    """
    rows = list(rows)
    years = list(outline.years)
    wb = Workbook()
    ws = wb.active
    ws.title = "ผ.01"
    last_col = 1 + 2 * (len(years) + 1)
    lines = ["บัญชีสรุปโครงการพัฒนา", outline.plan_line, outline.organisation]
    head = _title_block(ws, last_col, "แบบ ผ.01", lines)

    put(ws, head, 1, outline.top_label, bold=True, horizontal="center", fill=HEADER_FILL)
    merge(ws, head, 1, head + 1, 1)
    for i, label in enumerate([f"ปี {y}" for y in years] + [f"รวม {len(years)} ปี"]):
        col = 2 + 2 * i
        put(ws, head, col, label, bold=True, horizontal="center", fill=HEADER_FILL)
        merge(ws, head, col, head, col + 1)
        put(ws, head + 1, col, "จำนวนโครงการ", bold=True, horizontal="center", fill=HEADER_FILL)
        put(
            ws,
            head + 1,
            col + 1,
            "งบประมาณ (บาท)",
            bold=True,
            horizontal="center",
            fill=HEADER_FILL,
        )
    row = head + 2

    def write_numbers(r: int, group: list[PlanRow], *, bold: bool, fill=None) -> None:
        total_n, total_b = 0, ZERO
        for i, year in enumerate(years):
            funded = [p for p in group if p.budget(year) > 0]
            n, b = len(funded), sum((p.budget(year) for p in funded), ZERO)
            total_n += n
            total_b += b
            put(ws, r, 2 + 2 * i, n, number_format=COUNT_FORMAT, bold=bold, fill=fill)
            put(ws, r, 3 + 2 * i, b, number_format=BAHT_FORMAT, bold=bold, fill=fill)
        put(ws, r, last_col - 1, total_n, number_format=COUNT_FORMAT, bold=bold, fill=fill)
        put(ws, r, last_col, total_b, number_format=BAHT_FORMAT, bold=bold, fill=fill)

    for code in _strategy_order(outline, rows):
        in_strategy = [r for r in rows if r.strategy == code]
        if code not in dict(outline.strategies) and not in_strategy:
            continue
        number = outline.strategy_number(code)
        name = outline.strategy_name(code)
        put(
            ws,
            row,
            1,
            f"{number}) {outline.top_label}{name}",
            bold=True,
            wrap=True,
            fill=GROUP_FILL,
        )
        for col in range(2, last_col + 1):
            put(ws, row, col, None, fill=GROUP_FILL)
        row += 1
        programmes = _programme_order(outline, code, (r.programme for r in in_strategy))
        for j, programme in enumerate(programmes, start=1):
            put(ws, row, 1, f"    {number}.{j} แผนงาน{programme}", wrap=True)
            write_numbers(row, [r for r in in_strategy if r.programme == programme], bold=False)
            row += 1
        put(ws, row, 1, "รวม", bold=True, horizontal="center", fill=TOTAL_FILL)
        write_numbers(row, in_strategy, bold=True, fill=TOTAL_FILL)
        row += 1

    put(ws, row, 1, "รวมทั้งสิ้น", bold=True, horizontal="center", fill=TOTAL_FILL)
    write_numbers(row, rows, bold=True, fill=TOTAL_FILL)

    ws.column_dimensions["A"].width = 60
    for col in range(2, last_col + 1):
        ws.column_dimensions[get_column_letter(col)].width = 11 if col % 2 == 0 else 16
    ws.freeze_panes = f"B{head + 2}"
    print_setup(ws, f"{head}:{head + 1}")
    return wb


# --- ผ.02 -----------------------------------------------------------------------------------


def build_p02(
    rows: Iterable[PlanRow], outline: PlanOutline, *, amendment: bool = False
) -> Workbook:
    """Build ผ.02 with ผ.02/1 (community plans) and ผ.02/2 (beyond capacity) as their own sheets.

    Projects are grouped strategy → sub-area (แนวทาง) → แผนงาน, numbered from 1 within each
    แผนงาน, with a total per แผนงาน and per sheet. ``amendment`` adds เหตุผลความจำเป็น.
    """
    rows = list(rows)
    wb = Workbook()
    wb.remove(wb.active)
    for origin, sheet, form, subtitle in P02_SHEETS:
        ws = wb.create_sheet(sheet)
        _p02_sheet(ws, [r for r in rows if r.origin == origin], outline, form, subtitle, amendment)
    return wb


def _p02_sheet(
    ws: Worksheet,
    rows: list[PlanRow],
    outline: PlanOutline,
    form: str,
    subtitle: str,
    amendment: bool,
) -> None:
    years = list(outline.years)
    headers = ["ที่", "โครงการ", "วัตถุประสงค์", "เป้าหมาย (ผลผลิตของโครงการ)"]
    first_year_col = len(headers) + 1
    tail = ["ตัวชี้วัด (KPI)", "ผลที่คาดว่าจะได้รับ", "หน่วยงานรับผิดชอบหลัก"]
    if amendment:
        tail.append("เหตุผลความจำเป็น")
    last_col = len(headers) + len(years) + len(tail)
    lines = ["รายละเอียดโครงการพัฒนา", outline.plan_line, outline.organisation]
    if subtitle:
        lines.insert(1, subtitle)
    head = _title_block(ws, last_col, form, lines)

    for col, label in enumerate(headers, start=1):
        put(ws, head, col, label, bold=True, horizontal="center", wrap=True, fill=HEADER_FILL)
        merge(ws, head, col, head + 1, col)
    put(ws, head, first_year_col, "งบประมาณ", bold=True, horizontal="center", fill=HEADER_FILL)
    merge(ws, head, first_year_col, head, first_year_col + len(years) - 1)
    for i, year in enumerate(years):
        put(
            ws,
            head + 1,
            first_year_col + i,
            f"{year}\n(บาท)",
            bold=True,
            horizontal="center",
            wrap=True,
            fill=HEADER_FILL,
        )
    for i, label in enumerate(tail):
        col = first_year_col + len(years) + i
        put(ws, head, col, label, bold=True, horizontal="center", wrap=True, fill=HEADER_FILL)
        merge(ws, head, col, head + 1, col)
    row = head + 2

    def group_row(text: str) -> None:
        # Not merged (merges are slow to write and awkward to sort): the text runs on over
        # the empty, shaded cells to its right.
        nonlocal row
        put(ws, row, 1, text, bold=True, fill=GROUP_FILL, wrap=False)
        for col in range(2, last_col + 1):
            put(ws, row, col, None, fill=GROUP_FILL)
        row += 1

    def total_row(label: str, group: list[PlanRow]) -> None:
        nonlocal row
        put(ws, row, 1, None, fill=TOTAL_FILL)
        put(ws, row, 2, label, bold=True, fill=TOTAL_FILL)
        put(ws, row, 3, None, fill=TOTAL_FILL)
        put(ws, row, 4, None, fill=TOTAL_FILL)
        for i, year in enumerate(years):
            amount = sum((p.budget(year) for p in group), ZERO)
            put(
                ws,
                row,
                first_year_col + i,
                amount,
                number_format=BAHT_FORMAT,
                bold=True,
                fill=TOTAL_FILL,
            )
        for i in range(len(tail)):
            put(ws, row, first_year_col + len(years) + i, None, fill=TOTAL_FILL)
        row += 1

    order = {code: i for i, code in enumerate(_strategy_order(outline, rows))}
    sub_codes = list(outline.subareas)

    all_programmes = [x.programme for x in rows]
    prog_order = {code: _programme_order(outline, code, all_programmes) for code in order}

    def sort_key(r: PlanRow):
        sub = sub_codes.index(r.subarea) if r.subarea in sub_codes else len(sub_codes)
        return (order[r.strategy], sub, r.subarea or "", prog_order[r.strategy].index(r.programme))

    rows.sort(key=sort_key)
    if not rows:
        put(ws, row, 1, "ไม่มีโครงการ", horizontal="center")
        merge(ws, row, 1, row, last_col)
    for code, in_strategy in groupby(rows, key=lambda r: r.strategy):
        in_strategy = list(in_strategy)
        number = outline.strategy_number(code)
        group_row(f"{outline.top_label}ที่ {number} {outline.strategy_name(code)}")
        for sub, in_sub in groupby(in_strategy, key=lambda r: r.subarea):
            in_sub = list(in_sub)
            if sub:
                group_row(f"{outline.sub_label} {outline.subareas.get(sub, sub)}")
            else:
                group_row(f"{outline.sub_label} (ไม่ระบุ)")
            for programme, in_prog in groupby(in_sub, key=lambda r: r.programme):
                in_prog = list(in_prog)
                group_row(f"แผนงาน{programme}")
                for n, project in enumerate(in_prog, start=1):
                    put(ws, row, 1, n, horizontal="center")
                    put(ws, row, 2, project.name, wrap=True)
                    put(ws, row, 3, project.objective, wrap=True)
                    put(ws, row, 4, project.target, wrap=True)
                    for i, year in enumerate(years):
                        amount = project.budget(year)
                        put(
                            ws,
                            row,
                            first_year_col + i,
                            amount if amount else "-",
                            number_format=BAHT_FORMAT,
                            horizontal="right",
                        )
                    values = [project.kpi or "-", project.expected_result, project.division]
                    if amendment:
                        values.append(project.reason or "")
                    for i, value in enumerate(values):
                        put(ws, row, first_year_col + len(years) + i, value, wrap=True)
                    row += 1
                total_row(f"รวม {len(in_prog)} โครงการ", in_prog)
    if rows:
        total_row(f"รวมทั้งสิ้น {len(rows)} โครงการ", rows)

    widths = [6, 32, 30, 28] + [14] * len(years) + [24, 28, 22] + ([30] if amendment else [])
    for col, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = f"C{head + 2}"
    ws.row_dimensions[head + 1].height = 36
    print_setup(ws, f"{head}:{head + 1}")
