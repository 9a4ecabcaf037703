"""The queue's counts under its routing views (everything, my division, unassigned, overdue)
are read from a narrow covering index alone (storage/staff.py): ix_submissions_queue_counts of
the unmerged needs, ix_submissions_queue_open of the open ones for "overdue". Reading the rows,
or the wide facets index, made the queue several times slower at 200,000 needs
(bench/dashboard.py --routing)."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import event, func, insert, select, text
from sqlalchemy.dialects import postgresql

from bot.db import session_factory
from bot.needs import actions
from bot.staff import queries
from storage import staff
from storage.base import utcnow
from storage.models import Community, Submission
from storage.routing import Division
from storage.staff import RESOLVED_STATUSES

# The index each view's counts read: every unmerged need, or only the open ones for "overdue".
# "mine" reads its few rows by ix_submissions_assignee_id_id instead (a few thousand at most).
VIEWS = {
    "everything": ({}, "ix_submissions_queue_counts"),
    "overdue": ({"overdue": "1"}, "ix_submissions_queue_open"),
    "my division": ({"my_division": "1"}, "ix_submissions_queue_counts"),
    "my division + overdue": ({"my_division": "1", "overdue": "1"}, "ix_submissions_queue_open"),
    "my division, unassigned": (
        {"my_division": "1", "unassigned": "1"},
        "ix_submissions_queue_counts",
    ),
}
STATUSES = ["new", "reviewing", "planned", "in_progress", "done", "rejected"]
KINDS = ["complaint", "need", "question", "suggestion"]
TEXT = "ไฟกิ่งดับหลายต้นตั้งแต่ปากซอยถึงท้ายซอย มืดมากตอนกลางคืน เด็กและผู้สูงอายุเดินลำบาก ขอให้มาซ่อมด่วน"


@pytest.fixture
def routed(app, session):
    """3,000 routed needs (some assigned to the user, some merged), and the user: a member of
    the works division. The database has its statistics and visibility map up to date."""
    rng = random.Random(11)
    divisions = list(session.scalars(select(Division.id)))
    works = session.scalar(select(Division).where(Division.code == "works"))
    user = staff.create_user(session, "counter", "correct-horse-battery", role="staff")
    user.division_id = works.id
    community = session.scalar(select(Community.id))
    session.commit()
    now = utcnow()
    rows = []
    for n in range(3000):
        division = rng.choice(divisions + [None])
        rows.append(
            {
                "tracking_no": f"LPN-69-{n:07d}",
                "community_id": community,
                "source": "line",
                # As long as residents write (the table's width decides the planner's choice).
                "text": TEXT,
                "strategy": rng.choice(["LPN-S1", "LPN-S7", None]),
                "kind": rng.choice(KINDS),
                "status": rng.choice(STATUSES),
                "top3": [],
                "division_id": division,
                "assignee_id": user.id if division == works.id and rng.random() < 0.2 else None,
                "due_at": now + timedelta(days=rng.randint(-60, 30)) if division else None,
                "created_at": now - timedelta(days=rng.randint(0, 90)),
            }
        )
    session.execute(insert(Submission), rows)
    session.commit()
    first = session.scalar(select(Submission.id).order_by(Submission.id))
    session.execute(
        text("UPDATE submissions SET merged_into_id = :first WHERE id % 17 = 0 AND id > :first"),
        {"first": first},
    )
    session.commit()
    engine = session.get_bind()
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(
                text("VACUUM ANALYZE submissions")
            )
        else:
            conn.execute(text("ANALYZE"))
            conn.commit()
    return session.get(staff.User, user.id)


def _counts_statement(app, session, user, args) -> tuple[str, object]:
    """Run the queue's counts for ``args`` and return the SQL and parameters it sent."""
    sent = []

    def seen(_conn, _cursor, statement, parameters, *_args) -> None:
        sent.append((statement, parameters))

    engine = session_factory(app).kw["bind"]
    event.listen(engine, "before_cursor_execute", seen)
    try:
        filters = queries.QueueFilters.from_args(args, user)
        queries.facet_counts(session, select(Submission), filters)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    (statement, parameters), *_ = [s for s in sent if "GROUP BY" in s[0]]
    return statement, parameters


@pytest.mark.parametrize("view", list(VIEWS))
def test_routing_counts_are_read_from_a_narrow_index_alone(app, session, routed, view):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite keeps counting from ix_submissions_facets (merged_into_id = NULL)")
    args, index = VIEWS[view]
    statement, parameters = _counts_statement(app, session, routed, args)
    cursor = session.connection().connection.driver_connection.cursor()
    cursor.execute("EXPLAIN " + statement, parameters)
    plan = "\n".join(row[0] for row in cursor.fetchall())
    assert f"Index Only Scan using {index}" in plan, plan


def test_a_communitys_counts_are_read_from_the_narrow_index_alone(app, session, routed):
    """A leader's queue, and any community filter, count from ix_submissions_queue_counts
    (0017_counts added the community): before, they read the rows (~300 ms at 1,000,000)."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite keeps counting from ix_submissions_facets (merged_into_id = NULL)")
    community = session.scalar(select(Community.id))
    args = {"community": str(community), "strategy": "LPN-S7"}
    statement, parameters = _counts_statement(app, session, routed, args)
    cursor = session.connection().connection.driver_connection.cursor()
    cursor.execute("EXPLAIN " + statement, parameters)
    plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Only Scan using ix_submissions_queue_counts" in plan, plan


def test_the_open_needs_index_leaves_out_exactly_the_resolved_statuses():
    """The index's condition and the queue's "overdue" must name the same statuses, in the
    same order, or PostgreSQL can no longer use the index (and overdue reads every need)."""
    assert RESOLVED_STATUSES == tuple(sorted(actions.RESOLVED))
    sql = str(
        select(Submission.id)
        .where(queries.unresolved())
        .compile(dialect=postgresql.dialect(), compile_kwargs={"render_postcompile": True})
    )
    listed = ", ".join(f"'{status}'" for status in RESOLVED_STATUSES)
    assert f"NOT IN ({listed})" in sql


def test_counts_stop_at_the_limit_and_say_so(app, session, routed):
    """Past the limit the queue reads no further: the total is "more than" the limit and the
    facets list the values seen without numbers (a count over a million needs grows with the
    table; bench/dashboard.py --rows 1000000)."""
    exact = queries.facet_counts(session, select(Submission), queries.QueueFilters())
    assert not exact.capped and exact.total > 500 and not exact.sampled
    capped = queries.facet_counts(session, select(Submission), queries.QueueFilters(), limit=500)
    assert capped.capped and capped.total == 500
    assert capped.sampled == set(queries.FACETS)
    for name in queries.FACETS:
        assert set(capped.facets[name]) <= set(exact.facets[name])


def test_a_narrow_filter_on_a_large_table_keeps_exact_counts(app, session, routed):
    """The filters leave fewer rows than the limit, their facets' neighbours more: the total
    and the unchosen facet are exact, each chosen facet exact or marked as sampled."""
    filters = queries.QueueFilters(status="reviewing", strategy="LPN-S7")
    exact = queries.facet_counts(session, select(Submission), filters)
    limit = exact.total + 10
    every = queries.facet_counts(session, select(Submission), queries.QueueFilters())
    assert every.total > limit  # the facets-free read is capped: the narrow path runs
    narrow = queries.facet_counts(session, select(Submission), filters, limit=limit)
    assert not narrow.capped and narrow.total == exact.total
    assert narrow.facets["kind"] == exact.facets["kind"]
    for name in ("status", "strategy"):
        if name in narrow.sampled:
            assert set(narrow.facets[name]) <= set(exact.facets[name])
        else:
            assert narrow.facets[name] == exact.facets[name]
    assert "kind" not in narrow.sampled


def test_the_queue_page_says_more_than_when_it_stops_counting(app, client, session, routed):
    app.config["DASHBOARD_COUNT_LIMIT"] = 100
    login = {"username": "counter", "password": "correct-horse-battery"}
    client.post("/dashboard/login", data=login)
    page = client.get("/dashboard/submissions").get_data(as_text=True)
    assert "(มากกว่า 100 เรื่อง)" in page
    assert 'data-testid="counts-capped"' in page
    assert "data-count=" not in page
    # A filter narrower than the limit is counted exactly again.
    tracking = session.scalar(
        select(Submission.tracking_no).where(Submission.merged_into_id.is_(None)).limit(1)
    )
    narrow = client.get(f"/dashboard/submissions?q={tracking}").get_data(as_text=True)
    assert "(1 เรื่อง)" in narrow
    assert 'data-testid="counts-capped"' not in narrow


def test_a_search_that_cannot_be_counted_in_time_leaves_the_counts_out(app, session, routed):
    """PostgreSQL cancels a search's count past its budget (here it waits for a lock held
    elsewhere, as it would read thousands of rows on a million needs); the queue still answers,
    says it did not count, and the request's transaction stays usable."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite has no statement timeout; its installations are small")
    filters = queries.QueueFilters(q="ไฟกิ่งดับ")
    counted = queries.facet_counts(session, select(Submission), filters, budget_ms=5000)
    assert not counted.uncounted and counted.total > 0
    session.commit()
    engine = session_factory(app).kw["bind"]
    with engine.connect() as other:
        other.execute(text("LOCK TABLE submissions IN ACCESS EXCLUSIVE MODE"))
        out = queries.facet_counts(session, select(Submission), filters, budget_ms=200)
        assert out.uncounted and out.facets == {"status": {}, "strategy": {}, "kind": {}}
        other.rollback()
    assert session.scalar(select(func.count()).select_from(Submission)) == 3000
    # Structured filters read an index, not rows: no budget applies to them.
    assert not queries.facet_counts(session, select(Submission), queries.QueueFilters(),
                                    budget_ms=1).uncounted  # fmt: skip


def test_the_queue_page_says_when_it_did_not_count(app, client, session, routed):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite has no statement timeout")
    login = {"username": "counter", "password": "correct-horse-battery"}
    client.post("/dashboard/login", data=login)
    page = client.get("/dashboard/submissions?q=ไฟกิ่งดับ").get_data(as_text=True)
    assert 'data-testid="counts-uncounted"' not in page and "(หลายเรื่อง)" not in page
    app.config["DASHBOARD_COUNT_BUDGET_MS"] = 1  # spent before the first count starts
    page = client.get("/dashboard/submissions?q=ไฟกิ่งดับ").get_data(as_text=True)
    assert "(หลายเรื่อง)" in page and 'data-testid="counts-uncounted"' in page
    assert "data-count=" not in page
    assert 'data-testid="queue-row"' in page  # the list itself is shown
