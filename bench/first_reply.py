"""Time a fresh install's first reply, through the README's first command.

Starts ``ruamkid serve`` on an empty instance folder (SQLite, the simulator; ``serve`` runs the
release step first: migrations and the classifier model), then, once the server answers, a new
resident follows, consents and sends a need through the simulator: the time from posting the
need to the bot's reply with a tracking number is the first reply. Repeats on new folders.

    python bench/first_reply.py --runs 3
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NEED = "ไฟกิ่งหน้าบ้านดับมาสามวันแล้วค่ะ"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _call(base: str, path: str, payload: dict | None = None) -> dict:
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(  # noqa: S310 - the local server under test
        base + path, data=data, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - localhost
        return json.loads(response.read())


def _wait_until_up(base: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/simulator/residents", timeout=1)  # noqa: S310
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the server did not come up")


def _wait_for(base: str, user: str, needle: str, deadline: float) -> float:
    while time.monotonic() < deadline:
        chat = _call(base, f"/simulator/messages?user_id={user}")
        for message in chat.get("messages", []):
            if message.get("sender") == "bot" and needle in json.dumps(message, ensure_ascii=False):
                return time.monotonic()
        time.sleep(0.02)
    raise SystemExit(f"no reply containing {needle!r}")


def one_run(ruamkid: str) -> dict[str, float]:
    folder = Path(tempfile.mkdtemp(prefix="ruamkid-fresh-"))
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "RUAMKID_INSTANCE": str(folder), "PORT": str(port)}
    env.pop("DATABASE_URL", None)
    started = time.monotonic()
    server = subprocess.Popen(
        [ruamkid, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until_up(base, started + 600)
        up = time.monotonic()
        user = _call(base, "/simulator/residents", {})["user_id"]
        _call(base, "/simulator/send", {"user_id": user, "kind": "follow"})
        _wait_for(base, user, "ยินยอม", time.monotonic() + 30)
        _call(base, "/simulator/send", {"user_id": user, "kind": "text", "text": "ยินยอม"})
        _wait_for(base, user, "ชุมชน", time.monotonic() + 30)
        sent = time.monotonic()
        _call(base, "/simulator/send", {"user_id": user, "kind": "text", "text": NEED})
        replied = _wait_for(base, user, "LPN-", sent + 60)
        return {"start_to_ready_s": up - started, "first_need_reply_s": replied - sent}
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--ruamkid", default=str(Path(sys.executable).with_name("ruamkid")))
    args = parser.parse_args()
    results = []
    for n in range(args.runs):
        result = one_run(args.ruamkid)
        results.append(result)
        print(json.dumps({"run": n + 1, **{k: round(v, 2) for k, v in result.items()}}))
    for key in ("start_to_ready_s", "first_need_reply_s"):
        values = [r[key] for r in results]
        print(
            f"{key}: median {statistics.median(values):.2f}, min {min(values):.2f}, "
            f"max {max(values):.2f} over {len(values)} fresh installs"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
