"""Surveys sent by community leaders over LINE: questions, recipients and answers.

A survey targets every community or a set of them (``SurveyTarget``); sending it creates one
``SurveyRecipient`` per consenting resident and multicast rows in the outbox. Answers are one
row per (recipient, question): answering again updates the row.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from storage.base import Base, utcnow
from storage.models import Community

STATUSES = ("draft", "scheduled", "sending", "sent", "closed")
QUESTION_TYPES = ("single", "multiple", "rating", "text")
# A quick-reply row holds 13 buttons: 12 options and a skip (or "เสร็จ") button.
MAX_OPTIONS = 12
# LINE's quick-reply labels are at most 20 characters.
MAX_LABEL = 20
# The summary offers one "แก้ไขข้อ n" button per question in one quick-reply row.
MAX_QUESTIONS = 13
MAX_TITLE = 200
MAX_QUESTION_TEXT = 300
RECIPIENT_STATUSES = ("queued", "sent", "failed", "answering", "completed")


class Survey(Base):
    """A survey written by a leader or staff member and sent to residents of some communities."""

    __tablename__ = "surveys"
    __table_args__ = (Index("ix_surveys_status_send_at", "status", "send_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(MAX_TITLE))
    intro: Mapped[str] = mapped_column(Text, default="")
    # draft → scheduled → sending → sent → closed
    status: Mapped[str] = mapped_column(String(16), default="draft")
    # True: every community; False: only the communities in ``targets``.
    all_communities: Mapped[bool] = mapped_column(Boolean, default=False)
    send_at: Mapped[datetime | None]
    closes_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    # Why the last scheduled send was refused (e.g. the month's quota), in Thai, for the leader.
    send_error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    questions: Mapped[list[SurveyQuestion]] = relationship(
        back_populates="survey",
        cascade="all, delete-orphan",
        order_by="SurveyQuestion.position",
    )
    targets: Mapped[list[SurveyTarget]] = relationship(
        back_populates="survey", cascade="all, delete-orphan"
    )

    @property
    def community_ids(self) -> set[int]:
        """Return the ids of the targeted communities (empty when all are targeted)."""
        return {t.community_id for t in self.targets}

    def is_open(self, now: datetime) -> bool:
        """Tell whether residents may still answer (sent and not yet closed)."""
        if self.status not in {"sending", "sent"}:
            return False
        return self.closes_at is None or now < self.closes_at

    def __repr__(self) -> str:
        return f"<Survey {self.id} {self.status}>"


class SurveyTarget(Base):
    """One community a survey is sent to."""

    __tablename__ = "survey_targets"

    survey_id: Mapped[int] = mapped_column(
        ForeignKey("surveys.id", ondelete="CASCADE"), primary_key=True
    )
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), primary_key=True, index=True
    )

    survey: Mapped[Survey] = relationship(back_populates="targets")
    community: Mapped[Community] = relationship()

    def __repr__(self) -> str:
        return f"<SurveyTarget {self.survey_id}:{self.community_id}>"


class SurveyQuestion(Base):
    """A question: single or multiple choice, a 1–5 rating, or free text."""

    __tablename__ = "survey_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    # single | multiple | rating | text
    type: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(String(MAX_QUESTION_TEXT))
    required: Mapped[bool] = mapped_column(Boolean, default=True)

    survey: Mapped[Survey] = relationship(back_populates="questions")
    options: Mapped[list[SurveyOption]] = relationship(
        back_populates="question",
        cascade="all, delete-orphan",
        order_by="SurveyOption.position",
    )

    def __repr__(self) -> str:
        return f"<SurveyQuestion {self.id} {self.type}>"


class SurveyOption(Base):
    """A choice of a single- or multiple-choice question (fits a quick-reply label)."""

    __tablename__ = "survey_options"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(
        ForeignKey("survey_questions.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    label: Mapped[str] = mapped_column(String(MAX_LABEL))

    question: Mapped[SurveyQuestion] = relationship(back_populates="options")

    def __repr__(self) -> str:
        return f"<SurveyOption {self.id}>"


class SurveyRecipient(Base):
    """A resident a survey was sent to, with where they are in it."""

    __tablename__ = "survey_recipients"
    __table_args__ = (
        UniqueConstraint("survey_id", "resident_id", name="uq_survey_recipients_survey_resident"),
        Index("ix_survey_recipients_survey_status", "survey_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    # NULL once the resident deleted their data: the anonymous answers still count.
    resident_id: Mapped[int | None] = mapped_column(
        ForeignKey("residents.id", ondelete="SET NULL"), index=True
    )
    # The resident's community when the survey was sent (response rate per community).
    community_id: Mapped[int | None] = mapped_column(
        ForeignKey("communities.id", ondelete="SET NULL")
    )
    # The multicast row that carried the invitation.
    outbox_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_messages.id", ondelete="SET NULL"), index=True
    )
    # queued → sent | failed → answering → completed
    status: Mapped[str] = mapped_column(String(16), default="queued")
    current_question_id: Mapped[int | None] = mapped_column(
        ForeignKey("survey_questions.id", ondelete="SET NULL")
    )
    last_activity_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    survey: Mapped[Survey] = relationship()
    answers: Mapped[list[SurveyAnswer]] = relationship(
        back_populates="recipient", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<SurveyRecipient {self.id} {self.status}>"


class SurveyAnswer(Base):
    """One resident's answer to one question; changing the answer updates this row."""

    __tablename__ = "survey_answers"
    __table_args__ = (
        UniqueConstraint(
            "recipient_id", "question_id", name="uq_survey_answers_recipient_question"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(
        ForeignKey("survey_recipients.id", ondelete="CASCADE")
    )
    question_id: Mapped[int] = mapped_column(
        ForeignKey("survey_questions.id", ondelete="CASCADE"), index=True
    )
    # Chosen option ids (one for single choice); empty for rating, text or a skip.
    option_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    rating: Mapped[int | None] = mapped_column(Integer)
    # Free text; None once the resident deleted their data.
    text: Mapped[str | None] = mapped_column(Text)
    skipped: Mapped[bool] = mapped_column(Boolean, default=False)
    # The classifier's view of a free-text answer (kind, strategy, names, confidence).
    classification: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # A free-text answer that is a request also lives in the staff queue as a submission.
    submission_id: Mapped[int | None] = mapped_column(
        ForeignKey("submissions.id", ondelete="SET NULL"), index=True
    )
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    recipient: Mapped[SurveyRecipient] = relationship(back_populates="answers")
    question: Mapped[SurveyQuestion] = relationship()

    def __repr__(self) -> str:
        return f"<SurveyAnswer {self.id}>"


# --- repository functions --------------------------------------------------------------------


def get_survey(session: Session, survey_id: int) -> Survey | None:
    """Return the survey with ``survey_id``, or None."""
    return session.get(Survey, survey_id)


def list_surveys(session: Session, community_ids: set[int] | None = None) -> list[Survey]:
    """Return surveys newest first; with ``community_ids``, only those targeting them only."""
    statement = select(Survey).order_by(Survey.id.desc())
    surveys = list(session.scalars(statement))
    if community_ids is None:
        return surveys
    return [
        s
        for s in surveys
        if not s.all_communities and s.community_ids and s.community_ids <= community_ids
    ]


def get_recipient(session: Session, survey_id: int, resident_id: int) -> SurveyRecipient | None:
    """Return the resident's place in a survey, or None if it was not sent to them."""
    return session.scalar(
        select(SurveyRecipient).where(
            SurveyRecipient.survey_id == survey_id, SurveyRecipient.resident_id == resident_id
        )
    )


def answers_by_question(session: Session, recipient_id: int) -> dict[int, SurveyAnswer]:
    """Return a recipient's answers keyed by question id."""
    rows = session.scalars(select(SurveyAnswer).where(SurveyAnswer.recipient_id == recipient_id))
    return {a.question_id: a for a in rows}


def open_surveys_for(session: Session, resident_id: int, now: datetime) -> list[Survey]:
    """Return the surveys sent to a resident that still take answers, oldest first."""
    statement = (
        select(Survey)
        .join(SurveyRecipient, SurveyRecipient.survey_id == Survey.id)
        .where(SurveyRecipient.resident_id == resident_id, Survey.status.in_(("sending", "sent")))
        .order_by(Survey.id)
    )
    return [s for s in session.scalars(statement) if s.is_open(now)]


def count_recipients(session: Session, survey_id: int) -> dict[str, int]:
    """Return how many recipients of a survey are in each status."""
    statement = (
        select(SurveyRecipient.status, func.count())
        .where(SurveyRecipient.survey_id == survey_id)
        .group_by(SurveyRecipient.status)
    )
    return {status: count for status, count in session.execute(statement)}


def forget_resident(session: Session, resident_id: int) -> int:
    """Erase a resident's free-text answers and unlink their recipient rows; return how many.

    Called when a resident asks for their data to be deleted: choices and ratings stay as
    anonymous counts, the words they typed go.
    """
    recipient_ids = list(
        session.scalars(
            select(SurveyRecipient.id).where(SurveyRecipient.resident_id == resident_id)
        )
    )
    if not recipient_ids:
        return 0
    answers = session.scalars(
        select(SurveyAnswer).where(
            SurveyAnswer.recipient_id.in_(recipient_ids), SurveyAnswer.text.is_not(None)
        )
    )
    erased = 0
    for answer in answers:
        answer.text = None
        erased += 1
    for recipient in session.scalars(
        select(SurveyRecipient).where(SurveyRecipient.id.in_(recipient_ids))
    ):
        recipient.resident_id = None
    return erased


def forget_answer_texts(
    session: Session, *, before: datetime | None = None, submission_ids: list[int] | None = None
) -> int:
    """Erase the free text of answers given before ``before`` or filed as these submissions;
    return how many. Choices, ratings and the classification's category stay."""
    conditions = []
    if before is not None:
        conditions.append(SurveyAnswer.answered_at < before)
    if submission_ids:
        conditions.append(SurveyAnswer.submission_id.in_(submission_ids))
    if not conditions:
        return 0
    result = session.execute(
        update(SurveyAnswer)
        .where(or_(*conditions), SurveyAnswer.text.is_not(None))
        .values(text=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0
