"""How fast the classifier learns from a municipality's own labels.

Draws ``--per`` labelled reports per strategy from FILE (real reports, e.g. a complaint book as
``ruamkid nlp import-labels`` takes it), trains on the shipped corpus plus those labels as
``ruamkid nlp train`` does, and scores the remaining reports of the same strategies: strategy
balanced accuracy, a plausible strategy (the label or one in an ``also`` column), recall per
strategy. Repeats with ``--seeds`` draws and also scores the model without the labels.

    python bench/real_labels.py nlp/data/eval/realstyle.csv \\
        --strategies LPN-S1,LPN-S2,LPN-S4,LPN-S7 --per 40 --seeds 3

Each draw trains a model in a temporary folder (about 20 s); nothing in instance/ is touched.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

import nlp
from nlp.evaluation import Report


def _scores(report: Report) -> dict:
    strategy = report.labels["strategy"]
    return {
        "balanced_accuracy": round(strategy.balanced_accuracy, 4),
        "plausible": round(report.strategy_plausible or 0.0, 4),
        "recall": {c: round(s.recall, 3) for c, s in strategy.per_class.items() if s.support},
        "n": strategy.n,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--strategies", default="LPN-S1,LPN-S2,LPN-S4,LPN-S7")
    parser.add_argument("--per", type=int, default=40, help="labels drawn per strategy")
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    wanted = args.strategies.split(",")

    with tempfile.TemporaryDirectory() as folder:
        base = nlp.Classifier(Path(folder) / "base")
        rows, _ = base.read_examples(args.file)
        rows = [r for r in rows if r.strategy in wanted]
        base.train()
        cold = _scores(base.evaluate(rows, labels=("strategy",)))
        print(json.dumps({"labels": 0, **cold}, ensure_ascii=False), flush=True)
        runs = []
        for seed in range(args.seeds):
            draw = random.Random(seed)
            imported = [
                r
                for code in wanted
                for r in draw.sample([x for x in rows if x.strategy == code], args.per)
            ]
            chosen = {id(r) for r in imported}
            rest = [r for r in rows if id(r) not in chosen]
            # As after a fresh install: the corpus model is active, then staff train with labels.
            shutil.copytree(Path(folder) / "base", Path(folder) / f"seed{seed}")
            classifier = nlp.Classifier(Path(folder) / f"seed{seed}")
            result = classifier.train(imported)
            scores = _scores(classifier.evaluate(rest, labels=("strategy",)))
            runs.append(scores)
            print(
                json.dumps(
                    {
                        "labels": len(imported),
                        "seed": seed,
                        "activated": result.activated,
                        **scores,
                    },
                    ensure_ascii=False,
                ),
                flush=True,
            )
        for key in ("balanced_accuracy", "plausible"):
            values = [r[key] for r in runs]
            print(
                f"{key}: mean {statistics.mean(values):.3f}, min {min(values):.3f}, "
                f"max {max(values):.3f} over {len(values)} draws (no labels: {cold[key]:.3f})"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
