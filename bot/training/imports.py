"""Importing a municipality's complaint book (สมุดรับเรื่องร้องเรียน) as training labels.

A CSV (UTF-8, or Windows Thai cp874 as Excel writes it) or XLSX file whose first row names the
columns: ``text`` and ``strategy`` are required, ``subarea`` and ``kind`` optional (Thai headers
ข้อความ, ยุทธศาสตร์, แนวทาง, ประเภท work too). A strategy is its code (``LPN-S7``) or its Thai
name; a sub-area likewise; a kind its code or Thai name, ``complaint`` when empty (it is a
complaint book).

:func:`read_label_file` checks every row and says what is wrong with each bad one, by line;
a file it cannot read at all raises :class:`LabelFileError` and nothing is imported.
:func:`import_labels` then stores the good rows as labels of source ``import``: a text already
imported is updated if its label changed and skipped otherwise, so the same file twice adds
nothing. Phone numbers and e-mail addresses are masked before anything is stored.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from zipfile import BadZipFile

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from sqlalchemy.orm import Session

import nlp
from nlp.embeddings import text_key
from nlp.text import mask_contacts
from storage import training
from storage.models import TrainingLabel

logger = logging.getLogger(__name__)

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 50_000
MAX_TEXT = 5_000
DEFAULT_KIND = "complaint"

# Column names a file may use, English or Thai, for each field.
HEADERS = {
    "text": ("text", "ข้อความ", "เรื่อง", "รายละเอียด"),
    "strategy": ("strategy", "ยุทธศาสตร์", "ประเด็นการพัฒนา"),
    "subarea": ("subarea", "แนวทาง", "แนวทางการพัฒนา"),
    "kind": ("kind", "ประเภท"),
}
# Everyday Thai for the kinds, besides their codes and the taxonomy's names.
KIND_WORDS = {
    "ร้องเรียน": "complaint",
    "เรื่องร้องเรียน": "complaint",
    "แจ้งปัญหา": "complaint",
    "ขอซ่อม": "complaint",
    "ความต้องการ": "need",
    "ความต้องการพัฒนา": "need",
    "ขอโครงการ": "need",
    "สอบถาม": "question",
    "คำถาม": "question",
    "ข้อเสนอแนะ": "suggestion",
    "เสนอแนะ": "suggestion",
}


class LabelFileError(ValueError):
    """The file cannot be read as a label file at all; the message is Thai, for staff."""


@dataclass(frozen=True)
class LabelRow:
    """One good row: the text (contacts masked) and its labels, by the file's line number."""

    line: int
    text: str
    strategy: str | None
    subarea: str | None
    kind: str


@dataclass(frozen=True)
class Problem:
    """Why a row was left out."""

    line: int
    reason: str


@dataclass
class LabelFile:
    """What a file holds: its good rows and the problems of the others."""

    rows: list[LabelRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    repeated: int = 0  # rows that repeat an earlier row of the file exactly

    def per_strategy(self) -> Counter[str]:
        """Count the good rows per strategy (``other`` for not-a-request rows)."""
        return Counter(row.strategy or "other" for row in self.rows)


@dataclass(frozen=True)
class ImportResult:
    """What an import changed."""

    added: int
    updated: int
    unchanged: int


def read_label_file(data: bytes, filename: str, taxonomy: nlp.Taxonomy) -> LabelFile:
    """Read and check every row of a CSV or XLSX label file (nothing is stored)."""
    if not data:
        raise LabelFileError("ไฟล์ว่างเปล่า")
    if len(data) > MAX_FILE_BYTES:
        raise LabelFileError(f"ไฟล์ใหญ่เกิน {MAX_FILE_BYTES // (1024 * 1024)} MB")
    table = _xlsx_rows(data) if filename.lower().endswith(".xlsx") else _csv_rows(data)
    header_line, header = next(table, (0, None))
    if header is None:
        raise LabelFileError("ไม่พบแถวหัวตาราง")
    columns = _columns(header)
    resolver = _Resolver(taxonomy)
    result = LabelFile()
    seen: dict[str, LabelRow] = {}
    count = 0
    for line, cells in table:
        values = {name: _cell(cells, index) for name, index in columns.items()}
        if not any(values.values()):
            continue  # a blank line
        count += 1
        if count > MAX_ROWS:
            raise LabelFileError(f"ไฟล์มีเกิน {MAX_ROWS:,} แถว กรุณาแบ่งเป็นหลายไฟล์")
        row = resolver.row(line, values)
        if isinstance(row, Problem):
            result.problems.append(row)
            continue
        key = same_text_key(row.text)
        earlier = seen.get(key)
        if earlier is None:
            seen[key] = row
            result.rows.append(row)
        elif _labels(earlier) == _labels(row):
            result.repeated += 1
        else:
            result.problems.append(Problem(line, f"ข้อความซ้ำกับบรรทัดที่ {earlier.line} แต่ระบุหมวดต่างกัน"))
    if not result.rows and not result.problems:
        raise LabelFileError(f"ไม่มีข้อมูลใต้หัวตาราง (บรรทัด {header_line})")
    return result


def import_labels(session: Session, label_file: LabelFile, actor: str) -> ImportResult:
    """Store a checked file's rows as imported labels (the caller commits)."""
    keyed = {same_text_key(row.text): row for row in label_file.rows}
    existing = training.imported_by_key(session, list(keyed))
    added = updated = unchanged = 0
    for key, row in keyed.items():
        label = existing.get(key)
        if label is None:
            session.add(
                TrainingLabel(
                    text=row.text,
                    strategy=row.strategy,
                    subarea=row.subarea,
                    kind=row.kind,
                    source="import",
                    text_key=key,
                    created_by=actor,
                )
            )
            added += 1
        elif (label.strategy, label.subarea, label.kind) == _labels(row):
            unchanged += 1
        else:
            label.strategy, label.subarea, label.kind = _labels(row)
            label.created_by = actor
            updated += 1
    logger.info("imported labels: %d added, %d updated, %d unchanged", added, updated, unchanged)
    return ImportResult(added, updated, unchanged)


def same_text_key(text: str) -> str:
    """Key that tells the same text in two files: normalised, spaces ignored (Thai puts them
    anywhere)."""
    return text_key(nlp.normalize(text).replace(" ", ""))


# --- reading ----------------------------------------------------------------------------------


def _csv_rows(data: bytes):
    for encoding in ("utf-8-sig", "cp874"):  # Excel's "CSV" on a Thai Windows is cp874
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise LabelFileError("อ่านไฟล์ไม่ได้: ต้องเป็น CSV แบบ UTF-8 หรือไฟล์ Excel (.xlsx)")
    if "\0" in text:
        raise LabelFileError("อ่านไฟล์ไม่ได้: ต้องเป็น CSV แบบ UTF-8 หรือไฟล์ Excel (.xlsx)")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        for cells in reader:
            yield reader.line_num, cells
    except csv.Error as exc:
        raise LabelFileError(f"ไฟล์ CSV ผิดรูปแบบที่บรรทัด {reader.line_num}") from exc


def _xlsx_rows(data: bytes):
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, BadZipFile, KeyError, OSError, ValueError) as exc:
        raise LabelFileError("อ่านไฟล์ Excel ไม่ได้ กรุณาบันทึกเป็น .xlsx หรือ CSV") from exc
    try:
        sheet = book.worksheets[0]
        for line, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield line, ["" if value is None else str(value) for value in cells]
    finally:
        book.close()


def _columns(header: list[str]) -> dict[str, int]:
    names = [_plain(cell).lower() for cell in header]
    columns = {}
    for field_name, spellings in HEADERS.items():
        for index, name in enumerate(names):
            if name in spellings:
                columns[field_name] = index
                break
    missing = [name for name in ("text", "strategy") if name not in columns]
    if missing:
        raise LabelFileError(
            "หัวตารางต้องมีคอลัมน์ text (ข้อความ) และ strategy (ยุทธศาสตร์) "
            f"แต่ไฟล์นี้มี: {', '.join(c for c in header if c) or '(ว่าง)'}"
        )
    return columns


def _cell(cells: list[str], index: int) -> str:
    return cells[index].strip() if index < len(cells) and cells[index] else ""


def _plain(value: str) -> str:
    """The value without any whitespace (Excel cells often carry stray spaces)."""
    return re.sub(r"\s+", "", value or "")


def _labels(row: LabelRow) -> tuple[str | None, str | None, str]:
    return row.strategy, row.subarea, row.kind


class _Resolver:
    """Reads codes or Thai names of strategies, sub-areas and kinds against the taxonomy."""

    def __init__(self, taxonomy: nlp.Taxonomy) -> None:
        self.taxonomy = taxonomy
        self.strategies: dict[str, str] = {}
        self.subareas: dict[str, str] = {}
        for strategy in taxonomy.strategies:
            for spelling in (strategy.code, strategy.name):
                self.strategies[self._key(spelling)] = strategy.code
            for sub in strategy.subareas:
                for spelling in (sub.code, sub.name):
                    self.subareas[self._key(spelling)] = sub.code
        self.kinds = {self._key(k): v for k, v in KIND_WORDS.items()}
        for kind in taxonomy.kinds:
            self.kinds[self._key(kind.code)] = kind.code
            self.kinds[self._key(kind.name)] = kind.code

    @staticmethod
    def _key(value: str) -> str:
        key = _plain(value).lower()
        for prefix in ("ยุทธศาสตร์", "ด้าน"):
            key = key.removeprefix(prefix)
        return key

    def row(self, line: int, values: dict[str, str]) -> LabelRow | Problem:
        text = values["text"]
        if not text:
            return Problem(line, "ไม่มีข้อความ")
        if len(text) > MAX_TEXT:
            return Problem(line, f"ข้อความยาวเกิน {MAX_TEXT:,} ตัวอักษร")
        kind = DEFAULT_KIND
        if values.get("kind"):
            kind = self.kinds.get(self._key(values["kind"]))
            if kind is None:
                return Problem(line, f"ไม่รู้จักประเภท “{values['kind'][:40]}”")
        subarea = None
        if values.get("subarea"):
            subarea = self.subareas.get(self._key(values["subarea"]))
            if subarea is None:
                return Problem(line, f"ไม่รู้จักแนวทาง “{values['subarea'][:40]}”")
        strategy = None
        if values["strategy"]:
            strategy = self.strategies.get(self._key(values["strategy"]))
            if strategy is None:
                return Problem(line, f"ไม่รู้จักยุทธศาสตร์ “{values['strategy'][:60]}”")
        if subarea is not None:
            owner = self.taxonomy.strategy_of_subarea(subarea).code
            if strategy is not None and strategy != owner:
                return Problem(line, f"แนวทาง {subarea} ไม่อยู่ในยุทธศาสตร์ {strategy}")
            strategy = owner
        if kind == "other":
            strategy = subarea = None
        elif strategy is None:
            return Problem(line, "ไม่ได้ระบุยุทธศาสตร์")
        return LabelRow(line, mask_contacts(text), strategy, subarea, kind)
