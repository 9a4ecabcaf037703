"""Benchmark the LINE webhook under gunicorn on 127.0.0.1, beside the least a webhook can do.

    python bench/webhook.py            # a few minutes on 2 cores; writes bench/out/webhook-*.json

Two servers run one after the other with the same gunicorn settings (gthread):

- **ceiling**: ``bench/webhook_ceiling.py``, Flask + line-bot-sdk's ``WebhookParser`` (verify the
  signature, parse, answer 200);
- **ruamkid**: ``bot:create_app()`` on SQLite in a temporary folder, its worker running inside
  the web process (the README's one-command setup), replying to a LINE stand-in in this process.

Phases, each with distinct signed text events built beforehand:

1. *throughput*: a fixed count of events as fast as possible (``wrk`` cycling (body, signature)
   pairs when installed, else Python threads); events/s and p50/p99 time to the 200.
2. *fixed rate*: 200 events/s for 10 s, open loop; p50/p99 time to the 200 (target p99 < 100 ms).
3. *reply latency* (ruamkid only, fresh database): residents who consented and chose their
   community send needs at 20 events/s for 30 s; the time from sending an event to its reply
   reaching the LINE stand-in (target p99 < 1 s). This includes classifying the text.

Phases 1–2 use residents who have not consented, so the worker's backlog stays cheap; the
webhook's answer never waits for the worker in any case.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.openloop import open_loop  # noqa: E402
from bot.simulator import events as line_events  # noqa: E402

OUT = REPO / "bench" / "out"
SECRET = "bench-channel-secret-0123456789abcdef"  # noqa: S105 -- local bench only
TOKEN = "bench-access-token"  # noqa: S105
NEEDS = (
    "ถนนหน้าบ้านเป็นหลุมลึก รถจักรยานยนต์ล้มบ่อย",
    "ไฟทางในซอยดับมาหลายคืนแล้ว มืดมากค่ะ",
    "ขยะไม่มีคนมาเก็บสามวันแล้ว ส่งกลิ่นเหม็น",
    "ท่อระบายน้ำอุดตัน ฝนตกทีน้ำท่วมขังหน้าบ้าน",
    "อยากให้มีลานออกกำลังกายสำหรับผู้สูงอายุในชุมชน",
    "น้ำประปาไหลอ่อนมากช่วงเช้า",
    "สุนัขจรจัดเยอะ เด็กไปโรงเรียนไม่ปลอดภัย",
    "ขอให้ตัดกิ่งไม้ที่พาดสายไฟหน้าวัด",
    "อยากให้มีการอบรมอาชีพเสริมให้แม่บ้าน",
    "ทางเท้าแตกชำรุด ผู้สูงอายุเดินลำบาก",
)


# --- the LINE stand-in -------------------------------------------------------------------------


class StandIn:
    """A LINE API stand-in on 127.0.0.1 recording when each reply (or push) arrives."""

    def __init__(self) -> None:
        self.replies: dict[str, float] = {}
        self.pushes: dict[str, float] = {}
        self.lock = threading.Lock()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes; with Nagle's algorithm the body waits for
            # the client's delayed ACK (40 ms), which real LINE servers do not impose.
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, body: bytes, content_type: str = "application/json") -> None:
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:  # noqa: N802 -- http.server's naming
                arrived = time.monotonic()
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                data = json.loads(raw or b"{}")
                with stand_in.lock:
                    if self.path.endswith("/reply"):
                        stand_in.replies.setdefault(data.get("replyToken", ""), arrived)
                    elif self.path.endswith("/push"):
                        stand_in.pushes.setdefault(data.get("to", ""), arrived)
                self._answer(b'{"sentMessages": [{"id": "1"}]}')

            def do_GET(self) -> None:  # noqa: N802
                if self.path.startswith("/v2/bot/profile/"):
                    user_id = self.path.rsplit("/", 1)[-1]
                    body = {"userId": user_id, "displayName": "ผู้ทดสอบ"}
                    self._answer(json.dumps(body).encode())
                elif self.path.endswith("/quota"):
                    self._answer(b'{"type": "none"}')
                else:
                    self._answer(b'{"totalUsage": 0}')

        class Quiet(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                # A stopped gunicorn resets its kept-alive connections; that is expected.
                pass

        self.server = Quiet(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        """The LINE_API_HOST to give the app."""
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


# --- events ---------------------------------------------------------------------------------------


def user_id(group: int, n: int) -> str:
    """Return a stable LINE-style user id for resident ``n`` of ``group``."""
    return f"U{group:04x}{n:028x}"


def signed_text(user: str, text: str) -> tuple[bytes, str, str]:
    """Return (body, signature, reply token) of one fresh text event."""
    token = line_events.new_reply_token()
    event = line_events.make_event("text", user, text=text, reply_token=token)
    body = line_events.body(event)
    return body, line_events.sign(body, SECRET), token


def make_events(count: int, group: int, users: int = 500) -> list[tuple[bytes, str, str]]:
    """Return ``count`` distinct signed text events from ``users`` residents."""
    return [
        signed_text(user_id(group, i % users), f"{NEEDS[i % len(NEEDS)]} (จุดที่ {i})")
        for i in range(count)
    ]


# --- servers --------------------------------------------------------------------------------------


def free_port() -> int:
    """Return a free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def post(conn: http.client.HTTPConnection, body: bytes, signature: str) -> int:
    """POST one webhook body on a kept-alive connection; return the status."""
    conn.request(
        "POST",
        "/callback",
        body=body,
        headers={"Content-Type": "application/json", "X-Line-Signature": signature},
    )
    response = conn.getresponse()
    response.read()
    return response.status


class Server:
    """One gunicorn serving an app on 127.0.0.1."""

    def __init__(self, name: str, app: str, env: dict[str, str], workers: int, threads: int):
        self.name = name
        self.port = free_port()
        self.log = open(Path(env["BENCH_DIR"]) / f"{name}.log", "w")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                "--threads",
                str(threads),
                "--worker-class",
                "gthread",
                "--log-level",
                "warning",
                "--chdir",
                str(REPO),
                app,
            ],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait_ready()

    def _wait_ready(self, seconds: float = 120) -> None:
        body = b'{"destination": "U0", "events": []}'
        signature = line_events.sign(body, SECRET)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited; see {self.log.name}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                if post(conn, body, signature) == 200:
                    conn.close()
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not start in {seconds} s")

    def stop(self) -> None:
        """Stop gunicorn and its workers."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        self.log.close()


# --- load -----------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float | None:
    """Return the q-th percentile (nearest rank) of ``values`` in the same unit."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, int(round(q / 100 * len(ordered) + 0.5)) - 1))
    return ordered[rank]


WRK_SCRIPT = """
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } rk_timespec;
int clock_gettime(int clk_id, rk_timespec *tp);
]]
local function now()
  local t = ffi.new("rk_timespec")
  ffi.C.clock_gettime(1, t)
  return tonumber(t.tv_sec) + tonumber(t.tv_nsec) / 1e9
end

local pairs_ = {
%(pairs)s
}
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

function init(args)
  per = math.floor(#pairs_ / %(threads)d)
  first = (id - 1) * per
  sent = 0
  answered = 0
  non200 = 0
  started = 0
  finished = 0
end

function request()
  if started == 0 then started = now() end
  local pair = pairs_[first + (sent %% per) + 1]
  sent = sent + 1
  return wrk.format("POST", "/callback",
    {["Content-Type"] = "application/json", ["X-Line-Signature"] = pair[2]}, pair[1])
end

function response(status, headers, body)
  if finished ~= 0 then return end
  answered = answered + 1
  if status ~= 200 then non200 = non200 + 1 end
  if answered >= per and finished == 0 then
    finished = now()
    local f = io.open("%(done_file)s", "a")
    f:write("done\\n")
    f:close()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local first_start, last_end, total, bad = nil, 0, 0, 0
  for _, t in ipairs(threads) do
    local s, e = t:get("started"), t:get("finished")
    if first_start == nil or s < first_start then first_start = s end
    if e > last_end then last_end = e end
    total = total + t:get("answered")
    bad = bad + t:get("non200")
  end
  io.write(string.format(
    '{"answered": %%d, "non200": %%d, "seconds": %%.6f, "p50_us": %%d, "p99_us": %%d, ' ..
    '"errors": %%d}\\n',
    total, bad, last_end - first_start, latency:percentile(50), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout))
end
"""


def run_wrk(port: int, events: list[tuple[bytes, str, str]], workdir: Path) -> dict[str, Any]:
    """Send every event once with wrk (2 threads, 16 connections); return its figures."""
    threads, connections = 2, 16
    for body, _signature, _token in events:
        if b"]==]" in body:
            raise ValueError("a body cannot be written as a Lua long string")
    pairs = ",\n".join(
        f'{{[==[{body.decode()}]==], "{signature}"}}' for body, signature, _ in events
    )
    done_file = workdir / "wrk.done"
    done_file.unlink(missing_ok=True)
    script = workdir / "webhook.lua"
    script.write_text(
        WRK_SCRIPT % {"pairs": pairs, "threads": threads, "done_file": str(done_file)}
    )
    process = subprocess.Popen(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            "-d120s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}/callback",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    # wrk waits out -d even when every thread is done: interrupt it once they are.
    deadline = time.monotonic() + 125
    while time.monotonic() < deadline and process.poll() is None:
        if done_file.exists() and done_file.read_text().count("done") >= threads:
            process.send_signal(signal.SIGINT)
            break
        time.sleep(0.05)
    output, _ = process.communicate(timeout=30)
    line = next(x for x in reversed(output.splitlines()) if x.startswith("{"))
    figures = json.loads(line)
    return {
        "tool": "wrk",
        "events": figures["answered"],
        "non_200": figures["non200"] + figures["errors"],
        "events_per_s": figures["answered"] / figures["seconds"],
        "p50_ms": figures["p50_us"] / 1000,
        "p99_ms": figures["p99_us"] / 1000,
    }


def run_threads(port: int, events: list[tuple[bytes, str, str]], connections: int = 16):
    """Send every event once from ``connections`` Python threads (when wrk is missing)."""
    index = iter(range(len(events)))
    lock = threading.Lock()
    latencies: list[float] = []
    bad = [0]

    def run() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while True:
            with lock:
                i = next(index, None)
            if i is None:
                break
            body, signature, _ = events[i]
            start = time.perf_counter()
            status = post(conn, body, signature)
            elapsed = time.perf_counter() - start
            with lock:
                latencies.append(elapsed)
                bad[0] += status != 200
        conn.close()

    threads = [threading.Thread(target=run) for _ in range(connections)]
    begin = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - begin
    return {
        "tool": "python threads",
        "events": len(latencies),
        "non_200": bad[0],
        "events_per_s": len(latencies) / seconds,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
    }


def run_rate(
    port: int,
    rate: float,
    seconds: float,
    make: Callable[[int], tuple[bytes, str, str]],
    senders: int = 24,
) -> tuple[dict[str, Any], dict[str, float]]:
    """Send ``rate`` events/s for ``seconds`` (open loop); return figures and send times."""
    prepared = [make(i) for i in range(int(rate * seconds))] if rate > 50 else None
    lock = threading.Lock()
    latencies: list[float] = []
    lateness: list[float] = []
    sent_at: dict[str, float] = {}
    bad = [0]

    def send(conn: http.client.HTTPConnection, i: int, due: float) -> http.client.HTTPConnection:
        body, signature, token = prepared[i] if prepared else make(i)
        start = time.monotonic()
        status = post(conn, body, signature)
        end = time.monotonic()
        with lock:
            sent_at[token] = start
            # Measured from when the event was due, so a slow server cannot hide its delay.
            latencies.append(end - due)
            lateness.append(start - due)
            bad[0] += status != 200
        return conn

    elapsed = open_loop(port, rate, seconds, senders, send)
    achieved = len(latencies) / elapsed
    figures = {
        "events": len(latencies),
        "target_events_per_s": rate,
        "achieved_events_per_s": achieved,
        "non_200": bad[0],
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "max_ms": max(latencies) * 1000,
        "client_late_p99_ms": percentile(lateness, 99) * 1000,
    }
    return figures, sent_at


# --- the ruamkid database ---------------------------------------------------------------------


def prepare_database(env: dict[str, str], consented: int, model: bool = True) -> None:
    """Migrate, add the communities, and add residents who consented (group 1) if asked; train
    the classifier unless ``model`` is False (the webhook alone never classifies)."""
    code = f"""
import os
from bot import create_app
from bot.db import session_factory
from bot.setup import prepare_database
from storage.base import utcnow
from storage.models import Community, Resident
from sqlalchemy import select
app = create_app({{"INLINE_WORKER": False}})
prepare_database(app)
with session_factory(app)() as session:
    community = session.scalars(select(Community).order_by(Community.id)).first()
    for n in range({consented}):
        session.add(Resident(line_user_id="U0001" + format(n, "028x"), consent="given",
                             consented_at=utcnow(), community_id=community.id, active=True,
                             display_name="ผู้ทดสอบ", state={{}}))
    session.commit()
if {model}:
    from bot.needs.classification import classifier
    classifier(app).load()  # train the model once, outside the measurements
"""  # noqa: S608 - a Python script that mentions select(), not SQL
    subprocess.run([sys.executable, "-c", code], env=env, check=True, cwd=REPO)


def wait_for_replies(
    stand_in: StandIn, tokens: dict[str, float], users: dict[str, str], wait: float
):
    """Wait until every event got its reply (or a push to its resident); return the delays."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        with stand_in.lock:
            missing = [
                t for t in tokens if t not in stand_in.replies and users[t] not in stand_in.pushes
            ]
        if not missing:
            break
        time.sleep(0.2)
    delays = []
    with stand_in.lock:
        for token, sent in tokens.items():
            arrived = stand_in.replies.get(token) or stand_in.pushes.get(users[token])
            if arrived is not None:
                delays.append(arrived - sent)
    return delays


# --- main -----------------------------------------------------------------------------------------


def wait_for_empty_inbox(database_url: str, timeout: float) -> int:
    """Wait until the worker has processed every stored event; return how many are left."""
    from sqlalchemy import text

    from storage.db import make_engine

    engine = make_engine(database_url)
    query = text("SELECT count(*) FROM inbox_events WHERE status IN ('pending', 'processing')")
    deadline = time.monotonic() + timeout
    try:
        while True:
            with engine.connect() as connection:
                left = connection.scalar(query)
            if left == 0 or time.monotonic() > deadline:
                return left
            time.sleep(0.2)
    finally:
        engine.dispose()


def throughput_rounds(
    args: argparse.Namespace,
    base_env: dict[str, str],
    results: dict[str, Any],
    throughput: Callable[[Server, int], dict[str, Any]],
    database: Callable[[str], str],
) -> int:
    """Phase 1 only, ``--repeat`` rounds: the ceiling, then Ruamkid's web processes alone (no
    worker, as the Procfile's ``web``), each with fresh distinct events; print the ratios."""
    env = {
        **base_env,
        "INLINE_WORKER": "0",
        "DATABASE_URL": database("web.db"),
        "RUAMKID_INSTANCE": str(Path(base_env["BENCH_DIR"]) / "instance-web"),
    }
    prepare_database(env, 0, model=False)
    rounds = []
    for n in range(args.repeat):
        figures = {}
        for name, app, group in (
            ("ceiling", "bench.webhook_ceiling:create_app()", 40 + 2 * n),
            ("ruamkid", "bot:create_app()", 41 + 2 * n),
        ):
            server = Server(f"{name}-{n}", app, env, args.workers, args.threads)
            try:
                figures[name] = throughput(server, group)
            finally:
                server.stop()
        figures["ratio"] = figures["ruamkid"]["events_per_s"] / figures["ceiling"]["events_per_s"]
        figures["load"] = os.getloadavg()
        rounds.append(figures)
        print(
            f"round {n + 1}: ceiling {figures['ceiling']['events_per_s']:.0f}/s, "
            f"ruamkid {figures['ruamkid']['events_per_s']:.0f}/s "
            f"(p99 {figures['ruamkid']['p99_ms']:.0f} ms, "
            f"non-200 {figures['ruamkid']['non_200']}), "
            f"ratio {figures['ratio']:.2f}, load {figures['load'][0]:.1f}",
            flush=True,
        )
    results["database"] = "postgresql" if env["DATABASE_URL"].startswith("postgresql") else "sqlite"
    results["rounds"] = rounds
    results["machine"]["load_after"] = os.getloadavg()
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"webhook-throughput-{datetime.now(UTC):%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(f"written to {path.relative_to(REPO)}")
    return 0


def main() -> int:
    """Run the benchmark and print and save its figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=3000, help="events in the throughput phase")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=8, help="threads per gunicorn worker")
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--rate-seconds", type=float, default=10.0)
    parser.add_argument("--reply-rate", type=float, default=20.0)
    parser.add_argument("--reply-seconds", type=float, default=30.0)
    parser.add_argument("--no-wrk", action="store_true", help="use Python threads, not wrk")
    parser.add_argument(
        "--model-dir",
        default=os.environ.get("MODEL_DIR") or str(REPO / ".bench-cache" / "webhook-models"),
        help="classifier model folder, kept between runs (trained on first use)",
    )
    parser.add_argument(
        "--database-url",
        help="the database Ruamkid uses (e.g. postgresql+psycopg://…/bench; emptied of nothing, "
        "migrated first); default: SQLite files in a temporary folder",
    )
    parser.add_argument(
        "--throughput-only",
        action="store_true",
        help="only phase 1: the ceiling and Ruamkid's web alone (no worker), --repeat times",
    )
    parser.add_argument("--repeat", type=int, default=1, help="rounds of --throughput-only")
    args = parser.parse_args()
    use_wrk = (
        not args.no_wrk and subprocess.run(["which", "wrk"], capture_output=True).returncode == 0
    )

    workdir = Path(tempfile.mkdtemp(prefix="ruamkid-bench-"))
    stand_in = StandIn()
    base_env = {
        **os.environ,
        "BENCH_DIR": str(workdir),
        "LINE_CHANNEL_SECRET": SECRET,
        "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
        "LINE_API_HOST": stand_in.url,
        "SECRET_KEY": "bench-secret-key-" + "x" * 32,
        "MODEL_DIR": args.model_dir,
        "INLINE_WORKER": "1",
        "LOG_LEVEL": "WARNING",
        "PYTHAINLP_OFFLINE": "1",
        "PYTHAINLP_READ_ONLY": "1",
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": str(REPO),
    }
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_before": os.getloadavg(),
        },
        "gunicorn": {"workers": args.workers, "threads": args.threads, "class": "gthread"},
    }
    print(f"bench folder {workdir}; LINE stand-in {stand_in.url}; wrk: {use_wrk}", flush=True)

    def throughput(server: Server, group: int) -> dict[str, Any]:
        warm = make_events(100, group + 100)
        run_threads(server.port, warm, 4)
        events = make_events(args.events, group)
        if use_wrk:
            return run_wrk(server.port, events, workdir)
        return run_threads(server.port, events)

    def fixed_rate(server: Server, group: int) -> dict[str, Any]:
        figures, _ = run_rate(
            server.port,
            args.rate,
            args.rate_seconds,
            lambda i: signed_text(user_id(group, i % 500), f"{NEEDS[i % len(NEEDS)]} #{i}"),
        )
        return figures

    def database(name: str) -> str:
        return args.database_url or f"sqlite:///{workdir / name}"

    if args.throughput_only:
        try:
            return throughput_rounds(args, base_env, results, throughput, database)
        finally:
            stand_in.stop()

    try:
        # The ceiling.
        env = {**base_env, "DATABASE_URL": f"sqlite:///{workdir / 'unused.db'}"}
        ceiling = Server(
            "ceiling", "bench.webhook_ceiling:create_app()", env, args.workers, args.threads
        )
        try:
            print("ceiling: throughput …", flush=True)
            results["ceiling_throughput"] = throughput(ceiling, 10)
            print("ceiling: fixed rate …", flush=True)
            results["ceiling_fixed_rate"] = fixed_rate(ceiling, 11)
        finally:
            ceiling.stop()

        # Ruamkid, phases 1–2: residents who have not consented (a cheap backlog).
        env = {
            **base_env,
            "DATABASE_URL": database("load.db"),
            "RUAMKID_INSTANCE": str(workdir / "instance-load"),
        }
        print("ruamkid: preparing the database and the classifier …", flush=True)
        prepare_database(env, 0)
        server = Server("ruamkid", "bot:create_app()", env, args.workers, args.threads)
        try:
            print("ruamkid: throughput …", flush=True)
            results["ruamkid_throughput"] = throughput(server, 20)
            time.sleep(2)
            print("ruamkid: fixed rate …", flush=True)
            results["ruamkid_fixed_rate"] = fixed_rate(server, 21)
        finally:
            server.stop()

        # Ruamkid as the Procfile deploys it: web processes without the worker thread, and
        # `ruamkid worker` beside them (same database). The throughput phase runs before the
        # worker starts, so it measures the webhook alone, as the ceiling does; the worker then
        # drains the backlog (timed) and stays up for the fixed-rate phase.
        env = {
            **base_env,
            "INLINE_WORKER": "0",
            "DATABASE_URL": database("procfile.db"),
            "RUAMKID_INSTANCE": str(workdir / "instance-procfile"),
        }
        prepare_database(env, 0)
        server = Server("ruamkid-web", "bot:create_app()", env, args.workers, args.threads)
        worker_log = open(workdir / "ruamkid-worker.log", "w")  # noqa: SIM115
        worker = None
        try:
            print("ruamkid (web alone, worker started after): throughput …", flush=True)
            results["procfile_throughput"] = throughput(server, 30)
            started = time.monotonic()
            worker = subprocess.Popen(
                [str(Path(sys.executable).with_name("ruamkid")), "worker"],
                env=env,
                stdout=worker_log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            left = wait_for_empty_inbox(env["DATABASE_URL"], 300)
            results["procfile_backlog"] = {
                "events": results["procfile_throughput"]["events"] + 100,
                "drain_s": time.monotonic() - started,
                "left": left,
            }
            print("ruamkid (web + separate worker): fixed rate …", flush=True)
            results["procfile_fixed_rate"] = fixed_rate(server, 31)
        finally:
            server.stop()
            if worker is not None:
                os.killpg(worker.pid, signal.SIGTERM)
                worker.wait(20)
            worker_log.close()

        # Ruamkid, phase 3: consented residents sending needs; time to the reply.
        env = {
            **base_env,
            "DATABASE_URL": database("reply.db"),
            "RUAMKID_INSTANCE": str(workdir / "instance-reply"),
        }
        count = int(args.reply_rate * args.reply_seconds)
        prepare_database(env, count + 40)
        server = Server("ruamkid-reply", "bot:create_app()", env, args.workers, args.threads)
        try:
            users: dict[str, str] = {}

            def make(i: int, offset: int = 0) -> tuple[bytes, str, str]:
                user = user_id(1, i + offset)
                body, signature, token = signed_text(user, f"{NEEDS[i % len(NEEDS)]} ซอย {i}")
                users[token] = user
                return body, signature, token

            # Warm up: each process loads the model on its first classification.
            _, warm = run_rate(server.port, 4, 10, lambda i: make(i, count), senders=4)
            wait_for_replies(stand_in, warm, users, 120)
            print("ruamkid: reply latency …", flush=True)
            figures, sent = run_rate(server.port, args.reply_rate, args.reply_seconds, make)
            delays = wait_for_replies(stand_in, sent, users, 60)
            figures.update(
                {
                    "replies": len(delays),
                    "missing_replies": len(sent) - len(delays),
                    "reply_p50_ms": (percentile(delays, 50) or 0) * 1000,
                    "reply_p99_ms": (percentile(delays, 99) or 0) * 1000,
                    "reply_max_ms": (max(delays) if delays else 0) * 1000,
                }
            )
            results["ruamkid_reply_latency"] = figures
        finally:
            server.stop()
    finally:
        stand_in.stop()

    ratio = (
        results["ruamkid_throughput"]["events_per_s"]
        / results["ceiling_throughput"]["events_per_s"]
    )
    reply = results["ruamkid_reply_latency"]
    results["summary"] = {
        "throughput_ratio": ratio,
        "throughput_ratio_target": 0.5,
        "fixed_rate_p99_ms": results["ruamkid_fixed_rate"]["p99_ms"],
        "procfile_throughput_ratio": results["procfile_throughput"]["events_per_s"]
        / results["ceiling_throughput"]["events_per_s"],
        "procfile_fixed_rate_p99_ms": results["procfile_fixed_rate"]["p99_ms"],
        "fixed_rate_p99_target_ms": 100,
        "reply_p99_ms": reply["reply_p99_ms"],
        "reply_p99_target_ms": 1000,
        "met": {
            "throughput": ratio >= 0.5,
            "fixed_rate_p99": results["ruamkid_fixed_rate"]["p99_ms"] < 100,
            "reply_p99": reply["missing_replies"] == 0 and reply["reply_p99_ms"] < 1000,
        },
    }
    results["machine"]["load_after"] = os.getloadavg()
    print_table(results)
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"webhook-{datetime.now(UTC):%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(f"\nwritten to {path.relative_to(REPO)}")
    return 0


def print_table(results: dict[str, Any]) -> None:
    """Print the figures side by side."""
    c, r = results["ceiling_throughput"], results["ruamkid_throughput"]
    cr, rr = results["ceiling_fixed_rate"], results["ruamkid_fixed_rate"]
    reply = results["ruamkid_reply_latency"]
    p, pr = results["procfile_throughput"], results["procfile_fixed_rate"]
    backlog = results["procfile_backlog"]
    summary = results["summary"]
    rows = [
        ("throughput tool", c["tool"], r["tool"], ""),
        ("events sent", c["events"], r["events"], ""),
        (
            "events/s",
            f"{c['events_per_s']:.0f}",
            f"{r['events_per_s']:.0f}",
            f"ratio {summary['throughput_ratio']:.2f} (≥ 0.5)",
        ),
        ("p50 to 200 (ms)", f"{c['p50_ms']:.1f}", f"{r['p50_ms']:.1f}", ""),
        ("p99 to 200 (ms)", f"{c['p99_ms']:.1f}", f"{r['p99_ms']:.1f}", ""),
        ("non-200", c["non_200"], r["non_200"], ""),
        (
            f"at {rr['target_events_per_s']:.0f}/s: achieved",
            f"{cr['achieved_events_per_s']:.0f}",
            f"{rr['achieved_events_per_s']:.0f}",
            "",
        ),
        ("  p50 to 200 (ms)", f"{cr['p50_ms']:.1f}", f"{rr['p50_ms']:.1f}", ""),
        ("  p99 to 200 (ms)", f"{cr['p99_ms']:.1f}", f"{rr['p99_ms']:.1f}", "target < 100"),
        (
            "web alone (Procfile, worker later)",
            "",
            f"{p['events_per_s']:.0f}",
            f"ratio {p['events_per_s'] / c['events_per_s']:.2f}",
        ),
        ("  p50 / p99 to 200 (ms)", "", f"{p['p50_ms']:.1f} / {p['p99_ms']:.1f}", ""),
        (
            "  backlog drained by worker (s)",
            "",
            f"{backlog['drain_s']:.1f}",
            f"{backlog['events']} events, {backlog['left']} left",
        ),
        (
            f"  with worker, at {pr['target_events_per_s']:.0f}/s: p99 (ms)",
            "",
            f"{pr['p99_ms']:.1f}",
            "target < 100",
        ),
        (
            f"at {reply['target_events_per_s']:.0f}/s: reply p50 (ms)",
            "",
            f"{reply['reply_p50_ms']:.0f}",
            "",
        ),
        ("  reply p99 (ms)", "", f"{reply['reply_p99_ms']:.0f}", "target < 1000"),
        ("  replies missing", "", reply["missing_replies"], ""),
    ]
    print(f"\n{'':34} {'ceiling':>12} {'ruamkid':>12}  note")
    for name, a, b, note in rows:
        print(f"{name:34} {a!s:>12} {b!s:>12}  {note}")
    print(f"targets met: {summary['met']}")
    print(
        f"load average before/after: {results['machine']['load_before']} / "
        f"{results['machine']['load_after']}"
    )


if __name__ == "__main__":
    sys.exit(main())
