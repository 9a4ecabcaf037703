"""Training a model version: the corpus plus real labels, compared with the active model.

Real labels are residents' own words that staff labelled: corrections made in the queue and
complaint books imported from earlier years. They weigh more than the written corpus, set the
strategy prior once there are enough of them, and lead the comparison that decides whether a new
version is activated (see :func:`train_version`). ``python -m nlp.training`` rebuilds the corpus
embeddings shipped in ``nlp/data/embeddings`` after the corpus was edited.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

from . import registry
from .config import Settings
from .corpus import Example, corpus_hash, load_corpus, make_example, split
from .embeddings import Embedder, EmbeddingCache, text_key, write_shipped_cache
from .evaluation import predict_rows, report_of, summary
from .model import Model, TrainConfig, TrainingData, fit_model, strategy_of
from .predict import Predictor, known_vectors
from .results import Prediction, TrainResult
from .taxonomies import Taxonomy, load_taxonomy
from .text import normalize, tokenize

__all__ = [
    "MIN_REAL_HELDOUT",
    "PRIOR_MIN_LABELS",
    "RECIPE",
    "TOLERANCE",
    "Progress",
    "build_shipped_embeddings",
    "paired_worse",
    "prepare",
    "score",
    "strategy_prior",
    "taxonomy_digest",
    "train_version",
]

logger = logging.getLogger(__name__)

Progress = Callable[[str, float], None]  # (stage, fraction done)

TOLERANCE = 0.005  # on the written corpus, a new model may score this much lower and still win
# With this many held-out real labels the comparison is decided on them, not on the corpus.
MIN_REAL_HELDOUT = 20
# With this many real labels to train on, they also set the strategy prior (strategy_prior).
PRIOR_MIN_LABELS = 100
PRIOR_SMOOTHING = 2.0  # pseudo-labels per strategy, so a strategy absent from the labels stays
# Bumped whenever training changes what a model learns from the same data, so an upgraded
# installation retrains (see Classifier.is_current).
RECIPE = 2


def prepare(
    examples: Sequence[Example],
    taxonomy: Taxonomy,
    embedder: Embedder | None,
    cache: EmbeddingCache | None = None,
    progress: Progress | None = None,
    span: tuple[float, float] = (0.0, 1.0),
) -> TrainingData:
    """Normalise, tokenize and (with an embedder) embed examples for :func:`nlp.model.fit_model`.

    Stored embeddings and ``cache`` hits are reused; new vectors are added to ``cache``.
    ``progress`` hears ``"embed"`` moving across ``span`` while texts are embedded.
    """
    norms = [normalize(ex.text) for ex in examples]
    words = taxonomy.dictionary_words()
    tokens = [tokenize(n, words) for n in norms]
    embeddings = None
    if embedder is not None:
        embeddings, todo = known_vectors(norms, [ex.embedding for ex in examples], cache)
        if todo:
            logger.info("embedding %d texts not in the cache", len(todo))
            done = [0]

            def tick(n: int) -> None:
                done[0] += n
                if progress is not None:
                    lo, hi = span
                    progress("embed", lo + (hi - lo) * done[0] / len(todo))

            vecs = embedder.embed([norms[i] for i in todo], progress=tick)
            for i, vec in zip(todo, vecs, strict=True):
                embeddings[i] = vec
                if cache is not None:
                    cache.put(text_key(norms[i]), vec)
    return TrainingData(
        texts=norms,
        tokens=tokens,
        embeddings=embeddings,
        kinds=[ex.kind for ex in examples],
        strategies=[ex.strategy for ex in examples],
        subareas=[ex.subarea for ex in examples],
        weights=np.ones(len(examples), dtype=np.float64),
    )


def score(metrics: dict) -> float:
    """One number to compare models on a split: mean of strategy and kind macro-F1.

    >>> score({"strategy_macro_f1": 0.75, "kind_macro_f1": 0.95, "other_recall": 0.9})
    0.85
    >>> score({})
    0.0
    """
    parts = [metrics.get(k) for k in ("strategy_macro_f1", "kind_macro_f1")]
    parts = [p for p in parts if p is not None]
    return float(np.mean(parts)) if parts else 0.0


def train_version(
    settings: Settings,
    taxonomy: Taxonomy,
    extra_examples: Iterable[Example] = (),
    *,
    embedder: Embedder | None,
    force: bool = False,
    progress: Progress | None = None,
) -> TrainResult:
    """Train on the corpus plus real labels, save the version, activate it unless it is worse.

    ``extra_examples`` are real labels. A fixed quarter of them (by the corpus's hash rule) is
    held out; the rest weigh :attr:`TrainConfig.real_weight` each and, from
    :data:`PRIOR_MIN_LABELS` on, set the strategy prior. With at least :data:`MIN_REAL_HELDOUT`
    held-out real labels the new model replaces the active one unless it is significantly worse
    on them (:func:`paired_worse`); with fewer, unless its corpus held-out score (or real-label
    score) drops by more than :data:`TOLERANCE`. ``force`` activates it regardless. The caller
    holds :func:`nlp.registry.training_lock` on ``settings.model_dir``.
    """
    started = time.perf_counter()

    def report_progress(stage: str, fraction: float) -> None:
        if progress is not None:
            progress(stage, min(max(fraction, 0.0), 1.0))

    corpus = load_corpus(settings.corpus_dir, taxonomy)
    extras = [
        make_example(
            taxonomy,
            ex.text,
            ex.strategy,
            ex.subarea,
            ex.kind,
            embedding=ex.embedding,
            where=f"real label {i}",
        )
        for i, ex in enumerate(extra_examples)
    ]
    train_rows, heldout = split(corpus)
    extra_train, extra_heldout = split(extras)
    report_progress("load", 0.02)

    cache = EmbeddingCache(settings.model_dir, embedder.model_id) if embedder is not None else None
    rows = train_rows + extra_train
    data = prepare(rows, taxonomy, embedder, cache, report_progress, (0.02, 0.6))
    config = TrainConfig(use_embeddings=embedder is not None)
    data.weights[len(train_rows) :] = config.real_weight

    stages = {"features": 0.65, "kind": 0.75, "strategy": 0.85, "subarea": 0.9}
    model = fit_model(data, taxonomy, config, lambda s: report_progress(s, stages.get(s, 0.9)))
    prior = strategy_prior(model, extra_train)
    _shift_prior(model, prior)
    digest = model.weights_digest()

    def evaluate(predictor: Predictor) -> tuple[dict, list[Prediction]]:
        out = {}
        for name, split_rows in (("heldout", heldout), ("real_heldout", extra_heldout)):
            preds = predict_rows(predictor, split_rows, cache, embedder) if split_rows else []
            out[name] = summary(report_of(predictor, split_rows, preds)) if split_rows else {}
            if name == "real_heldout":
                real_preds = preds
        return out, real_preds

    new_metrics, new_real = evaluate(
        Predictor(model, "candidate", taxonomy, settings.unsure_threshold)
    )
    report_progress("evaluate", 0.95)

    previous = registry.read_active(settings.model_dir)
    prev_metrics = None
    activated, reason = True, "no active model yet"
    if previous is not None:
        try:
            prev_model, prev_meta = registry.load_version(settings.model_dir, previous)
        except registry.ModelError as exc:
            logger.warning("active model unusable (%s); the new one replaces it", exc)
        else:
            prev = Predictor(prev_model, previous, taxonomy, settings.unsure_threshold, prev_meta)
            prev_metrics, prev_real = evaluate(prev)
            activated, reason = _compare(
                new_metrics, prev_metrics, extra_heldout, new_real, prev_real, force
            )
    if cache is not None:
        cache.save()
    meta = {
        "weights_sha256": digest,
        "features": "lexical+embeddings" if model.featurizer.uses_embeddings else "lexical",
        "embedder": embedder.model_id if embedder is not None else None,
        "recipe": RECIPE,
        "corpus_hash": corpus_hash(corpus),
        "taxonomy_sha256": taxonomy_digest(taxonomy),
        "n_corpus": len(corpus),
        "n_train": len(rows),
        "n_heldout": len(heldout),
        "n_real": len(extras),
        "n_real_heldout": len(extra_heldout),
        "strategy_prior": prior,
        "metrics": new_metrics,
        "activated_on_creation": activated,
        "reason": reason,
    }
    seconds = time.perf_counter() - started
    meta["train_seconds"] = round(seconds, 2)
    version = registry.save_version(settings.model_dir, model, meta)
    if activated:
        registry.write_active(settings.model_dir, version)
    logger.info(
        "trained model %s in %.1f s (%s): %s",
        version,
        seconds,
        "activated" if activated else "kept inactive",
        reason,
    )
    report_progress("save", 1.0)
    return TrainResult(
        version=version,
        activated=activated,
        reason=reason,
        previous_version=previous,
        weights_sha256=digest,
        metrics=new_metrics,
        previous_metrics=prev_metrics,
        seconds=seconds,
    )


def strategy_prior(model: Model, real: Sequence[Example]) -> dict[str, float]:
    """Return per-strategy factors that move the model's prior towards the one residents show.

    The heads are fitted with balanced class weights, so the model's own prior is even over its
    topic labels: a strategy with eight sub-areas starts eight times likelier than one with a
    single label. Without enough real labels the target is even over strategies, half-way
    (square root of the ratio: a plan's strategies are equally worth hearing). From
    :data:`PRIOR_MIN_LABELS` real labels on, the target is their own share of each strategy
    (smoothed by :data:`PRIOR_SMOOTHING` per strategy), all the way: they say how often each
    strategy truly comes up. Measured in docs/nlp.md.
    """
    strategies = model.strategy_labels
    labels = Counter(strategy_of(label) for label in model.subarea_labels)
    counts = Counter(ex.strategy for ex in real if ex.strategy in strategies)
    if len(real) >= PRIOR_MIN_LABELS:
        total, smoothing, power = sum(counts.values()), PRIOR_SMOOTHING, 1.0
    else:
        total, smoothing, power = 0, 1.0, 0.5
        counts = Counter()
    target = {
        c: (counts[c] + smoothing) / (total + smoothing * len(strategies)) for c in strategies
    }
    share = {c: labels[c] / len(model.subarea_labels) for c in strategies}
    return {c: round((target[c] / share[c]) ** power, 4) for c in strategies}


def _shift_prior(model: Model, prior: dict[str, float]) -> None:
    """Multiply each strategy's probability by its factor, through the topic head's intercepts.

    softmax((x·W + b) / T): adding T·log(f) to the intercept of every label of a strategy
    multiplies that strategy's share by f before the probabilities are renormalised.
    """
    head = model.topic
    shift = np.array([np.log(prior[strategy_of(label)]) for label in head.labels])
    head.intercept = (head.intercept + head.temperature * shift).astype(np.float32)


def paired_worse(
    rows: Sequence[Example], new: Sequence[Prediction], old: Sequence[Prediction]
) -> tuple[bool, int, int]:
    """Tell whether ``new`` gets significantly more strategies wrong than ``old`` on ``rows``.

    A paired (McNemar) comparison: only rows where exactly one model is right count. ``new`` is
    worse when it loses more such rows than it wins by more than two standard errors; a few
    held-out labels never block a model by chance. Returns (worse, lost, won).

    >>> import dataclasses
    >>> rows = [Example("t", "LPN-S7", None, "complaint")] * 10
    >>> right, wrong = Prediction.uncategorised("v"), Prediction.other("v")
    >>> right = dataclasses.replace(right, strategy="LPN-S7")
    >>> paired_worse(rows, [wrong] * 2 + [right] * 8, [right] * 10)
    (False, 2, 0)
    >>> paired_worse(rows, [wrong] * 9 + [right], [right] * 10)
    (True, 9, 0)
    """
    lost = won = 0
    for row, n, o in zip(rows, new, old, strict=True):
        new_right, old_right = n.strategy == row.strategy, o.strategy == row.strategy
        lost += old_right and not new_right
        won += new_right and not old_right
    return lost - won > 2 * math.sqrt(lost + won), lost, won


def _compare(
    new: dict,
    previous: dict,
    real_heldout: Sequence[Example],
    new_real: Sequence[Prediction],
    previous_real: Sequence[Prediction],
    force: bool,
) -> tuple[bool, str]:
    """Decide whether the new model is activated, and say why."""
    worse = []
    if len(real_heldout) >= MIN_REAL_HELDOUT:
        is_worse, lost, won = paired_worse(real_heldout, new_real, previous_real)
        basis = f"{len(real_heldout)} held-out real labels: {won} won, {lost} lost"
        if is_worse:
            worse.append(f"significantly worse on {basis}")
    else:
        basis = "the corpus held-out split"
        new_score, prev_score = score(new["heldout"]), score(previous["heldout"])
        if new_score < prev_score - TOLERANCE:
            worse.append(f"held-out score {new_score:.3f} < {prev_score:.3f}")
        new_score, prev_score = score(new["real_heldout"]), score(previous["real_heldout"])
        if real_heldout and new_score < prev_score - TOLERANCE:
            worse.append(f"real-label score {new_score:.3f} < {prev_score:.3f}")
    if worse and not force:
        return False, "worse than the active model: " + "; ".join(worse)
    if worse:
        return True, "forced despite: " + "; ".join(worse)
    return True, f"not worse than the active model on {basis}"


def taxonomy_digest(taxonomy: Taxonomy) -> str:
    """sha256 of the taxonomy file a model was trained with ("" for one built in code)."""
    return hashlib.sha256(Path(taxonomy.source).read_bytes()).hexdigest() if taxonomy.source else ""


def build_shipped_embeddings(settings: Settings) -> tuple[int, Path]:
    """Embed every corpus row into the cache shipped in ``nlp/data/embeddings``.

    Returns the number of rows and the file written.
    """
    rows = load_corpus(settings.corpus_dir, load_taxonomy(settings.taxonomy_path))
    return len(rows), write_shipped_cache([normalize(r.text) for r in rows])


if __name__ == "__main__":  # python -m nlp.training: rebuild the shipped corpus embeddings
    count, written = build_shipped_embeddings(Settings.from_environment())
    print(f"{count} corpus rows embedded into {written}")
