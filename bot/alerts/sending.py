"""Alerts to staff and leaders on LINE: needs routed to a division, the daily digest of overdue
needs, and leaders' daily summary of their community's new needs.

Everything goes through the outbox (multicasts of at most 500 ids, each with its own retry key,
so a retried call is never delivered twice). No message carries a resident's name, words or
photo: tracking numbers, categories, communities and a link to the dashboard only.

**Quota.** LINE counts every push and multicast recipient against the month's quota; replies to
residents are free and residents' status pushes are never held back here. Before alerts go
out, the month's remaining quota is read once: alerts are sent only while at least
``ALERT_QUOTA_RESERVE`` (a share of the month's limit) would remain afterwards; otherwise they
are *deferred* and counted in the next daily digest instead. Digests need half that reserve;
below it they are skipped for the day. Each run sends at most one message per person, however
large the backlog (a summary with the first tracking numbers and a count of the rest).
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.line.api import LineError, Quota
from bot.needs.actions import RESOLVED
from bot.thai import BANGKOK
from bot.wording import Wording
from storage import mailbox, staff
from storage.db import is_sqlite
from storage.models import Community, Submission
from storage.routing import Division, DivisionAlert

logger = logging.getLogger(__name__)

CHUNK = 500  # LINE takes at most 500 user ids per multicast
LISTED = 5  # tracking numbers listed in one alert; the rest are counted
BATCH = 5000  # pending alerts read per run
DIGEST_HOUR = 8  # local time of the daily digest and summaries
DAY = timedelta(days=1)
QuotaLookup = Callable[[], Quota]


@dataclass(frozen=True)
class Settings:
    """What the alert jobs need from the app: wording, names, the dashboard's address."""

    say: Wording
    base_url: str
    subarea_names: dict[str, str]
    reserve_share: float = 0.2

    def link(self, path: str) -> str:
        """Return an absolute dashboard link."""
        return self.base_url.rstrip("/") + path


def _multicast(session: Session, to: list[str], text: str, purpose: str) -> int:
    """Queue ``text`` to everyone in ``to`` in chunks of 500; return the messages it costs."""
    for start in range(0, len(to), CHUNK):
        mailbox.enqueue(
            session, to[start : start + CHUNK], [{"type": "text", "text": text}], purpose=purpose
        )
    return len(to)


def _linked_staff(session: Session) -> dict[int, list[str]]:
    """LINE ids of active, linked staff and admins by division."""
    rows = session.execute(
        select(staff.User.division_id, staff.User.line_user_id).where(
            staff.User.active.is_(True),
            staff.User.role.in_(("admin", "staff")),
            staff.User.line_user_id.is_not(None),
            staff.User.division_id.is_not(None),
        )
    )
    people: dict[int, list[str]] = defaultdict(list)
    for division_id, line_user_id in rows:
        people[division_id].append(line_user_id)
    return people


def _room(quota_lookup: QuotaLookup, cost: int, reserve_share: float) -> bool | None:
    """Tell whether ``cost`` messages leave the reserve (True), not (False), or unknown (None)."""
    try:
        quota = quota_lookup()
    except LineError as exc:
        logger.warning("quota lookup failed: %s", exc)
        return None
    if quota.limit is None:
        return True
    reserve = math.ceil(quota.limit * reserve_share)
    return (quota.remaining or 0) - cost >= reserve


def _category(settings: Settings, need: Submission) -> str:
    if need.subarea:
        return settings.subarea_names.get(need.subarea, need.subarea)
    return need.strategy or "ยังไม่จัดหมวด"


def alert_text(
    settings: Settings, division: Division, needs: list[Submission], communities: dict[int, str]
) -> str:
    """Return one alert about ``needs`` routed to ``division`` (no resident's words)."""
    say = settings.say
    lines = [say("alert_new", division=division.name, count=len(needs))]
    for need in needs[:LISTED]:
        lines.append(
            say(
                "alert_item",
                tracking_no=need.tracking_no,
                category=_category(settings, need),
                community=communities.get(need.community_id or 0, "ไม่ระบุชุมชน"),
            )
        )
    if len(needs) > LISTED:
        lines.append(say("alert_more", count=len(needs) - LISTED))
    path = (
        f"/dashboard/submissions/{needs[0].id}"
        if len(needs) == 1
        else f"/dashboard/submissions?division={division.id}"
    )
    lines.append(say("alert_link", url=settings.link(path)))
    return "\n".join(lines)


def send_division_alerts(
    session: Session, settings: Settings, quota_lookup: QuotaLookup, now: datetime
) -> dict[str, int]:
    """Queue one alert per division with pending alerts to its linked staff; the caller
    commits. Alerts of a division nobody linked are closed; over the reserve they are deferred."""
    statement = (
        select(DivisionAlert)
        .where(DivisionAlert.status == "pending")
        .order_by(DivisionAlert.id)
        .limit(BATCH)
    )
    if not is_sqlite(session):
        statement = statement.with_for_update(skip_locked=True)
    pending = list(session.scalars(statement))
    done = {"alerts": len(pending), "messages": 0, "deferred": 0}
    if not pending:
        return done
    people = _linked_staff(session)
    by_division: dict[int, list[DivisionAlert]] = defaultdict(list)
    for alert in pending:
        by_division[alert.division_id].append(alert)
    cost = sum(len(people.get(d, [])) for d in by_division)
    room = _room(quota_lookup, cost, settings.reserve_share) if cost else True
    if room is None:
        return {**done, "alerts": 0}  # LINE did not answer: try again next run
    communities = dict(session.execute(select(Community.id, Community.name)).all())
    for division_id, alerts in by_division.items():
        to = people.get(division_id, [])
        if to and not room:
            for alert in alerts:
                alert.status = "deferred"
            done["deferred"] += len(alerts)
            continue
        if to:
            ids = list(dict.fromkeys(a.submission_id for a in alerts))
            needs = list(
                session.scalars(
                    select(Submission)
                    .where(
                        Submission.id.in_(ids),
                        Submission.division_id == division_id,
                        Submission.merged_into_id.is_(None),
                    )
                    .order_by(Submission.id)
                )
            )
            division = session.get(Division, division_id)
            if needs and division is not None:
                text = alert_text(settings, division, needs, communities)
                done["messages"] += _multicast(
                    session, to, text, purpose=f"alert:division:{division_id}"
                )
        for alert in alerts:
            alert.status, alert.sent_at = "sent", now
    return done


def next_digest_time(now: datetime) -> datetime:
    """Return the next ``DIGEST_HOUR`` o'clock, Bangkok time, after ``now``."""
    local = now.astimezone(BANGKOK)
    target = datetime.combine(local.date(), time(DIGEST_HOUR), tzinfo=BANGKOK)
    return target if target > local else target + timedelta(days=1)


def _overdue_by_division(session: Session, now: datetime) -> dict[int, int]:
    rows = session.execute(
        select(Submission.division_id, func.count())
        .where(
            Submission.division_id.is_not(None),
            Submission.merged_into_id.is_(None),
            Submission.due_at < now,
            Submission.status.not_in(RESOLVED),
        )
        .group_by(Submission.division_id)
    )
    return {division_id: n for division_id, n in rows}


def _deferred(session: Session) -> dict[int, list[DivisionAlert]]:
    deferred: dict[int, list[DivisionAlert]] = defaultdict(list)
    for alert in session.scalars(
        select(DivisionAlert).where(DivisionAlert.status == "deferred").order_by(DivisionAlert.id)
    ):
        deferred[alert.division_id].append(alert)
    return deferred


def _leader_rows(session: Session) -> Iterable[tuple[int, str, list[str]]]:
    """(community id, name, LINE ids) of communities whose linked leaders asked for summaries."""
    leaders: dict[int, list[str]] = defaultdict(list)
    for community_id, line_user_id in session.execute(
        select(staff.User.community_id, staff.User.line_user_id).where(
            staff.User.active.is_(True),
            staff.User.role == "leader",
            staff.User.daily_summary.is_(True),
            staff.User.line_user_id.is_not(None),
            staff.User.community_id.is_not(None),
        )
    ):
        leaders[community_id].append(line_user_id)
    names = dict(session.execute(select(Community.id, Community.name)).all())
    return [(cid, names.get(cid, ""), to) for cid, to in leaders.items()]


def send_daily(
    session: Session, settings: Settings, quota_lookup: QuotaLookup, now: datetime
) -> dict[str, int]:
    """Queue the day's digests (one per linked staff member: their division's overdue needs
    and deferred alerts) and leaders' summaries; the caller commits."""
    say = settings.say
    people = _linked_staff(session)
    overdue = _overdue_by_division(session, now)
    deferred = _deferred(session)
    divisions = {d.id: d for d in session.scalars(select(Division))}
    digests: list[tuple[list[str], str, str]] = []
    for division_id, to in people.items():
        lines = []
        if overdue.get(division_id):
            lines.append(
                say(
                    "digest_overdue",
                    division=divisions[division_id].name,
                    count=overdue[division_id],
                )
            )
        if deferred.get(division_id):
            lines.append(say("digest_deferred", count=len(deferred[division_id])))
        if lines:
            path = f"/dashboard/submissions?division={division_id}&overdue=1"
            lines.append(say("alert_link", url=settings.link(path)))
            digests.append((to, "\n".join(lines), f"digest:division:{division_id}"))
    since = now - timedelta(days=1)
    for community_id, name, to in _leader_rows(session):
        rows = session.execute(
            select(Submission.subarea, Submission.strategy, func.count())
            .where(
                Submission.community_id == community_id,
                Submission.created_at >= since,
                Submission.merged_into_id.is_(None),
            )
            .group_by(Submission.subarea, Submission.strategy)
        ).all()
        total = sum(n for _, _, n in rows)
        if not total:
            continue
        lines = [say("leader_summary", community=name, count=total)]
        for subarea, strategy, n in sorted(rows, key=lambda row: -row[2])[:LISTED]:
            category = settings.subarea_names.get(subarea or "", subarea or strategy or "อื่น ๆ")
            lines.append(say("leader_summary_item", category=category, count=n))
        path = f"/dashboard/submissions?community={community_id}"
        lines.append(say("alert_link", url=settings.link(path)))
        digests.append((to, "\n".join(lines), f"summary:community:{community_id}"))
    cost = sum(len(to) for to, _, _ in digests)
    done = {"digests": len(digests), "messages": 0, "skipped": 0}
    if not cost:
        return done
    room = _room(quota_lookup, cost, settings.reserve_share / 2)
    if not room:
        done["skipped"] = len(digests)
        return done
    for to, text, purpose in digests:
        done["messages"] += _multicast(session, to, text, purpose)
    for alerts in deferred.values():
        for alert in alerts:
            alert.status, alert.sent_at = "sent", now
    return done
