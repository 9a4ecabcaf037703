"""Importing a complaint book: every row checked with its line number, nothing twice, nothing
from a file that cannot be read, contacts masked; the CLI and the admin page do the same."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from bot.cli import main
from bot.needs.classification import classifier
from bot.training.imports import LabelFileError, import_labels, read_label_file
from storage.models import TrainingLabel
from storage.staff import AuditLog
from tests.staff.conftest import csrf_token

GOOD = """text,strategy,subarea,kind
ถนนหน้าบ้านเลขที่ 45/2 เป็นหลุมลึก รถล้มทุกวัน,LPN-S7,LPN-S7.1,complaint
เสียงดังจากร้านคาราโอเกะถึงตีสาม,ด้านการสร้างและส่งเสริมหลักประกันสุขภาพ,,
คนเร่ร่อนนอนป้ายรถเมล์ โทร 081-234-5678,LPN-S2,คนพิการ ผู้ด้อยโอกาส และเบี้ยยังชีพ,ร้องเรียน
ขอบคุณค่ะ,,,other
"""


def _taxonomy(app):
    return classifier(app).taxonomy


def _labels(session) -> list[TrainingLabel]:
    return list(session.scalars(select(TrainingLabel).order_by(TrainingLabel.id)))


def test_codes_thai_names_and_defaults_are_read(app) -> None:
    checked = read_label_file(GOOD.encode(), "book.csv", _taxonomy(app))
    assert checked.problems == []
    first, second, third, fourth = checked.rows
    assert (first.strategy, first.subarea, first.kind) == ("LPN-S7", "LPN-S7.1", "complaint")
    # A Thai strategy name; no kind in a complaint book means a complaint.
    assert (second.strategy, second.subarea, second.kind) == ("LPN-S1", None, "complaint")
    # A Thai sub-area name gives its strategy; "ร้องเรียน" is a complaint.
    assert (third.strategy, third.subarea, third.kind) == ("LPN-S2", "LPN-S2.3", "complaint")
    assert "081" not in third.text and "<phone>" in third.text  # personal data masked
    assert (fourth.strategy, fourth.kind) == (None, "other")
    assert checked.per_strategy() == {"LPN-S7": 1, "LPN-S1": 1, "LPN-S2": 1, "other": 1}


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (",LPN-S7,,", "ไม่มีข้อความ"),
        ("ไฟดับ,LPN-S99,,", "ไม่รู้จักยุทธศาสตร์"),
        ("ไฟดับ,LPN-S7,LPN-S1.1,", "ไม่อยู่ในยุทธศาสตร์"),
        ("ไฟดับ,LPN-S7,LPN-S7.99,", "ไม่รู้จักแนวทาง"),
        ("ไฟดับ,LPN-S7,,ด่วนมาก", "ไม่รู้จักประเภท"),
        ("ไฟดับ,,,complaint", "ไม่ได้ระบุยุทธศาสตร์"),
        ("ไฟ" * 3000 + ",LPN-S7,,", "ยาวเกิน"),
    ],
)
def test_a_bad_row_is_reported_by_line_and_the_others_kept(app, row: str, reason: str) -> None:
    data = f"text,strategy,subarea,kind\nถนนพัง,LPN-S7,,\n{row}\nขยะล้นถัง,LPN-S7,,\n"
    checked = read_label_file(data.encode(), "book.csv", _taxonomy(app))
    assert [r.text for r in checked.rows] == ["ถนนพัง", "ขยะล้นถัง"]
    (problem,) = checked.problems
    assert problem.line == 3 and reason in problem.reason


def test_repeated_rows_count_once_and_conflicting_ones_are_reported(app) -> None:
    data = "text,strategy\nถนนพัง,LPN-S7\nถนน  พัง,LPN-S7\nถนนพัง,LPN-S4\n"
    checked = read_label_file(data.encode(), "book.csv", _taxonomy(app))
    assert len(checked.rows) == 1 and checked.repeated == 1
    (problem,) = checked.problems
    assert problem.line == 4 and "บรรทัดที่ 2" in problem.reason


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "book.csv", "ว่างเปล่า"),
        ("ข้อความ,หมวด\nถนนพัง,LPN-S7\n".encode(), "book.csv", "หัวตาราง"),
        (b"text,strategy\n", "book.csv", "ไม่มีข้อมูล"),
        (b"\xff\xfe\x00t\x00e", "book.csv", "อ่านไฟล์ไม่ได้"),
        (b"PK\x03\x04 not really a workbook", "book.xlsx", "Excel"),
    ],
)
def test_a_malformed_file_imports_nothing(app, data: bytes, name: str, message: str) -> None:
    with pytest.raises(LabelFileError, match=message):
        read_label_file(data, name, _taxonomy(app))


def test_thai_headers_and_a_windows_thai_csv_are_read(app) -> None:
    data = "ข้อความ,ยุทธศาสตร์,ประเภท\nไฟกิ่งดับทั้งซอย,LPN-S7,แจ้งปัญหา\n".encode("cp874")
    (row,) = read_label_file(data, "เก่า.csv", _taxonomy(app)).rows
    assert (row.text, row.strategy, row.kind) == ("ไฟกิ่งดับทั้งซอย", "LPN-S7", "complaint")


def test_an_excel_workbook_is_read_with_its_row_numbers(app) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["text", "strategy", "subarea"])
    sheet.append(["ท่อระบายน้ำอุดตัน น้ำท่วมขัง", "LPN-S7", "LPN-S7.2"])
    sheet.append(["มีคนขายยาเสพติดในซอย", "LPN-S9", None])
    buffer = io.BytesIO()
    book.save(buffer)
    checked = read_label_file(buffer.getvalue(), "สมุด 2568.xlsx", _taxonomy(app))
    assert [(r.line, r.subarea) for r in checked.rows] == [(2, "LPN-S7.2")]
    assert [p.line for p in checked.problems] == [3]


def test_the_same_file_twice_adds_nothing_and_a_changed_label_is_updated(app, session) -> None:
    checked = read_label_file(GOOD.encode(), "book.csv", _taxonomy(app))
    first = import_labels(session, checked, "user:1")
    session.commit()
    assert (first.added, first.updated, first.unchanged) == (4, 0, 0)
    again = import_labels(session, checked, "user:1")
    session.commit()
    assert (again.added, again.updated, again.unchanged) == (0, 0, 4)
    changed = GOOD.replace("LPN-S7,LPN-S7.1,complaint", "LPN-S4,,complaint")
    later = import_labels(session, read_label_file(changed.encode(), "b.csv", _taxonomy(app)), "x")
    session.commit()
    assert (later.added, later.updated, later.unchanged) == (0, 1, 3)
    labels = _labels(session)
    assert len(labels) == 4 and all(label.source == "import" for label in labels)
    assert labels[0].strategy == "LPN-S4" and labels[0].subarea is None


def test_cli_reports_bad_lines_and_imports_the_rest(app, runner, session, tmp_path: Path) -> None:
    book = tmp_path / "book.csv"
    book.write_text(GOOD + "ไฟดับ,LPN-S99,,\n", encoding="utf-8")
    dry = runner.invoke(main, ["nlp", "import-labels", str(book), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert f"{book}:6: ไม่รู้จักยุทธศาสตร์" in dry.stderr
    assert "4 good rows" in dry.stdout and "1 bad rows" in dry.stdout
    assert _labels(session) == []
    result = runner.invoke(main, ["nlp", "import-labels", str(book)])
    assert result.exit_code == 0, result.output
    assert "4 added" in result.stdout
    again = runner.invoke(main, ["nlp", "import-labels", str(book)])
    assert "0 added, 0 updated, 4 already there" in again.stdout
    assert len(_labels(session)) == 4


def test_cli_refuses_a_malformed_file_and_imports_nothing(app, runner, session, tmp_path) -> None:
    book = tmp_path / "book.csv"
    book.write_text("ข้อความเฉยๆ\nถนนพัง\n", encoding="utf-8")
    result = runner.invoke(main, ["nlp", "import-labels", str(book)])
    assert result.exit_code != 0
    assert "nothing imported" in result.output
    assert _labels(session) == []


@pytest.mark.parametrize("csrf_enabled", [True])
def test_admin_previews_then_imports(app, client, session, make_user, login) -> None:
    login(client, make_user("admin"))
    token = csrf_token(client, "/dashboard/admin/labels/import")
    upload = (io.BytesIO((GOOD + "ไฟดับ,LPN-S99,,\n").encode()), "book.csv")
    page = client.post("/dashboard/admin/labels/import", data={"csrf_token": token, "file": upload})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'data-testid="good-rows">4<' in html and 'data-testid="bad-rows">1<' in html
    assert "บรรทัด 6: ไม่รู้จักยุทธศาสตร์" in html
    assert _labels(session) == []  # a preview stores nothing
    import_token = html.split('name="token" value="')[1].split('"')[0]
    done = client.post(
        "/dashboard/admin/labels/import/confirm",
        data={"csrf_token": csrf_token(client, "/dashboard/admin/model"), "token": import_token},
    )
    assert done.status_code == 302
    session.expire_all()
    assert len(_labels(session)) == 4
    assert not any(Path(app.instance_path, "label-imports").iterdir())  # the upload is gone
    audit = session.scalar(select(AuditLog).where(AuditLog.action == "labels.import"))
    assert audit.details["added"] == 4 and "ถนน" not in str(audit.details)


def test_staff_cannot_import(app, client, make_user, login) -> None:
    login(client, make_user("staff"))
    assert client.get("/dashboard/admin/labels/import").status_code == 403
