"""The public list page under load: 200,000 needs, gunicorn as the Procfile runs it, a fixed
rate of requests from a second process (open loop, timed from when each request was due).

    python bench/public.py                                   # SQLite in /tmp/ruamkid-bench-public/
    python bench/public.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench
    python bench/public.py --rate 200 --seconds 20 --rows 200000

Seeding (bench/dashboard.py's seed: residents, needs, photos, duplicates, 300 projects) runs
once per database; community centres are set and one need in ten is publishable. The load
cycles through 60 list URLs (filters by strategy, status and community, pages 1–5), as people
browsing would. It reports the rate achieved, p50/p95/p99 and the machine's load average, and
also each URL's first (uncached) answer. The per-address limit is off (one address sends
everything). Target: 200 requests/s with p95 < 100 ms. Writes JSON to bench/out/.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import signal
import socket
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

from bench.openloop import open_loop  # noqa: E402

OUT = REPO / "bench" / "out"
DB_DIR = Path(tempfile.gettempdir()) / "ruamkid-bench-public"
TARGET_RATE = 200
TARGET_P95_MS = 100
STRATEGIES = ("LPN-S1", "LPN-S4", "LPN-S7", "LPN-S8")
STATUSES = ("new", "in_progress", "done")


def free_port() -> int:
    """Return a TCP port that is free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare(database_url: str, rows: int) -> list[int]:
    """Seed the database once; set community centres and publishable needs; return community
    ids."""
    from dashboard import seed
    from sqlalchemy import func, select, text, update

    from bot import create_app
    from bot.db import dispose, session_factory
    from bot.setup import seed_communities
    from storage.migrate import upgrade
    from storage.models import Community, Submission

    upgrade(database_url)
    app = create_app({"DATABASE_URL": database_url, "INLINE_WORKER": False})
    with session_factory(app)() as session:
        seed_communities(session, app.extensions["ruamkid"])
        session.commit()
        have = session.scalar(select(func.count()).select_from(Submission)) or 0
        session.rollback()  # hold no lock while the seeder drops and rebuilds indexes
        if have < rows:
            seed(app, rows - have, random.Random(12))
        rng = random.Random(7)
        for community in session.scalars(select(Community)):
            community.latitude = round(18.57 + rng.uniform(-0.015, 0.015), 4)
            community.longitude = round(99.0 + rng.uniform(-0.015, 0.015), 4)
        # Only the rows that differ: rewriting all 200,000 on every run left as many dead rows
        # each time (this machine's PostgreSQL runs without autovacuum), read by every later run.
        session.execute(
            update(Submission)
            .where(text("publishable <> (id % 10 = 0)"))
            .values(publishable=text("id % 10 = 0"))
        )
        session.commit()
        ids = list(session.scalars(select(Community.id).order_by(Community.position)))
    dispose(app)
    return ids


def urls(community_ids: list[int]) -> list[str]:
    """Return the 60 list URLs the load cycles through."""
    found = ["/public/"] + [f"/public/?page={p}" for p in range(2, 6)]
    found += [f"/public/?strategy={s}" for s in STRATEGIES]
    found += [f"/public/?status={s}" for s in STATUSES]
    found += [f"/public/?community={c}" for c in community_ids]
    found += [f"/public/?strategy={s}&status={t}" for s in STRATEGIES for t in STATUSES]
    found += [f"/public/?strategy=LPN-S7&page={p}" for p in range(2, 6)]
    found += [f"/public/?community={c}&status=done" for c in community_ids[:8]]
    return (found * 2)[:60]


class Server:
    """gunicorn as the Procfile runs it (gthread, 2 workers × 8 threads) on 127.0.0.1."""

    def __init__(self, env: dict[str, str], workers: int, threads: int, log: Path):
        self.port = free_port()
        self.log = log.open("w")
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn",
                "--config", "python:bot.gunicorn_config",
                "--bind", f"127.0.0.1:{self.port}",
                "--workers", str(workers), "--threads", str(threads),
                "--worker-class", "gthread", "--timeout", "30",
                "--chdir", str(REPO), "bot:create_app()",
            ],
            env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {log}")
            try:
                if (
                    get(
                        http.client.HTTPConnection("127.0.0.1", self.port, timeout=5),
                        "/public/track",
                    )[0]
                    == 200
                ):
                    return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("gunicorn did not start")

    def stop(self) -> None:
        """Stop gunicorn and its workers."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        self.log.close()


def get(conn: http.client.HTTPConnection, url: str) -> tuple[int, int]:
    """GET ``url`` on a kept-alive connection; return (status, body length)."""
    conn.request("GET", url)
    response = conn.getresponse()
    body = response.read()
    return response.status, len(body)


def percentile(values: list[float], q: float) -> float:
    """Return the q-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(q / 100 * len(ordered))) - 1))]


def run_rate(port: int, targets: list[str], rate: float, seconds: float, senders: int = 32):
    """Request ``rate`` pages/s for ``seconds`` (open loop); return the figures."""
    lock = threading.Lock()
    latencies: list[float] = []
    bad = [0]

    def send(conn: http.client.HTTPConnection, i: int, due: float) -> http.client.HTTPConnection:
        try:
            status, _ = get(conn, targets[i % len(targets)])
        except OSError:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            status = 0
        end = time.monotonic()
        with lock:
            latencies.append(end - due)  # from when it was due: a slow server cannot hide
            bad[0] += status != 200
        return conn

    elapsed = open_loop(port, rate, seconds, senders, send)
    return {
        "requests": len(latencies),
        "target_per_s": rate,
        "achieved_per_s": round(len(latencies) / elapsed, 1),
        "non_200": bad[0],
        "p50_ms": round(percentile(latencies, 50) * 1000, 1),
        "p95_ms": round(percentile(latencies, 95) * 1000, 1),
        "p99_ms": round(percentile(latencies, 99) * 1000, 1),
        "max_ms": round(max(latencies) * 1000, 1),
    }


def main() -> int:
    """Seed, serve, load, report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--rate", type=float, default=TARGET_RATE)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--dir", type=Path, default=DB_DIR, help="SQLite file and server log")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    database_url = args.database_url or f"sqlite:///{args.dir / 'public.db'}"
    started = time.perf_counter()
    communities = prepare(database_url, args.rows)
    print(f"database ready in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "INLINE_WORKER": "0",
        "RATELIMIT_ENABLED": "false",
        "RUAMKID_ENV": "development",
        "PYTHAINLP_OFFLINE": "1",
        "HF_HUB_OFFLINE": "1",
    }
    env.pop("LINE_CHANNEL_SECRET", None)
    targets = urls(communities)
    server = Server(env, args.workers, args.threads, args.dir / "gunicorn.log")
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        cold: list[float] = []
        for url in dict.fromkeys(targets):
            for _ in range(args.workers):  # each worker process renders it once
                start = time.monotonic()
                status, _ = get(conn, url)
                cold.append(time.monotonic() - start)
                assert status == 200, (url, status)
        conn.close()
        load_before = os.getloadavg()
        figures = run_rate(server.port, targets, args.rate, args.seconds)
        load_after = os.getloadavg()
    finally:
        server.stop()
    result: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": "postgresql" if database_url.startswith("postgresql") else "sqlite",
        "rows": args.rows,
        "urls": len(set(targets)),
        "gunicorn": f"{args.workers} workers x {args.threads} threads (gthread)",
        "first_answer_p50_ms": round(percentile(cold, 50) * 1000, 1),
        "first_answer_max_ms": round(max(cold) * 1000, 1),
        "load": figures,
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in load_after],
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "target": f"{TARGET_RATE}/s with p95 < {TARGET_P95_MS} ms",
        "met": figures["achieved_per_s"] >= 0.95 * args.rate
        and figures["p95_ms"] < TARGET_P95_MS
        and figures["non_200"] == 0,
    }
    OUT.mkdir(exist_ok=True)
    name = f"public-{result['database']}-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    (OUT / name).write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
