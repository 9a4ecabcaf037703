"""Core models: residents, communities, submissions and their media, the webhook inbox,
the LINE outbox, and staff labels for the classifier.

Staff accounts, projects and surveys live in their own modules (``storage.staff``,
``storage.surveys``) on the same ``Base``.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.base import Base, utcnow

# The needs anyone may see (storage.public's rules), as SQL with literal values: the partial
# index below is made with this WHERE and the public queries repeat it term for term, which is
# how SQLite and PostgreSQL know the index holds every row they ask for.
PUBLIC_WHERE = (
    "tracking_no IS NOT NULL AND redacted_at IS NULL AND merged_into_id IS NULL"
    " AND status <> 'duplicate' AND kind <> 'other'"
)


class Community(Base):
    """A community (ชุมชน) of the municipality; seeded from configuration, edited by admins."""

    __tablename__ = "communities"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The community's centre: where its public needs without a place are shown, and the
    # tile-less map's dot.
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<Community {self.id}>"


class Forum(Base):
    """A community forum (ประชาคม) whose needs staff entered: when, where, how many came."""

    __tablename__ = "forums"

    id: Mapped[int] = mapped_column(primary_key=True)
    held_on: Mapped[date]
    community_id: Mapped[int | None] = mapped_column(
        ForeignKey("communities.id", ondelete="SET NULL"), index=True
    )
    place: Mapped[str] = mapped_column(String(300))
    attendees: Mapped[int] = mapped_column(Integer, default=0)
    # The minutes (a staff upload, never public); relative to MEDIA_DIR.
    minutes_path: Mapped[str | None] = mapped_column(String(500))
    minutes_name: Mapped[str | None] = mapped_column(String(200))
    minutes_type: Mapped[str | None] = mapped_column(String(100))
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    community: Mapped[Community | None] = relationship()

    def __repr__(self) -> str:
        return f"<Forum {self.id}>"


class Resident(Base):
    """A LINE user who follows the account. Personal data: deletable on request."""

    __tablename__ = "residents"

    id: Mapped[int] = mapped_column(primary_key=True)
    line_user_id: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    community_id: Mapped[int | None] = mapped_column(
        ForeignKey("communities.id", ondelete="SET NULL"), index=True
    )
    # pending → given | declined
    consent: Mapped[str] = mapped_column(String(16), default="pending")
    consented_at: Mapped[datetime | None]
    # False after unfollow: no more pushes.
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # False once the resident said in chat they want no news of the plan projects behind
    # their needs.
    project_updates: Mapped[bool] = mapped_column(Boolean, default=True)
    # LINE's time (ms) of the latest follow or unfollow applied: an older one arriving late
    # (a redelivery) must not undo it.
    follow_changed_ms: Mapped[int | None] = mapped_column(BigInteger)
    # Small conversation state (what the bot is waiting for); plain JSON, never message text.
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    community: Mapped[Community | None] = relationship()

    def __repr__(self) -> str:
        return f"<Resident {self.id}>"


class Submission(Base):
    """A need, problem, question or suggestion sent by a resident (or entered from a survey)."""

    __tablename__ = "submissions"
    __table_args__ = (
        Index("ix_submissions_status_id", "status", "id"),
        Index("ix_submissions_strategy_id", "strategy", "id"),
        Index("ix_submissions_community_id_id", "community_id", "id"),
        Index("ix_submissions_created_at", "created_at"),
        Index("ix_submissions_division_id_id", "division_id", "id"),
        Index("ix_submissions_assignee_id_id", "assignee_id", "id"),
        # The public pages' tally (storage.public.public_tally) reads this index alone.
        Index(
            "ix_submissions_public_tally",
            "strategy",
            "subarea",
            "status",
            "community_id",
            postgresql_where=text(PUBLIC_WHERE),
            sqlite_where=text(PUBLIC_WHERE),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tracking_no: Mapped[str | None] = mapped_column(String(32), unique=True)
    resident_id: Mapped[int | None] = mapped_column(
        ForeignKey("residents.id", ondelete="SET NULL"), index=True
    )
    community_id: Mapped[int | None] = mapped_column(
        ForeignKey("communities.id", ondelete="SET NULL")
    )
    # line | survey | staff | phone | paper | counter | forum
    source: Mapped[str] = mapped_column(String(16), default="line")
    # None once the resident asked for deletion (only anonymous counts stay).
    text: Mapped[str | None] = mapped_column(Text)
    strategy: Mapped[str | None] = mapped_column(String(32))
    subarea: Mapped[str | None] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16), default="need")
    confidence: Mapped[float | None] = mapped_column(Float)
    top3: Mapped[list[Any]] = mapped_column(JSON, default=list)
    unsure: Mapped[bool] = mapped_column(Boolean, default=False)
    model_version: Mapped[str | None] = mapped_column(String(64))
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary)
    # True once staff confirmed or corrected the classification.
    label_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(24), default="new")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    address: Mapped[str | None] = mapped_column(Text)
    # The resident still has to describe a photo or location sent on its own.
    awaiting_description: Mapped[bool] = mapped_column(Boolean, default=False)
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("submissions.id", ondelete="SET NULL"), index=True
    )
    # Staff allow the words on the public pages (storage.public); off by default.
    publishable: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    first_response_at: Mapped[datetime | None]
    redacted_at: Mapped[datetime | None]
    # Closing the loop: when it was last marked done, the resident's rating (1–5), how often
    # "ยังไม่เรียบร้อย" reopened it, and the older need a late "not fixed" continues.
    done_at: Mapped[datetime | None]
    rating: Mapped[int | None] = mapped_column(Integer)
    rated_at: Mapped[datetime | None]
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    reopened_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("submissions.id", ondelete="SET NULL"), index=True
    )
    # Personal data of a need taken by phone, on paper or at the counter (erased with it).
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_phone: Mapped[str | None] = mapped_column(String(32))
    # A forum's need and the rank the forum gave it (1 = first).
    forum_id: Mapped[int | None] = mapped_column(
        ForeignKey("forums.id", ondelete="SET NULL"), index=True
    )
    forum_rank: Mapped[int | None] = mapped_column(Integer)
    # Routing (storage.routing): the division responsible, an optional assignee, the due date
    # of its service level, and when it was resolved (for the time to resolve).
    division_id: Mapped[int | None] = mapped_column(ForeignKey("divisions.id", ondelete="SET NULL"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    due_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]

    resident: Mapped[Resident | None] = relationship()
    community: Mapped[Community | None] = relationship()
    forum: Mapped[Forum | None] = relationship()
    media: Mapped[list[Media]] = relationship(
        back_populates="submission", cascade="all, delete-orphan", order_by="Media.id"
    )
    history: Mapped[list[SubmissionEvent]] = relationship(
        back_populates="submission", cascade="all, delete-orphan", order_by="SubmissionEvent.id"
    )

    def __repr__(self) -> str:
        return f"<Submission {self.id} {self.tracking_no}>"


class Media(Base):
    """A photo attached to a submission: downloaded from LINE by the worker, or uploaded by
    staff (a need taken at the counter, the "after" photo of finished work)."""

    __tablename__ = "media"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    line_message_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    # "resident" (sent with the need) or "after" (staff's photo of the finished work).
    role: Mapped[str] = mapped_column(String(16), default="resident")
    # pending → downloading → stored | failed
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    content_type: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[int | None] = mapped_column(Integer)
    # Relative to MEDIA_DIR.
    path: Mapped[str | None] = mapped_column(String(500))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    submission: Mapped[Submission] = relationship(back_populates="media")

    def __repr__(self) -> str:
        return f"<Media {self.id} {self.status}>"


class SubmissionEvent(Base):
    """One entry in a submission's history: who changed what, when."""

    __tablename__ = "submission_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # "resident", "system", or "user:<id>"
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    public_note: Mapped[str | None] = mapped_column(Text)
    internal_note: Mapped[str | None] = mapped_column(Text)

    submission: Mapped[Submission] = relationship(back_populates="history")

    def __repr__(self) -> str:
        return f"<SubmissionEvent {self.id} {self.action}>"


class InboxEvent(Base):
    """A webhook event stored before the 200 goes back; processed once by one worker."""

    __tablename__ = "inbox_events"
    __table_args__ = (Index("ix_inbox_events_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_event_id: Mapped[str] = mapped_column(String(64), unique=True)
    event_type: Mapped[str] = mapped_column(String(32))
    line_user_id: Mapped[str | None] = mapped_column(String(64), index=True)
    # The event as plain values (bot.line.events.IncomingEvent); cleared once processed.
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    mode: Mapped[str] = mapped_column(String(16), default="active")
    is_redelivery: Mapped[bool] = mapped_column(Boolean, default=False)
    # pending → processing → done | skipped | parked (failed too often; an admin retries or
    # discards it)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"<InboxEvent {self.id} {self.event_type} {self.status}>"


def new_retry_key() -> str:
    """Return a fresh X-Line-Retry-Key (a UUID)."""
    return str(uuid.uuid4())


class OutboxMessage(Base):
    """A reply, push or multicast waiting to be sent to LINE, retried with its own retry key."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # push | multicast (a push may carry a reply token to try first)
    kind: Mapped[str] = mapped_column(String(16), default="push")
    # A LINE user id for push; a JSON list of user ids for multicast.
    to: Mapped[Any] = mapped_column(JSON)
    reply_token: Mapped[str | None] = mapped_column(String(255))
    reply_deadline: Mapped[datetime | None]
    # LINE message objects as plain JSON (at most 5).
    messages: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    retry_key: Mapped[str] = mapped_column(String(36), default=new_retry_key, unique=True)
    # What the message is for, e.g. "reply", "status", "survey:12"; shown to staff.
    purpose: Mapped[str] = mapped_column(String(64), default="reply")
    # pending → sending → sent | failed (LINE refused) | skipped | unconfirmed (a reply whose
    # outcome cannot be known: never repeated) | parked (cannot succeed; an admin retries or
    # discards it)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None]
    # The call being made (reply, push, multicast), committed before LINE is called and cleared
    # once its outcome is known: a worker that finds it set after a crash knows that call may
    # have reached LINE.
    attempt_kind: Mapped[str | None] = mapped_column(String(16))
    attempted_at: Mapped[datetime | None]
    # "reply" or "push": how it finally went out.
    sent_via: Mapped[str | None] = mapped_column(String(16))
    request_id: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.kind} {self.status}>"


class TrainingLabel(Base):
    """A real resident's message with the label staff gave it: a training example.

    ``source`` is ``staff`` for a need staff confirmed or corrected in the queue, ``import`` for a
    row of an imported complaint book (``text_key`` then tells the same text in a later file).
    """

    __tablename__ = "training_labels"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int | None] = mapped_column(
        ForeignKey("submissions.id", ondelete="SET NULL"), index=True
    )
    text: Mapped[str | None] = mapped_column(Text)
    strategy: Mapped[str | None] = mapped_column(String(32))
    subarea: Mapped[str | None] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16), default="staff")
    # sha256 of the normalised text, for imported rows.
    text_key: Mapped[str | None] = mapped_column(String(64), index=True)
    # "user:<id>" of the staff member who confirmed, corrected or imported.
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<TrainingLabel {self.id} {self.source}>"


class TrainingRun(Base):
    """One "train now": asked for by staff (or the CLI), run by a worker, its result kept."""

    __tablename__ = "training_runs"
    __table_args__ = (Index("ix_training_runs_status_id", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # queued → running → done | failed
    status: Mapped[str] = mapped_column(String(16), default="queued")
    requested_by: Mapped[str | None] = mapped_column(String(64))
    # What training is doing now ("embed", "kind", …) and how far it got (0..1).
    stage: Mapped[str | None] = mapped_column(String(32))
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    labels_used: Mapped[int | None] = mapped_column(Integer)
    version: Mapped[str | None] = mapped_column(String(64))
    activated: Mapped[bool | None] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"<TrainingRun {self.id} {self.status}>"
