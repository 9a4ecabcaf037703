"""The words a resident gets when a need's status changes: a template per status that admins
may reword, with placeholders, defaulting to the municipality's wording (``bot.wording``).

A line whose placeholder has nothing to show (no staff note, no due date) is left out, so one
template serves needs with and without a note. ``PLACEHOLDERS`` lists what a template may use.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Any

from bot.wording import Wording

# What each placeholder holds, for the admin page.
PLACEHOLDERS: dict[str, str] = {
    "tracking": "เลขที่เรื่อง",
    "status": "สถานะใหม่",
    "division": "หน่วยงานที่รับผิดชอบ",
    "due_date": "กำหนดเสร็จ (วันที่แบบไทย)",
    "note": "ข้อความถึงผู้แจ้งจากเจ้าหน้าที่",
    "detail": "หน่วยงานภายนอก เหตุผล หรือเลขที่เรื่องที่ซ้ำ (ตามสถานะ)",
    "municipality": "ชื่อเทศบาล",
    "phone": "เบอร์โทรเทศบาล",
}
MAX_LENGTH = 2000  # well under LINE's 5,000 characters of a text message

# Today's wording per status: the sentence keys added between the first line and the note.
_STATUS_LINES = {
    "duplicate": ("status_duplicate", "merged_into"),
    "out_of_scope": ("status_out_of_scope", "agency"),
    "rejected": ("status_rejected", "reason"),
    "done": ("status_done", None),
}


def default_template(say: Wording, status: str) -> str:
    """Return the shipped (or the municipality's) wording for ``status`` as a template."""
    lines = [say.template("status_changed").replace("{tracking_no}", "{tracking}")]
    extra = _STATUS_LINES.get(status)
    if extra is not None:
        key, detail = extra
        line = say.template(key)
        lines.append(line.replace("{" + detail + "}", "{detail}") if detail else line)
    lines.append(say.template("status_public_note"))
    lines.append(say.template("status_footer"))
    return "\n".join(lines)


def problem(template: str) -> str | None:
    """Return a Thai reason why ``template`` cannot be used, or None when it can."""
    if not template.strip():
        return "กรุณาใส่ข้อความ"
    if len(template) > MAX_LENGTH:
        return f"ข้อความยาวเกิน {MAX_LENGTH:,} ตัวอักษร"
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError:
        return "วงเล็บปีกกา { } ไม่ครบคู่ ใช้ได้เฉพาะรอบชื่อช่องข้อมูล เช่น {tracking}"
    unknown = sorted({name for name in fields if name not in PLACEHOLDERS})
    if unknown:
        allowed = " ".join("{" + name + "}" for name in PLACEHOLDERS)
        return f"ไม่รู้จักช่องข้อมูล {', '.join('{' + u + '}' for u in unknown)} ใช้ได้เฉพาะ {allowed}"
    return None


def render(say: Wording, template: str, values: Mapping[str, Any]) -> str:
    """Fill ``template``; drop each line whose placeholders are all empty."""
    base = {"municipality": say.municipality.short_name, "phone": say.municipality.phone}
    filled = {**base, **{k: ("" if v is None else str(v)) for k, v in values.items()}}
    kept = []
    for line in template.split("\n"):
        try:
            names = [n for _, n, _, _ in string.Formatter().parse(line) if n is not None]
        except ValueError:
            kept.append(line)
            continue
        if names and all(not filled.get(n, "") for n in names):
            continue
        kept.append(string.Formatter().vformat(line, (), _Blank(filled)))
    return "\n".join(kept)


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""
