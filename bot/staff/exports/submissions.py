"""Submissions as CSV (UTF-8 with a BOM, so Excel shows Thai) and as XLSX, read from a
filtered select of the queue.

Residents' text is untrusted: a cell that a spreadsheet would run as a formula is neutralised
(CSV: a leading apostrophe; XLSX: stored as a text cell).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from bot.needs.statuses import STATUS_LABELS
from bot.spreadsheets import (
    BOM,
    COUNT_FORMAT,
    HEADER_FILL,
    csv_safe,
    print_setup,
    put,
    thai_datetime,
)
from bot.staff import queries
from nlp import Taxonomy
from storage import plan as plan_store
from storage.models import Community, Media, Submission

# Rows are read this many at a time, so a large export never holds the whole table.
BATCH = 1000
# (key in each row, Thai header)
SUBMISSION_COLUMNS: tuple[tuple[str, str], ...] = (
    ("tracking_no", "เลขที่เรื่อง"),
    ("created_at", "วันที่แจ้ง"),
    ("community", "ชุมชน"),
    ("strategy", "ยุทธศาสตร์"),
    ("subarea", "แนวทาง"),
    ("kind", "ประเภท"),
    ("status", "สถานะ"),
    ("text", "ข้อความ"),
    ("has_photo", "มีภาพถ่าย"),
    ("location", "ตำแหน่ง"),
    ("residents", "จำนวนผู้แจ้ง"),
    ("projects", "โครงการ"),
    # LINE, a survey, a forum (ประชาคม), by phone, on paper, at the counter.
    ("source", "ช่องทาง"),
)


def _cell_value(key: str, value: Any) -> Any:
    if key == "created_at":
        return thai_datetime(value)
    if key == "has_photo":
        return "มี" if value else "ไม่มี"
    if key == "projects" and isinstance(value, list | tuple):
        return "; ".join(value)
    return value


def iter_submissions_csv(rows: Iterable[Mapping[str, Any]]) -> Iterator[bytes]:
    """Yield the CSV in chunks: the BOM and header first, then about 500 rows at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow([header for _, header in SUBMISSION_COLUMNS])
    for i, row in enumerate(rows, start=1):
        writer.writerow([csv_safe(_cell_value(key, row.get(key))) for key, _ in SUBMISSION_COLUMNS])
        if i % 500 == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def submissions_csv(rows: Iterable[Mapping[str, Any]]) -> bytes:
    """Return the whole CSV as bytes (UTF-8 with a BOM)."""
    return b"".join(iter_submissions_csv(rows))


def submissions_xlsx(rows: Iterable[Mapping[str, Any]], *, title: str = "") -> Workbook:
    """Return a workbook with one sheet "เรื่องร้องเรียน" listing the submissions."""
    wb = Workbook(write_only=False)
    ws = wb.active
    ws.title = "รายการเรื่อง"
    start = 1
    if title:
        put(ws, 1, 1, title, bold=True, border=False, size=16)
        start = 3
    for col, (_, header) in enumerate(SUBMISSION_COLUMNS, start=1):
        put(ws, start, col, header, bold=True, horizontal="center", fill=HEADER_FILL)
    r = start
    for r, row in enumerate(rows, start=start + 1):
        for col, (key, _) in enumerate(SUBMISSION_COLUMNS, start=1):
            value = _cell_value(key, row.get(key))
            put(
                ws,
                r,
                col,
                value,
                wrap=key == "text",
                number_format=COUNT_FORMAT if key == "residents" else None,
            )
    widths = (16, 20, 22, 30, 30, 18, 20, 60, 10, 22, 12, 30)
    for col, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = f"B{start + 1}"
    ws.auto_filter.ref = f"A{start}:{get_column_letter(len(SUBMISSION_COLUMNS))}{max(r, start)}"
    print_setup(ws, f"{start}:{start}")
    return wb


def submission_rows(
    session: Session, statement: Select[Any], taxonomy: Taxonomy
) -> Iterator[dict[str, Any]]:
    """Yield export rows for a filtered select, newest first, a thousand at a time."""
    tax = taxonomy
    names = {s.code: f"{s.code} {s.name}" for s in tax.strategies}
    names.update({sub.code: f"{sub.code} {sub.name}" for s in tax.strategies for sub in s.subareas})
    kinds = {k.code: k.name for k in tax.kinds}
    communities = dict(session.execute(select(Community.id, Community.name)).all())
    last_id: int | None = None
    while True:
        page = statement.order_by(Submission.id.desc()).limit(BATCH)
        if last_id is not None:
            page = page.where(Submission.id < last_id)
        batch = list(session.scalars(page))
        if not batch:
            return
        ids = [s.id for s in batch]
        reporters = queries.reporters(session, ids)
        projects = plan_store.project_names_by_submission(session, ids)
        with_photo = set(
            session.scalars(select(Media.submission_id).where(Media.submission_id.in_(ids)))
        )
        for s in batch:
            yield {
                "tracking_no": s.tracking_no,
                "created_at": s.created_at,
                "source": queries.SOURCES.get(s.source, s.source),
                "community": communities.get(s.community_id, ""),
                "strategy": names.get(s.strategy or "", s.strategy or ""),
                "subarea": names.get(s.subarea or "", s.subarea or ""),
                "kind": kinds.get(s.kind, s.kind),
                "status": STATUS_LABELS.get(s.status, s.status),
                "text": s.text if s.text is not None else "",
                "has_photo": s.id in with_photo,
                "location": (
                    f"{s.latitude:.6f}, {s.longitude:.6f}"
                    if s.latitude is not None and s.longitude is not None
                    else ""
                ),
                "residents": reporters[s.id].count if s.id in reporters else 1,
                "projects": projects.get(s.id, []),
            }
        session.expunge_all()
        last_id = ids[-1]
        if len(batch) < BATCH:
            return
