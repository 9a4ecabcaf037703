"""Link a staff account to its LINE account with a one-time code, and unlink it from either side.

The dashboard shows a six-digit code (valid ``CODE_LIFETIME``; only its SHA-256 is stored); the
staff member sends "เชื่อมบัญชี 482913" to the Official Account; the conversation's
before-consent hook (:func:`on_text`) links the sender's LINE id to that account. Wrong codes
are counted per LINE account in the sign-in limits table, so codes cannot be guessed.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.residents import replies as r
from bot.residents.turn import Turn
from storage import staff
from storage.base import utcnow

logger = logging.getLogger(__name__)

CODE_LIFETIME = timedelta(minutes=10)
MAX_WRONG_CODES = 5
_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
LINK_RE = re.compile(r"^\s*เชื่อม\s*บัญชี\s*([0-9]{6})\s*$")
UNLINK_RE = re.compile(r"^\s*ยกเลิก\s*(การ)?\s*เชื่อม\s*บัญชี\s*$")


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def new_code(session: Session, user: staff.User, now: datetime | None = None) -> str:
    """Give ``user`` a fresh one-time code and return it (shown once, stored hashed)."""
    now = now or utcnow()
    for _ in range(20):
        code = f"{secrets.randbelow(10**6):06d}"
        taken = session.scalar(
            select(staff.User.id).where(
                staff.User.link_code_hash == _digest(code), staff.User.id != user.id
            )
        )
        if taken is None:
            break
    else:  # pragma: no cover - twenty collisions in a million codes
        raise RuntimeError("no free link code")
    user.link_code_hash = _digest(code)
    user.link_code_expires_at = now + CODE_LIFETIME
    return code


def link(session: Session, line_user_id: str, code: str, now: datetime | None = None):
    """Link the LINE account to the active account whose unexpired code this is; return the
    account, or None. The LINE account leaves any other staff account it was linked to."""
    now = now or utcnow()
    user = session.scalar(select(staff.User).where(staff.User.link_code_hash == _digest(code)))
    if (
        user is None
        or not user.active
        or user.link_code_expires_at is None
        or user.link_code_expires_at < now
    ):
        return None
    session.execute(
        update(staff.User)
        .where(staff.User.line_user_id == line_user_id, staff.User.id != user.id)
        .values(line_user_id=None, line_linked_at=None)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    user.line_user_id = line_user_id
    user.line_linked_at = now
    user.link_code_hash = user.link_code_expires_at = None
    staff.audit(session, user.id, "user.line_link", "user", user.id)
    return user


def unlink(session: Session, user: staff.User, *, by: int | None) -> bool:
    """Forget the LINE account linked to ``user``; return False when none was."""
    if user.line_user_id is None:
        return False
    user.line_user_id = user.line_linked_at = None
    staff.audit(session, by, "user.line_unlink", "user", user.id)
    return True


def on_text(turn: Turn) -> list[dict[str, Any]] | None:
    """Take "เชื่อมบัญชี 123456" and "ยกเลิกเชื่อมบัญชี" from anyone (before consent)."""
    if turn.event.message_type != "text":
        return None
    text = (turn.event.text or "").translate(_THAI_DIGITS)
    session, line_user_id = turn.session, turn.event.user_id or ""
    if UNLINK_RE.match(text):
        user = session.scalar(select(staff.User).where(staff.User.line_user_id == line_user_id))
        if user is None:
            return [r.text(turn.say("staff_not_linked"))]
        unlink(session, user, by=user.id)
        return [r.text(turn.say("staff_unlinked"))]
    match = LINK_RE.match(text)
    if match is None:
        return None
    # Counted before the code is checked, as sign-ins are; a success forgets the count.
    key = "line-link:" + line_user_id
    if staff.count_attempt(session, key, turn.now) > MAX_WRONG_CODES:
        return [r.text(turn.say("staff_link_too_many"))]
    user = link(session, line_user_id, match.group(1), turn.now)
    if user is None:
        logger.info("a LINE account sent a wrong or expired link code")
        return [r.text(turn.say("staff_link_bad_code"))]
    staff.forget_attempts(session, key)
    logger.info("staff user %d linked a LINE account", user.id)
    return [r.text(turn.say("staff_linked", username=user.username))]
