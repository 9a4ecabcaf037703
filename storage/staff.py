"""Staff accounts, their login attempts and the audit log of staff actions.

Passwords are hashed with Argon2id (argon2-cffi). The web layer (``bot.staff``) wraps
:class:`User` for Flask-Login; this module knows nothing of Flask. Repository functions take a
session and never commit: the caller does.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    String,
    delete,
    func,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from storage.base import Base, utcnow
from storage.models import Community, Submission

ROLES = ("admin", "staff", "leader")
MIN_PASSWORD_LENGTH = 10
# Five failed logins per username and address within fifteen minutes lock that pair out.
LOGIN_WINDOW = timedelta(minutes=15)
LOGIN_MAX_FAILURES = 5

_hasher = PasswordHasher()

# The dashboard queue counts submissions per status, strategy and kind on every page view; this
# covering index holds every column its structured filters use, so the database counts from
# the index alone (70 ms instead of 600+ ms on 200,000 rows in SQLite), also within one
# community (a leader's view). Text search, photo and location filters still read the rows.
# It belongs to the submissions table but ships with the dashboard's migration (0002_staff).
FACET_COLUMNS = (
    "merged_into_id",
    "status",
    "strategy",
    "kind",
    "community_id",
    "subarea",
    "source",
    "unsure",
    "label_confirmed",
    "created_at",
)
SUBMISSION_FACETS_INDEX = Index(
    "ix_submissions_facets", *(getattr(Submission, name) for name in FACET_COLUMNS)
)


class User(Base):
    """A staff account: an admin, a staff member, or a community leader (tied to a community)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    # admin | staff | leader
    role: Mapped[str] = mapped_column(String(16), default="staff")
    community_id: Mapped[int | None] = mapped_column(
        ForeignKey("communities.id", ondelete="SET NULL"), index=True
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Changes with the password or deactivation, which signs out every open session.
    session_token: Mapped[str] = mapped_column(
        String(64), unique=True, default=lambda: secrets.token_urlsafe(32)
    )
    last_login_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    community: Mapped[Community | None] = relationship()

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class AuditLog(Base):
    """One staff action: who, when, what, on which record. Never residents' text."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_target", "target_type", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str | None] = mapped_column(String(32))
    target_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    user: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<AuditLog {self.id} {self.action}>"


class LoginAttempt(Base):
    """A login attempt, kept for a day to rate-limit guessing across every web process."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_username_ip_at", "username", "ip", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    username: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str] = mapped_column(String(64))
    success: Mapped[bool] = mapped_column(Boolean, default=False)

    def __repr__(self) -> str:
        return f"<LoginAttempt {self.id} {self.success}>"


# --- passwords -------------------------------------------------------------------------------


def hash_password(password: str) -> str:
    """Return an Argon2id hash of ``password``."""
    return _hasher.hash(password)


def check_password_strength(password: str) -> str | None:
    """Return a Thai reason why ``password`` is too weak, or None when it is acceptable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"รหัสผ่านต้องยาวอย่างน้อย {MIN_PASSWORD_LENGTH} ตัวอักษร"
    if password.isspace() or len(set(password)) < 4:
        return "รหัสผ่านง่ายเกินไป กรุณาใช้ตัวอักษรที่หลากหลายกว่านี้"
    return None


def verify_password(user: User, password: str) -> bool:
    """Tell whether ``password`` is the user's password (constant-time, via Argon2)."""
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(user: User) -> bool:
    """Tell whether the stored hash uses older parameters than the current ones."""
    try:
        return _hasher.check_needs_rehash(user.password_hash)
    except InvalidHashError:
        return True


def verify_dummy(password: str) -> None:
    """Spend the same time as a real check, so unknown usernames do not answer faster."""
    try:
        _hasher.verify(_DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        pass


_DUMMY_HASH = _hasher.hash("not-a-real-password-" + "x" * 8)


# --- users -----------------------------------------------------------------------------------


def create_user(
    session: Session,
    username: str,
    password: str,
    *,
    role: str,
    display_name: str = "",
    community_id: int | None = None,
) -> User:
    """Add a user; raise ValueError (Thai message) for a bad role, username or password."""
    username = normalize_username(username)
    if not username:
        raise ValueError("กรุณาระบุชื่อผู้ใช้ (ตัวอักษรภาษาอังกฤษ ตัวเลข . _ -)")
    if role not in ROLES:
        raise ValueError(f"บทบาทไม่ถูกต้อง: {role!r} (ต้องเป็น {', '.join(ROLES)})")
    if role == "leader" and community_id is None:
        raise ValueError("ผู้นำชุมชนต้องระบุชุมชน")
    if get_user_by_username(session, username) is not None:
        raise ValueError(f"มีชื่อผู้ใช้ {username} อยู่แล้ว")
    reason = check_password_strength(password)
    if reason:
        raise ValueError(reason)
    user = User(
        username=username,
        password_hash=hash_password(password),
        display_name=display_name.strip() or username,
        role=role,
        community_id=community_id if role == "leader" else None,
        active=True,
        session_token=secrets.token_urlsafe(32),
    )
    session.add(user)
    session.flush()
    return user


def normalize_username(username: str) -> str:
    """Return the username lower-cased and trimmed, or "" when it has characters we refuse."""
    username = (username or "").strip().lower()
    allowed = set("abcdefghijklmnopqrstuvwxyz0123456789._-")
    if not username or len(username) > 64 or not set(username) <= allowed:
        return ""
    return username


def set_password(session: Session, user: User, password: str) -> None:
    """Change the password (checked for strength) and sign out the user's open sessions."""
    reason = check_password_strength(password)
    if reason:
        raise ValueError(reason)
    user.password_hash = hash_password(password)
    user.session_token = secrets.token_urlsafe(32)


def set_active(session: Session, user: User, active: bool) -> None:
    """Activate or deactivate an account; deactivation signs it out everywhere."""
    user.active = active
    if not active:
        user.session_token = secrets.token_urlsafe(32)


def get_user_by_username(session: Session, username: str) -> User | None:
    """Return the user with this username (case-insensitive), or None."""
    name = (username or "").strip().lower()
    return session.scalar(select(User).where(User.username == name))


def get_user_by_token(session: Session, token: str) -> User | None:
    """Return the active user whose session token is ``token``, or None."""
    if not token:
        return None
    return session.scalar(select(User).where(User.session_token == token, User.active.is_(True)))


def list_users(session: Session) -> Sequence[User]:
    """Return every user, admins first, then by username."""
    order = {"admin": 0, "staff": 1, "leader": 2}
    users = session.scalars(select(User)).all()
    return sorted(users, key=lambda u: (order.get(u.role, 9), u.username))


def count_admins(session: Session) -> int:
    """Return how many active admins there are (the last one cannot be removed)."""
    return session.scalar(
        select(func.count()).select_from(User).where(User.role == "admin", User.active.is_(True))
    )


# --- login attempts --------------------------------------------------------------------------


def login_blocked(session: Session, username: str, ip: str, now: datetime | None = None) -> bool:
    """Tell whether this username and address failed too often within the window."""
    now = now or utcnow()
    failures = session.scalar(
        select(func.count())
        .select_from(LoginAttempt)
        .where(
            LoginAttempt.username == username[:64],
            LoginAttempt.ip == ip[:64],
            LoginAttempt.success.is_(False),
            LoginAttempt.at > now - LOGIN_WINDOW,
        )
    )
    return failures >= LOGIN_MAX_FAILURES


def record_login_attempt(session: Session, username: str, ip: str, success: bool) -> None:
    """Store an attempt; a success clears that pair's failures; drop rows older than a day."""
    now = utcnow()
    if success:
        session.execute(
            delete(LoginAttempt).where(
                LoginAttempt.username == username[:64], LoginAttempt.ip == ip[:64]
            )
        )
    session.execute(delete(LoginAttempt).where(LoginAttempt.at < now - timedelta(days=1)))
    session.add(LoginAttempt(at=now, username=username[:64], ip=ip[:64], success=success))


# --- audit log -------------------------------------------------------------------------------


def audit(
    session: Session,
    user_id: int | None,
    action: str,
    target_type: str | None = None,
    target_id: int | str | None = None,
    **details: Any,
) -> AuditLog:
    """Record a staff action; ``details`` are codes and ids, never residents' text."""
    entry = AuditLog(
        at=utcnow(),
        user_id=user_id,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        details=details,
    )
    session.add(entry)
    return entry


def audit_page(
    session: Session, *, before_id: int | None = None, limit: int = 50, action: str | None = None
) -> list[AuditLog]:
    """Return audit entries newest first, starting below ``before_id`` (keyset pagination)."""
    statement = select(AuditLog).order_by(AuditLog.id.desc()).limit(limit)
    if before_id is not None:
        statement = statement.where(AuditLog.id < before_id)
    if action:
        statement = statement.where(AuditLog.action == action)
    return list(session.scalars(statement))
