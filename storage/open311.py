"""Open311 GeoReport v2: the API keys partner apps file needs with, and who filed each need.

A key is shown once when it is issued; only its SHA-256 is stored. A reporter's email, name and
phone are personal data kept beside the need and erased with its words
(``bot.needs.erasure.redact`` calls :func:`forget_reporters`). Repository functions take a
session and never commit: the caller does.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import ForeignKey, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.base import Base, utcnow

MAX_NAME = 100


class Open311Key(Base):
    """A partner app's key for ``POST requests``; revoked keys stay for the audit trail."""

    __tablename__ = "open311_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(MAX_NAME))
    # SHA-256 of the key: a stolen database gives no usable key.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]

    @property
    def active(self) -> bool:
        """Whether the key still files needs."""
        return self.revoked_at is None

    def __repr__(self) -> str:
        return f"<Open311Key {self.id}>"


class Open311Reporter(Base):
    """Who filed a need through a partner app (personal data: erased with the need's words)."""

    __tablename__ = "open311_reporters"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), unique=True
    )
    key_id: Mapped[int | None] = mapped_column(
        ForeignKey("open311_keys.id", ondelete="SET NULL"), index=True
    )
    email: Mapped[str | None] = mapped_column(String(254))
    first_name: Mapped[str | None] = mapped_column(String(MAX_NAME))
    last_name: Mapped[str | None] = mapped_column(String(MAX_NAME))
    phone: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<Open311Reporter {self.id}>"


def hash_key(key: str) -> str:
    """Return the stored form of a key: its SHA-256 in hex."""
    return hashlib.sha256(key.encode()).hexdigest()


def issue_key(session: Session, name: str, created_by: str | None = None) -> tuple[Open311Key, str]:
    """Create a key named ``name``; return the row and the key itself (shown once, never kept).

    >>> len(hash_key("x"))
    64
    """
    name = " ".join((name or "").split())
    if not name:
        raise ValueError("กรุณาตั้งชื่อกุญแจ เช่น ชื่อแอปพลิเคชันของหน่วยงานที่ใช้")
    if len(name) > MAX_NAME:
        raise ValueError(f"ชื่อกุญแจยาวได้ไม่เกิน {MAX_NAME} ตัวอักษร")
    key = secrets.token_urlsafe(32)
    row = Open311Key(name=name, key_hash=hash_key(key), created_by=created_by)
    session.add(row)
    session.flush()
    return row, key


def active_key(session: Session, key: str | None) -> Open311Key | None:
    """Return the active key row for ``key`` (None when unknown, blank or revoked)."""
    if not key:
        return None
    row = session.scalar(select(Open311Key).where(Open311Key.key_hash == hash_key(key)))
    return row if row is not None and row.active else None


def list_keys(session: Session) -> list[Open311Key]:
    """Return every key, newest first."""
    return list(session.scalars(select(Open311Key).order_by(Open311Key.id.desc())))


def revoke_key(session: Session, key_id: int, now: datetime | None = None) -> Open311Key | None:
    """Revoke a key at once; return it (None when there is no such key)."""
    row = session.get(Open311Key, key_id)
    if row is not None and row.revoked_at is None:
        row.revoked_at = now or utcnow()
    return row


def forget_reporters(session: Session, submission_ids: list[int]) -> int:
    """Delete who filed these needs (email, names, phone); return how many rows went."""
    if not submission_ids:
        return 0
    result = session.execute(
        delete(Open311Reporter)
        .where(Open311Reporter.submission_id.in_(submission_ids))
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0
