"""The local development plan's projects (ผ.02 fields), their budgets per plan year, and the
residents' needs linked to them (linking a need is ``bot.needs.actions``).

Budgets are ``Numeric(14, 2)`` baht, read and written as ``Decimal`` (never float).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import (
    Date,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship, selectinload

from storage.base import Base, utcnow
from storage.models import Community, Resident, Submission

# Where a project comes from: the municipality's own capacity (ผ.02), a community plan (ผ.02/1),
# or beyond its capacity / another agency (ผ.02/2).
ORIGINS: dict[str, str] = {
    "own": "โครงการของเทศบาล (ผ.02)",
    "community": "โครงการจากแผนชุมชน (ผ.02/1)",
    "beyond": "เกินศักยภาพ / ประสานหน่วยงานอื่น (ผ.02/2)",
}
# The plan book a project belongs to: the original plan or one of its amendments.
EDITIONS: dict[str, str] = {
    "original": "แผนฉบับเดิม",
    "addition": "เพิ่มเติม",
    "change": "เปลี่ยนแปลง",
}
MAX_AMOUNT = Decimal("999999999999.99")
# Where a project stands in its execution, in order. Residents behind it are told on LINE when
# it reaches the stages in ``bot.staff.plan_news``.
EXECUTION: dict[str, str] = {
    "in_plan": "อยู่ในแผน",
    "ordinance": "อยู่ในข้อบัญญัติงบประมาณ",
    "procurement": "อยู่ระหว่างจัดซื้อจัดจ้าง",
    "in_progress": "กำลังดำเนินการ",
    "done": "ดำเนินการแล้วเสร็จ",
    "halted": "ยกเลิก/ชะลอ",
}
# Stages that need a reason.
NEEDS_REASON = {"halted"}


class Project(Base):
    """A project of the plan with the fields of form ผ.02."""

    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    strategy: Mapped[str] = mapped_column(String(32), index=True)
    subarea: Mapped[str | None] = mapped_column(String(32))
    # แผนงาน (budget work programme), e.g. "อุตสาหกรรมและการโยธา".
    programme: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(500))
    objective: Mapped[str] = mapped_column(Text, default="")
    # เป้าหมาย (ผลผลิตของโครงการ)
    target: Mapped[str] = mapped_column(Text, default="")
    kpi: Mapped[str | None] = mapped_column(Text)
    expected_result: Mapped[str] = mapped_column(Text, default="")
    # หน่วยงานรับผิดชอบหลัก
    division: Mapped[str] = mapped_column(String(200), default="")
    origin: Mapped[str] = mapped_column(String(16), default="own")
    edition: Mapped[str] = mapped_column(String(16), default="original")
    # n of "เพิ่มเติม ครั้งที่ n" / "เปลี่ยนแปลง ครั้งที่ n"; 0 for the original plan.
    edition_no: Mapped[int] = mapped_column(Integer, default=0)
    # เหตุผลความจำเป็น: required by amendment books.
    reason: Mapped[str | None] = mapped_column(Text)
    # Execution (EXECUTION's keys), why it was cancelled or postponed, how far it got, and the
    # baht actually spent.
    execution: Mapped[str] = mapped_column(String(16), default="in_plan", index=True)
    execution_reason: Mapped[str | None] = mapped_column(Text)
    percent_done: Mapped[int] = mapped_column(Integer, default=0)
    spent: Mapped[Decimal | None] = mapped_column(Numeric(14, 2, asdecimal=True))
    # "user:<id>" of whoever created it.
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    budgets: Mapped[list[ProjectBudget]] = relationship(
        back_populates="project", cascade="all, delete-orphan", order_by="ProjectBudget.year"
    )
    milestones: Mapped[list[ProjectMilestone]] = relationship(
        back_populates="project",
        cascade="all, delete-orphan",
        order_by="(ProjectMilestone.held_on, ProjectMilestone.id)",
    )
    needs: Mapped[list[ProjectNeed]] = relationship(
        back_populates="project", cascade="all, delete-orphan", order_by="ProjectNeed.id"
    )

    @property
    def edition_key(self) -> str:
        """Return the edition as one token: ``original``, ``addition:1``, ``change:2``."""
        return "original" if self.edition == "original" else f"{self.edition}:{self.edition_no}"

    @property
    def execution_label(self) -> str:
        """Return the execution stage in Thai, e.g. "กำลังดำเนินการ"."""
        return EXECUTION.get(self.execution, self.execution)

    @property
    def edition_label(self) -> str:
        """Return the edition in Thai, e.g. "เพิ่มเติม ครั้งที่ 1"."""
        return edition_label(self.edition_key)

    def budget_for(self, year: int) -> Decimal:
        """Return the budget of plan year ``year`` (BE), zero when none."""
        for budget in self.budgets:
            if budget.year == year:
                return budget.amount
        return Decimal("0")

    def __repr__(self) -> str:
        return f"<Project {self.id} {self.strategy}>"


class ProjectBudget(Base):
    """A project's budget for one plan year (Buddhist era), in baht."""

    __tablename__ = "project_budgets"
    __table_args__ = (UniqueConstraint("project_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2, asdecimal=True))

    project: Mapped[Project] = relationship(back_populates="budgets")

    def __repr__(self) -> str:
        return f"<ProjectBudget {self.project_id} {self.year}>"


class ProjectMilestone(Base):
    """A dated step of a project's execution, shown publicly, with an optional photo."""

    __tablename__ = "project_milestones"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    held_on: Mapped[date] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(300))
    note: Mapped[str] = mapped_column(Text, default="")
    # Relative to MEDIA_DIR (a staff photo of the work, never a resident's).
    photo_path: Mapped[str | None] = mapped_column(String(500))
    photo_type: Mapped[str | None] = mapped_column(String(100))
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    project: Mapped[Project] = relationship(back_populates="milestones")

    def __repr__(self) -> str:
        return f"<ProjectMilestone {self.project_id} {self.held_on}>"


class ProjectNeed(Base):
    """A resident's need (a submission) linked to a project by staff."""

    __tablename__ = "project_needs"
    __table_args__ = (UniqueConstraint("project_id", "submission_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    # "user:<id>" like SubmissionEvent.actor, so the plan does not depend on the staff tables.
    linked_by: Mapped[str] = mapped_column(String(64))
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)

    project: Mapped[Project] = relationship(back_populates="needs")
    submission: Mapped[Submission] = relationship()

    def __repr__(self) -> str:
        return f"<ProjectNeed {self.project_id} {self.submission_id}>"


# --- values ---------------------------------------------------------------------------------


def edition_label(key: str) -> str:
    """Return the Thai words of an edition key, e.g. ``"change:2"`` → "เปลี่ยนแปลง ครั้งที่ 2"."""
    kind, no = parse_edition(key)
    if kind == "original":
        return EDITIONS["original"]
    return f"{EDITIONS[kind]} ครั้งที่ {no}"


def parse_edition(key: str) -> tuple[str, int]:
    """Split an edition key into (kind, n); raise ``ValueError`` on anything else."""
    if key == "original":
        return "original", 0
    kind, _, no = key.partition(":")
    if kind not in ("addition", "change") or not no.isdigit() or not 1 <= int(no) <= 99:
        raise ValueError(f"unknown edition {key!r}; expected original, addition:N or change:N")
    return kind, int(no)


def parse_amount(raw: Any) -> Decimal:
    """Read a baht amount typed by staff ("1,500,000", "2500.50", "") as a Decimal ≥ 0."""
    if raw is None:
        return Decimal("0")
    if isinstance(raw, Decimal):
        value = raw
    else:
        text = str(raw).strip().replace(",", "").replace(" ", "")
        if not text:
            return Decimal("0")
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"not an amount: {raw!r}") from None
    if not value.is_finite() or value < 0 or value > MAX_AMOUNT:
        raise ValueError(f"amount out of range: {raw!r}")
    return value.quantize(Decimal("0.01"))


# --- repository -----------------------------------------------------------------------------

PROJECT_FIELDS = (
    "strategy",
    "subarea",
    "programme",
    "name",
    "objective",
    "target",
    "kpi",
    "expected_result",
    "division",
    "origin",
    "edition",
    "edition_no",
    "reason",
)


def create_project(
    session: Session,
    *,
    budgets: Mapping[int, Decimal | str | int] | None = None,
    created_by: str | None = None,
    **fields: Any,
) -> Project:
    """Add a project with its budgets per plan year; the caller commits."""
    project = Project(
        created_by=created_by,
        origin="own",
        edition="original",
        edition_no=0,
        objective="",
        target="",
        expected_result="",
        division="",
    )
    _apply(project, fields)
    session.add(project)
    set_budgets(session, project, budgets or {})
    session.flush()
    return project


def update_project(
    session: Session,
    project: Project,
    *,
    budgets: Mapping[int, Decimal | str | int] | None = None,
    **fields: Any,
) -> dict[str, tuple[Any, Any]]:
    """Change a project's fields (and budgets if given); return what changed as (old, new)."""
    before = {name: getattr(project, name) for name in PROJECT_FIELDS}
    old_budgets = {b.year: b.amount for b in project.budgets}
    _apply(project, fields)
    changes = {
        name: (before[name], getattr(project, name))
        for name in PROJECT_FIELDS
        if before[name] != getattr(project, name)
    }
    if budgets is not None:
        set_budgets(session, project, budgets)
        new_budgets = {b.year: b.amount for b in project.budgets}
        if new_budgets != old_budgets:
            changes["budgets"] = (
                {y: str(a) for y, a in old_budgets.items()},
                {y: str(a) for y, a in new_budgets.items()},
            )
    session.flush()
    return changes


def _apply(project: Project, fields: Mapping[str, Any]) -> None:
    unknown = set(fields) - set(PROJECT_FIELDS)
    if unknown:
        raise ValueError(f"unknown project fields: {sorted(unknown)}")
    for name, value in fields.items():
        if isinstance(value, str):
            value = value.strip()
        if name in ("kpi", "reason", "subarea") and value == "":
            value = None
        setattr(project, name, value)
    if project.origin not in ORIGINS:
        raise ValueError(f"unknown origin {project.origin!r}; expected one of {list(ORIGINS)}")
    edition = project.edition or "original"
    if edition not in EDITIONS:
        raise ValueError(f"unknown edition {edition!r}; expected one of {list(EDITIONS)}")
    project.edition = edition
    if edition == "original":
        project.edition_no = 0
    elif not (project.edition_no and 1 <= project.edition_no <= 99):
        raise ValueError("an amendment needs its number (ครั้งที่ 1-99)")
    if not (project.name or "").strip():
        raise ValueError("a project needs a name")
    if not (project.strategy or "").strip() or not (project.programme or "").strip():
        raise ValueError("a project needs a strategy and a programme (แผนงาน)")


def set_budgets(
    session: Session, project: Project, budgets: Mapping[int, Decimal | str | int]
) -> None:
    """Replace a project's budgets; a zero or empty amount removes that year."""
    wanted = {int(year): parse_amount(amount) for year, amount in budgets.items()}
    existing = {b.year: b for b in project.budgets}
    for year, amount in wanted.items():
        if amount == 0:
            if year in existing:
                project.budgets.remove(existing[year])
        elif year in existing:
            existing[year].amount = amount
        else:
            project.budgets.append(ProjectBudget(year=year, amount=amount))
    project.budgets.sort(key=lambda b: b.year)


def get_project(session: Session, project_id: int) -> Project | None:
    """Return the project with ``project_id`` (budgets loaded), or None."""
    return session.scalars(
        select(Project).where(Project.id == project_id).options(selectinload(Project.budgets))
    ).one_or_none()


def list_projects(
    session: Session,
    *,
    strategy: str | None = None,
    subarea: str | None = None,
    origin: str | None = None,
    edition: str | None = None,
) -> list[Project]:
    """Return projects in plan order (strategy, sub-area, programme, id), budgets loaded.

    ``edition`` is a key (``original``, ``addition:1``, ``change:2``).
    """
    stmt = select(Project).options(selectinload(Project.budgets))
    if strategy:
        stmt = stmt.where(Project.strategy == strategy)
    if subarea:
        stmt = stmt.where(Project.subarea == subarea)
    if origin:
        stmt = stmt.where(Project.origin == origin)
    if edition:
        kind, no = parse_edition(edition)
        stmt = stmt.where(Project.edition == kind, Project.edition_no == no)
    stmt = stmt.order_by(Project.strategy, Project.subarea, Project.programme, Project.id)
    return list(session.scalars(stmt))


def project_choices(session: Session) -> list[tuple[int, str]]:
    """Return (id, label) of every project in plan order, for pickers: "LPN-S7 · name", with
    the edition when it is not the original. Reads four columns only (no budgets, no rows
    turned into objects): the queue renders it on every page view."""
    rows = session.execute(
        select(
            Project.id, Project.strategy, Project.name, Project.edition, Project.edition_no
        ).order_by(Project.strategy, Project.subarea, Project.programme, Project.id)
    )
    return [
        (
            ident,
            f"{strategy} · {name}"
            + ("" if edition == "original" else f" ({edition_label(f'{edition}:{no}')})"),
        )
        for ident, strategy, name, edition, no in rows
    ]


def project_counts(session: Session) -> dict[tuple[str, str | None], int]:
    """Return the number of projects per (strategy, sub-area)."""
    rows = session.execute(
        select(Project.strategy, Project.subarea, func.count()).group_by(
            Project.strategy, Project.subarea
        )
    )
    return {(s, sub): n for s, sub, n in rows}


def editions_in_use(session: Session) -> list[str]:
    """Return the edition keys that have projects, original first."""
    rows = session.execute(select(Project.edition, Project.edition_no).distinct())
    keys = {"original" if e == "original" else f"{e}:{n}" for e, n in rows}
    order = {"original": 0, "addition": 1, "change": 2}
    return sorted(keys, key=lambda k: (order[parse_edition(k)[0]], parse_edition(k)[1]))


def find_link(session: Session, project_id: int, submission_id: int) -> ProjectNeed | None:
    """Return the link between a project and a submission, or None."""
    return session.scalars(
        select(ProjectNeed).where(
            ProjectNeed.project_id == project_id, ProjectNeed.submission_id == submission_id
        )
    ).one_or_none()


def projects_of(session: Session, submission_id: int) -> list[Project]:
    """Return the projects a submission is linked to."""
    stmt = (
        select(Project)
        .join(ProjectNeed, ProjectNeed.project_id == Project.id)
        .where(ProjectNeed.submission_id == submission_id)
        .order_by(Project.id)
    )
    return list(session.scalars(stmt))


def project_names_by_submission(
    session: Session, submission_ids: Iterable[int]
) -> dict[int, list[str]]:
    """Return, per submission id, the names of the projects it is linked to."""
    ids = list(submission_ids)
    result: dict[int, list[str]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = session.execute(
            select(ProjectNeed.submission_id, Project.name)
            .join(Project, Project.id == ProjectNeed.project_id)
            .where(ProjectNeed.submission_id.in_(chunk))
            .order_by(ProjectNeed.submission_id, Project.id)
        )
        for sub_id, name in rows:
            result.setdefault(sub_id, []).append(name)
    return result


def with_merged(session: Session, submission_ids: Iterable[int]) -> set[int]:
    """Return the ids plus every submission merged into them (following chains of merges)."""
    found = set(submission_ids)
    frontier = set(found)
    while frontier:
        children: set[int] = set()
        chunk_list = list(frontier)
        for start in range(0, len(chunk_list), 500):
            chunk = chunk_list[start : start + 500]
            children.update(
                session.scalars(select(Submission.id).where(Submission.merged_into_id.in_(chunk)))
            )
        frontier = children - found
        found |= frontier
    return found


@dataclass(frozen=True)
class NeedSummary:
    """Who raised a project's needs: residents (incl. merged duplicates) and communities."""

    submissions: list[Submission]
    group_ids: set[int]
    residents: int
    communities: list[tuple[str, int]]


def residents_count(session: Session, ids: set[int]) -> int:
    """Count distinct residents behind ``ids``; a submission without a resident counts once."""
    if not ids:
        return 0
    residents: set[int] = set()
    anonymous = 0
    id_list = list(ids)
    for start in range(0, len(id_list), 500):
        chunk = id_list[start : start + 500]
        for resident_id in session.scalars(
            select(Submission.resident_id).where(Submission.id.in_(chunk))
        ):
            if resident_id is None:
                anonymous += 1
            else:
                residents.add(resident_id)
    return len(residents) + anonymous


def need_summary(session: Session, project: Project) -> NeedSummary:
    """Return the project's linked submissions, distinct residents and communities."""
    submissions = list(
        session.scalars(
            select(Submission)
            .join(ProjectNeed, ProjectNeed.submission_id == Submission.id)
            .where(ProjectNeed.project_id == project.id)
            .order_by(Submission.id)
        )
    )
    group = with_merged(session, [s.id for s in submissions])
    communities: list[tuple[str, int]] = []
    if group:
        rows = session.execute(
            select(Community.name, func.count(Submission.id))
            .join(Community, Community.id == Submission.community_id)
            .where(Submission.id.in_(group))
            .group_by(Community.name)
            .order_by(func.count(Submission.id).desc(), Community.name)
        )
        communities = [(name, n) for name, n in rows]
    return NeedSummary(
        submissions=submissions,
        group_ids=group,
        residents=residents_count(session, group),
        communities=communities,
    )


def residents_by_submission(session: Session, submission_ids: Iterable[int]) -> dict[int, int]:
    """Return, per submission id, the distinct residents who raised it (itself + merged ones)."""
    roots = list(dict.fromkeys(submission_ids))
    # member id -> root id, grown one merge level at a time (a few queries, not one per row)
    root_of: dict[int, int] = {sid: sid for sid in roots}
    frontier = list(roots)
    while frontier:
        found: list[tuple[int, int]] = []
        for start in range(0, len(frontier), 500):
            chunk = frontier[start : start + 500]
            found.extend(
                session.execute(
                    select(Submission.id, Submission.merged_into_id).where(
                        Submission.merged_into_id.in_(chunk)
                    )
                )
            )
        frontier = []
        for child, parent in found:
            if child not in root_of:
                root_of[child] = root_of[parent]
                frontier.append(child)
    people: dict[int, set[object]] = {sid: set() for sid in roots}
    members = list(root_of)
    for start in range(0, len(members), 500):
        chunk = members[start : start + 500]
        for sid, resident_id in session.execute(
            select(Submission.id, Submission.resident_id).where(Submission.id.in_(chunk))
        ):
            # a submission without a resident (survey, deleted account) counts as one person
            people[root_of[sid]].add(resident_id if resident_id is not None else f"s{sid}")
    return {sid: len(who) for sid, who in people.items()}


# --- execution ------------------------------------------------------------------------------

# The stages residents behind a project are told about on LINE.
NEWS_STAGES = ("ordinance", "in_progress", "done")
# Stages at which the money is in the budget ordinance (the follow-up report's "funded").
FUNDED = {"ordinance", "procurement", "in_progress", "done"}
PROGRESS_FIELDS = ("execution", "execution_reason", "percent_done", "spent")


def set_progress(
    project: Project,
    *,
    execution: str,
    reason: str | None = None,
    percent_done: int | None = None,
    spent: Decimal | str | None = None,
) -> dict[str, tuple[Any, Any]]:
    """Move a project's execution on; return what changed as (old, new).

    ``halted`` (cancelled or postponed) needs a reason; ``done`` means 100 %. Raises
    ``ValueError`` naming the bad value.
    """
    if execution not in EXECUTION:
        raise ValueError(
            f"unknown execution stage {execution!r}; expected one of {list(EXECUTION)}"
        )
    reason = (reason or "").strip() or None
    if execution in NEEDS_REASON and reason is None:
        raise ValueError(f"stage {execution!r} needs a reason")
    percent = project.percent_done if percent_done is None else int(percent_done)
    if execution == "done":
        percent = 100
    if not 0 <= percent <= 100:
        raise ValueError(f"percent done out of range: {percent_done!r}")
    amount = None if spent is None or spent == "" else parse_amount(spent)
    before = {name: getattr(project, name) for name in PROGRESS_FIELDS}
    project.execution = execution
    project.execution_reason = reason if execution in NEEDS_REASON else None
    project.percent_done = percent
    project.spent = amount
    return {
        name: (before[name], getattr(project, name))
        for name in PROGRESS_FIELDS
        if before[name] != getattr(project, name)
    }


def add_milestone(
    session: Session,
    project: Project,
    *,
    held_on: date,
    title: str,
    note: str = "",
    photo_path: str | None = None,
    photo_type: str | None = None,
    created_by: str | None = None,
) -> ProjectMilestone:
    """Add a dated milestone (with an optional photo already saved under MEDIA_DIR)."""
    title = (title or "").strip()
    if not title:
        raise ValueError("a milestone needs a title")
    milestone = ProjectMilestone(
        held_on=held_on,
        title=title[:300],
        note=(note or "").strip(),
        photo_path=photo_path,
        photo_type=photo_type,
        created_by=created_by,
    )
    project.milestones.append(milestone)
    session.flush()
    return milestone


def get_milestone(session: Session, project_id: int, milestone_id: int) -> ProjectMilestone | None:
    """Return a project's milestone, or None."""
    return session.scalars(
        select(ProjectMilestone).where(
            ProjectMilestone.id == milestone_id, ProjectMilestone.project_id == project_id
        )
    ).one_or_none()


def news_recipients(session: Session, project: Project) -> list[str]:
    """Return the LINE ids to tell of the project's progress, in resident order.

    Everyone behind a linked need or a duplicate merged into one, who still follows the
    account, consented, did not turn project news off, and whose need was not erased.
    """
    linked = session.scalars(
        select(ProjectNeed.submission_id).where(ProjectNeed.project_id == project.id)
    )
    ids = list(with_merged(session, linked))
    found: dict[int, str] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = session.execute(
            select(Resident.id, Resident.line_user_id)
            .join(Submission, Submission.resident_id == Resident.id)
            .where(
                Submission.id.in_(chunk),
                Submission.redacted_at.is_(None),
                Resident.active.is_(True),
                Resident.consent == "given",
                Resident.project_updates.is_(True),
            )
        )
        found.update({resident_id: line_id for resident_id, line_id in rows})
    return [found[k] for k in sorted(found)]


# --- follow-up (การติดตามและประเมินผลแผน) ----------------------------------------------------


@dataclass(frozen=True)
class FollowUpRow:
    """One strategy in one plan year: projects planned, funded and done, budget and spending."""

    strategy: str
    year: int
    planned: int
    funded: int
    done: int
    halted: int
    budget: Decimal
    spent: Decimal


def follow_up(session: Session) -> list[FollowUpRow]:
    """Return the plan's follow-up per strategy and plan year, in that order.

    A project counts in every year it has a budget for; "funded" means it reached the budget
    ordinance (or later), "done" that it was finished; ``spent`` sums what finished or running
    projects report for that year's rows (a project's spending is counted in its first year).
    """
    rows = session.execute(
        select(
            Project.id,
            Project.strategy,
            Project.execution,
            Project.spent,
            ProjectBudget.year,
            ProjectBudget.amount,
        )
        .join(ProjectBudget, ProjectBudget.project_id == Project.id)
        .order_by(Project.strategy, ProjectBudget.year, Project.id)
    )
    table: dict[tuple[str, int], dict[str, Any]] = {}
    spent_counted: set[int] = set()
    for project_id, strategy, execution, spent, year, amount in rows:
        cell = table.setdefault(
            (strategy, year),
            {
                "planned": 0,
                "funded": 0,
                "done": 0,
                "halted": 0,
                "budget": Decimal("0"),
                "spent": Decimal("0"),
            },
        )
        cell["planned"] += 1
        cell["funded"] += execution in FUNDED
        cell["done"] += execution == "done"
        cell["halted"] += execution == "halted"
        cell["budget"] += amount
        if spent is not None and project_id not in spent_counted:
            spent_counted.add(project_id)
            cell["spent"] += spent
    return [FollowUpRow(strategy, year, **cell) for (strategy, year), cell in table.items()]


def projects_of_tracking(session: Session, tracking: str) -> list[Project]:
    """Return the projects the need with this tracking number is linked to."""
    stmt = (
        select(Project)
        .join(ProjectNeed, ProjectNeed.project_id == Project.id)
        .join(Submission, Submission.id == ProjectNeed.submission_id)
        .where(Submission.tracking_no == tracking)
        .order_by(Project.id)
    )
    return list(session.scalars(stmt))


@dataclass(frozen=True)
class Backing:
    """How many residents and communities stand behind a project (counts only)."""

    residents: int
    communities: int


def backing(session: Session, project_ids: Iterable[int]) -> dict[int, Backing]:
    """Return, per project id, the distinct residents and communities behind its linked needs
    (merged duplicates included)."""
    result: dict[int, Backing] = {}
    for project_id in project_ids:
        linked = session.scalars(
            select(ProjectNeed.submission_id).where(ProjectNeed.project_id == project_id)
        )
        group = with_merged(session, linked)
        communities: set[int] = set()
        ids = list(group)
        for start in range(0, len(ids), 500):
            communities.update(
                session.scalars(
                    select(Submission.community_id)
                    .where(Submission.id.in_(ids[start : start + 500]))
                    .where(Submission.community_id.is_not(None))
                    .distinct()
                )
            )
        result[project_id] = Backing(residents_count(session, group), len(communities))
    return result
