"""Staff accounts as the pages see them: the signed-in user, roles, who may see which
submission, and the audit log.

Shared by the staff's pages (``bot.staff``) and the surveys' (``bot.surveys``)::

    from bot.accounts import (
        audit, can_see, current_staff, role_required, visible_submissions,
    )

    @bp.get("/projects")
    @role_required("admin", "staff")          # login required + these roles, else 403
    def projects(): ...

    @bp.get("/")
    @role_required()                          # any signed-in role (admin, staff, leader)
    def index():
        stmt = visible_submissions(select(Submission), current_staff())
        ...                                   # leaders only get their own community's rows

    if not can_see(current_staff(), submission):
        abort(404)                            # 404, not 403: do not confirm the id exists

    audit("project.create", "project", project.id, name_len=len(name))  # in the view's session;
    get_session().commit()                    # the view commits

``current_staff()`` returns the signed-in :class:`StaffUser` (attributes of
``storage.staff.User``: id, username, display_name, role, community_id, plus ``actor`` =
"user:<id>" for SubmissionEvent/TrainingLabel and ``is_admin``/``is_leader``).

Signing in and out is ``bot.staff.auth``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, current_app
from flask_login import UserMixin, current_user
from sqlalchemy import Select, false, select
from sqlalchemy.orm import Session

from bot.db import get_session
from storage import staff
from storage.models import Community, Submission

ROLE_LABELS = {"admin": "ผู้ดูแลระบบ", "staff": "เจ้าหน้าที่", "leader": "ผู้นำชุมชน"}
F = TypeVar("F", bound=Callable[..., Any])


class StaffUser(UserMixin):
    """The signed-in account as Flask-Login sees it: ``storage.staff.User`` and the token of
    this sign-in's session (``storage.staff.StaffSession``)."""

    def __init__(self, user: staff.User, session_token: str) -> None:
        self.user = user
        self.session_token = session_token

    def __getattr__(self, name: str) -> Any:
        return getattr(self.user, name)

    def get_id(self) -> str:
        # The cookie holds the session's token, checked against the database on every request.
        return self.session_token

    @property
    def is_active(self) -> bool:
        return bool(self.user.active)

    @property
    def actor(self) -> str:
        """The ``user:<id>`` string used in history and training labels."""
        return f"user:{self.user.id}"

    @property
    def is_admin(self) -> bool:
        return self.user.role == "admin"

    @property
    def is_leader(self) -> bool:
        return self.user.role == "leader"

    @property
    def can_triage(self) -> bool:
        return self.user.role in {"admin", "staff"}

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.user.role, self.user.role)


def load_user(token: str) -> StaffUser | None:
    """Flask-Login's user loader: the active account whose session has this token, if any."""
    user = staff.user_for_session(get_session(), token)
    return StaffUser(user, token) if user is not None else None


def password_words(session: Session) -> list[str]:
    """Return the names a staff password may not be: the municipality's and its communities'."""
    municipality = current_app.extensions["ruamkid"]
    stored = session.scalars(select(Community.name))
    return [municipality.name, municipality.short_name, *municipality.communities, *stored]


def current_staff() -> StaffUser:
    """Return the signed-in staff user (call only in views behind ``role_required``)."""
    return current_user._get_current_object()  # type: ignore[no-any-return]


def role_required(*roles: str) -> Callable[[F], F]:
    """Require a signed-in user (redirect to login) with one of ``roles`` (else 403).

    No roles means any signed-in account.
    """

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
            if roles and current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def visible_submissions(statement: Select[Any], user: StaffUser) -> Select[Any]:
    """Restrict a ``select()`` over ``Submission`` to what ``user`` may read.

    Admins and staff see everything; a leader sees only their own community's submissions
    (nothing at all if no community is set).
    """
    if user.role in {"admin", "staff"}:
        return statement
    if user.role == "leader" and user.community_id is not None:
        return statement.where(Submission.community_id == user.community_id)
    return statement.where(false())


def can_see(user: StaffUser, submission: Submission) -> bool:
    """Tell whether ``user`` may read ``submission`` (its text, photos and location)."""
    if user.role in {"admin", "staff"}:
        return True
    return (
        user.role == "leader"
        and user.community_id is not None
        and submission.community_id == user.community_id
    )


def audit(
    action: str, target_type: str | None = None, target_id: Any = None, **details: Any
) -> None:
    """Add an audit-log row for the signed-in user to the request's session (caller commits).

    ``details`` hold codes, ids and counts: never residents' text or passwords.
    """
    user_id = current_user.id if current_user.is_authenticated else None
    staff.audit(get_session(), user_id, action, target_type, target_id, **details)
