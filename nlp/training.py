"""Training a model version: the corpus plus staff labels, compared with the active model.

A new version is saved whatever its scores and activated unless it does worse than the active
one on the held-out rows (see :func:`train_version`). ``python -m nlp.training`` rebuilds the
corpus embeddings shipped in ``nlp/data/embeddings`` after the corpus was edited.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

from . import registry
from .config import Settings
from .corpus import Example, corpus_hash, load_corpus, make_example, split
from .embeddings import Embedder, EmbeddingCache, text_key, write_shipped_cache
from .evaluation import evaluate_predictor, summary
from .model import TrainConfig, TrainingData, fit_model
from .predict import Predictor, known_vectors
from .results import TrainResult
from .taxonomies import Taxonomy, load_taxonomy
from .text import normalize, tokenize

__all__ = [
    "TOLERANCE",
    "Progress",
    "build_shipped_embeddings",
    "prepare",
    "score",
    "train_version",
]

logger = logging.getLogger(__name__)

Progress = Callable[[str, float], None]  # (stage, fraction done)

TOLERANCE = 0.005  # a new model may score this much lower and still be activated


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
    """Train on the corpus plus staff labels, save the version, activate it unless it is worse.

    The new model and the active one are both scored on the corpus held-out split and on the
    held-out part of the staff labels (same hash rule); the new one is activated when neither
    score drops by more than :data:`TOLERANCE`, or when ``force`` is true. The caller holds
    :func:`nlp.registry.training_lock` on ``settings.model_dir``.
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
            where=f"staff label {i}",
        )
        for i, ex in enumerate(extra_examples)
    ]
    train_rows, heldout = split(corpus)
    extra_train, extra_heldout = split(extras)
    report_progress("load", 0.02)

    cache = EmbeddingCache(settings.model_dir, embedder.model_id) if embedder is not None else None
    rows = train_rows + extra_train
    data = prepare(rows, taxonomy, embedder, cache, report_progress, (0.02, 0.6))
    data.weights[len(train_rows) :] = TrainConfig().extra_weight
    config = TrainConfig(use_embeddings=embedder is not None)

    stages = {"features": 0.65, "kind": 0.75, "strategy": 0.85, "subarea": 0.9}
    model = fit_model(data, taxonomy, config, lambda s: report_progress(s, stages.get(s, 0.9)))
    digest = model.weights_digest()

    def metrics(predictor: Predictor) -> dict:
        def on(split_rows: list[Example]) -> dict:
            if not split_rows:
                return {}
            report = evaluate_predictor(predictor, split_rows, cache=cache, embedder=embedder)
            return summary(report)

        return {"heldout": on(heldout), "staff_heldout": on(extra_heldout)}

    new_metrics = metrics(Predictor(model, "candidate", taxonomy, settings.unsure_threshold))
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
            prev_metrics = metrics(prev)
            activated, reason = _compare(new_metrics, prev_metrics, bool(extra_heldout), force)
    if cache is not None:
        cache.save()
    meta = {
        "weights_sha256": digest,
        "features": "lexical+embeddings" if model.featurizer.uses_embeddings else "lexical",
        "embedder": embedder.model_id if embedder is not None else None,
        "corpus_hash": corpus_hash(corpus),
        "taxonomy_sha256": _taxonomy_digest(taxonomy),
        "n_corpus": len(corpus),
        "n_train": len(rows),
        "n_heldout": len(heldout),
        "n_staff": len(extras),
        "n_staff_heldout": len(extra_heldout),
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


def _compare(new: dict, previous: dict, has_staff: bool, force: bool) -> tuple[bool, str]:
    """Decide whether the new model is activated, and say why."""
    worse = []
    new_score, prev_score = score(new["heldout"]), score(previous["heldout"])
    if new_score < prev_score - TOLERANCE:
        worse.append(f"held-out score {new_score:.3f} < {prev_score:.3f}")
    new_score, prev_score = score(new["staff_heldout"]), score(previous["staff_heldout"])
    if has_staff and new_score < prev_score - TOLERANCE:
        worse.append(f"staff-label score {new_score:.3f} < {prev_score:.3f}")
    if worse and not force:
        return False, "worse than the active model: " + "; ".join(worse)
    if worse:
        return True, "forced despite: " + "; ".join(worse)
    return True, "not worse than the active model"


def _taxonomy_digest(taxonomy: Taxonomy) -> str:
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
