"""A survey's results: counts and percentages per question, response rate per community,
free-text answers with their classification, and the CSV/XLSX exports.

Respondents are numbered, never named: exports carry no LINE ids or display names.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.spreadsheets import BOM, HEADER_FILL, csv_safe, put, thai_datetime
from bot.surveys.messages import TYPE_LABELS, describe_answer
from storage.models import Community, Submission
from storage.surveys import Survey, SurveyAnswer, SurveyQuestion, SurveyRecipient


@dataclass
class Bar:
    """One bar of a chart: a label, a count and its share of the question's respondents."""

    label: str
    count: int
    percent: float


@dataclass
class TextAnswer:
    """A free-text answer as staff and leaders read it."""

    text: str
    community: str
    answered_at: datetime
    classification: dict[str, Any] | None
    tracking_no: str | None


@dataclass
class QuestionResult:
    """The answers to one question."""

    question: SurveyQuestion
    number: int
    answered: int = 0
    skipped: int = 0
    bars: list[Bar] = field(default_factory=list)
    average: float | None = None
    texts: list[TextAnswer] = field(default_factory=list)

    @property
    def type_label(self) -> str:
        """The question type in Thai."""
        return TYPE_LABELS.get(self.question.type, self.question.type)


@dataclass
class CommunityRate:
    """How many of a community's recipients answered."""

    community_id: int | None
    name: str
    recipients: int = 0
    responded: int = 0
    completed: int = 0

    @property
    def rate(self) -> float:
        """Share of recipients who answered at least one question (0–100)."""
        return round(100 * self.responded / self.recipients, 1) if self.recipients else 0.0


@dataclass
class Results:
    """Everything the results page and the exports show."""

    survey: Survey
    questions: list[QuestionResult]
    communities: list[CommunityRate]

    @property
    def recipients(self) -> int:
        """Recipients in the selected communities."""
        return sum(c.recipients for c in self.communities)

    @property
    def responded(self) -> int:
        """Recipients who answered at least one question."""
        return sum(c.responded for c in self.communities)

    @property
    def completed(self) -> int:
        """Recipients who answered every question."""
        return sum(c.completed for c in self.communities)

    @property
    def rate(self) -> float:
        """Overall response rate (0–100)."""
        return round(100 * self.responded / self.recipients, 1) if self.recipients else 0.0


def _percent(count: int, total: int) -> float:
    return round(100 * count / total, 1) if total else 0.0


def _recipients(
    session: Session, survey: Survey, community_ids: set[int] | None
) -> list[SurveyRecipient]:
    statement = select(SurveyRecipient).where(SurveyRecipient.survey_id == survey.id)
    if community_ids is not None:
        statement = statement.where(SurveyRecipient.community_id.in_(community_ids))
    return list(session.scalars(statement.order_by(SurveyRecipient.id)))


def _answers(session: Session, recipient_ids: list[int]) -> list[SurveyAnswer]:
    answers: list[SurveyAnswer] = []
    # Chunked IN lists keep PostgreSQL's and SQLite's parameter limits out of the way.
    for start in range(0, len(recipient_ids), 900):
        chunk = recipient_ids[start : start + 900]
        answers += session.scalars(select(SurveyAnswer).where(SurveyAnswer.recipient_id.in_(chunk)))
    return answers


def survey_results(
    session: Session, survey: Survey, community_ids: set[int] | None = None
) -> Results:
    """Count a survey's answers, for the given communities only when ``community_ids`` is set."""
    names = {row.id: row.name for row in session.execute(select(Community.id, Community.name))}
    recipients = _recipients(session, survey, community_ids)
    by_id = {r.id: r for r in recipients}
    answers = _answers(session, list(by_id))
    any_answer = {a.recipient_id for a in answers}

    rates: dict[int | None, CommunityRate] = {}
    for recipient in recipients:
        key = recipient.community_id
        rate = rates.setdefault(key, CommunityRate(key, names.get(key, "ไม่ระบุชุมชน")))
        rate.recipients += 1
        if recipient.id in any_answer:
            rate.responded += 1
        if recipient.status == "completed":
            rate.completed += 1

    tracking = {}
    submission_ids = [a.submission_id for a in answers if a.submission_id]
    if submission_ids:
        statement = select(Submission.id, Submission.tracking_no).where(
            Submission.id.in_(submission_ids)
        )
        tracking = {row.id: row.tracking_no for row in session.execute(statement)}

    per_question: dict[int, list[SurveyAnswer]] = {}
    for answer in answers:
        per_question.setdefault(answer.question_id, []).append(answer)
    results = []
    for number, question in enumerate(survey.questions, 1):
        result = QuestionResult(question=question, number=number)
        given = per_question.get(question.id, [])
        real = [a for a in given if not a.skipped and _has_value(question, a)]
        result.answered = len(real)
        result.skipped = len(given) - len(real)
        if question.type in {"single", "multiple"}:
            counts = Counter(i for a in real for i in a.option_ids)
            result.bars = [
                Bar(o.label, counts[o.id], _percent(counts[o.id], len(real)))
                for o in question.options
            ]
        elif question.type == "rating":
            counts = Counter(a.rating for a in real)
            result.bars = [
                Bar(f"{score} ดาว", counts[score], _percent(counts[score], len(real)))
                for score in range(1, 6)
            ]
            if real:
                result.average = round(sum(a.rating or 0 for a in real) / len(real), 2)
        else:
            for answer in sorted(real, key=lambda a: a.answered_at):
                community_id = by_id[answer.recipient_id].community_id
                result.texts.append(
                    TextAnswer(
                        text=answer.text or "",
                        community=names.get(community_id, "ไม่ระบุชุมชน"),
                        answered_at=answer.updated_at,
                        classification=answer.classification,
                        tracking_no=tracking.get(answer.submission_id),
                    )
                )
        results.append(result)
    ordered = sorted(rates.values(), key=lambda r: (r.community_id is None, r.name))
    return Results(survey=survey, questions=results, communities=ordered)


def _has_value(question: SurveyQuestion, answer: SurveyAnswer) -> bool:
    if question.type == "rating":
        return answer.rating is not None
    if question.type == "text":
        return bool(answer.text)
    return bool(answer.option_ids)


# --- exports -----------------------------------------------------------------------------------


def respondent_rows(
    session: Session, survey: Survey, community_ids: set[int] | None = None
) -> tuple[list[str], list[list[Any]]]:
    """Return a header and one row per respondent: number, community, time, each answer."""
    names = {row.id: row.name for row in session.execute(select(Community.id, Community.name))}
    recipients = _recipients(session, survey, community_ids)
    answers = _answers(session, [r.id for r in recipients])
    by_recipient: dict[int, dict[int, SurveyAnswer]] = {}
    for answer in answers:
        by_recipient.setdefault(answer.recipient_id, {})[answer.question_id] = answer
    header = ["ผู้ตอบคนที่", "ชุมชน", "ตอบล่าสุดเมื่อ", "ตอบครบ"]
    header += [f"ข้อ {n}. {q.text}" for n, q in enumerate(survey.questions, 1)]
    rows: list[list[Any]] = []
    for recipient in recipients:
        given = by_recipient.get(recipient.id)
        if not given:
            continue
        latest = max(a.updated_at for a in given.values())
        row: list[Any] = [
            len(rows) + 1,
            names.get(recipient.community_id, "ไม่ระบุชุมชน"),
            thai_datetime(latest),
            "ใช่" if recipient.status == "completed" else "ไม่",
        ]
        for question in survey.questions:
            answer = given.get(question.id)
            if answer is None:
                row.append("")
            elif question.type == "text" and answer.text:
                row.append(answer.text)
            else:
                row.append(describe_answer(question, answer))
        rows.append(row)
    return header, rows


def results_csv(session: Session, survey: Survey, community_ids: set[int] | None = None) -> bytes:
    """Return the answers as CSV: UTF-8 with a BOM, no cell a spreadsheet would run."""
    header, rows = respondent_rows(session, survey, community_ids)
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([csv_safe(h) for h in header])
    for row in rows:
        writer.writerow([csv_safe(value) for value in row])
    return buffer.getvalue().encode("utf-8")


def results_xlsx(session: Session, survey: Survey, community_ids: set[int] | None = None) -> bytes:
    """Return a workbook with a summary sheet (counts, percentages) and every answer."""
    results = survey_results(session, survey, community_ids)
    workbook = Workbook()
    summary = workbook.active
    summary.title = "สรุปผล"
    put(summary, 1, 1, survey.title, bold=True, border=False, size=16)
    put(
        summary,
        2,
        1,
        f"ผู้รับ {results.recipients} คน ตอบ {results.responded} คน ({results.rate}%)",
        border=False,
    )
    row = 4
    for item in results.questions:
        put(summary, row, 1, f"ข้อ {item.number}. {item.question.text}", bold=True, border=False)
        row += 1
        if item.bars:
            for column, title in enumerate(("คำตอบ", "จำนวน", "ร้อยละ"), 1):
                put(summary, row, column, title, bold=True, fill=HEADER_FILL)
            row += 1
            for bar in item.bars:
                put(summary, row, 1, bar.label)
                put(summary, row, 2, bar.count, number_format="#,##0")
                put(summary, row, 3, bar.percent, number_format="0.0")
                row += 1
        if item.average is not None:
            put(summary, row, 1, f"คะแนนเฉลี่ย {item.average}", border=False)
            row += 1
        for text in item.texts:
            put(summary, row, 1, text.text, wrap=True)
            put(summary, row, 2, text.community)
            kind = (text.classification or {}).get("strategy_name") or ""
            put(summary, row, 3, kind)
            row += 1
        row += 1
    summary.column_dimensions["A"].width = 60
    summary.column_dimensions["B"].width = 18
    summary.column_dimensions["C"].width = 30

    sheet = workbook.create_sheet("คำตอบ")
    header, rows = respondent_rows(session, survey, community_ids)
    for column, title in enumerate(header, 1):
        put(sheet, 1, column, title, bold=True, fill=HEADER_FILL, wrap=True)
    for r, values in enumerate(rows, 2):
        for column, value in enumerate(values, 1):
            put(sheet, r, column, value, wrap=isinstance(value, str) and len(value) > 30)
    rates = workbook.create_sheet("อัตราการตอบ")
    for column, title in enumerate(("ชุมชน", "ผู้รับ", "ตอบแล้ว", "ตอบครบ", "ร้อยละที่ตอบ"), 1):
        put(rates, 1, column, title, bold=True, fill=HEADER_FILL)
    for r, rate in enumerate(results.communities, 2):
        for column, value in enumerate(
            (rate.name, rate.recipients, rate.responded, rate.completed, rate.rate), 1
        ):
            put(rates, r, column, value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def bar_chart(bars: list[Bar], width: int = 520, row_height: int = 28) -> dict[str, Any]:
    """Return the geometry of a horizontal bar chart for the template to draw as SVG."""
    label_width = 170
    room = width - label_width - 90
    rows = []
    for index, bar in enumerate(bars):
        rows.append(
            {
                "label": bar.label,
                "count": bar.count,
                "percent": bar.percent,
                "y": index * row_height,
                "width": max(0.0, round(room * bar.percent / 100, 1)),
            }
        )
    return {
        "width": width,
        "height": max(row_height, len(bars) * row_height),
        "label_width": label_width,
        "row_height": row_height,
        "rows": rows,
    }
