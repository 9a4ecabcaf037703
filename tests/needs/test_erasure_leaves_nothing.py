"""Erasure that leaves nothing (issue 10): unique markers planted in every place a resident's
data can reach, then "ลบข้อมูลของฉัน" (or the retention period), then a search of every
column of every table, every file of the media folder and every log line: none may remain."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, fields
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, select, text, update
from sqlalchemy.types import DateTime

from bot import residents as conversation
from bot.cli import main
from bot.db import session_factory
from bot.line.api import Quota
from bot.needs import erasure
from bot.staff import project_news
from bot.surveys import sending
from storage import open311, plan, search
from storage.base import utcnow
from storage.models import Community, InboxEvent, Resident, Submission
from storage.schema import metadata
from storage.simulator import SimulatorContent, SimulatorMessage, SimulatorResident
from storage.surveys import Survey, SurveyQuestion, SurveyTarget
from tests import line_events
from tests.conftest import JPEG
from tests.residents.support import OTHER_USER, button, join, last, press


def _letters(count: int) -> str:
    """Return ``count`` random lowercase letters (hex digits shifted to g–p)."""
    return uuid.uuid4().hex[:count].translate(str.maketrans("0123456789", "ghijklmnop"))


@dataclass(frozen=True)
class Markers:
    """One unique string per place a resident's data can reach."""

    user: str  # the LINE user id itself
    name: str  # display name (LINE profile)
    text: str  # a need's words
    title: str  # a location's title (no address)
    photo: str  # inside the photo's bytes
    survey: str  # a free-text survey answer
    standby: str  # an event received in standby mode
    failing: str  # an event whose handling failed (its error is stored)
    note: str  # what staff wrote about the need (notes, reason)
    search: str  # what staff searched for
    chat: str  # the simulator's chat
    contact: str  # the contact of a need the resident gave by phone

    @classmethod
    def new(cls) -> Markers:
        # Letters only: a marker whose ten hex digits happened to be all decimal (~1 in 100)
        # looked like a phone number and was masked on the public pages (a flaky failure).
        values = {f.name: f"mk{_letters(10)}{f.name}" for f in fields(cls)}
        values["user"] = "U" + uuid.uuid4().hex
        return cls(**values)

    def all(self) -> dict[str, str]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _photo(marker: str) -> bytes:
    """A JPEG with the marker in a comment segment."""
    comment = marker.encode()
    return JPEG[:2] + b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment + JPEG[2:]


def _as_text(value: Any) -> str:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("latin-1")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else str(value)


def where_found(app, markers: dict[str, str], logs: str) -> dict[str, list[str]]:
    """Search every column of every table, every media file and the logs for the markers."""
    found: dict[str, list[str]] = {}
    engine = session_factory(app).kw["bind"]
    tables = MetaData()
    with engine.connect() as connection:
        tables.reflect(connection)
        for table in tables.sorted_tables:
            for row in connection.execute(select(table)):
                for column, value in row._mapping.items():
                    text = _as_text(value)
                    for name, marker in markers.items():
                        if marker in text:
                            found.setdefault(name, []).append(f"{table.name}.{column}")
        for name in _in_search_index(connection, markers):
            found.setdefault(name, []).append("search index")
    media = Path(app.config["MEDIA_DIR"])
    for path in media.rglob("*") if media.exists() else []:
        if path.is_file():
            data = path.read_bytes()
            for name, marker in markers.items():
                if marker.encode() in data or marker in str(path):
                    found.setdefault(name, []).append(f"media:{path.relative_to(media)}")
    for name, marker in markers.items():
        if marker in logs:
            found.setdefault(name, []).append("logs")
    return found


def _in_search_index(connection, markers: dict[str, str]) -> list[str]:
    """Markers whose every trigram is a term of SQLite's FTS5 index (it keeps no text itself).

    PostgreSQL's pg_trgm index keeps trigrams in the index pages only, like any index.
    """
    if connection.dialect.name != "sqlite":
        return []
    connection.exec_driver_sql(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_terms "
        f"USING fts5vocab(main, {search.FTS_TABLE}, row)"
    )
    terms = set(connection.scalars(text("SELECT term FROM temp.search_terms")))
    return [
        name
        for name, marker in markers.items()
        if all(marker[i : i + 3].lower() in terms for i in range(len(marker) - 2))
    ]


def _logs(caplog) -> str:
    return caplog.text + "\n".join(record.getMessage() for record in caplog.records)


def _survey_for(session, community_id: int) -> tuple[Survey, SurveyQuestion]:
    survey = Survey(title="สำรวจความต้องการ", intro="ขอความร่วมมือค่ะ", all_communities=False)
    survey.targets.append(SurveyTarget(community_id=community_id))
    question = SurveyQuestion(position=0, type="text", text="ข้อเสนอแนะ", required=False)
    survey.questions.append(question)
    session.add(survey)
    session.flush()
    sending.queue_survey(session, survey, lambda: Quota(limit=None, used=0))
    session.commit()
    return survey, question


def plant(app, line, line_api, session, make_user, login, monkeypatch, m: Markers) -> None:
    """Put each marker where a resident's data goes, through the product's own paths."""
    line_api.display_names[m.user] = f"สมศรี {m.name}"
    join(line, line_api, user=m.user)
    line.send(line_events.text(f"ถนนหน้าบ้าน {m.text} เป็นหลุมใหญ่ค่ะ", m.user))
    photo_id = str(900000 + uuid.uuid4().int % 99999)
    line_api.content[photo_id] = (_photo(m.photo), "image/jpeg")
    line.send(line_events.event("image", m.user, id=photo_id))
    line.send(line_events.event("location", m.user, title=m.title, address=""))
    press(line, button(last(line_api), "เสร็จสิ้น"), m.user)
    line.send(line_events.text("ติดตามเรื่อง", m.user))  # a reply quoting the need's words
    line.send(line_events.text(f"ข้อความระหว่างส่งต่อ {m.standby}", m.user, mode="standby"))
    with monkeypatch.context() as patch:

        def fails(context, event, reading):
            raise ValueError(f"cannot handle {event.text}")

        patch.setattr(conversation, "handle_event", fails)
        line.send(line_events.text(f"ข้อความที่ล้มเหลว {m.failing}", m.user))
    # It waits for its retry (with its error stored) while the rest happens.
    session.execute(
        update(InboxEvent)
        .where(InboxEvent.status == "pending", InboxEvent.error.is_not(None))
        .values(next_attempt_at=utcnow() + timedelta(hours=1))
    )
    session.commit()

    resident = session.scalar(select(Resident).where(Resident.line_user_id == m.user))
    survey, question = _survey_for(session, resident.community_id)
    line.worker.drain()  # sends the invitation
    line.send(line_events.postback(f"sv={survey.id}&q={question.id}&a=edit", m.user))
    line.send(line_events.text(f"อยากให้ซ่อมไฟถนนหน้าวัด {m.survey} ค่ะ", m.user))

    need = session.scalar(
        select(Submission)
        .where(Submission.resident_id == resident.id, Submission.source == "line")
        .order_by(Submission.id)
    )
    staff_client = app.test_client()
    login(staff_client, make_user("staff"))
    url = f"/dashboard/submissions/{need.id}"
    assert (
        staff_client.get("/dashboard/submissions", query_string={"q": m.search}).status_code == 200
    )
    assert (
        staff_client.get(
            "/dashboard/exports/submissions.csv", query_string={"q": m.search}
        ).status_code
        == 200
    )
    staff_client.post(f"{url}/classify", data={"strategy": "LPN-S1", "kind": "complaint"})
    staff_client.post(
        f"{url}/status",
        data={
            "status": "out_of_scope",
            "detail": f"ส่งต่อการไฟฟ้า แจ้งโดย {m.note}",
            "public_note": f"เรียนคุณ {m.note}",
            "internal_note": f"ผู้แจ้งคือ {m.note}",
        },
    )
    line.worker.drain()  # the status push
    # Staff let the public pages show its words; it joins a project whose news goes out on LINE.
    staff_client.post(f"{url}/publishable", data={"publishable": "1"})
    project = plan.create_project(
        session, strategy="LPN-S1", programme="สาธารณสุข", name="ซ่อมถนนชุมชน"
    )
    session.add(plan.ProjectNeed(project=project, submission_id=need.id, linked_by="user:1"))
    plan.set_progress(project, execution="in_progress")
    session.commit()
    project_news.run(app)
    line.worker.drain()
    assert m.text in public_pages(app)
    # The same resident also called the office: staff took a need with their contact.
    staff_client.post(
        "/dashboard/intake/new",
        data={
            "source": "phone",
            "community": str(resident.community_id),
            "text": f"โทรมาแจ้งว่าไฟดับ {m.text}",
            "contact_name": f"คุณ {m.contact}",
            "contact_phone": "0812345678",
            "contact_consent": "1",
        },
    )

    # The simulator keeps a pretend LINE chat in the same database.
    session.add(SimulatorResident(user_id=m.user, display_name=m.name, following=True))
    session.add(
        SimulatorMessage(
            user_id=m.user, sender="resident", via="text", message={"type": "text", "text": m.chat}
        )
    )
    session.add(
        SimulatorContent(
            line_message_id=photo_id, user_id=m.user, content_type="image/jpeg", data=_photo(m.chat)
        )
    )
    session.commit()


# Where each marker must be before erasure: proof that it was planted and that the search sees it.
PLANTED = {
    "user": "residents.line_user_id",
    "name": "residents.display_name",
    "text": "submissions.text",  # and, on SQLite, the "search index"
    "title": "submissions.address",
    "photo": "media:",
    "survey": "survey_answers.text",
    "standby": "inbox_events.payload",
    "failing": "inbox_events.payload",
    "note": "submission_events.public_note",
    "chat": "simulator_messages.message",
    "contact": "submissions.contact_name",
}


def public_pages(app) -> str:
    """Return the text of the public list, tracking and project pages (fresh, not cached)."""
    app.extensions["ruamkid_public"]["pages"].clear()
    client = app.test_client()
    with session_factory(app)() as session:
        numbers = list(session.scalars(select(Submission.tracking_no)))
        projects = list(session.scalars(select(plan.Project.id)))
    urls = ["/public/", "/public/projects"]
    urls += [f"/public/track/{n}" for n in numbers if n]
    urls += [f"/public/projects/{p}" for p in projects]
    return "\n".join(client.get(url).get_data(as_text=True) for url in urls)


def _check_planted(found: dict[str, list[str]]) -> None:
    for name, place in PLANTED.items():
        places = (place,) if isinstance(place, str) else place
        spots = found.get(name, [])
        assert any(spot.startswith(places) for spot in spots), (name, spots)
    # Words that must never be stored or logged, not even before erasure:
    assert "search" not in found, found["search"]
    assert "logs" not in {spot for spots in found.values() for spot in spots}


@pytest.fixture
def planted(app, line, line_api, session, make_user, login, monkeypatch, caplog):
    """Two residents with markers everywhere; returns (theirs, someone else's)."""
    caplog.set_level("DEBUG")
    mine, others = Markers.new(), Markers.new()
    plant(app, line, line_api, session, make_user, login, monkeypatch, mine)
    plant(app, line, line_api, session, make_user, login, monkeypatch, others)
    _check_planted(where_found(app, mine.all(), _logs(caplog)))
    return mine, others


def test_erasure_on_request_leaves_no_marker_anywhere(
    app, line, line_api, planted, caplog, make_user, login
):
    mine, others = planted
    if session_factory(app).kw["bind"].dialect.name == "sqlite":  # the index saw the words
        assert "search index" in where_found(app, mine.all(), "")["text"]
    line.send(line_events.text("ลบข้อมูลของฉัน", mine.user))
    press(line, button(last(line_api), "ยืนยันลบข้อมูล"), mine.user)
    line.worker.drain()
    # What they gave by phone has no LINE account behind it: an admin erases it on request.
    admin = app.test_client()
    login(admin, make_user("admin"))
    with session_factory(app)() as session:
        called = session.scalar(
            select(Submission.id).where(Submission.contact_name.contains(mine.contact))
        )
    admin.post(f"/dashboard/intake/erase/{called}", data={"confirm": "1"})
    confirmation = line_api.sent("reply")[-1]["messages"][0]["text"]
    assert "ลบข้อมูลของท่านเรียบร้อยแล้ว" in confirmation  # sent, then forgotten

    assert where_found(app, mine.all(), _logs(caplog)) == {}
    # Someone else's data is untouched (and the search would have seen it).
    _check_planted(where_found(app, others.all(), _logs(caplog)))
    pages = public_pages(app)
    assert mine.text not in pages and others.text in pages


def test_the_retention_period_leaves_no_marker_anywhere(app, planted, runner, caplog):
    mine, others = planted
    long_ago = utcnow() - timedelta(days=366 * app.extensions["ruamkid"].retention_years)
    with session_factory(app)() as session:
        # Everything happened long ago …
        for table in metadata.sorted_tables:
            for column in table.columns:
                if isinstance(column.type, DateTime) or "DateTime" in type(column.type).__name__:
                    session.execute(
                        update(table).where(column.is_not(None)).values({column.name: long_ago})
                    )
        # … but the other resident wrote again today.
        other = session.scalar(select(Resident).where(Resident.line_user_id == others.user))
        session.add(
            Submission(resident=other, text="ยังใช้งานอยู่ค่ะ", community_id=other.community_id, top3=[])
        )
        session.commit()
    result = runner.invoke(main, ["privacy", "purge"])
    assert result.exit_code == 0, result.output
    assert "1 คน" in result.output  # one idle resident erased

    found = where_found(app, mine.all(), _logs(caplog))
    assert found == {}
    still = where_found(app, others.all(), _logs(caplog))
    assert still.get("user") and still.get("name")  # a resident still active keeps their record
    assert "text" not in still  # but words older than the period go for everyone
    pages = public_pages(app)
    assert mine.text not in pages and others.text not in pages


def test_purge_keeps_what_is_within_its_period(app, planted, runner):
    mine, _ = planted
    result = runner.invoke(main, ["privacy", "purge"])
    assert result.exit_code == 0, result.output
    found = where_found(app, mine.all(), "")
    assert {"user", "name", "text", "photo", "survey"} <= set(found)


@pytest.mark.parametrize("user", [OTHER_USER])
def test_the_erasure_confirmation_is_sent_once_then_forgotten(line, line_api, session, user):
    from storage.models import OutboxMessage

    join(line, line_api, user=user)
    line.send(line_events.text("ลบข้อมูลของฉัน", user))
    press(line, button(last(line_api), "ยืนยันลบข้อมูล"), user)
    replies = [
        b for b in line_api.sent("reply") if "เรียบร้อยแล้ว" in json.dumps(b, ensure_ascii=False)
    ]
    assert len(replies) == 1
    session.expire_all()
    rows = list(session.scalars(select(OutboxMessage)))
    assert rows and all(row.status == "sent" for row in rows)
    assert all(user not in json.dumps(row.to) for row in rows)
    assert all("เรียบร้อยแล้ว" not in json.dumps(row.messages, ensure_ascii=False) for row in rows)
    assert session.scalar(select(Community.id)) is not None


def test_retention_erases_what_a_partner_app_sent(app, client, caplog):
    """Open311: the reporter's email, names and phone, and the need's words and place."""
    with session_factory(app)() as session:
        _row, api_key = open311.issue_key(session, "แอปพันธมิตร")
        session.commit()
    markers = {
        "email": "mkreporter1@example.com",
        "first": "mkfirstname1",
        "last": "mklastname1",
        "phone": "+66 81 555 0142",
        "text": "mkwords1 ถนนพัง",
        "address": "mkaddress1 ซอย 9",
    }
    answer = client.post(
        "/open311/v2/requests.json",
        data={
            "api_key": api_key,
            "service_code": "LPN-S7.1",
            "lat": "18.5801",
            "long": "99.0012",
            "description": markers["text"],
            "address_string": markers["address"],
            "email": markers["email"],
            "first_name": markers["first"],
            "last_name": markers["last"],
            "phone": markers["phone"],
        },
    )
    assert answer.status_code == 201
    logs = caplog.text
    assert set(where_found(app, markers, logs)) == set(markers)  # planted, and seen
    with session_factory(app)() as session:
        assert erasure.erase_older_than(
            session, utcnow() + timedelta(seconds=1), app.config["MEDIA_DIR"]
        )
        session.commit()
    assert where_found(app, markers, caplog.text) == {}
