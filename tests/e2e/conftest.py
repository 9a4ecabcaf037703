"""Shared pieces of the browser tests: a real ``ruamkid serve`` and Debian's Chromium."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import free_port

CHROMIUM = Path("/usr/bin/chromium")
# Without the networking flags Chromium keeps calling hosts this network refuses (RECIPES.md).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@contextmanager
def ruamkid_server(tmp_path: Path, env: dict[str, str], ready_path: str) -> Iterator[str]:
    """Run ``ruamkid serve`` with ``env`` on a free port; yield its URL once it answers."""
    port = free_port()
    bin_dir = Path(sys.executable).parent
    environment = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "RUAMKID_INSTANCE": str(tmp_path / "instance"),
        "INLINE_WORKER": "1",
        "PYTHAINLP_OFFLINE": "1",
        "PYTHAINLP_READ_ONLY": "1",
        "HF_HUB_OFFLINE": "1",
        **env,
    }
    environment = {key: value for key, value in environment.items() if value is not None}
    log_path = tmp_path / "server.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        [str(bin_dir / "ruamkid"), "serve", "--port", str(port)],
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the server did not start:\n" + log_path.read_text())
            try:
                with urllib.request.urlopen(f"{url}{ready_path}", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                time.sleep(0.3)
        yield url
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)
        log.close()


@pytest.fixture
def chromium():
    """Debian's Chromium through Playwright (headless, as root)."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("Debian's chromium is missing: .ci/run installs it")
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()
