"""Staff accounts, their sessions and sign-in limits, and the audit log of staff actions.

Passwords are hashed with Argon2id (argon2-cffi) and checked against ``storage.passwords``.
Each sign-in is a row of ``staff_sessions`` (the browser holds its token, the database only a
hash), so signing out, a new password or an admin ends sessions for good. The web layer
(``bot.staff``) wraps :class:`User` for Flask-Login; this module knows nothing of Flask.
Repository functions take a session and never commit: the caller does.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    and_,
    case,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from storage.base import Base, utcnow
from storage.models import Community, Submission
from storage.passwords import password_problem

ROLES = ("admin", "staff", "leader")
# Failed sign-ins within this window count towards the limits; then they are forgotten.
LOGIN_WINDOW = timedelta(minutes=15)
# An account takes five failures in a window, from anywhere; an address twenty, whatever the
# usernames (one machine trying many accounts).
LOGIN_MAX_PER_ACCOUNT = 5
LOGIN_MAX_PER_ADDRESS = 20
# A sign-in lasts this long at most (a working day), then the user signs in again.
SESSION_LIFETIME = timedelta(hours=12)

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
    # Routing (0014_routing): "my division", "mine", "unassigned" and "overdue" count from here too.
    "division_id",
    "assignee_id",
    "due_at",
)
SUBMISSION_FACETS_INDEX = Index(
    "ix_submissions_facets", *(getattr(Submission, name) for name in FACET_COLUMNS)
)
# The queue's counts under its usual views (everything, a division, mine, unassigned,
# overdue) read this narrow index of unmerged needs instead: a quarter of the wide one's size
# (13 MB against 48 MB at 200,000 needs), led by the division so "my division" reads only its
# part. It must hold every column those counts touch, or the database reads the rows again
# (the community since 0017_counts: a leader's queue, and any community filter).
QUEUE_COUNT_COLUMNS = (
    "division_id",
    "assignee_id",
    "due_at",
    "status",
    "strategy",
    "kind",
    "community_id",
)
SUBMISSION_QUEUE_COUNTS_INDEX = Index(
    "ix_submissions_queue_counts",
    *(getattr(Submission, name) for name in QUEUE_COUNT_COLUMNS),
    postgresql_where=Submission.merged_into_id.is_(None),
    sqlite_where=Submission.merged_into_id.is_(None),
)
# "Overdue" counts only open needs: the same columns for the unmerged needs whose status does
# not meet the due date, a fraction of the table once most needs are resolved. The statuses are
# bot.needs.actions.RESOLVED (a test keeps them equal); the queue writes them into its SQL as
# literals in this order, so PostgreSQL can tell the index holds every row it asks for.
RESOLVED_STATUSES = ("done", "duplicate", "out_of_scope", "planned", "rejected")
_OPEN = and_(Submission.merged_into_id.is_(None), Submission.status.not_in(RESOLVED_STATUSES))
SUBMISSION_QUEUE_OPEN_INDEX = Index(
    "ix_submissions_queue_open",
    *(getattr(Submission, name) for name in QUEUE_COUNT_COLUMNS),
    postgresql_where=_OPEN,
    sqlite_where=_OPEN,
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
    last_login_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The division whose needs this member of staff works on (storage.routing).
    division_id: Mapped[int | None] = mapped_column(
        ForeignKey("divisions.id", ondelete="SET NULL"), index=True
    )
    # The LINE account alerts go to, linked with a one-time code (bot.alerts); the code is
    # stored as its SHA-256 only.
    line_user_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    line_linked_at: Mapped[datetime | None]
    link_code_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    link_code_expires_at: Mapped[datetime | None]
    # A leader's opt-in to a daily LINE summary of their community's new needs.
    daily_summary: Mapped[bool] = mapped_column(Boolean, default=False)

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


class StaffSession(Base):
    """One sign-in. The cookie carries its token; only the token's SHA-256 is stored, so the
    table cannot be replayed as cookies. Deleting the row ends the session."""

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)

    def __repr__(self) -> str:
        return f"<StaffSession {self.id} user={self.user_id}>"


class LoginLimit(Base):
    """Sign-in attempts of one account or from one address in the current window.

    The key is a hash of "account:<name>" or "address:<ip>", so neither is stored as such.
    Counted with one atomic upsert before the password is checked, so parallel attempts
    cannot slip past the limit.
    """

    __tablename__ = "login_limits"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_started_at: Mapped[datetime] = mapped_column(index=True)
    count: Mapped[int] = mapped_column(Integer, default=0)

    def __repr__(self) -> str:
        return f"<LoginLimit {self.count}>"


# --- passwords -------------------------------------------------------------------------------


def hash_password(password: str) -> str:
    """Return an Argon2id hash of ``password``."""
    return _hasher.hash(password)


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
    extra_words: Iterable[str] = (),
) -> User:
    """Add a user; raise ValueError (Thai message) for a bad role, username or password.

    ``extra_words`` are names a password may not be (the municipality's, its communities').
    """
    username = normalize_username(username)
    if not username:
        raise ValueError("กรุณาระบุชื่อผู้ใช้ (ตัวอักษรภาษาอังกฤษ ตัวเลข . _ -)")
    if role not in ROLES:
        raise ValueError(f"บทบาทไม่ถูกต้อง: {role!r} (ต้องเป็น {', '.join(ROLES)})")
    if role == "leader" and community_id is None:
        raise ValueError("ผู้นำชุมชนต้องระบุชุมชน")
    if get_user_by_username(session, username) is not None:
        raise ValueError(f"มีชื่อผู้ใช้ {username} อยู่แล้ว")
    reason = password_problem(password, username, extra_words)
    if reason:
        raise ValueError(reason)
    user = User(
        username=username,
        password_hash=hash_password(password),
        display_name=display_name.strip() or username,
        role=role,
        community_id=community_id if role == "leader" else None,
        active=True,
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


def set_password(
    session: Session, user: User, password: str, extra_words: Iterable[str] = ()
) -> None:
    """Change the password (checked by the policy) and end the user's sessions everywhere."""
    reason = password_problem(password, user.username, extra_words)
    if reason:
        raise ValueError(reason)
    user.password_hash = hash_password(password)
    end_sessions(session, user)


def set_active(session: Session, user: User, active: bool) -> None:
    """Activate or deactivate an account; deactivation ends its sessions everywhere."""
    user.active = active
    if not active:
        end_sessions(session, user)
        # No alerts reach a deactivated account's phone.
        user.line_user_id = user.line_linked_at = None


def get_user_by_username(session: Session, username: str) -> User | None:
    """Return the user with this username (case-insensitive), or None."""
    name = (username or "").strip().lower()
    return session.scalar(select(User).where(User.username == name))


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


# --- sessions --------------------------------------------------------------------------------


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(
    session: Session, user: User, now: datetime | None = None, lifetime: timedelta | None = None
) -> str:
    """Open a session for ``user`` and return its token (for the cookie; stored hashed)."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    session.add(
        StaffSession(
            token_hash=_digest(token),
            user_id=user.id,
            created_at=now,
            expires_at=now + (lifetime or SESSION_LIFETIME),
        )
    )
    return token


def user_for_session(session: Session, token: str, now: datetime | None = None) -> User | None:
    """Return the active user whose unexpired session has ``token``, or None."""
    if not token:
        return None
    return session.scalar(
        select(User)
        .join(StaffSession, StaffSession.user_id == User.id)
        .where(
            StaffSession.token_hash == _digest(token),
            StaffSession.expires_at > (now or utcnow()),
            User.active.is_(True),
        )
    )


def end_session(session: Session, token: str) -> None:
    """End the session with ``token`` (signing out); a copied cookie stops working."""
    session.execute(delete(StaffSession).where(StaffSession.token_hash == _digest(token)))


def end_sessions(session: Session, user: User) -> int:
    """End every session of ``user``; return how many there were."""
    result = session.execute(delete(StaffSession).where(StaffSession.user_id == user.id))
    return result.rowcount or 0


def count_sessions(session: Session, user: User, now: datetime | None = None) -> int:
    """Return how many unexpired sessions ``user`` has."""
    return session.scalar(
        select(func.count())
        .select_from(StaffSession)
        .where(StaffSession.user_id == user.id, StaffSession.expires_at > (now or utcnow()))
    )


def delete_expired_sessions(session: Session, now: datetime | None = None) -> int:
    """Drop sessions past their end; return how many."""
    result = session.execute(
        delete(StaffSession).where(StaffSession.expires_at <= (now or utcnow()))
    )
    return result.rowcount or 0


# --- sign-in limits ---------------------------------------------------------------------------


def _limit_keys(username: str, ip: str) -> tuple[str, str]:
    return _digest(f"account:{username[:64]}"), _digest(f"address:{ip[:64]}")


_UPSERT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def _count_attempt(session: Session, key: str, now: datetime) -> int:
    """Add one attempt to ``key``'s window in one statement; return the window's count."""
    insert = _UPSERT[session.get_bind().dialect.name](LoginLimit)
    expired = LoginLimit.window_started_at <= now - LOGIN_WINDOW
    statement = (
        insert.values(key=key, window_started_at=now, count=1)
        .on_conflict_do_update(
            index_elements=[LoginLimit.key],
            set_={
                "count": case((expired, 1), else_=LoginLimit.count + 1),
                "window_started_at": case((expired, now), else_=LoginLimit.window_started_at),
            },
        )
        .returning(LoginLimit.count)
    )
    return session.execute(statement).scalar_one()


def count_attempt(session: Session, name: str, now: datetime | None = None) -> int:
    """Count one attempt of anything else limited like sign-ins (e.g. a LINE account sending
    link codes) under ``name`` (stored hashed); return the window's count so far."""
    return _count_attempt(session, _digest(f"other:{name}"), now or utcnow())


def forget_attempts(session: Session, name: str) -> None:
    """Forget the attempts counted under ``name`` (after a success)."""
    session.execute(delete(LoginLimit).where(LoginLimit.key == _digest(f"other:{name}")))


def reserve_login_attempt(
    session: Session, username: str, ip: str, now: datetime | None = None
) -> bool:
    """Count a sign-in attempt for the account and the address before the password is
    checked; return False when either is over its limit (then do not check it).

    The caller commits at once, so parallel attempts each see the others' counts.
    """
    now = now or utcnow()
    account, address = _limit_keys(username, ip)
    by_account = _count_attempt(session, account, now)
    by_address = _count_attempt(session, address, now)
    return by_account <= LOGIN_MAX_PER_ACCOUNT and by_address <= LOGIN_MAX_PER_ADDRESS


def forgive_login_attempt(session: Session, username: str, ip: str) -> None:
    """After a successful sign-in: clear the account's failures, give the address its try back."""
    account, address = _limit_keys(username, ip)
    session.execute(delete(LoginLimit).where(LoginLimit.key == account))
    session.execute(
        update(LoginLimit)
        .where(LoginLimit.key == address, LoginLimit.count > 0)
        .values(count=LoginLimit.count - 1)
    )


def delete_old_login_limits(session: Session, now: datetime | None = None) -> int:
    """Drop counts whose window has passed; return how many."""
    cutoff = (now or utcnow()) - LOGIN_WINDOW
    result = session.execute(delete(LoginLimit).where(LoginLimit.window_started_at <= cutoff))
    return result.rowcount or 0


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
