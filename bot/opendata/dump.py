"""Writing the open-data files (see ``bot.opendata``) and the worker's daily job."""

from __future__ import annotations

import csv
import json
import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db import session_factory
from bot.line.worker import Job, register_job, run_claimed
from bot.needs import classification
from bot.needs.statuses import STATUS_LABELS
from bot.open311.formats import timestamp
from bot.opendata import JOB
from storage.base import utcnow
from storage.models import Submission
from storage.plan import EXECUTION, Project, ProjectNeed
from storage.public import PublicNeed, all_public_needs

logger = logging.getLogger(__name__)

EVERY = timedelta(days=1)
CHECK_SECONDS = 600.0
RETRY = timedelta(hours=1)
DEFAULT_LICENCE = "CC-BY-4.0 (Creative Commons Attribution 4.0 International)"
FILES = ("needs.csv", "needs.json", "projects.csv", "projects.json", "datadictionary.json")


@dataclass(frozen=True)
class Field:
    """One column of a file: its name, what it means in Thai and English, and its type."""

    name: str
    th: str
    en: str
    type: str


NEED_FIELDS = (
    Field("tracking", "หมายเลขติดตามเรื่อง", "tracking number", "string"),
    Field("strategy", "รหัสยุทธศาสตร์", "strategy code", "string"),
    Field("strategy_name", "ชื่อยุทธศาสตร์", "strategy name", "string"),
    Field("subarea", "รหัสแนวทาง (service_code ของ Open311)", "sub-area code", "string"),
    Field("subarea_name", "ชื่อแนวทาง", "sub-area name", "string"),
    Field("kind", "ประเภทเรื่อง", "kind of message", "string"),
    Field("status", "รหัสสถานะ", "status code", "string"),
    Field("status_name", "สถานะ", "status in Thai", "string"),
    Field("community", "ชุมชน", "community", "string"),
    Field("created_at", "วันเวลาที่แจ้ง (ISO 8601)", "filed at (ISO 8601)", "datetime"),
    Field("updated_at", "วันเวลาที่ปรับปรุงล่าสุด", "last updated at", "datetime"),
    Field("latitude", "ละติจูด (ปัดเป็นช่องราว 100 ม.)", "latitude (about 100 m grid)", "number"),
    Field("longitude", "ลองจิจูด (ปัดเป็นช่องราว 100 ม.)", "longitude (about 100 m grid)", "number"),
    Field(
        "text",
        "ข้อความ (เฉพาะที่เจ้าหน้าที่อนุญาตให้เผยแพร่)",
        "words (only where staff allowed)",
        "string",
    ),
)
PROJECT_FIELDS = (
    Field("id", "รหัสโครงการ", "project id", "integer"),
    Field("strategy", "รหัสยุทธศาสตร์", "strategy code", "string"),
    Field("subarea", "รหัสแนวทาง", "sub-area code", "string"),
    Field("programme", "แผนงาน", "budget work programme", "string"),
    Field("name", "ชื่อโครงการ", "project name", "string"),
    Field("objective", "วัตถุประสงค์", "objective", "string"),
    Field("target", "เป้าหมาย (ผลผลิตของโครงการ)", "target (output)", "string"),
    Field("division", "หน่วยงานรับผิดชอบหลัก", "responsible division", "string"),
    Field("edition", "ฉบับแผน", "plan edition", "string"),
    Field("execution", "สถานะการดำเนินงาน", "execution stage", "string"),
    Field("percent_done", "ร้อยละความก้าวหน้า", "percent done", "integer"),
    Field("budget", "งบประมาณรวมทุกปี (บาท)", "budget over all plan years (baht)", "number"),
    Field("spent", "งบประมาณที่ใช้จริง (บาท)", "budget spent (baht)", "number"),
    Field("needs", "จำนวนเรื่องของประชาชนที่เชื่อมโยง", "linked residents' needs", "integer"),
    Field("communities", "จำนวนชุมชนที่เกี่ยวข้อง", "communities behind it", "integer"),
)


def init_app(app: Flask) -> None:
    """Set the defaults and run the dump from the worker, once a day in all."""
    app.config.setdefault("OPENDATA_DIR", str(Path(app.instance_path) / "opendata"))
    app.config.setdefault("OPENDATA_LICENCE", DEFAULT_LICENCE)
    register_job(app, Job(JOB, CHECK_SECONDS, run_if_due))


def dump(app: Flask, folder: str | Path | None = None, now: datetime | None = None) -> dict:
    """Write every file into ``folder`` (``OPENDATA_DIR`` by default); return the index.

    Needs are streamed in batches into both their files, never all held in memory.
    """
    target = Path(folder or app.config["OPENDATA_DIR"])
    target.mkdir(parents=True, exist_ok=True)
    licence = app.config["OPENDATA_LICENCE"]
    head = {"licence": licence, "generated_at": timestamp(now or utcnow())}
    with (
        app.app_context(),
        session_factory(app)() as session,
        _replacing(target / "needs.csv") as table,
        _replacing(target / "needs.json") as records,
    ):
        names = _names()
        writer = _csv_writer(table, NEED_FIELDS)
        records.write(_json(head)[: -len("\n}")] + ',\n "records": [')
        needs = 0
        for need in all_public_needs(session):
            record = _need_record(need, names)
            writer.writerow(record)
            records.write(("," if needs else "") + "\n  " + _json(record, indent=None))
            needs += 1
        records.write("\n ]\n}")
        projects = _projects(session)
    with _replacing(target / "projects.csv") as table:
        _csv_writer(table, PROJECT_FIELDS).writerows(projects)
    with _replacing(target / "projects.json") as file:
        file.write(_json({**head, "records": projects}))
    dictionary = {
        **head,
        "files": {
            "needs": [vars(f) for f in NEED_FIELDS],
            "projects": [vars(f) for f in PROJECT_FIELDS],
        },
    }
    with _replacing(target / "datadictionary.json") as file:
        file.write(_json(dictionary))
    logger.info("open data: %d needs, %d projects", needs, len(projects))
    return {**head, "needs": needs, "projects": len(projects), "files": list(FILES)}


def run_if_due(app: Flask) -> int:
    """The worker's job: dump if today's (or an erasure's) run is due and no worker took it (a
    failed run is tried again within the hour)."""

    def work() -> str:
        index = dump(app)
        return f"needs={index['needs']} projects={index['projects']}"

    return run_claimed(app, JOB, EVERY, RETRY, "open data dump", work)


def _names() -> dict[str, str]:
    taxonomy = classification.taxonomy()
    names = {s.code: s.name for s in taxonomy.strategies}
    names.update({sub.code: sub.name for s in taxonomy.strategies for sub in s.subareas})
    return names


def _need_record(need: PublicNeed, names: dict[str, str]) -> dict[str, Any]:
    return {
        "tracking": need.tracking,
        "strategy": need.strategy,
        "strategy_name": names.get(need.strategy or ""),
        "subarea": need.subarea,
        "subarea_name": names.get(need.subarea or ""),
        "kind": need.kind,
        "status": need.status,
        "status_name": STATUS_LABELS.get(need.status),
        "community": need.community,
        "created_at": timestamp(need.created_at),
        "updated_at": timestamp(need.updated_at),
        "latitude": need.latitude,
        "longitude": need.longitude,
        "text": need.text,
    }


def _projects(session: Session) -> list[dict[str, Any]]:
    """The plan's projects with counts of the needs behind them (erased needs not counted)."""
    linked = {
        project_id: (needs, communities)
        for project_id, needs, communities in session.execute(
            select(
                ProjectNeed.project_id,
                func.count(Submission.id),
                func.count(Submission.community_id.distinct()),
            )
            .join(Submission, Submission.id == ProjectNeed.submission_id)
            .where(Submission.redacted_at.is_(None))
            .group_by(ProjectNeed.project_id)
        )
    }
    records = []
    for project in session.scalars(select(Project).order_by(Project.id)):
        needs, communities = linked.get(project.id, (0, 0))
        records.append(
            {
                "id": project.id,
                "strategy": project.strategy,
                "subarea": project.subarea,
                "programme": project.programme,
                "name": project.name,
                "objective": project.objective,
                "target": project.target,
                "division": project.division,
                "edition": project.edition_label,
                "execution": EXECUTION.get(project.execution, project.execution),
                "percent_done": project.percent_done,
                "budget": float(sum((b.amount for b in project.budgets), start=0)),
                "spent": float(project.spent) if project.spent is not None else None,
                "needs": needs,
                "communities": communities,
            }
        )
    return records


def _csv_writer(file: TextIO, fields: tuple[Field, ...]) -> csv.DictWriter:
    # A byte-order mark: spreadsheet programs then read the Thai as UTF-8.
    file.write("\ufeff")
    writer = csv.DictWriter(file, fieldnames=[f.name for f in fields], lineterminator="\n")
    writer.writeheader()
    return writer


def _json(data: Any, indent: int | None = 1) -> str:
    return json.dumps(data, ensure_ascii=False, indent=indent)


@contextmanager
def _replacing(path: Path) -> Iterator[TextIO]:
    """Write beside ``path``, then replace it at once: a reader sees the old file or the new
    one, never half; a failure leaves the old one."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
            yield file
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)
