"""Nothing in the pipeline touches the network or the home folder.

The check runs in a fresh interpreter whose sockets raise before anything is imported, so an
import-time download (PyThaiNLP corpora, a model hub) would fail the test too.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.nlp.conftest import DATA

GUARDED = textwrap.dedent(
    """
    import socket, sys

    class NetworkCalled(RuntimeError):
        pass

    def refuse(*args, **kwargs):
        raise NetworkCalled(f"network call attempted: {args[:2]!r}")

    socket.socket.connect = refuse
    socket.socket.connect_ex = refuse
    socket.create_connection = refuse
    socket.getaddrinfo = refuse

    import nlp
    classifier = nlp.Classifier(sys.argv[1], corpus_dir=sys.argv[2])
    assert nlp.normalize("ถนนพังงงง 555 https://x.co") == "ถนนพัง <laugh> <url>"
    assert "ลำเหมือง" in classifier.tokenize("ลำเหมืองตัน")
    result = classifier.train()
    pred = classifier.classify("ไฟกิ่งหน้าบ้านดับครับ")
    assert pred.model_version == result.version
    print("features", classifier.list_models()[0].features)
    """
)


def test_no_network_and_no_home_writes(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "mini.csv").write_bytes((DATA / "mini_corpus.csv").read_bytes())
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHAINLP", "HF_"))}
    env["HOME"] = str(home)
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    out = subprocess.run(
        [sys.executable, "-c", GUARDED, str(tmp_path / "models"), str(corpus)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "NetworkCalled" not in out.stderr
    assert list(home.iterdir()) == [], "something wrote into the home folder"
