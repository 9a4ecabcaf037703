"""The staff password policy: long enough, not a number, not the username, not a common one.

Common passwords are the shipped lists in ``storage/data/`` (the world's most common ones and
Thai-context ones such as ``lamphun``) plus the words a deployment adds, such as its
municipality's and communities' names. A password is also refused when it is a listed one
with digits or symbols around it (``lamphun123``, ``password12!``).
"""

from __future__ import annotations

import functools
import string
from collections.abc import Iterable
from importlib import resources

MIN_LENGTH = 10
LISTS = ("common-passwords.txt", "thai-passwords.txt")
# Words of this many characters or more are refused inside a password, not only as all of it.
CONTAINED_MIN = 5
_AROUND = string.digits + string.punctuation + string.whitespace + "๐๑๒๓๔๕๖๗๘๙"


@functools.cache
def common_passwords() -> frozenset[str]:
    """Return the shipped common passwords, lower-cased."""
    words: set[str] = set()
    for name in LISTS:
        text = resources.files("storage").joinpath("data", name).read_text(encoding="utf-8")
        words.update(line.strip().lower() for line in text.splitlines() if line and line[0] != "#")
    words.discard("")
    return frozenset(words)


def context_words(*names: str) -> set[str]:
    """Return the words to refuse made from names such as ``เทศบาลเมืองลำพูน``.

    >>> sorted(context_words("เทศบาลเมืองลำพูน", "ชุมชนช่างฆ้อง"))
    ['ชุมชนช่างฆ้อง', 'ช่างฆ้อง', 'ลำพูน', 'เทศบาลเมืองลำพูน']
    """
    words: set[str] = set()
    prefixes = ("เทศบาลนคร", "เทศบาลเมือง", "เทศบาลตำบล", "เทศบาล", "ชุมชน", "บ้าน")
    for name in names:
        word = "".join(name.split()).lower()
        if not word:
            continue
        words.add(word)
        for prefix in prefixes:
            if word.startswith(prefix) and len(word) > len(prefix) + 2:
                words.add(word[len(prefix) :])
                break
    return words


def password_problem(
    password: str, username: str = "", extra_words: Iterable[str] = ()
) -> str | None:
    """Return in Thai why ``password`` may not be used, or None when it may.

    >>> password_problem("lamphun")
    'รหัสผ่านต้องยาวอย่างน้อย 10 ตัวอักษร'
    >>> password_problem("lamphun123")
    'รหัสผ่านนี้เดาง่ายเกินไป (เป็นรหัสผ่านที่ใช้กันมาก) กรุณาตั้งรหัสผ่านอื่น'
    >>> password_problem("ต้นลำไยริมน้ำกวง") is None
    True
    """
    if len(password) < MIN_LENGTH:
        return f"รหัสผ่านต้องยาวอย่างน้อย {MIN_LENGTH} ตัวอักษร"
    folded = password.strip().lower()
    if folded.isdigit():
        return "รหัสผ่านต้องไม่เป็นตัวเลขล้วน กรุณาผสมตัวอักษรด้วย"
    if len(set(folded)) < 4:
        return "รหัสผ่านง่ายเกินไป กรุณาใช้ตัวอักษรที่หลากหลายกว่านี้"
    name = (username or "").strip().lower()
    if len(name) >= 3 and name in folded:
        return "รหัสผ่านต้องไม่มีชื่อผู้ใช้อยู่ในนั้น"
    listed = common_passwords()
    extra = {w for word in extra_words for w in context_words(word)}
    core = folded.strip(_AROUND)
    compact = "".join(core.split())
    if folded in listed or core in listed or compact in extra:
        return "รหัสผ่านนี้เดาง่ายเกินไป (เป็นรหัสผ่านที่ใช้กันมาก) กรุณาตั้งรหัสผ่านอื่น"
    if any(len(word) >= CONTAINED_MIN and word in compact for word in extra):
        return "รหัสผ่านต้องไม่มีชื่อเทศบาลหรือชื่อชุมชนอยู่ในนั้น"
    return None
