"""From LINE chat text to clean text and tokens: normalisation and a tokenizer with local words."""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import re
import tempfile
import unicodedata
from pathlib import Path

__all__ = ["LAUGH", "PHONE", "URL", "mask_contacts", "normalize", "tokenize", "offline_pythainlp"]

logger = logging.getLogger(__name__)

URL = "<url>"
PHONE = "<phone>"
LAUGH = "<laugh>"
PLACEHOLDERS = (URL, PHONE, LAUGH)

WORDS_FILE = Path(__file__).parent / "data" / "words.txt"

_URL_RE = re.compile(
    r"(?:https?://|www\.)\S+"
    r"|\b[a-z0-9][a-z0-9.-]*\.(?:com|net|org|go\.th|co\.th|ac\.th|or\.th|in\.th|th|me|ly|io)"
    r"(?:/\S*)?",
    re.IGNORECASE,
)
# Thai phone numbers: 0X-XXX-XXXX (landline, 9 digits), 0XX-XXX-XXXX (mobile, 10 digits) or +66 ...
# with spaces or dashes anywhere; short hotlines (191, 1111) are kept, they are not personal.
_PHONE_RE = re.compile(r"(?<![\d+])(?:\+66[\s-]?|0[\s-]?)(?:\d[\s-]?){7,8}\d(?!\d)")
_LAUGH_NUM_RE = re.compile(r"(?<![\d.,/:-])5{3,}\+*(?![\d.,/:])")
_LAUGH_WORD_RE = re.compile(
    r"(?:ฮ่?า){2,}|ฮ่?าๆ+|กร๊+า+ก+|คริๆ+|(?<![a-z])(?:ha){2,}(?![a-z])|(?<![a-z])lo+l(?![a-z])",
    re.IGNORECASE,
)
# A 555 right after a house/room/lane word or before a unit is a number, not laughter.
_NUMBER_BEFORE_RE = re.compile(r"(?:เลขที่|ที่|ซอย|ซ\.|หมู่|ม\.|เบอร์|ห้อง|บ้าน|ราคา|no\.?|#)\s*$")
_NUMBER_AFTER_RE = re.compile(r"^\s*(?:บาท|คน|ต้น|เมตร|ม\.|กม|กิโล|วัน|ปี|หลัง|ครัวเรือน|ราย|ชุด|%)")
_ELONGATION_RE = re.compile(r"([^\d\s])\1{2,}")
_SPACE_RE = re.compile(r"\s+")
_PLACEHOLDER_SPLIT_RE = re.compile("(" + "|".join(re.escape(p) for p in PLACEHOLDERS) + r")")
# Emoji modifiers carry no meaning for us: skin tones, variation selectors, keycap.
_EMOJI_MODIFIERS = {chr(c) for c in range(0x1F3FB, 0x1F400)} | {"\ufe0e", "\ufe0f", "\u20e3"}


_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def mask_contacts(text: str) -> str:
    """Replace phone numbers and e-mail addresses, personal data a label does not need.

    >>> mask_contacts("ติดต่อ 081-234-5678 หรือ somchai@example.com ครับ")
    'ติดต่อ <phone> หรือ <email> ครับ'
    """
    return _PHONE_RE.sub(PHONE, _EMAIL_RE.sub("<email>", text))


def offline_pythainlp() -> None:
    """Make sure PyThaiNLP (and any model hub) never downloads nor writes to the home folder.

    Called before every PyThaiNLP import; respects values the operator already set.
    """
    os.environ.setdefault("PYTHAINLP_OFFLINE", "1")
    os.environ.setdefault("PYTHAINLP_READ_ONLY", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")


@functools.lru_cache(maxsize=1)
def _pythainlp_util() -> tuple:
    offline_pythainlp()
    from pythainlp.util import normalize as thai_normalize
    from pythainlp.util import thai_digit_to_arabic_digit

    return thai_normalize, thai_digit_to_arabic_digit


def _strip_invisible(text: str) -> str:
    out: list[str] = []
    for ch in text:
        if ch in "\n\t\r":
            out.append(" ")
            continue
        if ch in _EMOJI_MODIFIERS:
            continue
        cat = unicodedata.category(ch)
        if cat == "Cf":  # zero-width space/joiners, BOM, bidi marks, soft hyphen
            continue
        if cat in ("Cc", "Cs", "Co", "Cn"):
            out.append(" ")
            continue
        out.append(ch)
    return "".join(out)


def _laugh_number(match: re.Match[str]) -> str:
    digits = match.group(0)
    if len(digits.rstrip("+")) == 3:
        before = match.string[max(0, match.start() - 12) : match.start()]
        after = match.string[match.end() : match.end() + 12]
        if _NUMBER_BEFORE_RE.search(before.lower()) or _NUMBER_AFTER_RE.match(after.lower()):
            return digits
    return f" {LAUGH} "


def normalize(text: str) -> str:
    """Normalise LINE chat text for classification; empty or blank input gives ``""``.

    NFC, invisible characters dropped, Thai digits to Arabic, PyThaiNLP's normaliser (duplicate
    marks, ``เเ`` → ``แ``), URLs and phone numbers masked, laughter to one token, elongations
    collapsed, Latin lower-cased, whitespace squeezed. Emoji are kept: they carry signal.

    >>> normalize("ไฟดับบบบ มากกกก 5555")
    'ไฟดับ มาก <laugh>'
    >>> normalize("ซอย ๓ โทร 081-234-5678 ดูรูป https://line.me/x")
    'ซอย 3 โทร <phone> ดูรูป <url>'
    >>> normalize("ขอบคุณ\u200bครับ 🙏🙏🙏")
    'ขอบคุณครับ 🙏'
    """
    if not text or text.isspace():
        return ""
    thai_normalize, thai_digits = _pythainlp_util()
    text = unicodedata.normalize("NFC", text)
    text = _strip_invisible(text)
    text = thai_digits(text)
    text = thai_normalize(text)
    text = _URL_RE.sub(f" {URL} ", text)
    text = _PHONE_RE.sub(f" {PHONE} ", text)
    text = _LAUGH_NUM_RE.sub(_laugh_number, text)
    text = _LAUGH_WORD_RE.sub(f" {LAUGH} ", text)
    text = _ELONGATION_RE.sub(r"\1", text)
    text = text.lower()
    text = _SPACE_RE.sub(" ", text).strip()
    # Several laughs in a row say no more than one.
    while f"{LAUGH} {LAUGH}" in text:
        text = text.replace(f"{LAUGH} {LAUGH}", LAUGH)
    return text


def _read_words_file(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [w.strip() for w in lines if w.strip() and not w.lstrip().startswith("#")]


@functools.lru_cache(maxsize=4)
def _dictionary_name(extra_words: tuple[str, ...]) -> str:
    """Load PyThaiNLP's word list plus local words into nlpo3 once per process; return its name."""
    offline_pythainlp()
    import nlpo3
    from pythainlp.corpus import thai_words

    words = set(thai_words())
    words.update(_read_words_file(WORDS_FILE))
    words.update(w.strip() for w in extra_words if w.strip())
    # Placeholder names and Latin words are handled outside the Thai segmenter.
    body = "\n".join(sorted(words))
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()[:16]
    name = f"ruamkid-{digest}"
    # nlpo3 reads a dictionary from a file only; the file is ours, short-lived and private.
    fd, tmp = tempfile.mkstemp(prefix="ruamkid-dict-", suffix=".txt")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(body)
        message, ok = nlpo3.load_dict(tmp, name)
    finally:
        os.unlink(tmp)
    if not ok and "already" not in message.lower():
        raise RuntimeError(f"nlpo3 could not load the tokenizer dictionary: {message}")
    logger.debug("tokenizer dictionary %s loaded with %d words", name, len(words))
    return name


def tokenize(text: str, words: tuple[str, ...] = ()) -> list[str]:
    """Split text into words with nlpo3 (newmm) and a local dictionary; whitespace is dropped.

    The dictionary is PyThaiNLP's Thai words, Northern Thai chat words (``nlp/data/words.txt``)
    and ``words``: a taxonomy's keywords, community names and ``[tokenizer] words``
    (:meth:`nlp.Taxonomy.dictionary_words`). Each set of words is loaded once per process.
    Placeholders from :func:`normalize` stay whole.

    >>> tokenize("ลำเหมืองตันบ่ไหลเจ้า")
    ['ลำ', 'เหมือง', 'ตัน', 'บ่', 'ไหล', 'เจ้า']
    >>> tokenize("ลำเหมืองตันบ่ไหลเจ้า", ("ลำเหมือง",))
    ['ลำเหมือง', 'ตัน', 'บ่', 'ไหล', 'เจ้า']
    >>> tokenize("ข่วงคนเตียว <laugh>", ("ข่วงคนเตียว",))
    ['ข่วงคนเตียว', '<laugh>']
    """
    if not text or text.isspace():
        return []
    import nlpo3

    name = _dictionary_name(words)
    tokens: list[str] = []
    for chunk in _PLACEHOLDER_SPLIT_RE.split(text):
        if not chunk or chunk.isspace():
            continue
        if chunk in PLACEHOLDERS:
            tokens.append(chunk)
            continue
        for piece in chunk.split():
            tokens.extend(t for t in nlpo3.segment(piece, name) if not t.isspace())
    return tokens
