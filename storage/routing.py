"""Divisions, the rules that route a need to one and set its due date, the reply templates staff
shape per status, and the alerts waiting to reach a division's staff on LINE.

A rule matches a need by sub-area and kind; either may be empty (any). The most specific rule
that names a division routes the need; the most specific rule that names a service level (days,
or the next plan review date) sets its due date. Repository functions take a session and never
commit: the caller does.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from storage.base import Base, utcnow

# A review date is written "MM-DD" (e.g. "02-28": the end of the January–February forums).
REVIEW_DATE_LENGTH = 5


class Division(Base):
    """A division (กอง/ฝ่าย) of the municipality that takes needs; seeded from settings."""

    __tablename__ = "divisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<Division {self.id} {self.code}>"


class RoutingRule(Base):
    """Sub-area and/or kind → a division and/or a service level."""

    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    subarea: Mapped[str | None] = mapped_column(String(32))
    kind: Mapped[str | None] = mapped_column(String(16))
    division_id: Mapped[int | None] = mapped_column(
        ForeignKey("divisions.id", ondelete="SET NULL"), index=True
    )
    # Days from arrival to the due date; or the next plan review date ("MM-DD").
    due_days: Mapped[int | None] = mapped_column(Integer)
    review_date: Mapped[str | None] = mapped_column(String(REVIEW_DATE_LENGTH))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    division: Mapped[Division | None] = relationship()

    @property
    def specificity(self) -> int:
        """2 for a sub-area, 1 for a kind: a sub-area and kind together win (3)."""
        return (2 if self.subarea else 0) + (1 if self.kind else 0)

    def matches(self, subarea: str | None, kind: str | None) -> bool:
        """Tell whether the rule applies to a need of this sub-area and kind."""
        return (self.subarea is None or self.subarea == subarea) and (
            self.kind is None or self.kind == kind
        )

    def __repr__(self) -> str:
        return f"<RoutingRule {self.id} {self.subarea}/{self.kind}>"


class ReplyTemplate(Base):
    """The words a resident gets when a need moves to ``status`` (the default when absent)."""

    __tablename__ = "reply_templates"

    status: Mapped[str] = mapped_column(String(24), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<ReplyTemplate {self.status}>"


class DivisionAlert(Base):
    """A need routed to a division, waiting to be announced to its linked staff on LINE.

    pending → sent (in a multicast, or folded into a summary) | deferred (the month's quota ran
    low: the next daily digest counts it instead). Holds ids only, never a resident's words.
    """

    __tablename__ = "division_alerts"
    __table_args__ = (Index("ix_division_alerts_status_id", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    division_id: Mapped[int] = mapped_column(ForeignKey("divisions.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"<DivisionAlert {self.id} {self.status}>"


# --- divisions -------------------------------------------------------------------------------


def list_divisions(session: Session, *, active_only: bool = False) -> list[Division]:
    """Return divisions in their configured order."""
    statement = select(Division).order_by(Division.position, Division.id)
    if active_only:
        statement = statement.where(Division.active.is_(True))
    return list(session.scalars(statement))


def division_names(session: Session) -> dict[int, str]:
    """Map every division's id to its name."""
    return {row.id: row.name for row in session.execute(select(Division.id, Division.name))}


# --- rules -----------------------------------------------------------------------------------


def list_rules(session: Session) -> Sequence[RoutingRule]:
    """Return every rule, general ones first, then by sub-area and kind."""
    rules = session.scalars(select(RoutingRule)).all()
    return sorted(rules, key=lambda r: (r.specificity, r.subarea or "", r.kind or "", r.id))


def find_rule(session: Session, subarea: str | None, kind: str | None) -> RoutingRule | None:
    """Return the rule for exactly this sub-area and kind (empty meaning any), or None."""
    return session.scalar(
        select(RoutingRule).where(
            RoutingRule.subarea.is_(None) if subarea is None else RoutingRule.subarea == subarea,
            RoutingRule.kind.is_(None) if kind is None else RoutingRule.kind == kind,
        )
    )


def _best(rules: Sequence[RoutingRule], wanted) -> RoutingRule | None:
    chosen = [r for r in rules if wanted(r)]
    return max(chosen, key=lambda r: (r.specificity, -r.id)) if chosen else None


def route_for(
    session: Session, subarea: str | None, kind: str | None
) -> tuple[Division | None, RoutingRule | None]:
    """Return the division a need of this sub-area and kind goes to (an active one, or None)
    and the rule that sets its service level (or None)."""
    rules = [
        r
        for r in session.scalars(
            select(RoutingRule).where(
                (RoutingRule.subarea.is_(None)) | (RoutingRule.subarea == subarea),
                (RoutingRule.kind.is_(None)) | (RoutingRule.kind == kind),
            )
        )
    ]
    routing = _best(rules, lambda r: r.division is not None and r.division.active)
    level = _best(rules, lambda r: r.due_days is not None or r.review_date is not None)
    return (routing.division if routing else None), level


def parse_review_date(value: str) -> tuple[int, int] | None:
    """Read "MM-DD" as (month, day), or None when it is not a day of a (leap) year."""
    try:
        month, day = (int(part) for part in value.split("-"))
        date(2024, month, day)
    except ValueError:
        return None
    return month, day


def due_date(rule: RoutingRule | None, arrived: datetime, zone) -> datetime | None:
    """Return when a need that arrived at ``arrived`` is due under ``rule`` (None: no level).

    Days count from arrival; a review date is the next such day (local time, its end) after
    arrival, e.g. a development need waits for the plan's yearly review.
    """
    if rule is None:
        return None
    if rule.due_days is not None:
        return arrived + timedelta(days=rule.due_days)
    parsed = parse_review_date(rule.review_date or "")
    if parsed is None:
        return None
    month, day = parsed
    local = arrived.astimezone(zone)
    for year in (local.year, local.year + 1, local.year + 2):
        try:
            candidate = datetime.combine(date(year, month, day), time(23, 59), tzinfo=zone)
        except ValueError:  # 29 February in a common year
            continue
        if candidate > local:
            return candidate
    return None


# --- reply templates -------------------------------------------------------------------------


def reply_template(session: Session, status: str) -> str | None:
    """Return the staff's words for ``status``, or None to use the default wording."""
    return session.scalar(select(ReplyTemplate.text).where(ReplyTemplate.status == status))


def reply_templates(session: Session) -> dict[str, ReplyTemplate]:
    """Return every saved template by status."""
    return {t.status: t for t in session.scalars(select(ReplyTemplate))}
