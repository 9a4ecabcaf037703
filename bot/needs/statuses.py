"""Submission statuses: codes stored in the database and the Thai words people read."""

from __future__ import annotations

# In workflow order; the first is where every submission starts.
STATUS_LABELS: dict[str, str] = {
    "new": "ใหม่",
    "reviewing": "กำลังพิจารณา",
    "planned": "บรรจุในแผน",
    "referred": "ส่งหน่วยงานที่รับผิดชอบ",
    "in_progress": "กำลังดำเนินการ",
    "done": "เสร็จสิ้น",
    "duplicate": "ซ้ำกับเรื่องอื่น",
    "out_of_scope": "ไม่อยู่ในอำนาจหน้าที่",
    "rejected": "ไม่รับเรื่อง",
}

# Closing statuses that need something more: the submission it duplicates, the agency, a reason.
NEEDS_DETAIL = {"duplicate": "merged_into", "out_of_scope": "agency", "rejected": "reason"}
CLOSED = {"done", "duplicate", "out_of_scope", "rejected"}


def status_label(code: str) -> str:
    """Return the Thai words for a status code, e.g. ``status_label("done")`` → "เสร็จสิ้น"."""
    try:
        return STATUS_LABELS[code]
    except KeyError:
        raise ValueError(
            f"unknown status {code!r}; expected one of {list(STATUS_LABELS)}"
        ) from None
