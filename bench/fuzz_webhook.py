"""Run the webhook fuzzer long: signed, mutated LINE bodies from webhook.yml, thousands of them.

    python bench/fuzz_webhook.py --examples 10000                     # SQLite in a temp folder
    python bench/fuzz_webhook.py --examples 10000 --database-url postgresql+psycopg://…/fuzz

The same strategies and checks as tests/line/test_fuzz.py (the short run in CI): every body
gets 200, every event that follows the spec is stored, and after the worker drained no inbox or
outbox row is stuck or failed and nothing logged an error. Stops at the first failure, with the
smallest failing body Hypothesis finds.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hypothesis import HealthCheck, given, settings  # noqa: E402

from bench.webhook import StandIn  # noqa: E402
from bot import create_app  # noqa: E402
from bot.db import session_factory  # noqa: E402
from bot.line.worker import Worker  # noqa: E402
from bot.setup import seed_communities  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from tests.line import fuzzing  # noqa: E402

SECRET = "fuzz-channel-secret"  # noqa: S105 -- local only


class Errors(logging.Handler):
    """Count log records at ERROR or above (a crash the app caught and logged)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


def main() -> int:
    """Fuzz the webhook and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=2000, help="webhook bodies to send")
    parser.add_argument("--database-url", help="default: SQLite in a temporary folder")
    parser.add_argument(
        "--model-dir",
        default=os.environ.get("MODEL_DIR") or str(REPO / ".bench-cache" / "webhook-models"),
        help="classifier model folder (trained on first use)",
    )
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="ruamkid-fuzz-"))
    url = args.database_url or f"sqlite:///{workdir / 'fuzz.db'}"
    upgrade(url)
    stand_in = StandIn()
    app = create_app(
        {
            "SECRET_KEY": "fuzz-secret-key-" + "x" * 32,
            "DATABASE_URL": url,
            "INSTANCE_PATH": str(workdir / "instance"),
            "MEDIA_DIR": str(workdir / "media"),
            "MODEL_DIR": args.model_dir,
            "LINE_CHANNEL_SECRET": SECRET,
            "LINE_CHANNEL_ACCESS_TOKEN": "fuzz-token",
            "LINE_API_HOST": stand_in.url,
            "INLINE_WORKER": False,
        }
    )
    with session_factory(app)() as session:
        seed_communities(session, app.extensions["ruamkid"])
        session.commit()
    errors = Errors()
    logging.getLogger().addHandler(errors)
    client, worker = app.test_client(), Worker(app, name="fuzz")
    seen = {"bodies": 0, "events": 0, "untouched": 0}

    @settings(
        max_examples=args.examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(batch=fuzzing.batches())
    def fuzz(batch: fuzzing.Batch) -> None:
        seen["bodies"] += 1
        seen["events"] += len(batch.events)
        seen["untouched"] += sum(batch.untouched)
        before = errors.count
        with session_factory(app)() as session:
            problems = fuzzing.post_and_check(client, worker, session, batch, SECRET)
        assert not problems and errors.count == before, (problems, errors.count - before)

    started = time.monotonic()
    try:
        fuzz()
        outcome = "passed"
    except AssertionError as exc:
        outcome = f"FAILED: {exc}"
    finally:
        stand_in.stop()
    seconds = time.monotonic() - started
    print(
        f"{outcome}: {seen['bodies']} bodies, {seen['events']} events "
        f"({seen['untouched']} following the spec) on {url.split(':')[0]} in {seconds:.0f} s; "
        f"errors logged {errors.count}; load {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    return 0 if outcome == "passed" else 1


if __name__ == "__main__":
    raise SystemExit(main())
