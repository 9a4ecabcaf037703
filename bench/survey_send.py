"""Time queuing a survey for 10,000 consenting residents (target: under 5 s).

    python bench/survey_send.py [--residents 10000] [--runs 3] [--url postgresql+psycopg://...]

Each run migrates a fresh database (an SQLite file in a temporary folder unless --url names
one; a PostgreSQL database is emptied first), seeds the residents with bulk inserts, then
times ``queue_survey`` plus the commit: recipient rows and outbox multicasts of 500 ids.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, insert, select, text

from bot.line.api import Quota
from bot.municipality import load_municipality
from bot.setup import seed_communities
from bot.surveys.sending import queue_survey
from storage.base import utcnow
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade
from storage.models import Community, OutboxMessage, Resident
from storage.schema import metadata
from storage.surveys import Survey, SurveyOption, SurveyQuestion, SurveyRecipient


def fresh_database(url: str | None, folder: Path, run: int) -> str:
    """Return the URL of a migrated, empty database."""
    if url is None:
        url = f"sqlite:///{folder / f'bench-{run}.db'}"
    else:
        engine = make_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    upgrade(url)
    return url


def seed(session, residents: int) -> Survey:
    """Add the communities, ``residents`` consenting residents and a four-question survey."""
    seed_communities(session, load_municipality())
    community_ids = list(session.scalars(select(Community.id)))
    now = utcnow()
    session.execute(
        insert(Resident),
        [
            {
                "line_user_id": f"U{n:032x}",
                "display_name": None,
                "community_id": community_ids[n % len(community_ids)],
                "consent": "given",
                "consented_at": now,
                "active": True,
                "state": {},
                "created_at": now,
                "updated_at": now,
            }
            for n in range(residents)
        ],
    )
    survey = Survey(title="สำรวจความต้องการของชุมชน", intro="ขอความร่วมมือค่ะ", all_communities=True)
    question = SurveyQuestion(position=0, type="single", text="เรื่องใดสำคัญที่สุด")
    question.options = [SurveyOption(position=i, label=f"ตัวเลือก {i}") for i in range(12)]
    survey.questions = [question, SurveyQuestion(position=1, type="text", text="ข้อเสนอแนะ")]
    session.add(survey)
    session.commit()
    return survey


def main() -> None:
    """Run the benchmark and print the timings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--url", default=None, help="database URL (default: a temporary SQLite)")
    args = parser.parse_args()
    timings = []
    with tempfile.TemporaryDirectory() as folder:
        for run in range(args.runs):
            url = fresh_database(args.url, Path(folder), run)
            engine = make_engine(url)
            with make_session_factory(engine)() as session:
                survey = seed(session, args.residents)
                started = time.perf_counter()
                result = queue_survey(session, survey, lambda: Quota(limit=None, used=0))
                session.commit()
                elapsed = time.perf_counter() - started
                recipients = session.scalar(select(func.count()).select_from(SurveyRecipient))
                chunks = session.scalar(select(func.count()).select_from(OutboxMessage))
            engine.dispose()
            assert recipients == args.residents == result.recipients, (recipients, result)
            timings.append(elapsed)
            print(
                f"run {run + 1}: queued {recipients:,} recipients in {chunks} multicasts "
                f"in {elapsed:.2f} s"
            )
    backend = "PostgreSQL" if args.url else "SQLite"
    print(
        f"{backend}, {args.residents:,} recipients: median {statistics.median(timings):.2f} s, "
        f"max {max(timings):.2f} s (target < 5 s) over {args.runs} runs; "
        f"{len(metadata.tables)} tables migrated"
    )


if __name__ == "__main__":
    main()
