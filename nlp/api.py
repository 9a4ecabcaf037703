"""The public face of ``nlp``: configure, classify, train, evaluate and manage model versions."""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from . import registry
from .config import DEFAULT_UNSURE_THRESHOLD, Settings
from .corpus import (
    Example,
    is_heldout,
    load_corpus,
    read_examples_csv,
    split,
)
from .embeddings import (
    Embedder,
    EmbeddingCache,
    get_embedder,
)
from .evaluation import Report, check_request, evaluate_predictor, summary
from .predict import Predictor, batch_vectors, needs_model, warn_without_embeddings
from .results import Prediction, ScoredLabel, TrainResult
from .taxonomies import Taxonomy, load_taxonomy
from .text import normalize
from .text import tokenize as _tokenize
from .training import Progress, train_version

logger = logging.getLogger(__name__)

OTHER_MIN_PROBABILITY = 0.65
OTHER_MIN_PROBABILITY_TOPICAL = 0.8
TOPICAL_CONFIDENCE = 0.95

_settings: Settings | None = None
_model_lock = threading.Lock()


def settings() -> Settings:
    """The settings in force (defaults from the environment until :func:`configure` is called)."""
    global _settings
    if _settings is None:
        _settings = Settings.from_environment()
    return _settings


def configure(
    *,
    model_dir: str | Path,
    taxonomy_path: str | Path | None = None,
    unsure_threshold: float = DEFAULT_UNSURE_THRESHOLD,
    use_embeddings: bool = True,
    corpus_dir: str | Path | None = None,
) -> None:
    """Store settings and forget cached taxonomy and model; cheap, loads nothing.

    >>> configure(model_dir="instance/models", unsure_threshold=0.6)
    """
    global _settings
    new = Settings.create(
        model_dir=model_dir,
        taxonomy_path=taxonomy_path,
        unsure_threshold=unsure_threshold,
        use_embeddings=use_embeddings,
        corpus_dir=corpus_dir,
    )
    if new == _settings:
        return  # an app factory called again with the same settings keeps the loaded model
    _settings = new
    taxonomy.cache_clear()
    _active_model.cache_clear()


@functools.lru_cache(maxsize=1)
def taxonomy() -> Taxonomy:
    """Return the configured taxonomy (loaded once, validated; see :func:`load_taxonomy`)."""
    return load_taxonomy(settings().taxonomy_path)


def tokenize(text: str) -> list[str]:
    """Split text into words, keeping the taxonomy's local words whole.

    >>> tokenize("ลำเหมืองตันบ่ไหลเจ้า")
    ['ลำเหมือง', 'ตัน', 'บ่', 'ไหล', 'เจ้า']
    """
    return _tokenize(text, taxonomy().dictionary_words())


# --- the active model -------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _active_model() -> Predictor:
    cfg = settings()
    tax = taxonomy()
    with _model_lock:
        version = registry.read_active(cfg.model_dir)
        if version is None:
            with registry.training_lock(cfg.model_dir):
                version = registry.read_active(cfg.model_dir)  # another worker may have won
                if version is None:
                    logger.warning(
                        "no active model in %s: training one from the shipped corpus "
                        "(first start builds the model)",
                        cfg.model_dir,
                    )
                    result = train_version(cfg, tax, (), embedder=_embedder(), force=True)
                    version = result.version
        started = time.perf_counter()
        model, meta = registry.load_version(cfg.model_dir, version)
        logger.info("model %s loaded in %.2f s", version, time.perf_counter() - started)
        return Predictor(model, version, tax, cfg.unsure_threshold, meta)


def active_version() -> str | None:
    """The active model version in the configured model folder, or ``None`` before any."""
    return registry.read_active(settings().model_dir)


def list_models() -> list[registry.ModelInfo]:
    """All model versions in the configured folder, oldest first, the active one marked."""
    return registry.list_versions(settings().model_dir)


def activate(version: str) -> None:
    """Make ``version`` the active model (after checking it loads); use it to roll back."""
    cfg = settings()
    registry.load_version(cfg.model_dir, version)
    registry.write_active(cfg.model_dir, version)
    _active_model.cache_clear()
    logger.info("model %s activated", version)


# --- classification ---------------------------------------------------------------------------


def _embedder() -> Embedder | None:
    return get_embedder() if settings().use_embeddings else None


def classify(text: str) -> Prediction:
    """Classify one resident's message.

    >>> classify("ไฟกิ่งหน้าวัดดับมาสามวันแล้วเจ้า").strategy
    'LPN-S7'
    >>> classify("   ").kind
    'other'
    """
    return classify_many([text])[0]


def classify_many(
    texts: Iterable[str],
    *,
    embeddings: Sequence[bytes | None] | None = None,
    batch_size: int = 256,
    progress: Callable[[int], None] | None = None,
) -> list[Prediction]:
    """Classify many messages in batches (a backlog); ``progress(n)`` after each batch.

    ``embeddings`` are the stored ``Prediction.embedding`` bytes of each message, if any:
    re-classifying stored submissions with them skips the embedding model entirely.
    """
    texts = [t if isinstance(t, str) else "" for t in texts]
    if embeddings is not None and len(embeddings) != len(texts):
        raise ValueError(f"got {len(embeddings)} embeddings for {len(texts)} texts")
    norms = [normalize(t) if t.strip() else "" for t in texts]
    needed = [needs_model(n) for n in norms]
    predictor = _active_model() if any(needed) else None
    version = predictor.version if predictor is not None else (active_version() or "")
    results: list[Prediction] = []
    for start in range(0, len(texts), batch_size):
        stop = min(start + batch_size, len(texts))
        todo = [i for i in range(start, stop) if needed[i]]
        batch: dict[int, Prediction] = {}
        if todo and predictor is not None:
            sub = [norms[i] for i in todo]
            stored = [embeddings[i] for i in todo] if embeddings else None
            vectors = batch_vectors(sub, stored, _embedder)
            if vectors is None and predictor.uses_embeddings:
                warn_without_embeddings()
            batch = dict(zip(todo, predictor.predict(sub, vectors), strict=True))
        for i in range(start, stop):
            if i in batch:
                results.append(batch[i])
            elif not norms[i]:
                results.append(Prediction.other(version))  # empty input
            else:
                results.append(Prediction.other(version, 0.99))  # emoji, laughter, a bare link
        if progress is not None:
            progress(stop - start)
    return results


# --- training ---------------------------------------------------------------------------------


def train(
    extra_examples: Iterable[Example] = (),
    *,
    force: bool = False,
    progress: Progress | None = None,
) -> TrainResult:
    """Train on the corpus plus staff labels; activate only if not worse than the active model.

    The new model and the active one are both scored on the corpus held-out split and on the
    held-out part of the staff labels (same hash rule); the new one is activated when neither
    score drops by more than 0.005, or when ``force`` is true. Every trained version is kept.
    """
    cfg = settings()
    tax = taxonomy()
    with registry.training_lock(cfg.model_dir):
        result = train_version(
            cfg, tax, extra_examples, embedder=_embedder(), force=force, progress=progress
        )
    _active_model.cache_clear()
    return result


# --- evaluation -------------------------------------------------------------------------------


def read_examples(path: str | Path) -> tuple[list[Example], tuple[str, ...]]:
    """Read a labelled CSV (``text``, ``strategy``, optional ``subarea``, ``kind``).

    Returns the rows and the labels the file actually has, e.g. ``("strategy", "kind")``.
    """
    import csv

    with Path(path).open(encoding="utf-8-sig", newline="") as fh:
        fields = set(next(csv.reader(fh), []))
    labels = tuple(name for name in ("strategy", "subarea", "kind") if name in fields)
    return read_examples_csv(path, taxonomy()), labels


def evaluate(
    rows: Iterable[Example],
    *,
    labels: Sequence[str] = ("strategy", "subarea", "kind"),
) -> Report:
    """Score the active model on labelled rows: accuracy, balanced accuracy, P/R/F1, confusion."""
    rows = list(rows)
    check_request(rows, labels)
    loaded = _active_model()
    cache = None
    embedder = get_embedder() if settings().use_embeddings else None
    if embedder is not None and loaded.model.featurizer.uses_embeddings:
        # Read-only use of the training cache: held-out corpus rows are not embedded again.
        cache = EmbeddingCache(settings().model_dir, embedder.model_id)
    return evaluate_predictor(loaded, rows, labels, cache, embedder)


def heldout_examples() -> list[Example]:
    """The corpus rows of the fixed held-out split (never trained on)."""
    return split(load_corpus(settings().corpus_dir, taxonomy()))[1]


def corpus_examples() -> list[Example]:
    """Every row of the configured corpus."""
    return load_corpus(settings().corpus_dir, taxonomy())


__all__ = [
    "Prediction",
    "ScoredLabel",
    "Settings",
    "TrainResult",
    "activate",
    "active_version",
    "classify",
    "classify_many",
    "configure",
    "corpus_examples",
    "evaluate",
    "heldout_examples",
    "is_heldout",
    "list_models",
    "read_examples",
    "settings",
    "summary",
    "taxonomy",
    "tokenize",
    "train",
]
