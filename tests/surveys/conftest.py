"""Fixtures for surveys: residents in communities, a four-question survey, sending it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.line.api import line_api as make_line_api
from bot.surveys import sending
from storage.base import utcnow
from storage.models import Community, Resident
from storage.surveys import Survey, SurveyOption, SurveyQuestion, SurveyTarget


def user_id(n: int) -> str:
    """Return a LINE-shaped user id for test resident ``n``."""
    return f"U{n:032x}"


@pytest.fixture
def communities(session: Session) -> list[Community]:
    """The seeded communities, in order."""
    return list(session.scalars(select(Community).order_by(Community.position)))


@pytest.fixture
def make_resident(session: Session) -> Callable[..., Resident]:
    """Create a resident: consenting and following unless told otherwise."""
    counter = iter(range(1, 100000))

    def make(community: Community | None, consent: str = "given", active: bool = True) -> Resident:
        n = next(counter)
        resident = Resident(
            line_user_id=user_id(n),
            display_name=f"ผู้ทดสอบ {n}",
            community_id=community.id if community else None,
            consent=consent,
            consented_at=utcnow() if consent == "given" else None,
            active=active,
        )
        session.add(resident)
        session.flush()
        return resident

    return make


QUESTIONS: list[dict[str, Any]] = [
    {
        "type": "single",
        "text": "เรื่องใดสำคัญที่สุดสำหรับชุมชนของท่าน",
        "options": ["ถนนและทางเท้า", "ไฟฟ้าส่องสว่าง", "ขยะ"],
    },
    {
        "type": "multiple",
        "text": "ท่านอยากให้มีกิจกรรมใดบ้าง",
        "options": ["ออกกำลังกาย", "ฝึกอาชีพ", "ดูแลผู้สูงอายุ"],
    },
    {"type": "rating", "text": "ความพึงพอใจต่อบริการของเทศบาล", "required": False},
    {"type": "text", "text": "ข้อเสนอแนะเพิ่มเติม", "required": False},
]


@pytest.fixture
def make_survey(session: Session) -> Callable[..., Survey]:
    """Create a draft survey with the four standard questions (or the ones given)."""

    def make(
        targets: list[Community] | None = None,
        questions: list[dict[str, Any]] | None = None,
        closes_in: timedelta | None = timedelta(days=7),
        title: str = "สำรวจความต้องการของชุมชน ปี 2570",
    ) -> Survey:
        survey = Survey(
            title=title,
            intro="ขอความร่วมมือตอบแบบสำรวจสั้น ๆ เพื่อใช้ทบทวนแผนพัฒนาชุมชนค่ะ",
            all_communities=targets is None,
            closes_at=utcnow() + closes_in if closes_in else None,
        )
        for community in targets or []:
            survey.targets.append(SurveyTarget(community_id=community.id))
        for position, spec in enumerate(QUESTIONS if questions is None else questions):
            question = SurveyQuestion(
                position=position,
                type=spec["type"],
                text=spec["text"],
                required=spec.get("required", True),
            )
            for index, label in enumerate(spec.get("options", [])):
                question.options.append(SurveyOption(position=index, label=label))
            survey.questions.append(question)
        session.add(survey)
        session.flush()
        return survey

    return make


@pytest.fixture
def send_survey(app, session: Session, worker) -> Callable[[Survey], sending.SendResult]:
    """Queue a survey with the stand-in's quota, commit, and let the worker send it."""

    def send(survey: Survey, drain: bool = True) -> sending.SendResult:
        api = make_line_api(app)
        try:
            result = sending.queue_survey(session, survey, api.quota)
        finally:
            api.close()
        session.commit()
        if drain:
            worker.drain()
        return result

    return send


# The dashboard's fixtures (make_user, login, CSRF switch) serve the survey pages' tests too.
from tests.staff.conftest import (  # noqa: E402, F401
    PASSWORD,
    app_config,
    csrf_enabled,
    csrf_token,
    login,
    make_user,
)
