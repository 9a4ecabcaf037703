"""The conversation's plain parts, without LINE or Flask: wording, buttons, words, numbers."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.line.events import IncomingEvent
from bot.municipality import load_municipality
from bot.needs.actions import create_need, tracking_number
from bot.residents import handle_event, keywords, postbacks
from bot.residents import replies as r
from bot.thai import thai_date
from bot.wording import DEFAULTS, Wording, fill
from storage.models import Resident, Submission
from storage.submissions import OPEN_KEY, open_submission
from tests.residents.support import USER, check_limits, context


def _event(**values) -> IncomingEvent:
    values.setdefault("event_id", "e-1")
    values.setdefault("timestamp_ms", 0)
    values.setdefault("user_id", USER)
    values.setdefault("reply_token", "token")
    return IncomingEvent(**values)


# --- wording --------------------------------------------------------------------------------


def test_every_default_sentence_is_polite_thai_and_fills_cleanly():
    import string

    say = Wording(load_municipality())
    for key, template in DEFAULTS.items():
        names = {field for _, field, _, _ in string.Formatter().parse(template) if field}
        text = say(key, **dict.fromkeys(names, "ค่า"))
        assert text.strip() and "{" not in text and "}" not in text, key
        assert "ครับ" not in text  # one voice: ค่ะ


def test_settings_file_overrides_a_sentence(tmp_path):
    settings = tmp_path / "town.toml"
    settings.write_text(
        '[municipality]\nname = "เทศบาลตำบลทดสอบ"\ntracking_prefix = "TST"\nphone = "02 000 0000"\n'
        '[messages]\nconsent_given = "ขอบใจเจ้า {name}"\nhelp = "โทร {phone} {nonsense}"\n',
        encoding="utf-8",
    )
    say = Wording(load_municipality(settings))
    assert say("consent_given", name="คุณแดง") == "ขอบใจเจ้า คุณแดง"
    assert say("help") == "โทร 02 000 0000 {nonsense}"  # a misspelt placeholder shows, never fails
    assert say("status_empty") == DEFAULTS["status_empty"]


@pytest.mark.parametrize("template", ["{", "}", "{0}", "{a.b}", "{a[1]}", "ผิด {"])
def test_a_broken_override_never_breaks_the_reply(template):
    assert fill(template, {"a": "x"})


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2026, 11, 26, 3, 0, tzinfo=UTC), "26 พ.ย. 2569"),
        (datetime(2026, 12, 31, 18, 0, tzinfo=UTC), "1 ม.ค. 2570"),  # already New Year in Bangkok
        (datetime(2027, 2, 1, tzinfo=UTC), "1 ก.พ. 2570"),
    ],
)
def test_thai_dates_are_buddhist_era_in_bangkok_time(moment, expected):
    assert thai_date(moment, time=False) == expected


def test_tracking_numbers_use_the_bangkok_buddhist_year():
    assert tracking_number("LPN", 123, datetime(2026, 6, 1, tzinfo=UTC)) == "LPN-69-000123"
    assert tracking_number("LPN", 7, datetime(2026, 12, 31, 17, 30, tzinfo=UTC)) == "LPN-70-000007"
    assert tracking_number("X1", 1234567, datetime(2026, 6, 1, tzinfo=UTC)) == "X1-69-1234567"


# --- buttons --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "ด้านการเสริมสร้างความเข้มแข็งและหลักประกันความปลอดภัยของชุมชน",
        "สุขาภิบาลอาหาร ตลาด สถานประกอบการ และเหตุรำคาญ",
        "ชุมชนท่าขาม-บ้านฮ่อม",
        "กี่กี้กี๊กี๋กี่กี้กี๊กี๋กี่กี้กี๊",
    ],
)
def test_labels_are_clipped_to_twenty_without_orphan_marks(name):
    label = r.postback(name, "a=nodel")["action"]["label"]
    assert len(label) <= 20
    body = label.removesuffix("…")
    assert body == name[: len(body)]
    if label.endswith("…"):
        # The next character of the name starts a letter: no tone mark was cut from its base.
        import unicodedata

        assert (
            unicodedata.category(name[len(body.rstrip())]) not in {"Mn", "Mc"}
            or name[len(body)] == " "
        )


def test_too_many_buttons_or_long_data_are_refused():
    with pytest.raises(ValueError):
        r.text("x", [r.say(str(i)) for i in range(14)])
    with pytest.raises(ValueError):
        r.postback("x", "a=" + "1" * 400)
    assert len(r.text("ก" * 6000)["text"]) == 5000


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("a=com&id=3", ("com", {"id": "3"})),
        ("a=cat&s=12&c=LPN-S7.3", ("cat", {"s": "12", "c": "LPN-S7.3"})),
        ("a=consent&v=1", ("consent", {"v": "1"})),
        ("a=unknown", None),
        ("a=com&id=1&id=2", None),
        ("a=com&id=<script>", None),
        ("a=com&id=%E0%B8%81", None),
        ("=&&=", None),
        ("a=" + "x" * 400, None),
        (None, None),
    ],
)
def test_postback_data_is_read_strictly(data, expected):
    parsed = postbacks.parse(data)
    assert (parsed and (parsed.action, parsed.params)) == expected


def test_postback_encoding_round_trips_and_stays_short():
    data = postbacks.encode("cat", s=123456789, c="LPN-S7.3")
    assert len(data) <= 300
    parsed = postbacks.parse(data)
    assert parsed.integer("s") == 123456789 and parsed.params["c"] == "LPN-S7.3"
    assert postbacks.parse("a=com&id=-4").integer("id") is None
    with pytest.raises(ValueError):
        postbacks.encode("nope")


# --- command words --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "command"),
    [
        ("ติดตามเรื่อง", "status"),
        ("ติดตาม เรื่อง", "status"),
        ("ติดตามเรื่องงงงงง", "status"),
        ("ติดตามเรือง", "status"),  # a missing tone mark
        ("ติดตามเรื่องค่ะ", "status"),
        ("\u200bติดตามเรื่อง\u200b", "status"),
        ("ข้อมูลของฉัน", "my_data"),
        ("ข้อมูลของผมครับ", "my_data"),
        ("ลบข้อมูลของฉัน", "delete"),
        ("ลบ ข้อมูล ของฉัน", "delete"),
        ("แจ้งเรื่อง", "report"),
        ("Help", "help"),
        ("วิธีใช้", "help"),
        ("แบบสำรวจ", "survey"),
        ("ยินยอม", "consent"),
        ("ไม่ยินยอม", "decline"),
        ("ไม่ยินยอมค่ะ", "decline"),
        ("ถนนหน้าบ้านเป็นหลุม", None),
        ("ขอติดตามเรื่องไฟถนนที่แจ้งไว้เมื่อวานนี้ค่ะ ยังไม่มีใครมาซ่อมเลย", None),
        ("", None),
        ("😊", None),
        ("ก" * 5000, None),
    ],
)
def test_command_words_are_forgiving_but_only_whole_messages(typed, command):
    assert keywords.command_of(typed) == command


# --- handle_event with a hand-built context ------------------------------------------------


def test_follow_by_hand_asks_consent_and_stores_nothing_personal(session, classifier):
    ctx = context(session, classifier, display_name=lambda user: "แดง")
    messages = handle_event(ctx, _event(type="follow"))
    check_limits(messages)
    assert "คุณแดง" in messages[0]["text"]
    stored = session.scalar(select(Resident))
    assert stored.consent == "pending" and stored.display_name is None


def test_event_without_a_user_is_not_answered(session, classifier):
    assert (
        handle_event(context(session, classifier), _event(type="message", user_id=None, text="x"))
        == []
    )


def test_unfollow_of_a_stranger_creates_nobody(session, classifier):
    assert (
        handle_event(context(session, classifier), _event(type="unfollow", reply_token=None)) == []
    )
    assert session.scalar(select(Resident)) is None


def test_open_submission_window_and_ownership(session, classifier):
    ctx = context(session, classifier)
    resident = Resident(line_user_id=USER, consent="given", state={})
    other = Resident(line_user_id="U" + "9" * 32, consent="given", state={})
    session.add_all([resident, other])
    session.flush()
    submission = create_need(session, resident, prefix="LPN", text="x", now=ctx.now)
    resident.state = {OPEN_KEY: submission.id}
    other.state = {OPEN_KEY: submission.id}  # forged state cannot borrow it
    assert open_submission(session, resident, ctx.now) is submission
    assert open_submission(session, other, ctx.now) is None
    assert open_submission(session, resident, ctx.now + timedelta(minutes=31)) is None
    submission.status = "done"
    assert open_submission(session, resident, ctx.now, {"done"}) is None


def test_a_registered_handler_gets_the_event_first(session, classifier):
    seen = []

    def survey_like(turn):
        seen.append((turn.resident.line_user_id, turn.event.text))
        return [{"type": "text", "text": "คำถามข้อ 1"}]

    session.add(Resident(line_user_id=USER, consent="given", state={}))
    session.flush()
    ctx = context(session, classifier, handlers=[survey_like])
    messages = handle_event(ctx, _event(type="message", message_type="text", text="ถนนพัง"))
    assert messages == [{"type": "text", "text": "คำถามข้อ 1"}]
    assert seen == [(USER, "ถนนพัง")]
    assert session.scalar(select(Submission)) is None


def test_surveys_plug_into_the_conversation_and_the_worker(app):
    from bot import residents
    from bot.line import worker
    from bot.surveys import answering

    assert answering.try_handle in residents.handlers(app)
    jobs = [job.name for job in app.extensions[worker.EXTENSION].jobs]
    assert "surveys" in jobs and "privacy.purge" in jobs  # the daily purge registers itself too
    assert "opendata.dump" in jobs  # and the daily open-data files


def test_messages_are_plain_json(session, classifier):
    import json

    ctx = context(session, classifier)
    messages = handle_event(ctx, _event(type="follow"))
    assert json.loads(json.dumps(messages, ensure_ascii=False)) == messages
    assert all(dataclasses.is_dataclass(m) is False for m in messages)


def test_handlers_speak_the_settings_files_words(session, classifier):
    municipality = dataclasses.replace(
        load_municipality(),
        messages={"greeting": "สวัสดีเจ้า {name} จาก {municipality}"},
        short_name="เทศบาลทดสอบ",
    )
    ctx = context(session, classifier, municipality=municipality, display_name=lambda user: "แก้ว")
    messages = handle_event(ctx, _event(type="follow"))
    assert messages[0]["text"] == "สวัสดีเจ้า คุณแก้ว จาก เทศบาลทดสอบ"
