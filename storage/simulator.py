"""Tables of the chat simulator: its residents, what each side said, photos and rich menus.

Only the simulator (development, no LINE channel) writes here; the tables are kept in the
database rather than in memory so several web processes and workers see the same chat.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Index, LargeBinary, String, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.base import Base, utcnow


class SimulatorResident(Base):
    """A pretend LINE user of the simulator page."""

    __tablename__ = "simulator_residents"

    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    following: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<SimulatorResident {self.user_id} following={self.following}>"


class SimulatorMessage(Base):
    """One message in a simulated chat: from the resident, or sent by the bot through the API."""

    __tablename__ = "simulator_messages"
    __table_args__ = (Index("ix_simulator_messages_user_id_id", "user_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64))
    # "resident" for what the page sent, "bot" for what the app sent to the API stand-in.
    sender: Mapped[str] = mapped_column(String(16))
    # resident: text, image, location, postback, follow, unfollow; bot: reply, push, multicast.
    via: Mapped[str] = mapped_column(String(16))
    message: Mapped[dict[str, Any]] = mapped_column(JSON)
    line_message_id: Mapped[str | None] = mapped_column(String(32))
    retry_key: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<SimulatorMessage {self.id} {self.sender}/{self.via} to {self.user_id}>"


class SimulatorReplyToken(Base):
    """A reply token handed out with a simulated event; LINE accepts each one once."""

    __tablename__ = "simulator_reply_tokens"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"<SimulatorReplyToken for {self.user_id} used={self.used_at is not None}>"


class SimulatorContent(Base):
    """A photo the page uploaded, served back as LINE's message content."""

    __tablename__ = "simulator_content"

    line_message_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(100))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<SimulatorContent {self.line_message_id} {self.content_type}>"


class SimulatorRichMenu(Base):
    """A rich menu created through the API stand-in, with its image once uploaded."""

    __tablename__ = "simulator_rich_menus"

    rich_menu_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    menu: Mapped[dict[str, Any]] = mapped_column(JSON)
    image: Mapped[bytes | None] = mapped_column(LargeBinary)
    image_type: Mapped[str | None] = mapped_column(String(100))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<SimulatorRichMenu {self.rich_menu_id} default={self.is_default}>"


def messages_after(
    session: Session, user_id: str, after_id: int = 0, limit: int = 200
) -> list[SimulatorMessage]:
    """Return the chat messages of ``user_id`` newer than ``after_id``, oldest first."""
    statement = (
        select(SimulatorMessage)
        .where(SimulatorMessage.user_id == user_id, SimulatorMessage.id > after_id)
        .order_by(SimulatorMessage.id)
        .limit(limit)
    )
    return list(session.scalars(statement))


def bot_messages(session: Session, user_id: str | None = None) -> list[SimulatorMessage]:
    """Return what the bot sent (to one user if given), oldest first."""
    statement = select(SimulatorMessage).where(SimulatorMessage.sender == "bot")
    if user_id is not None:
        statement = statement.where(SimulatorMessage.user_id == user_id)
    return list(session.scalars(statement.order_by(SimulatorMessage.id)))


def retry_key_used(session: Session, retry_key: str) -> list[SimulatorMessage]:
    """Return the messages already accepted under ``retry_key`` (empty if it is new)."""
    statement = select(SimulatorMessage).where(SimulatorMessage.retry_key == retry_key)
    return list(session.scalars(statement.order_by(SimulatorMessage.id)))


def pushes_since(session: Session, since: datetime) -> int:
    """Count the bot's pushed and multicast messages since ``since`` (the quota's usage)."""
    statement = select(func.count(SimulatorMessage.id)).where(
        SimulatorMessage.sender == "bot",
        SimulatorMessage.via.in_(("push", "multicast")),
        SimulatorMessage.created_at >= since,
    )
    return int(session.scalar(statement) or 0)


def forget_user(session: Session, user_id: str) -> None:
    """Erase a pretend user: their chat, photos, reply tokens and profile (erasure on request)."""
    for model in (SimulatorMessage, SimulatorContent, SimulatorReplyToken, SimulatorResident):
        session.execute(delete(model).where(model.user_id == user_id))


def forget_before(session: Session, before: datetime) -> int:
    """Erase pretend users, chat messages and photos older than ``before``; return how many."""
    removed = 0
    for model, column in (
        (SimulatorMessage, SimulatorMessage.created_at),
        (SimulatorContent, SimulatorContent.created_at),
        (SimulatorResident, SimulatorResident.created_at),
    ):
        removed += session.execute(delete(model).where(column < before)).rowcount or 0
    return removed


def forget_reply_tokens(session: Session, before: datetime) -> int:
    """Drop reply tokens issued before ``before`` (LINE's last a minute); return how many."""
    statement = delete(SimulatorReplyToken).where(SimulatorReplyToken.issued_at < before)
    return session.execute(statement).rowcount or 0


def default_rich_menu(session: Session) -> SimulatorRichMenu | None:
    """Return the rich menu every user sees, if one was set."""
    statement = select(SimulatorRichMenu).where(SimulatorRichMenu.is_default.is_(True))
    return session.scalars(statement.limit(1)).first()


__all__ = [
    "SimulatorContent",
    "SimulatorMessage",
    "SimulatorReplyToken",
    "SimulatorResident",
    "SimulatorRichMenu",
    "bot_messages",
    "default_rich_menu",
    "forget_before",
    "forget_reply_tokens",
    "forget_user",
    "messages_after",
    "pushes_since",
    "retry_key_used",
]
