"""The pure export builders: ผ.01, ผ.02 (ผ.02/1, ผ.02/2) and submissions as CSV/XLSX."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import openpyxl
import pytest

from bot.spreadsheets import csv_safe
from bot.staff.exports.plan import PlanOutline, PlanRow, build_p01, build_p02
from bot.staff.exports.submissions import submissions_csv, submissions_xlsx

YEARS = (2566, 2567, 2568, 2569, 2570)
OUTLINE = PlanOutline(
    organisation="เทศบาลเมืองทดสอบ",
    years=YEARS,
    strategies=(("S1", "ด้านสุขภาพ"), ("S7", "ด้านโครงสร้างพื้นฐาน")),
    subareas={"S1.1": "ส่งเสริมสุขภาพ", "S7.1": "ถนน ทางเท้า", "S7.2": "ระบายน้ำ"},
    programmes={"S7": ("อุตสาหกรรมและการโยธา", "เคหะและชุมชน"), "S1": ("สาธารณสุข",)},
)
ROWS = [
    PlanRow(
        "S7",
        "อุตสาหกรรมและการโยธา",
        "ก่อสร้างถนนคอนกรีต ซอย 3",
        subarea="S7.1",
        objective="เพื่อการสัญจรที่สะดวก",
        target="ถนนยาว 200 เมตร",
        kpi="ร้อยละ 80 ของผู้ใช้พึงพอใจ",
        expected_result="ประชาชนสัญจรสะดวก",
        division="กองช่าง",
        budgets={2566: Decimal("1500000"), 2567: Decimal("250000.50")},
    ),
    PlanRow(
        "S7",
        "อุตสาหกรรมและการโยธา",
        "วางท่อระบายน้ำ ชุมชนสวนดอก",
        subarea="S7.2",
        division="กองช่าง",
        budgets={2567: Decimal("800000")},
    ),
    PlanRow(
        "S7",
        "เคหะและชุมชน",
        "ติดตั้งไฟกิ่ง",
        subarea="S7.1",
        division="กองช่าง",
        budgets={2568: Decimal("120000"), 2570: Decimal("30000")},
    ),
    PlanRow(
        "S1",
        "สาธารณสุข",
        "รณรงค์ป้องกันไข้เลือดออก",
        subarea="S1.1",
        division="กองสาธารณสุขและสิ่งแวดล้อม",
        budgets={y: Decimal("50000") for y in YEARS},
    ),
    PlanRow(
        "S7",
        "อุตสาหกรรมและการโยธา",
        "ขุดลอกลำเหมือง (จากแผนชุมชน)",
        subarea="S7.2",
        origin="community",
        budgets={2569: Decimal("400000")},
    ),
    PlanRow(
        "S7",
        "อุตสาหกรรมและการโยธา",
        "สะพานข้ามแม่น้ำกวง",
        subarea="S7.1",
        origin="beyond",
        division="แขวงทางหลวงลำพูน",
        budgets={2570: Decimal("25000000")},
    ),
]


def reopen(wb: openpyxl.Workbook) -> openpyxl.Workbook:
    """Save to bytes and load again, as a user opening the downloaded file would."""
    buffer = io.BytesIO()
    wb.save(buffer)
    return openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))


def find_row(ws, text: str) -> int:
    """Return the first row whose column A (or B) is ``text``."""
    for row in ws.iter_rows():
        for cell in row[:2]:
            if cell.value == text:
                return cell.row
    raise AssertionError(f"{text!r} not found")


def row_values(ws, row: int) -> list:
    return [c.value for c in ws[row]]


# --- ผ.01 ---------------------------------------------------------------------------------


def test_p01_title_block_and_headers():
    ws = reopen(build_p01(ROWS, OUTLINE))["ผ.01"]
    assert ws["M1"].value == "แบบ ผ.01"
    assert ws["A2"].value == "บัญชีสรุปโครงการพัฒนา"
    assert ws["A3"].value == "แผนพัฒนาท้องถิ่น (พ.ศ. 2566 – 2570)"
    assert ws["A4"].value == "เทศบาลเมืองทดสอบ"
    assert ws["A6"].value == "ยุทธศาสตร์"
    assert [ws.cell(6, c).value for c in (2, 4, 6, 8, 10, 12)] == [
        "ปี 2566", "ปี 2567", "ปี 2568", "ปี 2569", "ปี 2570", "รวม 5 ปี",
    ]  # fmt: skip
    assert ws["B7"].value == "จำนวนโครงการ"
    assert ws["C7"].value == "งบประมาณ (บาท)"
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert {"A2:M2", "A6:A7", "B6:C6", "L6:M6"} <= merged


def test_p01_rows_per_strategy_and_programme_with_subtotals_and_grand_total():
    ws = reopen(build_p01(ROWS, OUTLINE))["ผ.01"]
    s1 = find_row(ws, "1) ยุทธศาสตร์ด้านสุขภาพ")
    assert ws.cell(s1 + 1, 1).value.strip() == "1.1 แผนงานสาธารณสุข"
    # one health project funded every year: 5 project-years, 250,000 baht
    assert row_values(ws, s1 + 1)[1:] == [1, 50000] * 5 + [5, 250000]
    assert ws.cell(s1 + 2, 1).value == "รวม"

    s7 = find_row(ws, "2) ยุทธศาสตร์ด้านโครงสร้างพื้นฐาน")
    # programmes in the taxonomy's order
    assert ws.cell(s7 + 1, 1).value.strip() == "2.1 แผนงานอุตสาหกรรมและการโยธา"
    assert ws.cell(s7 + 2, 1).value.strip() == "2.2 แผนงานเคหะและชุมชน"
    works = row_values(ws, s7 + 1)[1:]
    # 2566: road; 2567: road + drain; 2569: ลำเหมือง; 2570: bridge
    assert works[0:2] == [1, 1500000]
    assert works[2:4] == [2, 1050000.5]
    assert works[6:8] == [1, 400000]
    assert works[8:10] == [1, 25000000]
    assert works[10:12] == [5, 1500000 + 1050000.5 + 400000 + 25000000]
    subtotal = row_values(ws, s7 + 3)
    assert subtotal[0] == "รวม"
    assert subtotal[1:] == [1, 1500000, 2, 1050000.5, 1, 120000, 1, 400000, 2, 25030000,
                            7, 28100000.5]  # fmt: skip

    grand = row_values(ws, find_row(ws, "รวมทั้งสิ้น"))
    assert grand[1:] == [2, 1550000, 3, 1100000.5, 2, 170000, 2, 450000, 3, 25080000,
                         12, 28350000.5]  # fmt: skip


def test_p01_number_formats_and_print_setup():
    ws = reopen(build_p01(ROWS, OUTLINE))["ผ.01"]
    grand = find_row(ws, "รวมทั้งสิ้น")
    assert ws.cell(grand, 2).number_format == "#,##0"
    assert ws.cell(grand, 3).number_format == "#,##0.00"
    assert ws.page_setup.orientation == "landscape"
    assert int(ws.page_setup.paperSize) == 9  # A4
    assert ws.sheet_properties.pageSetUpPr.fitToPage is True
    assert ws.print_title_rows == "$6:$7"
    assert ws.cell(grand, 2).border.top.style == "thin"


def test_p01_lists_every_strategy_even_without_projects():
    ws = reopen(build_p01([], OUTLINE))["ผ.01"]
    assert find_row(ws, "1) ยุทธศาสตร์ด้านสุขภาพ")
    assert find_row(ws, "2) ยุทธศาสตร์ด้านโครงสร้างพื้นฐาน")
    assert row_values(ws, find_row(ws, "รวมทั้งสิ้น"))[1:] == [0] * 12


def test_p01_uses_the_plan_years_and_top_label():
    outline = PlanOutline(
        organisation="อบต.ตัวอย่าง",
        years=(2571, 2572, 2573, 2574, 2575),
        strategies=(("X", "การพัฒนาคน"),),
        top_label="ประเด็นการพัฒนา",
    )
    ws = reopen(build_p01([PlanRow("X", "การศึกษา", "อบรม", budgets={2571: 10})], outline))["ผ.01"]
    assert ws["A3"].value == "แผนพัฒนาท้องถิ่น (พ.ศ. 2571 – 2575)"
    assert ws["A6"].value == "ประเด็นการพัฒนา"
    assert ws["B6"].value == "ปี 2571"
    assert find_row(ws, "1) ประเด็นการพัฒนาการพัฒนาคน")


# --- ผ.02 ---------------------------------------------------------------------------------


def test_p02_has_one_sheet_per_form():
    wb = reopen(build_p02(ROWS, OUTLINE))
    assert wb.sheetnames == ["ผ.02", "ผ.02-1", "ผ.02-2"]
    assert wb["ผ.02"]["L1"].value == "แบบ ผ.02"
    assert wb["ผ.02-1"]["L1"].value == "แบบ ผ.02/1"
    assert wb["ผ.02-2"]["L1"].value == "แบบ ผ.02/2"
    assert wb["ผ.02"]["A2"].value == "รายละเอียดโครงการพัฒนา"
    assert wb["ผ.02-1"]["A3"].value == "โครงการพัฒนาที่นำมาจากแผนชุมชน"


def test_p02_columns():
    ws = reopen(build_p02(ROWS, OUTLINE))["ผ.02"]
    head = find_row(ws, "ที่")
    assert row_values(ws, head) == [
        "ที่", "โครงการ", "วัตถุประสงค์", "เป้าหมาย (ผลผลิตของโครงการ)", "งบประมาณ",
        None, None, None, None, "ตัวชี้วัด (KPI)", "ผลที่คาดว่าจะได้รับ", "หน่วยงานรับผิดชอบหลัก",
    ]  # fmt: skip
    assert row_values(ws, head + 1)[4:9] == [f"{y}\n(บาท)" for y in YEARS]
    assert "E6:I6" in {str(r) for r in ws.merged_cells.ranges}


def test_p02_groups_strategy_subarea_programme_and_numbers_projects():
    ws = reopen(build_p02(ROWS, OUTLINE))["ผ.02"]
    texts = [c.value for c in ws["A"] if isinstance(c.value, str)]
    order = [
        "ยุทธศาสตร์ที่ 1 ด้านสุขภาพ",
        "แนวทาง ส่งเสริมสุขภาพ",
        "แผนงานสาธารณสุข",
        "ยุทธศาสตร์ที่ 2 ด้านโครงสร้างพื้นฐาน",
        "แนวทาง ถนน ทางเท้า",
        "แผนงานอุตสาหกรรมและการโยธา",
        "แผนงานเคหะและชุมชน",
        "แนวทาง ระบายน้ำ",
        "แผนงานอุตสาหกรรมและการโยธา",
    ]
    positions = [texts.index(t, texts.index(order[i - 1]) + 1 if i else 0)
                 for i, t in enumerate(order)]  # fmt: skip
    assert positions == sorted(positions)

    road = find_row(ws, "ก่อสร้างถนนคอนกรีต ซอย 3")
    assert row_values(ws, road) == [
        1, "ก่อสร้างถนนคอนกรีต ซอย 3", "เพื่อการสัญจรที่สะดวก", "ถนนยาว 200 เมตร",
        1500000, 250000.5, "-", "-", "-",
        "ร้อยละ 80 ของผู้ใช้พึงพอใจ", "ประชาชนสัญจรสะดวก", "กองช่าง",
    ]  # fmt: skip
    assert ws.cell(road, 5).number_format == "#,##0.00"
    # ไฟกิ่ง has no KPI: shown as "-"
    light = find_row(ws, "ติดตั้งไฟกิ่ง")
    assert ws.cell(light, 1).value == 1  # numbering restarts in each แผนงาน
    assert ws.cell(light, 10).value == "-"
    # community and beyond-capacity projects are not on the main sheet
    with pytest.raises(AssertionError):
        find_row(ws, "สะพานข้ามแม่น้ำกวง")
    total = row_values(ws, find_row(ws, "รวมทั้งสิ้น 4 โครงการ"))
    assert total[4:9] == [1550000, 1100000.5, 170000, 50000, 80000]


def test_p02_community_and_beyond_sheets_hold_their_projects():
    wb = reopen(build_p02(ROWS, OUTLINE))
    assert find_row(wb["ผ.02-1"], "ขุดลอกลำเหมือง (จากแผนชุมชน)")
    bridge = find_row(wb["ผ.02-2"], "สะพานข้ามแม่น้ำกวง")
    assert wb["ผ.02-2"].cell(bridge, 9).value == 25000000
    assert wb["ผ.02-2"].cell(bridge, 12).value == "แขวงทางหลวงลำพูน"


def test_p02_amendment_adds_reason_and_edition_in_title():
    rows = [PlanRow("S1", "สาธารณสุข", "ตรวจสุขภาพผู้สูงอายุ", reason="ผู้สูงอายุเพิ่มขึ้น")]
    outline = PlanOutline(**{**OUTLINE.__dict__, "edition": "เพิ่มเติม ครั้งที่ 2"})
    ws = reopen(build_p02(rows, outline, amendment=True))["ผ.02"]
    assert ws["A3"].value == "แผนพัฒนาท้องถิ่น (พ.ศ. 2566 – 2570) เพิ่มเติม ครั้งที่ 2"
    assert ws.cell(find_row(ws, "ที่"), 13).value == "เหตุผลความจำเป็น"
    assert ws.cell(find_row(ws, "ตรวจสุขภาพผู้สูงอายุ"), 13).value == "ผู้สูงอายุเพิ่มขึ้น"
    plain = reopen(build_p02(rows, OUTLINE))["ผ.02"]
    assert plain.cell(find_row(plain, "ที่"), 13).value is None


def test_p02_text_starting_with_equals_stays_text():
    rows = [PlanRow("S1", "สาธารณสุข", '=HYPERLINK("http://evil","x")')]
    ws = reopen(build_p02(rows, OUTLINE))["ผ.02"]
    cell = ws.cell(find_row(ws, '=HYPERLINK("http://evil","x")'), 2)
    assert cell.data_type == "s"


# --- submissions --------------------------------------------------------------------------

SUBMISSION = {
    "tracking_no": "LPN-69-000001",
    "created_at": datetime(2026, 11, 26, 7, 5, tzinfo=UTC),
    "community": "ชุมชนสวนดอก",
    "strategy": "ด้านโครงสร้างพื้นฐาน",
    "subarea": "ถนน ทางเท้า",
    "kind": "ความต้องการพัฒนา",
    "status": "ใหม่",
    "text": "ถนนหน้าวัดเป็นหลุม, ช่วยซ่อมด้วยเจ้า\nขอบคุณค่ะ",
    "has_photo": True,
    "location": "18.5741, 99.0087",
    "residents": 3,
    "projects": ["ก่อสร้างถนน", "ไฟกิ่ง"],
}


def test_csv_has_bom_thai_headers_and_be_dates():
    data = submissions_csv([SUBMISSION])
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["เลขที่เรื่อง", "วันที่แจ้ง", "ชุมชน"]
    assert rows[1][0] == "LPN-69-000001"
    assert rows[1][1] == "26 พ.ย. 2569 14:05"
    assert rows[1][7] == "ถนนหน้าวัดเป็นหลุม, ช่วยซ่อมด้วยเจ้า\nขอบคุณค่ะ"
    assert rows[1][8] == "มี"
    assert rows[1][10] == "3"
    assert rows[1][11] == "ก่อสร้างถนน; ไฟกิ่ง"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+66812345678", "'+66812345678"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=cmd", "'\t=cmd"),
        ("ถนน=พัง", "ถนน=พัง"),
        ("", ""),
    ],
)
def test_csv_neutralises_formulas(text, expected):
    assert csv_safe(text) == expected
    data = submissions_csv([{**SUBMISSION, "text": text}])
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[1][7] == expected


def test_csv_streams_many_rows():
    data = submissions_csv([{**SUBMISSION, "tracking_no": f"LPN-{i}"} for i in range(1201)])
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert len(rows) == 1202
    assert rows[-1][0] == "LPN-1200"
    assert data.count(b"\xef\xbb\xbf") == 1


def test_xlsx_submissions_keep_formula_text_as_text():
    ws = reopen(submissions_xlsx([SUBMISSION, {**SUBMISSION, "text": "=1+1"}]))["รายการเรื่อง"]
    assert ws["A1"].value == "เลขที่เรื่อง"
    assert ws["B2"].value == "26 พ.ย. 2569 14:05"
    assert ws["H3"].value == "=1+1"
    assert ws["H3"].data_type == "s"
    assert ws["K2"].value == 3
