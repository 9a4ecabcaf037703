"""Every change in a need's life, one function each: file, describe, add a photo or a place,
recategorise, correct, change the status, merge, link to a project, rate and reopen.

Each writes the row, the need's history event, the staff's audit entry and the messages to the
resident together, in the caller's session (the caller commits). Views, the conversation,
surveys and the CLI call these; none of them builds a history row by hand. Erasing a resident's
words is ``bot.needs.erasure``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.needs import notify_division_reopened
from bot.needs.classification import Classification
from bot.needs.statuses import NEEDS_DETAIL, STATUS_LABELS, status_label
from bot.thai import be_year, to_bangkok
from bot.wording import Wording, default_wording
from storage import mailbox, staff
from storage.base import utcnow
from storage.models import (
    Community,
    Forum,
    Media,
    Resident,
    Submission,
    SubmissionEvent,
    TrainingLabel,
)
from storage.plan import Project, ProjectNeed, find_link

# Statuses a link may move on to บรรจุในแผน; later or closing ones are left alone.
PLANNABLE = {"new", "reviewing"}
# "ยังไม่เรียบร้อย" this long after a need was done reopens it; later it starts a new need.
REOPEN_WINDOW = timedelta(days=14)
RATINGS = (5, 4, 3, 2, 1)
# Where a reopened need goes back to in the queue.
REOPENED_STATUS = "reviewing"


def tracking_number(prefix: str, submission_id: int, moment: datetime) -> str:
    """Return a number people can read aloud, e.g. ``LPN-69-000123`` (year 2569).

    The year is the Buddhist-era year in Bangkok time.
    """
    year = be_year(to_bangkok(moment))
    return f"{prefix}-{year % 100:02d}-{submission_id:06d}"


# --- filing -----------------------------------------------------------------------------------


def create_need(
    session: Session,
    resident: Resident | None,
    *,
    prefix: str,
    text: str | None,
    classification: Classification | None = None,
    source: str = "line",
    awaiting_description: bool = False,
    actor: str = "resident",
    now: datetime | None = None,
    community: Community | None = None,
) -> Submission:
    """File a new need with its tracking number and a "created" history entry.

    The community is the resident's (``community`` for a need without one); a photo or a
    place sent first waits for its description.
    """
    now = now or utcnow()
    need = Submission(
        resident=resident,
        community=resident.community if resident is not None else community,
        source=source,
        text=text,
        kind="need",
        top3=[],
        awaiting_description=awaiting_description,
        created_at=now,
        updated_at=now,
    )
    if classification is not None:
        _classify(need, classification)
    session.add(need)
    session.flush()  # the id makes the tracking number
    need.tracking_no = tracking_number(prefix, need.id, now)
    _history(
        session,
        need,
        actor,
        "created",
        {"source": source, "kind": need.kind, "strategy": need.strategy},
        at=now,
    )
    return need


def take_need(
    session: Session,
    *,
    prefix: str,
    source: str,
    community: Community | None,
    text: str,
    classification: Classification | None,
    actor: str,
    contact_name: str | None = None,
    contact_phone: str | None = None,
    forum: Forum | None = None,
    forum_rank: int | None = None,
) -> Submission:
    """File a need staff took by phone, on paper, at the counter or at a forum.

    The contact (name, phone) is personal data: erased with the need, never in the audit.
    """
    need = create_need(
        session,
        None,
        prefix=prefix,
        text=text,
        classification=classification,
        source=source,
        actor=actor,
        community=community,
    )
    need.contact_name = contact_name or None
    need.contact_phone = contact_phone or None
    need.forum = forum
    need.forum_rank = forum_rank
    _audit(
        session,
        actor,
        "submission.take",
        need,
        source=source,
        contact=bool(contact_name or contact_phone),
        forum_id=forum.id if forum is not None else None,
    )
    return need


def describe_need(
    session: Session,
    need: Submission,
    text: str,
    classification: Classification | None,
    *,
    actor: str = "resident",
) -> None:
    """Give a photo-first or place-first need its description and classification."""
    need.text = text
    need.awaiting_description = False
    if classification is not None:
        _classify(need, classification)
    _history(session, need, actor, "described", {"kind": need.kind, "strategy": need.strategy})


def revise_need(need: Submission, text: str, classification: Classification) -> None:
    """Replace the words and classification of a need staff have not touched yet (a survey
    answer the resident changed); its history keeps the filing only."""
    need.text = text
    _classify(need, classification)


def add_photo(session: Session, need: Submission, line_message_id: str) -> Media:
    """Attach a photo still on LINE's servers; the worker downloads it (status "pending")."""
    media = Media(submission=need, line_message_id=line_message_id, status="pending", attempts=0)
    session.add(media)
    return media


def set_place(need: Submission, latitude: float, longitude: float, address: str | None) -> None:
    """Set (or replace) the need's place."""
    need.latitude = float(latitude)
    need.longitude = float(longitude)
    need.address = (address or "").strip() or None


def recategorise(session: Session, need: Submission, strategy: str, subarea: str | None) -> None:
    """Change the category as the resident asked; kept in the history, not a staff label."""
    before = {"strategy": need.strategy, "subarea": need.subarea}
    need.strategy = strategy
    need.subarea = subarea
    _history(
        session,
        need,
        "resident",
        "category",
        {"from": before, "to": {"strategy": strategy, "subarea": subarea}},
    )


# --- triage -----------------------------------------------------------------------------------


def correct_classification(
    session: Session,
    need: Submission,
    *,
    strategy: str | None,
    subarea: str | None,
    kind: str,
    actor: str,
) -> bool:
    """Confirm or correct a need's category as staff; return True when it was confirmed as is.

    The staff's answer becomes a training label, a history entry and an audit entry.
    """
    before = {"strategy": need.strategy, "subarea": need.subarea, "kind": need.kind}
    after = {"strategy": strategy, "subarea": subarea, "kind": kind}
    confirmed = before == after
    need.strategy, need.subarea, need.kind = strategy, subarea, kind
    need.label_confirmed = True
    session.add(
        TrainingLabel(
            submission_id=need.id,
            text=need.text,
            strategy=strategy,
            subarea=subarea,
            kind=kind,
            created_by=actor,
        )
    )
    action = "confirm" if confirmed else "reclassify"
    _history(session, need, actor, action, {"from": before, "to": after})
    _audit(session, actor, f"submission.{action}", need, before=before, after=after)
    return confirmed


def change_status(
    session: Session,
    need: Submission,
    status: str,
    *,
    actor: str,
    public_note: str | None = None,
    internal_note: str | None = None,
    detail: str | None = None,
    merged_into: Submission | None = None,
    say: Wording | None = None,
    photo_url: str | None = None,
) -> SubmissionEvent | None:
    """Move a need to ``status``, record it in its history and tell the resident.

    Done, the resident's message asks for a rating (1–5) or "ยังไม่เรียบร้อย" with quick
    replies, after the "after" photo at ``photo_url`` (an address LINE can fetch) if any.

    ``detail`` is the agency for ``out_of_scope`` and the reason for ``rejected``; a
    ``duplicate`` needs ``merged_into``. The resident's push goes through the outbox (in the
    caller's transaction), in ``say``'s words (the municipality's; the shipped ones if None).
    Internal notes never reach the resident. Returns None when the status did not change.
    The building block of the staff's decisions below, of bulk changes and of links to the
    plan (each writes its own audit entry).
    """
    if status not in STATUS_LABELS:
        raise ValueError(f"unknown status {status!r}")
    need_detail = NEEDS_DETAIL.get(status)
    if need_detail == "merged_into" and merged_into is None:
        raise ValueError("a duplicate must name the submission it duplicates")
    if need_detail in {"agency", "reason"} and not (detail and detail.strip()):
        raise ValueError(f"status {status!r} needs the {need_detail}")
    if merged_into is not None and merged_into.id == need.id:
        raise ValueError("a submission cannot duplicate itself")
    old = need.status
    if old == status and merged_into is None:
        return None
    need.status = status
    if status == "done":
        need.done_at = utcnow()
    if merged_into is not None:
        need.merged_into_id = merged_into.id
    if need.first_response_at is None and actor.startswith("user:"):
        need.first_response_at = utcnow()
    event = _history(
        session,
        need,
        actor,
        "status",
        {
            "from": old,
            "to": status,
            **({"detail": detail.strip()} if detail else {}),
            **({"merged_into": merged_into.tracking_no} if merged_into else {}),
        },
        public_note=(public_note or "").strip() or None,
        internal_note=(internal_note or "").strip() or None,
    )
    resident = need.resident
    if resident is not None and resident.active and resident.consent == "given":
        say = say or default_wording()
        text = status_message(say, need, status, detail, merged_into, event.public_note)
        messages: list[dict[str, Any]] = [{"type": "text", "text": text}]
        if status == "done":
            messages = done_messages(say, need, text, photo_url)
        mailbox.enqueue(session, resident.line_user_id, messages, purpose=f"status:{need.id}")
    return event


def done_messages(
    say: Wording, need: Submission, text: str, photo_url: str | None
) -> list[dict[str, Any]]:
    """Return the done push: the "after" photo if any, then the words with quick replies to
    rate 1–5 or say "ยังไม่เรียบร้อย" (LINE shows the quick replies of the last message)."""
    messages: list[dict[str, Any]] = []
    if photo_url:
        messages.append(
            {
                "type": "image",
                "originalContentUrl": photo_url,
                "previewImageUrl": f"{photo_url}/preview",
            }
        )
    # Postback data as bot.residents.postbacks reads it (a=rate|reopen, s=<need id>, v=<1–5>).
    items = [
        _postback_item(say(f"rate_{n}"), urlencode({"a": "rate", "s": need.id, "v": n}))
        for n in RATINGS
    ]
    items.append(_postback_item(say("not_fixed_button"), urlencode({"a": "reopen", "s": need.id})))
    body = f"{text}\n{say('done_rate_prompt')}"
    messages.append({"type": "text", "text": body, "quickReply": {"items": items}})
    return messages


def _postback_item(label: str, data: str) -> dict[str, Any]:
    return {
        "type": "action",
        "action": {"type": "postback", "label": label[:20], "data": data, "displayText": label},
    }


def status_message(
    say: Wording,
    need: Submission,
    status: str,
    detail: str | None,
    merged_into: Submission | None,
    public_note: str | None,
) -> str:
    """Return the plain-Thai push a resident gets when a need's status changes."""
    lines = [say("status_changed", tracking_no=need.tracking_no, status=status_label(status))]
    if status == "duplicate" and merged_into is not None:
        lines.append(say("status_duplicate", merged_into=merged_into.tracking_no))
    elif status == "out_of_scope" and detail:
        lines.append(say("status_out_of_scope", agency=detail.strip()))
    elif status == "rejected" and detail:
        lines.append(say("status_rejected", reason=detail.strip()))
    elif status == "done":
        lines.append(say("status_done"))
    if public_note:
        lines.append(say("status_public_note", note=public_note))
    lines.append(say("status_footer"))
    return "\n".join(lines)


def decide_status(
    session: Session,
    need: Submission,
    status: str,
    *,
    actor: str,
    detail: str | None = None,
    public_note: str | None = None,
    internal_note: str | None = None,
    duplicate_of: Submission | None = None,
    say: Wording | None = None,
    photo_url: str | None = None,
) -> bool:
    """Set a need's status as staff decide on its page; return False when nothing changed.

    A duplicate is merged into ``duplicate_of``. Writes one audit entry for the decision.
    """
    old = need.status
    if status == "duplicate" and duplicate_of is not None:
        _merge(
            session,
            duplicate_of,
            [need],
            actor=actor,
            public_note=public_note,
            internal_note=internal_note,
            say=say,
        )
        changed = True
    else:
        event = change_status(
            session,
            need,
            status,
            actor=actor,
            public_note=public_note,
            internal_note=internal_note,
            detail=detail or None,
            say=say,
            photo_url=photo_url,
        )
        changed = event is not None
    if changed:
        _audit(
            session,
            actor,
            "submission.status",
            need,
            before=old,
            after=status,
            merged_into=duplicate_of.id if duplicate_of else None,
            public_note=bool(public_note),
            internal_note=bool(internal_note),
        )
    return changed


def merge_needs(
    session: Session,
    primary: Submission,
    duplicates: list[Submission],
    *,
    actor: str,
    public_note: str | None = None,
    internal_note: str | None = None,
    say: Wording | None = None,
) -> list[Submission]:
    """Merge ``duplicates`` into ``primary``: each becomes ``duplicate`` and its resident is told.

    Needs already merged into a duplicate move to ``primary`` too, so a need is never more
    than one level deep. Returns the needs merged now; raises ValueError (in Thai) when
    ``primary`` is itself merged.
    """
    merged = _merge(
        session,
        primary,
        duplicates,
        actor=actor,
        public_note=public_note,
        internal_note=internal_note,
        say=say,
    )
    _audit(session, actor, "submission.merge", primary, merged=[s.id for s in merged])
    return merged


def _merge(
    session: Session,
    primary: Submission,
    duplicates: list[Submission],
    *,
    actor: str,
    public_note: str | None,
    internal_note: str | None,
    say: Wording | None,
) -> list[Submission]:
    if primary.merged_into_id is not None:
        raise ValueError("เรื่องหลักถูกรวมเข้ากับเรื่องอื่นแล้ว กรุณาเลือกเรื่องหลักที่ยังไม่ถูกรวม")
    merged: list[Submission] = []
    for dup in duplicates:
        if dup.id == primary.id or dup.merged_into_id == primary.id:
            continue
        children = session.scalars(select(Submission).where(Submission.merged_into_id == dup.id))
        for child in children:
            child.merged_into_id = primary.id
            _history(
                session,
                child,
                actor,
                "merge_moved",
                {"from": dup.tracking_no, "to": primary.tracking_no},
            )
        change_status(
            session,
            dup,
            "duplicate",
            actor=actor,
            public_note=public_note,
            internal_note=internal_note,
            merged_into=primary,
            say=say,
        )
        merged.append(dup)
    if merged:
        _history(session, primary, actor, "merge", {"merged": [d.tracking_no for d in merged]})
    return merged


# --- closing the loop ---------------------------------------------------------------------------


def add_after_photo(
    session: Session, need: Submission, path: str, content_type: str, size: int, *, actor: str
) -> Media:
    """Attach staff's "after" photo of the finished work (already stored under MEDIA_DIR)."""
    media = Media(
        submission=need,
        role="after",
        status="stored",
        path=path,
        content_type=content_type,
        size=size,
        attempts=0,
    )
    session.add(media)
    _history(session, need, actor, "after_photo", {})
    return media


def add_staff_photo(
    session: Session, need: Submission, path: str, content_type: str, size: int
) -> Media:
    """Attach a photo staff took with a need (already stored under MEDIA_DIR)."""
    media = Media(
        submission=need,
        status="stored",
        path=path,
        content_type=content_type,
        size=size,
        attempts=0,
    )
    session.add(media)
    return media


def rank_forum_needs(
    session: Session, forum: Forum, ranks: dict[int, int | None], *, actor: str
) -> int:
    """Give a forum's needs (by id) the rank the forum gave them; return how many changed."""
    changed = 0
    for need in session.scalars(select(Submission).where(Submission.forum_id == forum.id)):
        if need.id in ranks and need.forum_rank != ranks[need.id]:
            before, need.forum_rank = need.forum_rank, ranks[need.id]
            _history(session, need, actor, "forum_rank", {"from": before, "to": need.forum_rank})
            changed += 1
    if changed:
        staff.audit(session, _user_id(actor), "forum.rank", "forum", forum.id, changed=changed)
    return changed


def rate_need(session: Session, need: Submission, rating: int, now: datetime | None = None) -> None:
    """Keep the resident's rating (1–5) of a finished need; a second tap replaces the first."""
    if rating not in RATINGS:
        raise ValueError(f"rating {rating!r}; expected one of {sorted(RATINGS)}")
    need.rating = rating
    need.rated_at = now or utcnow()
    _history(session, need, "resident", "rated", {"rating": rating})


def reopen_need(
    session: Session,
    need: Submission,
    *,
    prefix: str,
    say: Wording | None = None,
    now: datetime | None = None,
) -> Submission:
    """Answer the resident's "ยังไม่เรียบร้อย" about a done need; return the need to work on.

    Within ``REOPEN_WINDOW`` of being done the need goes back to the queue (its reopen count
    kept, its division alerted); later a new need starts, linked to the old one.
    """
    now = now or utcnow()
    if need.status != "done":
        raise ValueError("only a done need can be reopened")
    if need.done_at is not None and now - need.done_at <= REOPEN_WINDOW:
        need.status = REOPENED_STATUS
        need.reopen_count = (need.reopen_count or 0) + 1
        _history(
            session,
            need,
            "resident",
            "reopened",
            {"from": "done", "to": REOPENED_STATUS, "count": need.reopen_count},
            at=now,
        )
        notify_division_reopened(session, need)
        return need
    say = say or default_wording()
    follow_up = create_need(
        session,
        need.resident,
        prefix=prefix,
        text=say("reopened_text", old=need.tracking_no),
        source=need.source,
        now=now,
    )
    follow_up.community = need.community
    follow_up.strategy, follow_up.subarea, follow_up.kind = need.strategy, need.subarea, need.kind
    follow_up.reopened_from_id = need.id
    _history(session, need, "resident", "followed_up", {"by": follow_up.tracking_no}, at=now)
    return follow_up


def set_publishable(session: Session, need: Submission, publishable: bool, *, actor: str) -> bool:
    """Allow or stop showing a need's words on the public pages; return False if unchanged."""
    if need.publishable == publishable:
        return False
    need.publishable = publishable
    _history(session, need, actor, "publishable", {"to": publishable})
    _audit(session, actor, "submission.publishable", need, to=publishable)
    session.flush()
    return True


# --- the plan ---------------------------------------------------------------------------------


def link_need(
    session: Session, project: Project, need: Submission, *, actor: str
) -> ProjectNeed | None:
    """Link a need to a project and note it in the need's history.

    Returns None when they were already linked (nothing is recorded twice).
    """
    if find_link(session, project.id, need.id) is not None:
        return None
    link = ProjectNeed(project=project, submission_id=need.id, linked_by=actor)
    session.add(link)
    _history(
        session,
        need,
        actor,
        "link_project",
        {"project_id": project.id, "project": project.name},
    )
    session.flush()
    return link


def link_needs(
    session: Session,
    project: Project,
    needs: Iterable[Submission],
    *,
    actor: str,
    set_planned: bool,
    say: Wording | None = None,
) -> tuple[int, int]:
    """Link needs to a project as staff, optionally moving them on to บรรจุในแผน.

    Returns (newly linked, moved to planned); one audit entry covers them all.
    """
    linked: list[int] = []
    moved = 0
    for need in needs:
        if link_need(session, project, need, actor=actor) is not None:
            linked.append(need.id)
        if set_planned and need.status in PLANNABLE:
            change_status(session, need, "planned", actor=actor, say=say)
            moved += 1
    if linked or moved:
        _audit(
            session,
            actor,
            "project.link",
            project,
            submission_ids=linked,
            set_planned=set_planned,
            moved=moved,
        )
    return len(linked), moved


def unlink_need(session: Session, project: Project, need: Submission, *, actor: str) -> bool:
    """Remove a need's link to a project as staff; return False when there was none."""
    link = find_link(session, project.id, need.id)
    if link is None:
        return False
    session.delete(link)
    _history(
        session,
        need,
        actor,
        "unlink_project",
        {"project_id": project.id, "project": project.name},
    )
    _audit(session, actor, "project.unlink", project, submission_id=need.id)
    session.flush()
    return True


# --- records ----------------------------------------------------------------------------------


def _classify(need: Submission, classification: Classification) -> None:
    for name, value in classification.columns().items():
        setattr(need, name, value)


def _history(
    session: Session,
    need: Submission,
    actor: str,
    action: str,
    detail: dict[str, Any],
    **values: Any,
) -> SubmissionEvent:
    """Add one entry to a need's history (``actor`` is resident, system or ``user:<id>``)."""
    event = SubmissionEvent(submission=need, actor=actor, action=action, detail=detail, **values)
    session.add(event)
    return event


def _audit(
    session: Session, actor: str, action: str, target: Submission | Project, **details: Any
) -> None:
    """Add the staff member's audit entry; ``details`` are codes, ids and counts, never text."""
    user_id = _user_id(actor)
    target_type = "project" if isinstance(target, Project) else "submission"
    staff.audit(session, user_id, action, target_type, target.id, **details)


def _user_id(actor: str) -> int | None:
    return int(actor.split(":", 1)[1]) if actor.startswith("user:") else None
