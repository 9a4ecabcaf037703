"""A soak on PostgreSQL: needs at a steady rate for minutes, survey blasts on top; memory and
queues sampled throughout.

    python bench/soak.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/soak
    python bench/soak.py --minutes 10 --rate 20 --blast-every 180 --database-url …

The database is emptied first. The web runs as the Procfile runs it (gunicorn, 2 gthread
workers × 8 threads, no worker thread inside) beside ``--workers`` ``ruamkid worker``
processes, against a LINE stand-in. Distinct consenting residents send signed text needs at
``--rate`` per second for ``--minutes``; every ``--blast-every`` seconds a survey is queued for
all of them (as staff do from the dashboard). Every 15 s the RSS of the web processes and the
workers and the queue depths are sampled. At the end: the memory slope (MB per 10 minutes,
least squares over the second half, after warm-up), and how long the queues took to drain
once sending stopped. Writes JSON to bench/out/.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import signal
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import backlog  # noqa: E402  (bench/backlog.py: database, residents, worker processes)
import webhook  # noqa: E402  (bench/webhook.py: the LINE stand-in, gunicorn, signed events)

from bench.openloop import open_loop  # noqa: E402

SAMPLE_SECONDS = 15


def rss_mb(pid: int) -> float:
    """Resident memory of one process in MB (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def children(pid: int) -> list[int]:
    """Direct children of a process (gunicorn's workers)."""
    try:
        found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [int(child) for child in found]


def slope_per_10_min(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of (seconds, MB) over the second half, in MB per 10 minutes."""
    half = points[len(points) // 2 :]
    if len(half) < 3:
        return None
    slope = statistics.linear_regression([t for t, _ in half], [mb for _, mb in half]).slope
    return round(slope * 600, 2)


def send_at_rate(port: int, rate: float, seconds: float, make) -> dict[str, Any]:
    """Send ``rate`` events/s for ``seconds`` (open loop) from a few threads that reconnect
    when gunicorn closes a kept-alive connection, and send the event again (LINE redelivers
    too; the webhook event id makes it harmless). Return counts and webhook latencies."""
    lock = threading.Lock()
    latencies: list[float] = []
    counts = {"non_200": 0, "reconnects": 0, "lost": 0}

    def send(conn: http.client.HTTPConnection, i: int, due: float) -> http.client.HTTPConnection:
        body, signature, _ = make(i)
        for _attempt in range(3):
            try:
                status = webhook.post(conn, body, signature)
                break
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                with lock:
                    counts["reconnects"] += 1
        else:
            with lock:
                counts["lost"] += 1
            return conn
        with lock:
            latencies.append(time.monotonic() - due)
            counts["non_200"] += status != 200
        return conn

    elapsed = open_loop(port, rate, seconds, max(4, round(rate / 2)), send, timeout=30)
    return {
        "events": len(latencies),
        "achieved_events_per_s": len(latencies) / elapsed,
        "p50_ms": (webhook.percentile(latencies, 50) or 0) * 1000,
        "p99_ms": (webhook.percentile(latencies, 99) or 0) * 1000,
        **counts,
    }


def blast(app, number: int) -> int:
    """Queue a survey for every consenting resident, as staff do; return the recipients."""
    from bot.db import session_factory
    from bot.line.api import Quota
    from bot.surveys.sending import queue_survey
    from storage.surveys import Survey, SurveyOption, SurveyQuestion

    with session_factory(app)() as session:
        survey = Survey(
            title=f"สำรวจความต้องการของชุมชน รอบที่ {number}",
            intro="ขอความร่วมมือค่ะ",
            all_communities=True,
        )
        question = SurveyQuestion(position=0, type="single", text="เรื่องใดสำคัญที่สุด")
        question.options = [SurveyOption(position=i, label=f"ตัวเลือก {i}") for i in range(6)]
        survey.questions = [question, SurveyQuestion(position=1, type="text", text="ข้อเสนอแนะ")]
        session.add(survey)
        session.flush()
        result = queue_survey(session, survey, lambda: Quota(limit=None, used=0))
        session.commit()
    return result.recipients


def main(argv: list[str] | None = None) -> int:
    """Run the soak and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="a PostgreSQL database to empty")
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--rate", type=float, default=20, help="needs per second")
    parser.add_argument("--blast-every", type=float, default=300, help="seconds between surveys")
    parser.add_argument("--workers", type=int, default=1, help="`ruamkid worker` processes")
    parser.add_argument("--drain-timeout", type=float, default=1800)
    args = parser.parse_args(argv)

    seconds = args.minutes * 60
    count = int(args.rate * seconds)
    workdir = Path(tempfile.mkdtemp(prefix="ruamkid-soak-"))
    stand_in = webhook.StandIn()
    env = backlog.bench_env(args.database_url, stand_in, workdir)
    app = backlog.fresh_app(env)
    users = backlog.add_residents(app, count + 40)
    engine = backlog.engine_of(app)

    web = webhook.Server("soak-web", "bot:create_app()", env, workers=2, threads=8)
    workers = [backlog.start_worker(env, workdir, n) for n in range(args.workers)]
    samples: list[dict[str, Any]] = []
    web_points: list[tuple[float, float]] = []
    worker_points: list[tuple[float, float]] = []
    figures: dict[str, Any] = {}
    load_before = os.getloadavg()

    def make(i: int) -> tuple[bytes, str, str]:
        words = f"{webhook.NEEDS[i % len(webhook.NEEDS)]} ซอย {i % 40} บ้านเลขที่ {i}"
        return webhook.signed_text(users[i], words)

    def send() -> None:
        figures.update(send_at_rate(web.port, args.rate, seconds, make))

    sender = threading.Thread(target=send, daemon=True)
    began = time.monotonic()
    sender.start()
    blasts = 0
    next_blast = began + args.blast_every / 2
    drained_at = None
    stopped = threading.Event()
    # SIGTERM ends the run early and still reports what was measured.
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        while not stopped.is_set():
            stopped.wait(SAMPLE_SECONDS)
            now = time.monotonic()
            if sender.is_alive() and now >= next_blast:
                blasts += 1
                recipients = blast(app, blasts)
                print(f"  survey blast {blasts}: {recipients:,} recipients", flush=True)
                next_blast += args.blast_every
            web_mb = rss_mb(web.process.pid) + sum(rss_mb(c) for c in children(web.process.pid))
            worker_mb = sum(rss_mb(w.pid) for w in workers)
            with engine.connect() as connection:
                depths = backlog.queue_depths(connection)
            elapsed = now - began
            web_points.append((elapsed, web_mb))
            worker_points.append((elapsed, worker_mb))
            sample = {
                "s": round(elapsed),
                "web_mb": round(web_mb, 1),
                "worker_mb": round(worker_mb, 1),
            }
            samples.append({**sample, **depths})
            print(f"  {json.dumps(samples[-1])}", flush=True)
            if not sender.is_alive():
                if not backlog.unfinished(depths):
                    drained_at = elapsed
                    break
                if elapsed > seconds + args.drain_timeout:
                    break
    finally:
        web.stop()
        for worker in workers:
            backlog.stop(worker)
        stand_in.stop()
    load_after = os.getloadavg()
    sending_s = figures.get("events", 0) / max(figures.get("achieved_events_per_s", 1), 1e-9)
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "minutes": args.minutes,
        "rate": args.rate,
        "workers": args.workers,
        "blasts": blasts,
        "sending": figures,
        "drained_after_sending_s": None if drained_at is None else round(drained_at - sending_s),
        "web_mb_first_last": [web_points[0][1], web_points[-1][1]] if web_points else None,
        "worker_mb_first_last": [worker_points[0][1], worker_points[-1][1]]
        if worker_points
        else None,
        "web_slope_mb_per_10_min": slope_per_10_min(web_points),
        "worker_slope_mb_per_10_min": slope_per_10_min(worker_points),
        "load_average": {"before": load_before, "after": load_after, "cores": os.cpu_count()},
        "python": platform.python_version(),
        "samples": samples,
    }
    print(
        f"\nsoak: {figures.get('events', 0):,} needs at "
        f"{figures.get('achieved_events_per_s', 0):.1f}/s (target {args.rate}), "
        f"{figures.get('non_200', 0)} non-200, {figures.get('lost', 0)} lost, webhook p99 "
        f"{figures.get('p99_ms', 0):.0f} ms; {blasts} survey blasts; web RSS "
        f"{report['web_mb_first_last']} MB (slope {report['web_slope_mb_per_10_min']} MB/10 min), "
        f"worker RSS {report['worker_mb_first_last']} MB (slope "
        f"{report['worker_slope_mb_per_10_min']} MB/10 min); queues "
        + (
            f"drained {report['drained_after_sending_s']} s after sending stopped"
            if drained_at is not None
            else "NOT drained"
        )
        + f"; load average {load_before[0]:.1f} → {load_after[0]:.1f} on {os.cpu_count()} cores"
    )
    backlog.OUT.mkdir(parents=True, exist_ok=True)
    name = f"soak-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    (backlog.OUT / name).write_text(json.dumps(report, ensure_ascii=False, indent=2), "utf-8")
    print(f"written bench/out/{name} (logs in {workdir})")
    return 0 if drained_at is not None else 1


if __name__ == "__main__":
    sys.exit(main())
