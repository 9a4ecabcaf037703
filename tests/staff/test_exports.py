"""Export pages: ผ.01 and ผ.02 downloads from the database, submissions as CSV/XLSX with the
queue's filters and the user's visibility."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import openpyxl
import pytest
from sqlalchemy import select

from bot.needs import actions
from storage import plan as store
from storage.models import Media, Resident
from storage.staff import AuditLog
from tests.staff.conftest import community_id

SETTINGS = """
[municipality]
name = "เทศบาลตำบลทดสอบระบบ"
tracking_prefix = "TST"
communities = ["ชุมชนหนึ่ง", "ชุมชนสอง"]
"""


@pytest.fixture
def app_config(app_config, tmp_path):
    """Another municipality: nothing in the forms may be wired to Lamphun."""
    settings = tmp_path / "municipality.toml"
    settings.write_text(SETTINGS, encoding="utf-8")
    return {**app_config, "RUAMKID_SETTINGS": str(settings)}


@pytest.fixture
def staff_client(client, make_user, login):
    login(client, make_user("staff"))
    return client


def add_project(session, **fields):
    values = {
        "strategy": "LPN-S7",
        "subarea": "LPN-S7.1",
        "programme": "อุตสาหกรรมและการโยธา",
        "name": "ก่อสร้างถนน คสล.",
        "division": "กองช่าง",
    }
    budgets = fields.pop("budgets", {2567: Decimal("1000000")})
    values.update(fields)
    project = store.create_project(session, budgets=budgets, **values)
    session.commit()
    return project


def workbook(response) -> openpyxl.Workbook:
    assert response.status_code == 200, response.status_code
    assert response.mimetype == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    return openpyxl.load_workbook(io.BytesIO(response.get_data()))


def column_a(ws) -> list:
    return [c.value for c in ws["A"]]


def test_p01_from_the_database(staff_client, session):
    add_project(session)
    add_project(session, name="ไฟกิ่ง", programme="เคหะและชุมชน",
                budgets={2567: Decimal("200000"), 2568: Decimal("50000.50")})  # fmt: skip
    add_project(session, strategy="LPN-S1", subarea="LPN-S1.1", programme="สาธารณสุข",
                name="ป้องกันไข้เลือดออก", budgets={y: 30000 for y in range(2566, 2571)})  # fmt: skip
    add_project(session, name="ฉบับเพิ่มเติม", edition="addition", edition_no=1, reason="จำเป็น")
    response = staff_client.get("/dashboard/exports/p01.xlsx")
    assert "attachment" in response.headers["Content-Disposition"]
    assert ".xlsx" in response.headers["Content-Disposition"]
    ws = workbook(response)["ผ.01"]
    assert ws["M1"].value == "แบบ ผ.01"
    assert ws["A2"].value == "บัญชีสรุปโครงการพัฒนา"
    assert ws["A3"].value == "แผนพัฒนาท้องถิ่น (พ.ศ. 2566 – 2570)"
    assert ws["A4"].value == "เทศบาลตำบลทดสอบระบบ"
    names = column_a(ws)
    assert "1) ยุทธศาสตร์ด้านการสร้างและส่งเสริมหลักประกันสุขภาพ" in names
    s7 = names.index("7) ยุทธศาสตร์ด้านโครงสร้างพื้นฐาน ทรัพยากรธรรมชาติและสิ่งแวดล้อม") + 1
    assert ws.cell(s7 + 1, 1).value.strip() == "7.1 แผนงานอุตสาหกรรมและการโยธา"
    assert [ws.cell(s7 + 1, c).value for c in range(2, 14)] == [
        0,
        0,
        1,
        1000000,
        0,
        0,
        0,
        0,
        0,
        0,
        1,
        1000000,
    ]  # fmt: skip  (the addition is not in the original plan)
    grand = [c.value for c in ws[names.index("รวมทั้งสิ้น") + 1]]
    assert grand[1:] == [1, 30000, 3, 1230000, 2, 80000.5, 1, 30000, 1, 30000, 8, 1400000.5]
    audit = session.scalars(select(AuditLog).where(AuditLog.action == "export.p01")).one()
    assert audit.details == {"edition": "original"}


def test_p02_sheets_and_edition_filter(staff_client, session):
    add_project(session, objective="สัญจรสะดวก", target="ยาว 100 ม.", kpi=None,
                expected_result="ปลอดภัย")  # fmt: skip
    add_project(session, name="ขุดลอกลำเหมือง", origin="community", subarea="LPN-S7.2")
    add_project(session, name="สะพานข้ามน้ำกวง", origin="beyond")
    add_project(session, name="กล้องวงจรปิดเพิ่ม", strategy="LPN-S4", subarea="LPN-S4.3",
                programme="การรักษาความสงบภายใน", edition="addition", edition_no=1,
                reason="เหตุลักทรัพย์เพิ่มขึ้น")  # fmt: skip

    wb = workbook(staff_client.get("/dashboard/exports/p02.xlsx"))
    assert wb.sheetnames == ["ผ.02", "ผ.02-1", "ผ.02-2"]
    main = wb["ผ.02"]
    assert main["A4"].value == "เทศบาลตำบลทดสอบระบบ"
    assert "ยุทธศาสตร์ที่ 7 ด้านโครงสร้างพื้นฐาน ทรัพยากรธรรมชาติและสิ่งแวดล้อม" in column_a(main)
    assert "แนวทาง ถนน ทางเท้า และสะพาน" in column_a(main)
    assert "แผนงานอุตสาหกรรมและการโยธา" in column_a(main)
    row = [c.value for c in main[[c.value for c in main["B"]].index("ก่อสร้างถนน คสล.") + 1]]
    assert row == [1, "ก่อสร้างถนน คสล.", "สัญจรสะดวก", "ยาว 100 ม.",
                   "-", 1000000, "-", "-", "-", "-", "ปลอดภัย", "กองช่าง"]  # fmt: skip
    flat = [c.value for r in main.iter_rows() for c in r]
    assert "กล้องวงจรปิดเพิ่ม" not in flat and "ขุดลอกลำเหมือง" not in flat
    assert "ขุดลอกลำเหมือง" in [c.value for c in wb["ผ.02-1"]["B"]]
    assert "สะพานข้ามน้ำกวง" in [c.value for c in wb["ผ.02-2"]["B"]]

    wb = workbook(staff_client.get("/dashboard/exports/p02.xlsx?edition=addition:1"))
    main = wb["ผ.02"]
    assert main["A3"].value == "แผนพัฒนาท้องถิ่น (พ.ศ. 2566 – 2570) เพิ่มเติม ครั้งที่ 1"
    assert "เหตุผลความจำเป็น" in [c.value for c in main[6]]
    flat = [c.value for r in main.iter_rows() for c in r]
    assert "กล้องวงจรปิดเพิ่ม" in flat and "เหตุลักทรัพย์เพิ่มขึ้น" in flat
    assert "ก่อสร้างถนน คสล." not in flat
    # a nonsense edition falls back to the original plan
    wb = workbook(staff_client.get("/dashboard/exports/p02.xlsx?edition=../../etc"))
    assert "ก่อสร้างถนน คสล." in [c.value for c in wb["ผ.02"]["B"]]


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    data = response.get_data()
    response.close()  # ends the stream (and its database session), as a WSGI server does
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_submissions_csv_honours_filters_and_counts_residents(
    app, staff_client, session, make_submission
):
    first, second = community_id(app, 0), community_id(app, 1)
    resident = Resident(line_user_id="U" + "c" * 32, consent="given")
    session.add(resident)
    session.commit()
    drain = make_submission(session, text="=HYPERLINK(\"http://x\")ท่อตัน", strategy="LPN-S7",
                            status="reviewing", community_id=first, latitude=18.57,
                            longitude=99.01)  # fmt: skip
    make_submission(session, text="ท่อตันอีกเรื่อง", resident=True, merged_into_id=drain.id,
                    status="duplicate", community_id=second)  # fmt: skip
    make_submission(session, text="ยุงเยอะ", strategy="LPN-S1", subarea="LPN-S1.1",
                    status="reviewing")  # fmt: skip
    make_submission(session, text="ถนนพัง", strategy="LPN-S7", status="new")
    session.add(Media(submission_id=drain.id, status="stored", path="x.jpg"))
    project = add_project(session, name="วางท่อ")
    actions.link_need(session, project, drain, actor="user:1")
    session.commit()

    rows = csv_rows(
        staff_client.get("/dashboard/exports/submissions.csv?strategy=LPN-S7&status=reviewing")
    )
    assert rows[0] == ["เลขที่เรื่อง", "วันที่แจ้ง", "ชุมชน", "ยุทธศาสตร์", "แนวทาง", "ประเภท",
                       "สถานะ", "ข้อความ", "มีภาพถ่าย", "ตำแหน่ง", "จำนวนผู้แจ้ง", "โครงการ",
                       "ช่องทาง"]  # fmt: skip
    assert len(rows) == 2  # the merged duplicate is hidden, as in the queue
    row = rows[1]
    assert row[0] == drain.tracking_no
    assert re.fullmatch(r"\d{1,2} [ก-๙.]+ 25\d\d \d\d:\d\d", row[1])  # Buddhist era
    assert row[3].startswith("LPN-S7 ด้านโครงสร้างพื้นฐาน")
    assert row[5] == "แจ้งปัญหา/ขอซ่อม"
    assert row[6] == "กำลังพิจารณา"
    assert row[7] == '\'=HYPERLINK("http://x")ท่อตัน'
    assert row[8] == "มี"
    assert row[9] == "18.570000, 99.010000"
    assert row[10] == "2"  # the submission's own (anonymous) reporter and the merged resident
    assert row[11] == "วางท่อ"
    assert row[12] == "LINE"  # forum, phone and counter needs are told apart

    everything = csv_rows(staff_client.get("/dashboard/exports/submissions.csv"))
    assert len(everything) == 4
    audit = session.scalars(
        select(AuditLog).where(AuditLog.action == "export.submissions_csv")
    ).all()
    assert audit[0].details["filters"] == {"strategy": "LPN-S7", "status": "reviewing"}


def test_leader_exports_only_their_community(app, client, make_user, login, session,
                                              make_submission):  # fmt: skip
    first, second = community_id(app, 0), community_id(app, 1)
    mine = make_submission(session, text="เรื่องชุมชนเรา", community_id=first)
    make_submission(session, text="เรื่องชุมชนอื่น", community_id=second)
    login(client, make_user("leader", community=first))
    rows = csv_rows(client.get("/dashboard/exports/submissions.csv"))
    assert [r[0] for r in rows[1:]] == [mine.tracking_no]
    # guessing another community in the filter gives nothing more
    rows = csv_rows(client.get(f"/dashboard/exports/submissions.csv?community={second}"))
    assert rows[1:] == []
    ws = workbook(client.get("/dashboard/exports/submissions.xlsx")).active
    texts = [c.value for c in ws["H"]]
    assert "เรื่องชุมชนเรา" in texts and "เรื่องชุมชนอื่น" not in texts
    assert client.get("/dashboard/exports/p01.xlsx").status_code == 403
    assert client.get("/dashboard/exports/p02.xlsx").status_code == 403
    page = client.get("/dashboard/exports/").get_data(as_text=True)
    assert "ดาวน์โหลด CSV" in page and "ดาวน์โหลด ผ.01" not in page


def test_submissions_xlsx(staff_client, session, make_submission):
    make_submission(session, text="=1+2 ไฟดับ", status="new")
    ws = workbook(staff_client.get("/dashboard/exports/submissions.xlsx?status=new")).active
    assert ws["A3"].value == "เลขที่เรื่อง"
    assert ws["H4"].value == "=1+2 ไฟดับ"
    assert ws["H4"].data_type == "s"
    assert ws["A1"].value.endswith("เทศบาลตำบลทดสอบระบบ")


def test_submissions_xlsx_too_big_sends_back_to_csv(staff_client, session, make_submission,
                                                    monkeypatch):  # fmt: skip
    from bot.staff.exports import views as exports

    monkeypatch.setattr(exports, "XLSX_MAX_ROWS", 1)
    make_submission(session)
    make_submission(session)
    response = staff_client.get("/dashboard/exports/submissions.xlsx")
    assert response.status_code == 302
    page = staff_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "กรุณากรองให้น้อยลงหรือดาวน์โหลดเป็น CSV" in page


def test_export_page_keeps_the_queue_filters(staff_client, session, make_submission):
    make_submission(session, strategy="LPN-S1", subarea="LPN-S1.1")
    make_submission(session)
    page = staff_client.get("/dashboard/exports/?strategy=LPN-S1").get_data(as_text=True)
    assert 'data-testid="export-matching">1<' in page
    assert "/dashboard/exports/submissions.csv?strategy=LPN-S1" in page


def test_logged_out_gets_no_export(client, session, make_submission):
    make_submission(session)
    for name in ("", "p01.xlsx", "p02.xlsx", "submissions.csv", "submissions.xlsx"):
        url = "/dashboard/exports/" + name
        response = client.get(url)
        assert response.status_code == 302
        assert "/dashboard/login" in response.headers["Location"]
