"""Prism serving LINE's own OpenAPI spec (``tests/payloads/messaging-api.yml``, a copy).

Prism comes from ``.ci/package-lock.json`` (``npm ci`` in ``.ci``). Without it the contract
tests are skipped on a developer's machine, and fail in CI (``CI`` set), where it must exist.
"""

from __future__ import annotations

import os
import queue
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port

REPO = Path(__file__).resolve().parents[2]
PRISM = REPO / ".ci" / "node_modules" / ".bin" / "prism"
SPEC = REPO / "tests" / "payloads" / "messaging-api.yml"
STARTUP_SECONDS = 60


def _missing(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so the contract tests must run)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def prism_url() -> Iterator[str]:
    """Start Prism on a free port of 127.0.0.1; stop it when the session ends."""
    if not PRISM.exists():
        _missing(f"Prism is not installed: run `npm ci` in {PRISM.parents[2]}")
    if not SPEC.exists():
        _missing(f"LINE's OpenAPI spec is not at {SPEC}")
    port = free_port()
    process = subprocess.Popen(
        [str(PRISM), "mock", "-h", "127.0.0.1", "-p", str(port), str(SPEC)],
        cwd=REPO / ".ci",
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        # Keep reading so Prism never blocks on a full pipe.
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + STARTUP_SECONDS
    seen: list[str] = []
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or process.poll() is not None:
                raise RuntimeError("Prism did not start:\n" + "".join(seen[-20:]))
            try:
                line = lines.get(timeout=min(remaining, 0.5))
            except queue.Empty:
                continue
            seen.append(line)
            if "Prism is listening" in line:
                break
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        if process.stdout is not None:
            process.stdout.close()
