"""Compare feature sets on the fixed held-out split: lexical, embeddings, both.

    python bench/features.py [--cv]          # held-out figures (and 3-fold CV on the train split)

Embeddings are cached in ``.bench-cache/`` (first run embeds the corpus: about 30 s on 2 cores).
Prints one row per variant: strategy / kind macro-F1, other recall, coverage and precision
when not unsure (at the default threshold), subarea accuracy and training time.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import numpy as np

import nlp
from nlp.corpus import split
from nlp.embeddings import EmbeddingCache, get_embedder
from nlp.evaluation import evaluate_predictor, summary
from nlp.model import TrainConfig, fit_model
from nlp.predict import Predictor
from nlp.training import prepare

CACHE = Path(__file__).resolve().parent.parent / ".bench-cache"

VARIANTS: dict[str, dict] = {
    "lexical (char+word TF-IDF + keywords)": {"use_embeddings": False},
    "embeddings only (e5-small)": {
        "weight_char": 0.0,
        "weight_word": 0.0,
        "weight_keyword": 0.0,
    },
    "lexical + embeddings (default)": {},
}


def run(
    classifier: nlp.Classifier, variant: dict, train_rows, heldout, cache
) -> tuple[dict, float]:
    """Fit one variant on the train split and score it on the held-out split."""
    config = dataclasses.replace(TrainConfig(), **variant)
    tax = classifier.taxonomy
    started = time.perf_counter()
    embedder = get_embedder() if config.use_embeddings else None
    data = prepare(train_rows, tax, embedder, cache)
    model = fit_model(data, tax, config)
    seconds = time.perf_counter() - started
    predictor = Predictor(model, "bench", tax, classifier.settings.unsure_threshold)
    report = evaluate_predictor(predictor, heldout, cache=cache, embedder=get_embedder())
    return summary(report), seconds


def main() -> None:
    """Print the comparison table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cv", action="store_true", help="also 3-fold CV on the train split")
    args = parser.parse_args()
    classifier = nlp.Classifier(CACHE)
    tax = classifier.taxonomy
    corpus = classifier.corpus_examples()
    train_rows, heldout = split(corpus)
    embedder = get_embedder()
    cache = EmbeddingCache(CACHE, embedder.model_id) if embedder else None
    prepare(corpus, tax, embedder, cache)  # fill the cache once
    if cache is not None:
        cache.save()
    print(f"corpus {len(corpus)} rows: train {len(train_rows)}, held-out {len(heldout)}")
    head = (
        f"{'variant':<40}{'strat F1':>9}{'kind F1':>9}{'kept':>9}{'cover':>7}{'prec':>7}"
        f"{'sub acc':>9}{'fit s':>7}"
    )
    print(head)
    for name, variant in VARIANTS.items():
        m, seconds = run(classifier, variant, train_rows, heldout, cache)
        print(
            f"{name:<40}{m['strategy_macro_f1']:>9.3f}{m['kind_macro_f1']:>9.3f}"
            f"{m['requests_kept']:>9.3f}{m['coverage']:>7.3f}{m['precision_when_sure']:>7.3f}"
            f"{m['subarea_accuracy']:>9.3f}{seconds:>7.1f}"
        )
    if args.cv:
        rng = np.random.default_rng(0)
        order = rng.permutation(len(train_rows))
        folds = np.array_split(order, 3)
        print("\n3-fold CV on the train split (mean strategy / kind macro-F1):")
        for name, variant in VARIANTS.items():
            s, k = [], []
            for f in folds:
                held = [train_rows[i] for i in f]
                rest = [train_rows[i] for i in order if i not in set(f)]
                m, _ = run(classifier, variant, rest, held, cache)
                s.append(m["strategy_macro_f1"])
                k.append(m["kind_macro_f1"])
            print(f"{name:<40}{np.mean(s):>9.3f}{np.mean(k):>9.3f}")


if __name__ == "__main__":
    main()
