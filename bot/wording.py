"""Every Thai sentence the bot sends a resident, overridable from the settings file: the
conversation, the pushes when a need's status changes, and surveys.

The municipality speaks with one polite voice (ค่ะ). Sentences are short for elderly readers.
A deployment changes any sentence in its settings file's ``[messages]`` table, keeping the
``{placeholders}`` it needs; a placeholder it leaves out is simply not shown, and a misspelt
one is shown as written instead of breaking the reply.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from functools import cache
from typing import Any

from flask import current_app

from bot.municipality import Municipality, load_municipality

DEFAULTS: dict[str, str] = {
    # --- follow and consent -------------------------------------------------------------
    "greeting": (
        "สวัสดีค่ะ {name}\n"
        "ยินดีต้อนรับสู่ช่องทางแจ้งเรื่องของ{municipality}ค่ะ\n"
        "ท่านแจ้งปัญหาหรือความต้องการของชุมชนได้ที่นี่ "
        "เรื่องของท่านจะถูกส่งถึงเจ้าหน้าที่ และใช้ประกอบการทำแผนพัฒนาท้องถิ่นค่ะ"
    ),
    "greeting_back": "ยินดีต้อนรับกลับมาค่ะ {name}\nพิมพ์เรื่องที่ต้องการแจ้งได้เลยค่ะ",
    "privacy_notice": (
        "ข้อมูลส่วนบุคคลของท่าน\n"
        "• เราเก็บ: ชื่อใน LINE ชุมชน ข้อความ รูปภาพ และตำแหน่งที่ท่านส่งมา\n"
        "• เพื่อ: ให้เจ้าหน้าที่ดำเนินการและแจ้งความคืบหน้าให้ท่านทราบ\n"
        "• เก็บไว้: {retention_years} ปี\n"
        '• ลบได้ทุกเมื่อ: พิมพ์ "ลบข้อมูลของฉัน"\n'
        "ท่านยินยอมให้เก็บข้อมูลนี้หรือไม่คะ"
    ),
    "consent_again": ("ก่อนแจ้งเรื่อง ขอความยินยอมในการเก็บข้อมูลก่อนนะคะ\nข้อความที่ท่านเพิ่งส่งยังไม่ถูกบันทึกค่ะ"),
    "consent_yes_button": "ยินยอม",
    "consent_no_button": "ไม่ยินยอม",
    "consent_given": "ขอบคุณค่ะ ท่านให้ความยินยอมแล้ว",
    "consent_declined": (
        "รับทราบค่ะ เราจะไม่เก็บข้อมูลของท่าน\n"
        'หากเปลี่ยนใจ พิมพ์ "ยินยอม" หรือกดปุ่มด้านล่างได้ทุกเมื่อค่ะ\n'
        "ติดต่อเทศบาลโดยตรงได้ที่โทร {phone} ค่ะ"
    ),
    # --- community ----------------------------------------------------------------------
    "community_question": "ท่านอยู่ชุมชนไหนคะ กรุณากดเลือกด้านล่างค่ะ (หน้า {page}/{pages})",
    "community_unknown_button": "อื่น ๆ / ไม่ทราบ",
    "community_next_button": "ถัดไป ▶",
    "community_previous_button": "◀ ก่อนหน้า",
    "community_set": (
        "บันทึกชุมชน{community}แล้วค่ะ\n"
        "พิมพ์เรื่องที่ต้องการแจ้งได้เลยค่ะ เช่น ไฟถนนดับ ท่อระบายน้ำอุดตัน "
        "หรือส่งรูปภาพและตำแหน่งมาได้ค่ะ"
    ),
    "community_unknown_set": (
        "รับทราบค่ะ เจ้าหน้าที่จะดูจากตำแหน่งที่ท่านส่งมาแทน\n"
        "พิมพ์เรื่องที่ต้องการแจ้งได้เลยค่ะ หรือส่งรูปภาพและตำแหน่งมาได้ค่ะ"
    ),
    "community_unavailable": "ขออภัยค่ะ ไม่พบชุมชนนี้ในรายการ กรุณาเลือกใหม่อีกครั้งค่ะ",
    "no_communities": "ขณะนี้ยังไม่มีรายชื่อชุมชนค่ะ พิมพ์เรื่องที่ต้องการแจ้งได้เลยค่ะ",
    # --- submissions --------------------------------------------------------------------
    "submission_received": (
        "รับเรื่องแล้วค่ะ\n"
        "เลขที่เรื่อง: {tracking_no}\n"
        "ประเภท: {kind}\n"
        "หมวด: {strategy}\n"
        "เรื่องย่อย: {subarea}\n"
        "เพิ่มรูปภาพหรือตำแหน่งได้จากปุ่มด้านล่างค่ะ"
    ),
    "submission_unsure": "ระบบยังไม่แน่ใจหมวดของเรื่องนี้ เจ้าหน้าที่จะตรวจสอบอีกครั้งค่ะ",
    "submission_uncategorised": "ยังไม่ได้จัดหมวด",
    "photo_first": ("ได้รับรูปภาพแล้วค่ะ เลขที่เรื่อง: {tracking_no}\nกรุณาพิมพ์อธิบายสั้น ๆ ว่าเกิดอะไรขึ้นค่ะ"),
    "photo_added": "เพิ่มรูปภาพในเรื่อง {tracking_no} แล้วค่ะ",
    "location_first": ("ได้รับตำแหน่งแล้วค่ะ เลขที่เรื่อง: {tracking_no}\nกรุณาพิมพ์อธิบายสั้น ๆ ว่าเกิดอะไรขึ้นค่ะ"),
    "location_added": "เพิ่มตำแหน่งในเรื่อง {tracking_no} แล้วค่ะ",
    "add_photo_button": "ถ่ายรูป",
    "add_album_button": "รูปจากอัลบั้ม",
    "add_location_button": "เพิ่มตำแหน่ง",
    "wrong_category_button": "ไม่ใช่หมวดนี้",
    "done_button": "เสร็จสิ้น",
    "done": ('ขอบคุณค่ะ เรื่อง {tracking_no} ส่งถึงเจ้าหน้าที่แล้ว\nพิมพ์ "ติดตามเรื่อง" เพื่อดูสถานะได้ทุกเมื่อค่ะ'),
    "choose_strategy": "เรื่อง {tracking_no} ควรอยู่หมวดไหนคะ\n{choices}",
    "all_strategies_button": "ดูทั้งหมด",
    "choose_subarea": "หมวด{strategy}\nเลือกเรื่องย่อยที่ตรงที่สุดค่ะ\n{choices}",
    "subarea_unknown_button": "ไม่แน่ใจ",
    "category_changed": ("แก้หมวดของเรื่อง {tracking_no} แล้วค่ะ\nหมวด: {strategy}\nเรื่องย่อย: {subarea}"),
    "submission_locked": (
        "ขออภัยค่ะ เรื่องนี้เจ้าหน้าที่ตรวจสอบหรือปิดเรื่องแล้ว จึงแก้ไขไม่ได้ค่ะ\nหากมีข้อมูลเพิ่ม กรุณาแจ้งเป็นเรื่องใหม่ค่ะ"
    ),
    # --- status -------------------------------------------------------------------------
    "status_header": "เรื่องล่าสุดของท่าน ({count} เรื่อง)",
    "status_item": "{number}. {tracking_no} ({date})\n{excerpt}\nสถานะ: {status}",
    "status_empty": "ท่านยังไม่มีเรื่องที่แจ้งไว้ค่ะ พิมพ์เรื่องที่ต้องการแจ้งได้เลยค่ะ",
    "status_no_text": "(รูปภาพหรือตำแหน่ง ยังไม่มีคำอธิบาย)",
    # --- my data ------------------------------------------------------------------------
    "my_data": (
        "ข้อมูลของท่านที่เราเก็บไว้\n"
        "• ชื่อ: {name}\n"
        "• ชุมชน: {community}\n"
        "• เรื่องที่แจ้ง: {submissions} เรื่อง\n"
        "• รูปภาพ: {photos} รูป\n"
        "• ตำแหน่ง: {locations} จุด\n"
        "• ให้ความยินยอมเมื่อ: {consented}\n"
        "เก็บไว้ {retention_years} ปี "
        'หากต้องการลบ พิมพ์ "ลบข้อมูลของฉัน" ค่ะ'
    ),
    "my_data_unknown": "ไม่ระบุ",
    "change_community_button": "เปลี่ยนชุมชน",
    "delete_button": "ลบข้อมูลของฉัน",
    "delete_confirm": (
        "ต้องการลบข้อมูลของท่านใช่ไหมคะ\n"
        "ชื่อ ข้อความ รูปภาพ และตำแหน่งทั้งหมดจะถูกลบและกู้คืนไม่ได้ "
        "เหลือเพียงจำนวนเรื่องแบบไม่ระบุตัวตนค่ะ"
    ),
    "delete_yes_button": "ยืนยันลบข้อมูล",
    "delete_no_button": "ยกเลิก",
    "deleted": (
        "ลบข้อมูลของท่านเรียบร้อยแล้วค่ะ\nหากต้องการแจ้งเรื่องอีก พิมพ์ข้อความมาได้ทุกเมื่อ ระบบจะขอความยินยอมใหม่ค่ะ"
    ),
    "delete_cancelled": "ยกเลิกแล้วค่ะ ข้อมูลของท่านยังอยู่ครบค่ะ",
    "delete_expired": 'ปุ่มนี้หมดอายุแล้วค่ะ หากต้องการลบข้อมูล พิมพ์ "ลบข้อมูลของฉัน" อีกครั้งค่ะ',
    # --- help and everything else -------------------------------------------------------
    "help": (
        "วิธีแจ้งเรื่องค่ะ\n"
        "1. พิมพ์เล่าปัญหาหรือสิ่งที่อยากให้ชุมชนมี เช่น ไฟถนนดับหน้าวัด\n"
        "2. ส่งรูปภาพหรือตำแหน่งเพิ่มได้\n"
        "3. ท่านจะได้เลขที่เรื่องไว้ติดตาม\n"
        'พิมพ์ "ติดตามเรื่อง" เพื่อดูสถานะ หรือ "ข้อมูลของฉัน" เพื่อดูข้อมูลที่เราเก็บไว้ค่ะ'
    ),
    "small_talk": "ขอบคุณที่ทักมาค่ะ {name}",
    "small_talk_hello": "สวัสดีค่ะ {name}",
    "small_talk_thanks": "ยินดีค่ะ {name} ขอบคุณที่ร่วมดูแลชุมชนนะคะ",
    "report_prompt": (
        "พิมพ์เล่าเรื่องที่ต้องการแจ้งได้เลยค่ะ เช่น ท่อระบายน้ำหน้าบ้านอุดตัน\nส่งรูปภาพหรือตำแหน่งก่อนก็ได้ค่ะ"
    ),
    "no_survey": "ขณะนี้ยังไม่มีแบบสำรวจสำหรับท่านค่ะ เมื่อมีแบบสำรวจใหม่ เราจะส่งมาให้ค่ะ",
    "sticker": "ขอบคุณสำหรับสติกเกอร์ค่ะ 😊",
    "unsupported_media": (
        "ขออภัยค่ะ ระบบรับได้เฉพาะข้อความ รูปภาพ และตำแหน่งค่ะ\nกรุณาพิมพ์เล่าเรื่อง หรือส่งเป็นรูปภาพแทนนะคะ"
    ),
    "unsupported_event": "ขอบคุณที่ติดต่อ{municipality}ค่ะ",
    "stale_button": "ขออภัยค่ะ ปุ่มนี้ใช้ไม่ได้แล้ว กรุณาลองใหม่อีกครั้งค่ะ",
    # --- a need's status changed (pushed; staff's internal notes never appear) ----------
    "status_changed": "เรื่องเลขที่ {tracking_no} ของท่าน\nสถานะล่าสุด: {status}",
    "status_duplicate": (
        "เรื่องนี้มีผู้แจ้งไว้แล้ว จึงรวมไว้กับเรื่องเลขที่ {merged_into} และจะแจ้งความคืบหน้าให้ทราบต่อไปค่ะ"
    ),
    "status_out_of_scope": "เรื่องนี้อยู่ในความรับผิดชอบของ {agency} ซึ่งเทศบาลได้ประสานต่อให้แล้วค่ะ",
    "status_rejected": "เหตุผล: {reason}",
    "status_done": "ขอบคุณที่ร่วมแจ้งเรื่องเพื่อพัฒนาชุมชนของเราค่ะ",
    "status_public_note": "หมายเหตุจากเจ้าหน้าที่: {note}",
    "status_footer": 'พิมพ์ "ติดตามเรื่อง" เพื่อดูเรื่องทั้งหมดของท่าน',
    # Closing the loop: the done message asks for a rating or "not fixed yet".
    "done_rate_prompt": (
        'ท่านพอใจกับการดำเนินการครั้งนี้แค่ไหนคะ กดให้คะแนน 1–5 ได้เลยค่ะ หากยังไม่เรียบร้อย กด "ยังไม่เรียบร้อย" ได้ค่ะ'
    ),
    "rate_5": "5 พอใจมาก",
    "rate_4": "4 พอใจ",
    "rate_3": "3 พอใช้",
    "rate_2": "2 ไม่ค่อยพอใจ",
    "rate_1": "1 ไม่พอใจ",
    "not_fixed_button": "ยังไม่เรียบร้อย",
    "rating_thanks": "ขอบคุณสำหรับคะแนน {rating} จาก 5 ของเรื่องเลขที่ {tracking_no} ค่ะ",
    "reopened": (
        "รับทราบค่ะ เปิดเรื่องเลขที่ {tracking_no} ให้เจ้าหน้าที่ดำเนินการอีกครั้งแล้ว จะแจ้งความคืบหน้าให้ทราบนะคะ"
    ),
    "reopened_as_new": (
        "รับทราบค่ะ เรื่องเลขที่ {old} ปิดไปนานเกิน {days} วันแล้ว จึงเปิดเป็นเรื่องใหม่ "
        "เลขที่ {tracking_no} ต่อจากเรื่องเดิมให้ค่ะ"
    ),
    "reopened_text": "ผู้แจ้งแจ้งว่าเรื่องเลขที่ {old} ยังไม่เรียบร้อย",
    # --- surveys ------------------------------------------------------------------------
    "survey_invitation": "แบบสำรวจความคิดเห็น",
    "survey_title": "แบบสำรวจ: {title}",
    "survey_question_count": "มีทั้งหมด {count} ข้อ",
    "survey_open_until": "ตอบได้ถึง {date} น.",
    "survey_start_button": "เริ่มทำแบบสำรวจ",
    "survey_done_button": "เสร็จ",
    "survey_skip_button": "ข้ามข้อนี้",
    "survey_edit_button": "แก้ไขข้อ {number}",
    "survey_question": "ข้อ {number}/{count}: {question}",
    "survey_single_hint": "แตะเลือกคำตอบจากปุ่มด้านล่างค่ะ",
    "survey_multiple_hint": 'เลือกได้หลายคำตอบ แตะซ้ำเพื่อยกเลิก แล้วกด "เสร็จ" ค่ะ',
    "survey_chosen": "เลือกแล้ว: {choices}",
    "survey_rating_hint": "ให้คะแนน 1–5 ดาว (5 = ดีมาก) ค่ะ",
    "survey_rating_chosen": "{score} ดาว",
    "survey_text_hint": "พิมพ์คำตอบส่งมาในแชตนี้ได้เลยค่ะ",
    "survey_previous_answer": "คำตอบเดิมของท่าน: {answer}",
    "survey_not_answered": "ยังไม่ได้ตอบ",
    "survey_skipped": "ข้าม",
    "survey_answer_deleted": "(ลบแล้ว)",
    "survey_required": "ข้อนี้จำเป็นต้องตอบค่ะ",
    "survey_choose_at_least_one": 'กรุณาเลือกอย่างน้อย 1 คำตอบ แล้วกด "เสร็จ" ค่ะ',
    "survey_all_answered": "ท่านตอบแบบสำรวจนี้ครบแล้วค่ะ แก้ไขคำตอบได้จากปุ่มด้านล่าง",
    "survey_resumed": "ทำแบบสำรวจต่อจากข้อที่ค้างไว้ค่ะ",
    "survey_thanks": "ขอบคุณที่ร่วมตอบแบบสำรวจค่ะ 🙏",
    "survey_summary": "สรุปคำตอบของท่าน: {title}",
    "survey_editable_until": "แก้ไขคำตอบได้จนถึง {date} น. ค่ะ",
    "survey_editable_while_open": "แก้ไขคำตอบได้จนกว่าแบบสำรวจจะปิดค่ะ",
    "survey_closed": ('ขออภัยค่ะ แบบสำรวจ "{title}" ปิดรับคำตอบแล้ว ขอบคุณที่สนใจร่วมแสดงความคิดเห็นค่ะ'),
    "survey_refused": ('ขออภัยค่ะ ปุ่มนี้ใช้ไม่ได้แล้ว หากต้องการทำแบบสำรวจต่อ พิมพ์ "แบบสำรวจ" ได้เลยค่ะ'),
    "survey_choose": "ขณะนี้มีแบบสำรวจที่รอคำตอบจากท่าน {count} ชุด เลือกชุดที่ต้องการได้เลยค่ะ",
    # --- plan projects: news to the residents behind them, and the opt-out -----------------
    "project_news_ordinance": (
        "ข่าวดีค่ะ โครงการ “{project}” ที่มาจากเรื่องที่ท่านแจ้ง ได้รับการบรรจุในข้อบัญญัติงบประมาณแล้วค่ะ\n{link}"
    ),
    "project_news_in_progress": ("โครงการ “{project}” ที่มาจากเรื่องที่ท่านแจ้ง เริ่มดำเนินการแล้วค่ะ\n{link}"),
    "project_news_done": (
        "โครงการ “{project}” ที่มาจากเรื่องที่ท่านแจ้ง ดำเนินการแล้วเสร็จค่ะ "
        "ขอบคุณที่ร่วมเสนอความต้องการของชุมชนค่ะ\n{link}"
    ),
    "project_news_link": "ติดตามความคืบหน้าได้ที่ {url}",
    "project_news_off_button": "ไม่รับข่าวโครงการ",
    "project_news_off": (
        "รับทราบค่ะ จะไม่ส่งข่าวความคืบหน้าของโครงการให้ท่านอีก\n"
        "หากต้องการรับข่าวอีกครั้ง พิมพ์ “รับข่าวโครงการ” ได้เลยค่ะ"
    ),
    "project_news_on": ("รับทราบค่ะ เมื่อโครงการที่มาจากเรื่องที่ท่านแจ้งมีความคืบหน้า จะแจ้งให้ท่านทราบทาง LINE ค่ะ"),
}


class _Lenient(dict[str, Any]):
    """Format values that show a misspelt placeholder as written instead of failing."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class Wording:
    """The sentences of one municipality: its overrides first, then the defaults."""

    def __init__(self, municipality: Municipality):
        self.municipality = municipality
        self.overrides: Mapping[str, str] = municipality.messages

    def template(self, key: str) -> str:
        """Return the raw sentence for ``key`` (override or default); KeyError if unknown."""
        if key in self.overrides:
            return self.overrides[key]
        return DEFAULTS[key]

    def __call__(self, key: str, **values: Any) -> str:
        """Return the sentence for ``key`` with its placeholders filled in."""
        base = {
            "municipality": self.municipality.short_name,
            "phone": self.municipality.phone,
            "retention_years": self.municipality.retention_years,
            "name": "",
        }
        return fill(self.template(key), {**base, **values})


def polite_name(name: str | None) -> str:
    """Return how to address someone: ``polite_name("สมชาย")`` → "คุณสมชาย".

    A LINE name that already starts with คุณ keeps it ("คุณสมชาย", not "คุณคุณสมชาย").

    >>> polite_name("คุณสมชาย"), polite_name(" สมศรี "), polite_name(None)
    ('คุณสมชาย', 'คุณสมศรี', '')
    """
    name = (name or "").strip()
    if not name:
        return ""
    return name if name.startswith("คุณ") else f"คุณ{name}"


def fill(template: str, values: Mapping[str, Any]) -> str:
    """Fill ``{placeholders}``; unknown ones stay visible, broken braces are kept as text."""
    try:
        return string.Formatter().vformat(template, (), _Lenient(values))
    except (ValueError, IndexError, AttributeError, KeyError):
        # A malformed override (a lone "{", "{0}") must not silence the bot.
        return template


def wording(municipality: Municipality) -> Wording:
    """Return the wording of ``municipality``."""
    return Wording(municipality)


@cache
def default_wording() -> Wording:
    """Return the shipped municipality's wording, for callers without an app's settings."""
    return Wording(load_municipality())


def current_wording() -> Wording:
    """Return the wording of the current app's municipality (in a request or app context)."""
    return Wording(current_app.extensions["ruamkid"])
