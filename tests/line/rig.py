"""The fault rig: Ruamkid as it runs in production (gunicorn web, separate ``ruamkid worker``
processes), a LINE stand-in that behaves like LINE under faults, and a TCP proxy that cuts the
database connection and restores it.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import urllib3

BIN = Path(sys.executable).parent

# --- the LINE stand-in ---------------------------------------------------------------------


@dataclass
class Faults:
    """How often LINE misbehaves, per call: refuses (500, 429), takes the message and then
    answers 500, or takes it and answers after the bot's time-out."""

    refuse_500: float = 0.0
    refuse_429: float = 0.0
    took_then_500: float = 0.0
    took_then_slow: float = 0.0
    slow_seconds: float = 0.0


@dataclass
class FaultyLine:
    """A threaded LINE Messaging API stand-in: reply tokens are good once, a repeated retry
    key gets 409, faults as configured. ``delivered`` is what residents saw."""

    faults: Faults = field(default_factory=Faults)
    seed: int = 7
    delivered: list[tuple[str, str, list[str]]] = field(default_factory=list)
    calls: int = 0
    # Called (endpoint, body) after LINE took a message, before it answers: e.g. a SIGKILL.
    on_taken: Callable[[str, dict[str, Any]], None] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _spent: set[str] = field(default_factory=set)
    _keys: set[str] = field(default_factory=set)
    _server: ThreadingHTTPServer | None = None

    def start(self) -> str:
        """Serve on a free port of 127.0.0.1; return the base URL."""
        rng = random.Random(self.seed)
        line = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the bot gave up waiting (its time-out) or died: as with LINE

            def do_GET(self) -> None:
                if self.path.startswith("/v2/bot/profile/"):
                    user = self.path.rsplit("/", 1)[-1]
                    self._answer(200, {"userId": user, "displayName": "คุณทดสอบ"})
                elif self.path.startswith("/v2/bot/message/quota/consumption"):
                    self._answer(200, {"totalUsage": 0})
                elif self.path.startswith("/v2/bot/message/quota"):
                    self._answer(200, {"type": "none"})
                else:
                    self._answer(404, {"message": "not found"})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                endpoint = self.path.rsplit("/", 1)[-1]
                with line._lock:
                    line.calls += 1
                    draw = rng.random()
                faults = line.faults
                if draw < faults.refuse_500:
                    return self._answer(500, {"message": "Internal error"})
                draw -= faults.refuse_500
                if draw < faults.refuse_429:
                    return self._answer(429, {"message": "Too many requests"})
                draw -= faults.refuse_429
                with line._lock:
                    if endpoint == "reply":
                        if body["replyToken"] in line._spent:
                            return self._answer(400, {"message": "Invalid reply token"})
                        line._spent.add(body["replyToken"])
                        recipient = body["replyToken"]
                    else:
                        key = self.headers.get("X-Line-Retry-Key", "")
                        if key in line._keys:
                            return self._answer(409, {"message": "retry key already accepted"})
                        line._keys.add(key)
                        recipient = json.dumps(body["to"])
                    texts = [m.get("text", m.get("altText", "")) for m in body["messages"]]
                    line.delivered.append((endpoint, recipient, texts))
                if line.on_taken is not None:
                    line.on_taken(endpoint, body)
                if draw < faults.took_then_500:
                    return self._answer(500, {"message": "Internal error"})
                draw -= faults.took_then_500
                if draw < faults.took_then_slow:
                    time.sleep(faults.slow_seconds)
                self._answer(200, {"sentMessages": [{"id": "1", "quoteToken": "q"}]})

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


# --- a database connection that can be cut --------------------------------------------------


class CuttableProxy:
    """A TCP proxy on 127.0.0.1 (asyncio, in a thread): ``cut()`` drops every connection and
    refuses new ones until ``restore()``, as a database outage does."""

    def __init__(self, host: str, port: int):
        self.target = (host, port)
        self.port = 0
        self.cut_off = False
        self._loop = asyncio.new_event_loop()
        self._writers: set[asyncio.StreamWriter] = set()
        started = threading.Event()
        threading.Thread(target=self._run, args=(started,), daemon=True).start()
        started.wait(10)

    def _run(self, started: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._accept, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        started.set()
        self._loop.run_forever()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.cut_off:
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers.update((writer, up_writer))
        await asyncio.gather(
            self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True
        )

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()
            self._writers.discard(writer)

    def cut(self) -> None:
        """Drop every open connection and refuse new ones."""
        self.cut_off = True

        def close_all() -> None:
            for writer in list(self._writers):
                transport = writer.transport
                transport.abort()

        self._loop.call_soon_threadsafe(close_all)

    def restore(self) -> None:
        """Accept connections again."""
        self.cut_off = False


# --- processes ------------------------------------------------------------------------------


def environment(app_config: dict[str, Any], **overrides: Any) -> dict[str, str]:
    """Return the environment that gives a ``ruamkid`` process the test app's settings."""
    keys = (
        "SECRET_KEY",
        "DATABASE_URL",
        "LINE_CHANNEL_SECRET",
        "LINE_CHANNEL_ACCESS_TOKEN",
        "LINE_API_HOST",
        "MEDIA_DIR",
        "MODEL_DIR",
        "LINE_TIMEOUT",
    )
    values = {key: str(app_config[key]) for key in keys}
    values.update({key: str(value) for key, value in overrides.items()})
    env = {k: v for k, v in os.environ.items() if k not in ("TEST_DATABASE_URL",)}
    env.update(values, RUAMKID_ENV="development", INLINE_WORKER="0", PYTHONUNBUFFERED="1")
    return env


@dataclass
class Process:
    """A child process with its output in a file (read it when a test fails)."""

    args: list[str]
    env: dict[str, str]
    log: Path
    popen: subprocess.Popen | None = None

    def start(self) -> Process:
        """Start (or start again) the process."""
        handle = self.log.open("ab")
        self.popen = subprocess.Popen(self.args, env=self.env, stdout=handle, stderr=handle)
        return self

    def kill(self) -> None:
        """SIGKILL: no clean-up, no commit of what it was doing."""
        if self.popen is not None and self.popen.poll() is None:
            self.popen.send_signal(signal.SIGKILL)
            self.popen.wait(10)

    def stop(self) -> None:
        """Ask it to stop (SIGTERM), then kill it if it lingers."""
        if self.popen is not None and self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    @property
    def pid(self) -> int:
        """The process id."""
        assert self.popen is not None
        return self.popen.pid


def worker(env: dict[str, str], log: Path, concurrency: int = 1) -> Process:
    """Return a ``ruamkid worker`` process (not started)."""
    args = [str(BIN / "ruamkid"), "worker", "--concurrency", str(concurrency)]
    return Process(args, env, log)


def web(env: dict[str, str], log: Path, port: int) -> Process:
    """Return the Procfile's web process on ``port`` (not started)."""
    args = [
        str(BIN / "gunicorn"),
        "--config",
        "python:bot.gunicorn_config",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "2",
        "--threads",
        "8",
        "--worker-class",
        "gthread",
        "--timeout",
        "30",
        "bot:create_app()",
    ]
    return Process(args, env, log)


def wait_until_up(url: str, seconds: float = 240) -> None:
    """Wait until ``url`` answers at all."""
    deadline = time.monotonic() + seconds
    http = urllib3.PoolManager(retries=False, timeout=2)
    while time.monotonic() < deadline:
        try:
            http.request("GET", url)
            return
        except urllib3.exceptions.HTTPError:
            time.sleep(0.2)
    raise TimeoutError(f"{url} did not come up")


def wait_for(check: Callable[[], bool], seconds: float, every: float = 0.5) -> bool:
    """Poll ``check`` until it is true or ``seconds`` pass; return its last value."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(every)
    return check()
