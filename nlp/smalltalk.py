"""Small talk: the closed class of messages that are never filed as a need.

Greetings, thanks, acknowledgements ("ok", "ค่ะ"), laughter, emoji or sticker-like text and test
messages — nothing else (``nlp/data/LABELLING.md``). Everything a resident sends that is not small
talk becomes a submission, so this class is kept small and precise: a message is small talk when
it is made *entirely* of the phrases below (after normalising, with spaces, punctuation, digits
and emoji removed), or when it thanks or greets and then only praises the service (the model
must agree it is not a request, and nothing in it says something is still wrong).

>>> is_small_talk("สวัสดีคร้าบบบ 🙏")
True
>>> is_small_talk("ขอบคุณมากๆ เลยค่ะ")
True
>>> is_small_talk("5555 👍")
True
>>> is_small_talk("ถนนพัง")
False
>>> is_small_talk("สวัสดีค่ะ ไฟหน้าบ้านดับ")
False
"""

from __future__ import annotations

import re
import unicodedata

from .text import LAUGH, PHONE, URL, normalize

__all__ = ["is_small_talk", "thanks_or_greeting_only"]

# fmt: off
# Each phrase as it appears once spaces are removed and text is normalised (lower case, repeated
# letters collapsed: "ค่าาาา" → "ค่า"). Particles and address words may follow any of them.
_GREETINGS = (
    "สวัสดี", "สวัดดี", "หวัดดี", "ฮัลโหล", "เพิ่มเพื่อน", "มีใครอยู่ไหม", "มีใครอยู่มั้ย",
    "มีใครอยู่บ่", "ดีจ้า", "ดีค่ะ", "ดีคะ", "ดีครับ", "ดีคับ", "ดีเจ้า", "อรุณสวัสดิ์",
    "ราตรีสวัสดิ์", "ฝันดี", "สบายดีไหม", "สบายดีบ่", "สบายดีมั้ย", "hello", "helo", "hi", "hii",
    "hey", "good", "morning", "afternoon", "evening", "night", "happy", "new", "year", "merry",
    "christmas", "สุขสันต์", "ซินเจียยู่อี่", "ซินนี้ฮวดไช้", "ตอน", "ยาม", "เช้า", "สาย", "บ่าย",
    "เที่ยง", "เย็น", "ค่ำ", "วัน", "จันทร์", "อังคาร", "พุธ", "พฤหัส", "พฤหัสบดี", "ศุกร์",
    "เสาร์", "อาทิตย์", "พระ", "หยุด", "ปีใหม่", "ปี๋ใหม่", "เมือง", "สงกรานต์", "ลอยกระทง",
    "ตรุษจีน", "แม่", "พ่อ", "เด็ก", "แห่งชาติ", "วาเลนไทน์", "ออกพรรษา", "เข้าพรรษา", "คริสต์มาส",
    "ขอให้", "มีความสุข", "ความสุข", "เป็นวันที่ดี", "สุขภาพแข็งแรง", "โชคดี", "ชุ่มฉ่ำ", "ปีนี้",
    "นี้",
)
_THANKS = (
    "ขอบคุณ", "ขอบคุน", "ขอบคุง", "ขอบคูณ", "ขอบคุนณ", "ขอบใจ", "ขอบพระคุณ", "แต๊งกิ้ว",
    "แต้งกิ้ว", "เต็งกิ้ว", "thank", "thanks", "thankyou", "thx", "tks", "ty", "tq", "u", "you",
    "so", "much", "จากใจ", "ด้วย", "สำหรับข้อมูล",
)
_ACKNOWLEDGEMENTS = (
    "ok", "okay", "oki", "okk", "okie", "k", "kk", "โอเค", "โอเค่", "เค", "รับทราบ", "ทราบแล้ว",
    "ทราบ", "รับทาบ", "ได้เลย", "ได้", "เรียบร้อย", "แล้ว", "เข้าใจ", "ตกลง", "ตามนั้น", "ยินดี",
    "อ๋อ", "อ้อ", "อือ", "อื้อ", "อืม", "อ่าฮะ", "อ่า", "ได้รับ", "จ้ะ", "จ๊ะ", "yes",
)
_PARTICLES = (
    "ค่ะ", "คะ", "ค่า", "คับ", "ครับ", "ค้าบ", "คร้าบ", "ผม", "จ้า", "จร้า", "เจ้า", "นะ", "น้า",
    "ฮะ", "พี่", "ปี้", "น้อง", "แอดมิน", "admin", "แอด", "เจ้าหน้าที่", "ทุกท่าน", "ทุกคน",
    "ท่าน", "ทุก", "มาก", "เลย", "จริง", "หลาย", "เด้อ", "เน้อ", "งาม", "ka", "kha", "krub",
    "krab", "khrap", "na", "naka", "ๆ", "ทีม", "เทศบาล",
)
_LAUGHTER = ("ฮ่า", "ฮา", "ขำ", "อิอิ", "คิคิ", "หึหึ", "ถ", "lol", "ตลกดี", "haha")
# What is left of a typed face once its symbols are gone: ^o^, T_T, x_x, :D, :P, ^v^.
_FACES = ("o", "t", "x", "d", "p", "v", "y")
_TESTS = (
    "ทดสอบ", "ทสอบ", "เทส", "เทสต์", "test", "testing", "ลอง", "ส่ง", "ข้อความ", "ทดลอง", "พิมพ์",
    "ดู", "ระบบ", "อีกครั้ง", "ไลน์", "กด", "asdf", "สติกเกอร์", "สติ๊กเกอร์", "sticker",
)
PHRASES = frozenset(
    _GREETINGS + _THANKS + _ACKNOWLEDGEMENTS + _PARTICLES + _LAUGHTER + _TESTS + _FACES
)

# Longest first, so the regex tries "ขอบคุณ" before "ขอ…"; a whole message must be phrases.
_ONLY_PHRASES = re.compile(
    "(?:" + "|".join(re.escape(p) for p in sorted(PHRASES, key=len, reverse=True)) + ")+"
)
_OPENERS = (
    "ขอบคุณ", "ขอบคุน", "ขอบคูณ", "ขอบใจ", "ขอบพระคุณ", "แต๊งกิ้ว", "thank", "สวัสดี", "หวัดดี",
    "อรุณสวัสดิ์", "สุขสันต์",
)
_OPENS_KINDLY = re.compile("(?:" + "|".join(re.escape(p) for p in _OPENERS) + ")")
# Words that say something is still wrong or wanted: a thank-you with one of them is a request.
_STILL_WRONG = (
    "ยัง", "ไม่", "บ่", "แต่", "อีก", "ช่วย", "ขอให้", "รบกวน", "ด่วน", "เมื่อไหร่", "เมื่อไร",
    "ทำไม", "ไหม", "มั้ย", "หรือ", "แจ้ง", "ปัญหา", "เสีย", "พัง", "ดับ", "ตัน", "?",
)
# fmt: on
# Longer than this, a message says more than thanks; compact characters, without spaces.
MAX_THANKS_CHARACTERS = 60
MAX_CHARACTERS = 80


def _compact(text: str) -> str:
    """Normalised text with only letters left (spaces, digits, emoji and marks removed)."""
    norm = normalize(text or "")
    if URL in norm or PHONE in norm:
        return "\0"  # a link or a phone number is never small talk
    norm = norm.replace(LAUGH, " ")
    return "".join(
        ch
        for ch in norm
        if unicodedata.category(ch)[0] in "LM" or ch == "ๆ"  # letters and Thai vowel/tone marks
    )


def is_small_talk(text: str) -> bool:
    """Tell whether a message is only a greeting, thanks, acknowledgement, laughter or a test.

    Empty text and text without letters (emoji, stickers typed as symbols, laughter) are small
    talk; a link or a phone number never is.
    """
    compact = _compact(text)
    if not compact:
        return True
    if len(compact) > MAX_CHARACTERS:
        return False
    return _ONLY_PHRASES.fullmatch(compact) is not None


def thanks_or_greeting_only(text: str) -> bool:
    """Tell whether a message opens with thanks or a greeting and says nothing is still wrong.

    "ขอบคุณที่มาเก็บขยะให้ครับ" qualifies; "ขอบคุณค่ะ แต่ไฟยังดับอยู่" does not. On its own this
    is not enough to call a message small talk: the model must also find it is not a request.

    >>> thanks_or_greeting_only("ขอบคุณที่มาตัดกิ่งไม้ให้นะเจ้า")
    True
    >>> thanks_or_greeting_only("ขอบคุณค่ะ แต่ไฟยังดับอยู่")
    False
    """
    compact = _compact(text)
    if not compact or len(compact) > MAX_THANKS_CHARACTERS or not _OPENS_KINDLY.match(compact):
        return False
    # "ขอบคุณที่ช่วย…" thanks for help given; any other "ช่วย" asks for it.
    said = normalize(text or "").replace("ที่ช่วย", "")
    return not any(word in said for word in _STILL_WRONG)
