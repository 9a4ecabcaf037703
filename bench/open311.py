"""Open311 and open-data speed on a large table: seed submissions (bench/dashboard.py's seeder),
then time Open311 reads through the Flask test client and one open-data dump.

    python bench/open311.py                       # SQLite in /tmp/ruamkid-bench/, 200,000 rows
    python bench/open311.py --rows 50000 --runs 10
    python bench/open311.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench

Seeding is skipped when the database already holds the rows. Prints p50/p95 per request and
the dump's time and sizes, and writes JSON to bench/out/. Needs a classifier model only for its
taxonomy (RUAMKID_TEST_MODEL_DIR or instance/models).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from dashboard import DB_DIR, OUT, measure, seed  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Seed (if needed), time the Open311 reads and one open-data dump."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=69)
    args = parser.parse_args(argv)

    OUT.mkdir(parents=True, exist_ok=True)
    DB_DIR.mkdir(parents=True, exist_ok=True)
    url = args.database_url or f"sqlite:///{DB_DIR / f'open311-{args.rows}.db'}"

    from bot import create_app
    from bot.db import session_factory
    from bot.opendata import dump as opendata
    from bot.setup import seed_communities
    from storage.migrate import upgrade
    from storage.models import Submission
    from storage.public import public_needs

    upgrade(url)
    instance = tempfile.mkdtemp(prefix="ruamkid-bench-")
    models = os.environ.get("RUAMKID_TEST_MODEL_DIR") or str(ROOT.parent / "instance" / "models")
    app = create_app(
        {
            "RUAMKID_ENV": "testing",
            "TESTING": True,
            "SECRET_KEY": "bench-secret-" + "x" * 40,
            "DATABASE_URL": url,
            "INSTANCE_PATH": instance,
            "MODEL_DIR": models,
            "INLINE_WORKER": False,
            "RATELIMIT_ENABLED": False,
            "LINE_CHANNEL_SECRET": "bench",
            "LINE_CHANNEL_ACCESS_TOKEN": "bench",
            "LINE_API_HOST": "http://127.0.0.1:9",
        }
    )
    with session_factory(app)() as session:
        seed_communities(session, app.extensions["ruamkid"])
        session.commit()
        existing = session.scalar(select(func.count(Submission.id))) or 0
    if existing < args.rows:
        print(f"seeding {args.rows - existing:,} submissions", file=sys.stderr)
        seed(app, args.rows - existing, random.Random(args.seed))
    with app.app_context(), session_factory(app)() as session:
        last = public_needs(session, limit=1)[0].tracking

    client = app.test_client()
    base = "/open311/v2"
    urls = {
        "services.json": f"{base}/services.json",
        "requests.json (last 90 days, 50)": f"{base}/requests.json",
        "requests.xml (last 90 days, 50)": f"{base}/requests.xml",
        "requests.json?service_code=LPN-S7.2&status=closed": (
            f"{base}/requests.json?service_code=LPN-S7.2&status=closed"
        ),
        "requests.json?start_date=2020…&page=20": (
            f"{base}/requests.json?start_date=2020-01-01T00:00:00%2B07:00&page=20"
        ),
        "requests/{id}.json": f"{base}/requests/{last}.json",
    }
    results = {name: measure(client, url, args.runs) for name, url in urls.items()}
    for name, figures in results.items():
        print(f"{name:55} p50 {figures['p50_ms']:7.1f} ms  p95 {figures['p95_ms']:7.1f} ms")

    started = time.perf_counter()
    index = opendata.dump(app, Path(instance) / "opendata")
    seconds = time.perf_counter() - started
    sizes = {name: (Path(instance) / "opendata" / name).stat().st_size for name in opendata.FILES}
    needs, projects = index["needs"], index["projects"]
    print(f"open-data dump: {needs:,} needs, {projects} projects, {seconds:.1f} s")
    print("  " + ", ".join(f"{n} {s / 1e6:.1f} MB" for n, s in sizes.items()))
    load = os.getloadavg()
    report = {
        "rows": args.rows,
        "database": url.split("://")[0],
        "machine": f"{platform.machine()} {os.cpu_count()} cores",
        "load_average": [round(x, 1) for x in load],
        "requests": results,
        "dump": {"seconds": round(seconds, 1), "needs": index["needs"], "bytes": sizes},
    }
    name = f"open311-{report['database'].split('+')[0]}-{args.rows}.json"
    (OUT / name).write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"load average {load[0]:.1f}; written to bench/out/{name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
