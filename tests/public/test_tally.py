"""The counts of the public pages come from one tally per process and cache period, and agree
with a direct count for every filter the pages offer."""

from __future__ import annotations

import itertools
import random
import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text

from bot.gunicorn_config import post_worker_init
from bot.public import EXTENSION, warm
from storage import public
from storage.models import Community, Submission

T0 = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)
STRATEGIES = ["LPN-S1", "LPN-S4", "LPN-S7", None]
SUBAREAS = {
    "LPN-S1": ["LPN-S1.1", None],
    "LPN-S4": ["LPN-S4.2"],
    "LPN-S7": ["LPN-S7.1", "LPN-S7.3"],
}
STATUSES = ["new", "in_progress", "done", "planned", "duplicate"]
KINDS = ["need", "complaint", "question", "other"]


def _mixed(session, count: int = 300) -> list[Community]:
    """Needs of every strategy, status, kind and community, some erased, merged, untracked."""
    rng = random.Random(5)
    communities = list(session.scalars(select(Community).order_by(Community.position)))[:4]
    keeper = Submission(tracking_no="LPN-69-900000", kind="need", strategy="LPN-S7")
    session.add(keeper)
    session.flush()
    for n in range(count):
        strategy = rng.choice(STRATEGIES)
        session.add(
            Submission(
                tracking_no=None if n % 41 == 0 else f"LPN-69-{n:06d}",
                community_id=rng.choice([*(c.id for c in communities), None]),
                strategy=strategy,
                subarea=rng.choice(SUBAREAS.get(strategy, [None])),
                status=rng.choice(STATUSES),
                kind=rng.choice(KINDS),
                redacted_at=T0 if n % 23 == 0 else None,
                merged_into_id=keeper.id if n % 29 == 0 else None,
                created_at=T0 + timedelta(hours=n),
            )
        )
    session.commit()
    return communities


def direct_total(session, **filters) -> int:
    """Count with SQL written out here, apart from storage.public."""
    statement = select(func.count()).where(
        Submission.tracking_no.is_not(None),
        Submission.redacted_at.is_(None),
        Submission.merged_into_id.is_(None),
        Submission.status != "duplicate",
        Submission.kind != "other",
    )
    for name, column in (
        ("strategy", Submission.strategy),
        ("subarea", Submission.subarea),
        ("status", Submission.status),
        ("community", Submission.community_id),
    ):
        if filters.get(name) is not None:
            statement = statement.where(column == filters[name])
    return session.scalar(statement)


def test_the_tally_gives_the_direct_counts_for_every_filter(app, session):
    communities = _mixed(session)
    tally = public.public_tally(session)
    assert 0 < len(tally.rows) < 300  # grouped, not one row per need
    combos = itertools.product(
        ["LPN-S1", "LPN-S7", None],
        ["LPN-S7.3", "LPN-S1.1", None],
        ["new", "done", "duplicate", None],
        [communities[0].id, communities[3].id, None],
    )
    checked = 0
    for strategy, subarea, status, community in combos:
        filters = {
            "strategy": strategy,
            "subarea": subarea,
            "status": status,
            "community": community,
        }
        assert tally.counts(**filters) == public.public_counts(session, **filters), filters
        assert tally.counts(**filters).total == direct_total(session, **filters), filters
        checked += 1
    assert checked == 108
    everything = tally.counts()
    assert everything.total == direct_total(session) > 100
    assert set(everything.by_community) == {c.name for c in communities}
    assert "duplicate" not in everything.by_status


def test_every_list_filter_and_page_shares_one_tally(app, client, session, monkeypatch):
    communities = _mixed(session)
    calls = []
    real = public.public_tally

    def counted(session):
        calls.append(1)
        return real(session)

    monkeypatch.setattr(public, "public_tally", counted)
    urls = [
        "/public/",
        "/public/?page=2",
        "/public/?strategy=LPN-S7",
        "/public/?status=done",
        f"/public/?community={communities[1].id}",
        f"/public/?community={communities[0].id}&status=new",
        "/public/strategies/LPN-S7",
    ]
    pages = [client.get(url) for url in urls]
    assert [p.status_code for p in pages] == [200] * len(urls)
    assert len(calls) == 1
    # The counts shown are still the direct ones.
    body = pages[3].get_data(as_text=True)
    done = direct_total(session, status="done")
    assert re.search(rf"\b{done}\b", body)


def test_the_tally_is_read_from_the_public_index(app, session):
    """The partial index of 0015_public holds every row the tally asks for (its WHERE is the
    rules' term for term), so the databases count from it instead of reading the table."""
    _mixed(session)
    sql = str(public._tally_query(session).compile(session.get_bind()))
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL enable_seqscan = off"))  # a small table is read whole
        plan = "\n".join(row[0] for row in session.execute(text(f"EXPLAIN {sql}")))
        assert "Index Only Scan using ix_submissions_public_tally" in plan, plan
    else:
        # Told the index: its own statistics would take ix_submissions_facets instead.
        plan = "\n".join(row[-1] for row in session.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
        assert "USING INDEX ix_submissions_public_tally" in plan, plan
        assert "TEMP B-TREE" not in plan, plan  # grouped in the index's order
    session.rollback()


def test_a_new_worker_counts_the_tally_before_its_first_visitor(app, session, monkeypatch):
    _mixed(session)
    started = []
    monkeypatch.setattr("bot.public.warm", lambda app: started.append(app))
    post_worker_init(type("Worker", (), {"wsgi": app})())
    assert started == [app]  # gunicorn's hook hands the loaded app to warm
    monkeypatch.undo()

    warm(app).join(10)
    kept = app.extensions[EXTENSION]["counts"].get("tally")
    assert kept is not None
    assert kept.counts().total == direct_total(session)
