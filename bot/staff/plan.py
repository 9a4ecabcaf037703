"""The plan: strategies → sub-areas → projects, project forms, and linking needs to projects.

Admins and staff edit; leaders see the projects their community's needs are linked to on the
submission page (read-only, through ``plan/_link_form.html``).
"""

from __future__ import annotations

import io
import logging
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileSize
from PIL import Image, UnidentifiedImageError
from werkzeug.wrappers import Response
from wtforms import (
    DateField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

import nlp
from bot.accounts import audit, can_see, current_staff, role_required
from bot.db import get_session
from bot.needs import actions
from bot.needs.classification import taxonomy
from bot.wording import current_wording
from storage import plan as store
from storage import routing
from storage.models import Submission

logger = logging.getLogger(__name__)

bp = Blueprint("plan", __name__, url_prefix="/dashboard/plan")

# The budget work programmes (แผนงาน) of Thai local budgets; the taxonomy may add its own.
PROGRAMMES = (
    "บริหารงานทั่วไป",
    "การรักษาความสงบภายใน",
    "การศึกษา",
    "สาธารณสุข",
    "สังคมสงเคราะห์",
    "เคหะและชุมชน",
    "สร้างความเข้มแข็งของชุมชน",
    "การศาสนาวัฒนธรรมและนันทนาการ",
    "อุตสาหกรรมและการโยธา",
    "การเกษตร",
    "การพาณิชย์",
    "งบกลาง",
)


MAX_PHOTO_BYTES = 10 * 1024 * 1024
# Milestone photos are re-encoded to this width at most (and lose their EXIF, GPS included).
PHOTO_WIDTH = 1600

# --- forms ------------------------------------------------------------------------------------


def _amount(form: FlaskForm, field: StringField) -> None:
    try:
        store.parse_amount(field.data)
    except ValueError:
        raise ValidationError("กรุณากรอกจำนวนเงินเป็นตัวเลข เช่น 1,500,000") from None


class ProjectForm(FlaskForm):
    """The ผ.02 fields of a project; budget fields per plan year are added by ``project_form``."""

    strategy = SelectField("ยุทธศาสตร์", validators=[DataRequired("กรุณาเลือกยุทธศาสตร์")])
    subarea = SelectField("แนวทาง", validators=[Optional()])
    programme = SelectField("แผนงาน", validators=[DataRequired("กรุณาเลือกแผนงาน")])
    name = StringField("ชื่อโครงการ", validators=[DataRequired("กรุณากรอกชื่อโครงการ"), Length(max=500)])
    objective = TextAreaField("วัตถุประสงค์", validators=[Length(max=4000)])
    target = TextAreaField("เป้าหมาย (ผลผลิตของโครงการ)", validators=[Length(max=4000)])
    kpi = TextAreaField("ตัวชี้วัด (KPI) ถ้ามี", validators=[Length(max=2000)])
    expected_result = TextAreaField("ผลที่คาดว่าจะได้รับ", validators=[Length(max=4000)])
    # Free text as the ผ.02 form prints it; the divisions' names are offered as suggestions.
    division = StringField(
        "หน่วยงานรับผิดชอบหลัก",
        validators=[Length(max=200)],
        render_kw={"list": "division-names", "autocomplete": "off"},
    )
    origin = RadioField(
        "ที่มาของโครงการ",
        choices=[SelectChoice(k, v) for k, v in store.ORIGINS.items()],
        default="own",
    )
    edition = SelectField(
        "ฉบับของแผน",
        choices=[SelectChoice(k, v) for k, v in store.EDITIONS.items()],
        default="original",
    )
    edition_no = IntegerField(
        "ครั้งที่", validators=[Optional(), NumberRange(1, 99, "ครั้งที่ต้องอยู่ระหว่าง 1-99")]
    )
    reason = TextAreaField(
        "เหตุผลความจำเป็น (สำหรับแผนเพิ่มเติม/เปลี่ยนแปลง)", validators=[Length(max=4000)]
    )

    def validate_subarea(self, field: SelectField) -> None:
        if not field.data:
            return
        try:
            parent = taxonomy().strategy_of_subarea(field.data).code
        except KeyError:
            raise ValidationError("ไม่พบแนวทางนี้") from None
        if parent != self.strategy.data:
            raise ValidationError("แนวทางนี้ไม่อยู่ในยุทธศาสตร์ที่เลือก")

    def validate_edition(self, field: SelectField) -> None:
        # On the edition, not edition_no: Optional() there stops the chain when it is empty.
        if field.data != "original" and not self.edition_no.data:
            raise ValidationError("กรุณาระบุครั้งที่ของแผนเพิ่มเติม/เปลี่ยนแปลง")

    def validate_reason(self, field: TextAreaField) -> None:
        if self.edition.data != "original" and not (field.data or "").strip():
            raise ValidationError("แผนเพิ่มเติม/เปลี่ยนแปลงต้องระบุเหตุผลความจำเป็น")

    def budget_fields(self) -> list[tuple[int, StringField]]:
        """Return (plan year, field) pairs in year order."""
        return [(year, self[f"budget_{year}"]) for year in plan_years()]

    def values(self) -> dict[str, Any]:
        """Return the project fields as the repository takes them."""
        return {
            "strategy": self.strategy.data,
            "subarea": self.subarea.data or None,
            "programme": self.programme.data,
            "name": self.name.data,
            "objective": self.objective.data or "",
            "target": self.target.data or "",
            "kpi": self.kpi.data,
            "expected_result": self.expected_result.data or "",
            "division": self.division.data or "",
            "origin": self.origin.data,
            "edition": self.edition.data,
            "edition_no": self.edition_no.data or 0,
            "reason": self.reason.data,
        }

    def budgets(self) -> dict[int, str]:
        """Return the typed budget per plan year."""
        return {year: field.data or "" for year, field in self.budget_fields()}


class ProgressForm(FlaskForm):
    """Where a project stands: stage, reason (for cancelled/postponed), percent done, spent."""

    execution = SelectField(
        "สถานะการดำเนินงาน",
        choices=[SelectChoice(k, v) for k, v in store.EXECUTION.items()],
        validators=[DataRequired("กรุณาเลือกสถานะการดำเนินงาน")],
    )
    execution_reason = TextAreaField("เหตุผลที่ยกเลิก/ชะลอ", validators=[Length(max=2000)])
    percent_done = IntegerField(
        "ความคืบหน้า (ร้อยละ)",
        validators=[Optional(), NumberRange(0, 100, "ความคืบหน้าต้องอยู่ระหว่าง 0-100")],
    )
    spent = StringField("ใช้จ่ายจริง (บาท)", validators=[_amount])

    def validate_execution_reason(self, field: TextAreaField) -> None:
        if self.execution.data in store.NEEDS_REASON and not (field.data or "").strip():
            raise ValidationError("กรุณาระบุเหตุผลที่ยกเลิกหรือชะลอโครงการ")


class MilestoneForm(FlaskForm):
    """A dated milestone with an optional photo of the work."""

    held_on = DateField("วันที่", validators=[DataRequired("กรุณาระบุวันที่")])
    title = StringField(
        "ความคืบหน้า", validators=[DataRequired("กรุณากรอกความคืบหน้า"), Length(max=300)]
    )
    note = TextAreaField("รายละเอียด", validators=[Length(max=2000)])
    photo = FileField(
        "รูปภาพ (ถ้ามี)",
        validators=[
            FileAllowed(["jpg", "jpeg", "png", "webp"], "รองรับเฉพาะไฟล์รูป jpg, png หรือ webp"),
            FileSize(MAX_PHOTO_BYTES, message="รูปภาพต้องมีขนาดไม่เกิน 10 MB"),
        ],
    )


def plan_years() -> tuple[int, ...]:
    """Return the plan years (BE) from the taxonomy, e.g. (2566, …, 2570)."""
    return tuple(taxonomy().plan.years)


def _division_names() -> list[str]:
    """The active divisions' names, offered for a project's responsible division."""
    return [d.name for d in routing.list_divisions(get_session(), active_only=True)]


def project_form(project: store.Project | None = None, **defaults: Any) -> ProjectForm:
    """Build the project form with one budget field per plan year and the taxonomy's choices."""
    tax = taxonomy()
    attrs = {
        f"budget_{year}": StringField(f"ปี {year} (บาท)", validators=[_amount])
        for year in plan_years()
    }
    form_class = type("ProjectFormWithBudgets", (ProjectForm,), attrs)
    data: dict[str, Any] = dict(defaults)
    if project is not None:
        data.update({name: getattr(project, name) for name in store.PROJECT_FIELDS})
        data["edition_no"] = project.edition_no or None
        for budget in project.budgets:
            data[f"budget_{budget.year}"] = f"{budget.amount:,.2f}"
    form = form_class(data=data) if request.method == "GET" else form_class()
    form.strategy.choices = [SelectChoice("", "— เลือก —")] + [
        SelectChoice(s.code, f"{s.code} {s.name}") for s in tax.strategies
    ]
    form.subarea.choices = [SelectChoice("", "— ไม่ระบุ —")] + [
        SelectChoice(sub.code, f"{sub.code} {sub.name}", optgroup=f"{s.code} {s.name}")
        for s in tax.strategies
        for sub in s.subareas
    ]
    programmes = list(PROGRAMMES) + [
        p for s in tax.strategies for p in s.programmes if p not in PROGRAMMES
    ]
    if project is not None and project.programme not in programmes:
        programmes.append(project.programme)
    form.programme.choices = [SelectChoice("", "— เลือก —")] + [SelectChoice(p) for p in programmes]
    return form


# --- pages ------------------------------------------------------------------------------------


@bp.get("/")
@role_required("admin", "staff")
def index() -> str:
    """Show strategies and sub-areas with their projects."""
    session = get_session()
    tax = taxonomy()
    strategy = (request.args.get("strategy") or "").strip()[:32]
    subarea = (request.args.get("subarea") or "").strip()[:32]
    edition = (request.args.get("edition") or "").strip()[:16]
    try:
        if edition:
            store.parse_edition(edition)
    except ValueError:
        edition = ""
    projects = store.list_projects(
        session, strategy=strategy or None, subarea=subarea or None, edition=edition or None
    )
    counts = store.project_counts(session)
    per_strategy: dict[str, int] = {}
    for (code, _sub), n in counts.items():
        per_strategy[code] = per_strategy.get(code, 0) + n
    return render_template(
        "plan/index.html",
        taxonomy=tax,
        projects=projects,
        counts=counts,
        per_strategy=per_strategy,
        strategy=strategy,
        subarea=subarea,
        edition=edition,
        editions=store.editions_in_use(session),
        edition_label=store.edition_label,
        years=plan_years(),
        names=_names(tax),
    )


@bp.route("/projects/new", methods=["GET", "POST"])
@role_required("admin", "staff")
def new_project() -> str | Response:
    """Create a project."""
    tax = taxonomy()
    strategy = (request.args.get("strategy") or "").strip()[:32]
    defaults: dict[str, Any] = {}
    if strategy in tax.strategy_codes:
        strat = tax.strategy(strategy)
        defaults = {
            "strategy": strategy,
            "division": strat.division,
            "programme": strat.programmes[0] if strat.programmes else "",
            "subarea": (request.args.get("subarea") or "")[:32],
        }
    form = project_form(**defaults)
    if form.validate_on_submit():
        session = get_session()
        user = current_staff()
        try:
            project = store.create_project(
                session, budgets=form.budgets(), created_by=user.actor, **form.values()
            )
        except ValueError as exc:
            logger.info("project form rejected: %s", type(exc).__name__)
            flash("บันทึกไม่สำเร็จ กรุณาตรวจสอบข้อมูลอีกครั้ง", "error")
        else:
            audit("project.create", "project", project.id, strategy=project.strategy)
            session.commit()
            flash("บันทึกโครงการแล้ว", "success")
            return redirect(url_for("plan.project", project_id=project.id))
    return render_template(
        "plan/form.html", form=form, project=None, years=plan_years(), divisions=_division_names()
    ), (400 if request.method == "POST" else 200)


@bp.route("/projects/<int:project_id>/edit", methods=["GET", "POST"])
@role_required("admin", "staff")
def edit_project(project_id: int) -> str | Response:
    """Edit a project's fields and budgets."""
    session = get_session()
    project = store.get_project(session, project_id) or abort(404)
    form = project_form(project)
    if form.validate_on_submit():
        try:
            changes = store.update_project(
                session, project, budgets=form.budgets(), **form.values()
            )
        except ValueError as exc:
            logger.info("project form rejected: %s", type(exc).__name__)
            flash("บันทึกไม่สำเร็จ กรุณาตรวจสอบข้อมูลอีกครั้ง", "error")
        else:
            if changes:
                audit("project.update", "project", project.id, fields=sorted(changes))
            session.commit()
            flash("บันทึกการแก้ไขแล้ว", "success")
            return redirect(url_for("plan.project", project_id=project.id))
    return render_template(
        "plan/form.html",
        form=form,
        project=project,
        years=plan_years(),
        divisions=_division_names(),
    ), (400 if request.method == "POST" else 200)


@bp.get("/projects/<int:project_id>")
@role_required("admin", "staff")
def project(project_id: int) -> str:
    """Show a project, its budgets, and the needs linked to it with who raised them."""
    session = get_session()
    item = store.get_project(session, project_id) or abort(404)
    summary = store.need_summary(session, item)
    per_need = store.residents_by_submission(session, [s.id for s in summary.submissions])
    tax = taxonomy()
    return render_template(
        "plan/project.html",
        project=item,
        summary=summary,
        per_need=per_need,
        years=plan_years(),
        names=_names(tax),
        origins=store.ORIGINS,
    )


@bp.route("/projects/<int:project_id>/progress", methods=["GET", "POST"])
@role_required("admin", "staff")
def progress(project_id: int) -> str | Response:
    """Update a project's stage, percent done and spending; list and add milestones."""
    session = get_session()
    item = store.get_project(session, project_id) or abort(404)
    form = ProgressForm(
        data={
            "execution": item.execution,
            "execution_reason": item.execution_reason,
            "percent_done": item.percent_done,
            "spent": f"{item.spent:,.2f}" if item.spent is not None else "",
        }
        if request.method == "GET"
        else None
    )
    milestone_form = MilestoneForm(formdata=None)
    if form.validate_on_submit():
        changes = store.set_progress(
            item,
            execution=form.execution.data,
            reason=form.execution_reason.data,
            percent_done=form.percent_done.data,
            spent=form.spent.data,
        )
        if changes:
            audit(
                "project.progress",
                "project",
                item.id,
                fields=sorted(changes),
                execution=item.execution,
            )
        session.commit()
        flash("บันทึกความคืบหน้าแล้ว", "success")
        if changes.get("execution") and item.execution in store.NEWS_STAGES:
            flash("ประชาชนที่เสนอเรื่องในโครงการนี้จะได้รับแจ้งทาง LINE", "info")
        return redirect(url_for("plan.progress", project_id=item.id))
    return _progress_page(item, form, milestone_form)


@bp.post("/projects/<int:project_id>/milestones")
@role_required("admin", "staff")
def add_milestone(project_id: int) -> str | Response:
    """Add a dated milestone with an optional photo (re-encoded, metadata dropped)."""
    session = get_session()
    item = store.get_project(session, project_id) or abort(404)
    milestone_form = MilestoneForm()
    if milestone_form.validate_on_submit():
        photo = milestone_form.photo.data
        saved: tuple[str, str] | None = None
        if photo:
            saved = _save_photo(item.id, photo.read())
            if saved is None:
                milestone_form.photo.errors = ["อ่านไฟล์รูปภาพไม่ได้ กรุณาเลือกไฟล์รูปอื่น"]
        if not photo or saved is not None:
            milestone = store.add_milestone(
                session,
                item,
                held_on=milestone_form.held_on.data,
                title=milestone_form.title.data,
                note=milestone_form.note.data or "",
                photo_path=saved[0] if saved else None,
                photo_type=saved[1] if saved else None,
                created_by=current_staff().actor,
            )
            audit("project.milestone", "project", item.id, milestone_id=milestone.id)
            session.commit()
            flash("บันทึกความคืบหน้าแล้ว", "success")
            return redirect(url_for("plan.progress", project_id=item.id))
    form = ProgressForm(formdata=None, data={"execution": item.execution})
    return _progress_page(item, form, milestone_form)


def _progress_page(item: store.Project, form: ProgressForm, milestone_form: MilestoneForm):
    status = 400 if request.method == "POST" else 200
    return render_template(
        "plan/progress.html", project=item, form=form, milestone_form=milestone_form
    ), status


def _save_photo(project_id: int, data: bytes) -> tuple[str, str] | None:
    """Re-encode an uploaded photo as JPEG under MEDIA_DIR; return (relative path, type)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            picture = image.convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        return None
    picture.thumbnail((PHOTO_WIDTH, PHOTO_WIDTH))
    relative = Path("projects") / str(project_id) / f"{uuid.uuid4().hex}.jpg"
    target = Path(current_app.config["MEDIA_DIR"]) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    picture.save(target, "JPEG", quality=85)
    return relative.as_posix(), "image/jpeg"


# --- linking ----------------------------------------------------------------------------------


@bp.post("/submissions/<int:submission_id>/link-project")
@role_required("admin", "staff")
def link_submission(submission_id: int) -> Response:
    """Link one submission to a project (and optionally move it to บรรจุในแผน)."""
    session = get_session()
    submission = session.get(Submission, submission_id)
    if submission is None or not can_see(current_staff(), submission):
        abort(404)
    item = _project_from_form()
    if item is None:
        flash("กรุณาเลือกโครงการ", "error")
        return redirect(_back(submission_id))
    linked, moved = _link(session, item, [submission], _flag("set_planned"))
    session.commit()
    if linked:
        flash(f"เชื่อมเรื่องกับโครงการ “{item.name}” แล้ว", "success")
    else:
        flash("เรื่องนี้เชื่อมกับโครงการนี้อยู่แล้ว", "info")
    if moved:
        flash("เปลี่ยนสถานะเป็น “บรรจุในแผน” และแจ้งผู้ร้องแล้ว", "success")
    return redirect(_back(submission_id))


@bp.post("/projects/<int:project_id>/unlink/<int:submission_id>")
@role_required("admin", "staff")
def unlink_submission(project_id: int, submission_id: int) -> Response:
    """Remove a submission from a project."""
    session = get_session()
    item = store.get_project(session, project_id) or abort(404)
    submission = session.get(Submission, submission_id) or abort(404)
    if actions.unlink_need(session, item, submission, actor=current_staff().actor):
        session.commit()
        flash("ยกเลิกการเชื่อมโยงแล้ว", "success")
    return redirect(url_for("plan.project", project_id=item.id))


def _link(
    session, item: store.Project, submissions: Iterable[Submission], set_planned: bool
) -> tuple[int, int]:
    """Link each submission the user may see; return (newly linked, moved to planned)."""
    user = current_staff()
    return actions.link_needs(
        session,
        item,
        [s for s in submissions if can_see(user, s)],
        actor=user.actor,
        set_planned=set_planned,
        say=current_wording(),
    )


def _project_from_form(form: Any = None) -> store.Project | None:
    raw = ((form or request.form).get("project_id") or "").strip()
    return store.get_project(get_session(), int(raw)) if raw.isdigit() else None


def _flag(name: str, form: Any = None) -> bool:
    return (form or request.form).get(name) in {"1", "y", "on", "true"}


def link_to_project(session, rows: list[Submission], form: Any, user: Any) -> str:
    """Link the chosen submissions to one project (the queue's bulk action)."""
    item = _project_from_form(form)
    if item is None:
        raise ValueError("กรุณาเลือกโครงการที่จะเชื่อม")
    linked, moved = _link(session, item, rows, _flag("set_planned", form))
    message = f"เชื่อม {linked} เรื่องกับโครงการ “{item.name}” แล้ว"
    if moved:
        message += f" และเปลี่ยนสถานะเป็น “บรรจุในแผน” {moved} เรื่อง"
    return message


def _back(submission_id: int | None) -> str:
    """Return where to go after linking: a safe local ``next``, the submission, or the queue."""
    target = request.form.get("next") or ""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    if submission_id is not None:
        return url_for("queue.detail", submission_id=submission_id)
    return url_for("queue.index")


def _names(tax: nlp.Taxonomy) -> dict[str, str]:
    names = {s.code: s.name for s in tax.strategies}
    names.update({sub.code: sub.name for s in tax.strategies for sub in s.subareas})
    return names


# --- for the submission page and the queue's bulk form ----------------------------------------


@bp.app_context_processor
def _plan_helpers() -> dict[str, Any]:
    return {"plan_links": _plan_links, "plan_choices": _plan_choices}


def _plan_links(submission: Submission) -> list[store.Project]:
    """Return the projects a submission is linked to (for ``plan/_link_form.html``)."""
    return store.projects_of(get_session(), submission.id)


def _plan_choices() -> list[tuple[int, str]]:
    """Return (id, label) of every project for the link forms, in plan order."""
    return store.project_choices(get_session())
