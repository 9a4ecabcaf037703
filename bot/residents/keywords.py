"""Recognise the few words that are commands, typed or sent by the rich menu.

Residents type on phones: extra spaces, stretched letters (ติดตามเรื่องงง), a polite particle
at the end (ค่ะ, ครับ, เจ้า) and a slip of the finger are all forgiven. Only a whole message is
a command, so a need that mentions these words is still a need.
"""

from __future__ import annotations

import re

import nlp

COMMANDS: dict[str, tuple[str, ...]] = {
    "status": ("ติดตามเรื่อง", "ติดตามสถานะ", "สถานะเรื่อง", "ตามเรื่อง", "สถานะ"),
    "my_data": ("ข้อมูลของฉัน", "ข้อมูลของผม", "ข้อมูลของหนู", "ข้อมูลส่วนตัว", "ข้อมูลฉัน"),
    "delete": ("ลบข้อมูลของฉัน", "ลบข้อมูลของผม", "ลบข้อมูลของหนู", "ลบข้อมูล", "ลบข้อมูลฉัน"),
    "report": ("แจ้งเรื่อง", "แจ้งปัญหา", "แจ้งเรื่องใหม่"),
    "help": ("วิธีใช้", "วิธีใช้งาน", "ช่วยเหลือ", "help", "เมนู", "menu", "?"),
    "survey": ("แบบสำรวจ", "ทำแบบสำรวจ"),
    "consent": ("ยินยอม", "ยอมรับ", "ให้ความยินยอม"),
    "decline": ("ไม่ยินยอม", "ไม่ยอมรับ"),
    "community": ("เปลี่ยนชุมชน", "เลือกชุมชน"),
    "news_off": ("ไม่รับข่าวโครงการ", "หยุดรับข่าวโครงการ", "ยกเลิกข่าวโครงการ"),
    "news_on": ("รับข่าวโครงการ", "รับข่าวโครงการอีกครั้ง"),
}
_PARTICLES = ("ค่ะ", "คะ", "ครับ", "คับ", "ฮะ", "จ้า", "จ้ะ", "เจ้า", "นะ", "หน่อย", "ด้วย")
_NOT_WORD = re.compile(r"[\s\.\!\?,;:\"'“”‘’\-_/\\()\[\]]+")
_WORDS = {word: command for command, words in COMMANDS.items() for word in words}
_LONGEST = max(len(w) for w in _WORDS) + 6


def squeeze(text: str) -> str:
    """Return the message reduced for matching: normalised, no spaces or end particles."""
    if len(text) > 4 * _LONGEST:
        return ""  # a long message is never a command; skip the work
    reduced = nlp.normalize(text)
    if reduced == "?":
        return reduced
    reduced = _NOT_WORD.sub("", reduced)
    changed = True
    while changed:
        changed = False
        for particle in _PARTICLES:
            if reduced.endswith(particle) and len(reduced) > len(particle):
                reduced = reduced[: -len(particle)]
                changed = True
    return reduced


def command_of(text: str | None) -> str | None:
    """Return the command a message means (status, my_data, delete, …) or None.

    >>> command_of("ติดตาม เรื่องงงค่ะ")
    'status'
    >>> command_of("ถนนหน้าบ้านเป็นหลุม")
    """
    if not text:
        return None
    word = squeeze(text)
    if not word:
        return None
    if word in _WORDS:
        return _WORDS[word]
    if len(word) < 5:
        return None
    allowed = 1 if len(word) < 10 else 2
    best: list[tuple[int, str]] = []
    for candidate, command in _WORDS.items():
        if abs(len(candidate) - len(word)) > allowed or len(candidate) < 5:
            continue
        distance = _distance(word, candidate, allowed)
        if distance <= allowed:
            best.append((distance, command))
    if not best:
        return None
    best.sort()
    nearest = [command for distance, command in best if distance == best[0][0]]
    # Two different commands equally near: ask nothing, treat it as ordinary text.
    return nearest[0] if len(set(nearest)) == 1 else None


def _distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance, giving up (limit + 1) once it is over ``limit``."""
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            )
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]
