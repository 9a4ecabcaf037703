"""A backlog of needs worked through by several ``ruamkid worker`` processes on PostgreSQL.

    python bench/backlog.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/backlog
    python bench/backlog.py --needs 20000 --workers 2 --database-url …

The database is emptied first (it must be one for benchmarks). ``--needs`` consenting
residents (one need each, so no need joins another's open submission) each have one text
event in the inbox, stored as the webhook stores them; then ``--workers`` worker processes
start against a LINE stand-in and the clock runs until every event is handled and every
message sent. Prints progress every 10 s, then the time, rows/s, and the checks that each row
was handled once: one submission per event, one message per resident (a reply, or a push once
the reply token has expired), no row failed or claimed twice. Writes JSON to bench/out/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import webhook  # noqa: E402  (bench/webhook.py: the LINE stand-in and signed events)
from sqlalchemy import func, insert, select, text  # noqa: E402

from bot.simulator import events as line_events  # noqa: E402

OUT = REPO / "bench" / "out"
MODEL_DIR = Path(tempfile.gettempdir()) / "ruamkid-bench" / "models"


def bench_env(database_url: str, stand_in: webhook.StandIn, workdir: Path) -> dict[str, str]:
    """The environment of web and worker processes: the stand-in for LINE, offline NLP."""
    return {
        **os.environ,
        "BENCH_DIR": str(workdir),
        "DATABASE_URL": database_url,
        "MEDIA_DIR": str(workdir / "media"),
        "LINE_CHANNEL_SECRET": webhook.SECRET,
        "LINE_CHANNEL_ACCESS_TOKEN": webhook.TOKEN,
        "LINE_API_HOST": stand_in.url,
        "SECRET_KEY": "bench-secret-key-" + "x" * 32,
        "MODEL_DIR": str(MODEL_DIR),
        "INLINE_WORKER": "0",
        "LOG_LEVEL": "WARNING",
        "PYTHAINLP_OFFLINE": "1",
        "PYTHAINLP_READ_ONLY": "1",
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": str(REPO),
    }


def fresh_app(env: dict[str, str]):
    """Empty the database, migrate it, add the communities and the model; return the app."""
    from bot import create_app
    from bot.setup import prepare_database
    from storage.db import make_engine

    engine = make_engine(env["DATABASE_URL"])
    if engine.dialect.name != "postgresql":
        raise SystemExit("this benchmark is for PostgreSQL")
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    os.environ.update(env)
    app = create_app({"INLINE_WORKER": False})
    prepare_database(app)
    return app


def add_residents(app, count: int, group: int = 1) -> list[str]:
    """Add ``count`` consenting residents who chose a community; return their LINE ids."""
    from bot.db import session_factory
    from storage.base import utcnow
    from storage.models import Community, Resident

    ids = [webhook.user_id(group, n) for n in range(count)]
    now = utcnow()
    with session_factory(app)() as session:
        communities = list(session.scalars(select(Community.id).order_by(Community.id)))
        for first in range(0, count, 10_000):
            session.execute(
                insert(Resident),
                [
                    {
                        "line_user_id": line_id,
                        "display_name": "ผู้ทดสอบ",
                        "community_id": communities[n % len(communities)],
                        "consent": "given",
                        "consented_at": now,
                        "active": True,
                        "state": {},
                        "created_at": now,
                        "updated_at": now,
                    }
                    for n, line_id in enumerate(ids[first : first + 10_000], first)
                ],
            )
        session.commit()
    return ids


def fill_inbox(app, users: list[str]) -> None:
    """Store one text event per resident in the inbox, as the webhook stores them."""
    from bot.db import session_factory
    from bot.line.events import from_raw
    from storage.mailbox import store_inbox_events

    now_ms = int(time.time() * 1000)
    with session_factory(app)() as session:
        for first in range(0, len(users), 5000):
            rows = []
            for n, user in enumerate(users[first : first + 5000], first):
                words = f"{webhook.NEEDS[n % len(webhook.NEEDS)]} ซอย {n % 40} บ้านเลขที่ {n}"
                raw = line_events.make_event(
                    "text", user, text=words, reply_token=line_events.new_reply_token()
                )
                event = from_raw(raw, now_ms)
                rows.append(
                    {
                        "webhook_event_id": event.event_id,
                        "event_type": event.type,
                        "line_user_id": event.user_id,
                        "payload": event.to_dict(),
                        "mode": event.mode,
                        "is_redelivery": event.is_redelivery,
                    }
                )
            store_inbox_events(session.connection(), rows)
            session.commit()


def engine_of(app):
    """The app's database engine."""
    from bot.db import session_factory

    return session_factory(app).kw["bind"]


def start_worker(env: dict[str, str], workdir: Path, n: int) -> subprocess.Popen:
    """Start one ``ruamkid worker`` process (its own process group)."""
    log = open(workdir / f"worker-{n}.log", "w")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        [str(Path(sys.executable).with_name("ruamkid")), "worker"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(process: subprocess.Popen) -> None:
    """Stop a process started here (SIGTERM to its group, then SIGKILL)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)


def queue_depths(connection) -> dict[str, int]:
    """Inbox and outbox rows per status."""
    depths: dict[str, int] = {}
    for table in ("inbox_events", "outbox_messages"):
        rows = connection.execute(
            text(f"SELECT status, count(*) FROM {table} GROUP BY status")  # noqa: S608
        ).all()
        depths.update({f"{table.split('_')[0]}_{status}": n for status, n in rows})
    return depths


def unfinished(depths: dict[str, int]) -> int:
    """How many inbox or outbox rows are still to be handled."""
    return sum(
        n for key, n in depths.items() if key.endswith(("_pending", "_processing", "_sending"))
    )


def main(argv: list[str] | None = None) -> int:
    """Fill the backlog, work it through, check each row once."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="a PostgreSQL database to empty")
    parser.add_argument("--needs", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=3 * 3600, help="give up after seconds")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="ruamkid-backlog-"))
    stand_in = webhook.StandIn()
    env = bench_env(args.database_url, stand_in, workdir)
    app = fresh_app(env)
    from bot.db import session_factory
    from storage.models import InboxEvent, Submission

    started = time.perf_counter()
    users = add_residents(app, args.needs)
    fill_inbox(app, users)
    print(f"{args.needs:,} residents and inbox events stored in "
          f"{time.perf_counter() - started:.1f} s", flush=True)  # fmt: skip

    load_before = os.getloadavg()
    engine = engine_of(app)
    workers = [start_worker(env, workdir, n) for n in range(args.workers)]
    began = time.monotonic()
    progress: list[dict[str, Any]] = []
    first_done_at = None
    stopped = threading.Event()
    # SIGTERM ends the run early and still reports what was measured.
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        while not stopped.is_set():
            stopped.wait(10)
            with engine.connect() as connection:
                depths = queue_depths(connection)
            elapsed = time.monotonic() - began
            done = depths.get("inbox_done", 0)
            if done and first_done_at is None:
                first_done_at = elapsed
            progress.append({"s": round(elapsed, 1), **depths})
            print(f"  {elapsed:6.0f} s  {json.dumps(depths)}", flush=True)
            if not unfinished(depths):
                break
            if elapsed > args.timeout or any(w.poll() is not None for w in workers):
                print("stopped early (time-out or a worker exited)", flush=True)
                break
    finally:
        for worker in workers:
            stop(worker)
    took = time.monotonic() - began
    load_after = os.getloadavg()

    with session_factory(app)() as session:
        handled = session.scalar(
            select(func.count()).select_from(InboxEvent).where(InboxEvent.status == "done")
        )
        claimed_twice = session.scalar(
            select(func.count()).select_from(InboxEvent).where(InboxEvent.attempts > 1)
        )
        submissions = session.scalar(select(func.count()).select_from(Submission))
    with stand_in.lock:
        replied = set(stand_in.replies)
        pushed = set(stand_in.pushes)
    messaged = len(replied) + len(pushed)
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "needs": args.needs,
        "workers": args.workers,
        "seconds": round(took, 1),
        "rows_per_s": round(handled / took, 1),
        "first_done_after_s": first_done_at,
        "handled": handled,
        "claimed_more_than_once": claimed_twice,
        "submissions": submissions,
        "replies": len(replied),
        "pushes": len(pushed),
        "final_depths": progress[-1] if progress else {},
        "load_average": {"before": load_before, "after": load_after, "cores": os.cpu_count()},
        "python": platform.python_version(),
        "progress": progress,
    }
    stand_in.stop()
    ok = handled == submissions == messaged == args.needs and claimed_twice == 0
    print(
        f"\n{handled:,}/{args.needs:,} needs handled by {args.workers} workers in {took:.0f} s "
        f"({report['rows_per_s']} rows/s, load average {load_before[0]:.1f} → "
        f"{load_after[0]:.1f} on {os.cpu_count()} cores); {submissions:,} submissions, "
        f"{len(replied):,} replies + {len(pushed):,} pushes, {claimed_twice} claimed twice: "
        + ("each row once" if ok else "CHECK FAILED")
    )
    OUT.mkdir(parents=True, exist_ok=True)
    name = f"backlog-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    (OUT / name).write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"written bench/out/{name} (worker logs in {workdir})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
