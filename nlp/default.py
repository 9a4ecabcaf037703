"""TRANSITIONAL: ``nlp.classify()`` and the other module-level functions, on a process default.

The bot still calls ``nlp.configure()``, ``nlp.classify()``, ``nlp.taxonomy()`` ...; each of those
delegates to one :class:`~nlp.Classifier` per process, built by :func:`configure` (or, before
that, from ``RUAMKID_MODEL_DIR`` and ``RUAMKID_TAXONOMY``). Nothing else in ``nlp`` uses this
module (``tests/nlp/test_layout.py`` checks).

Once every caller holds its own ``Classifier``, delete in one commit: this file, the
``_DEFAULT_NAMES`` block in ``nlp/__init__.py``, ``tests/nlp/test_default.py`` and the
``_keep_default_classifier`` fixture in ``tests/nlp/conftest.py``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from .classifier import Classifier
from .config import DEFAULT_UNSURE_THRESHOLD, Settings
from .corpus import Example
from .evaluation import LABELS, Report
from .registry import ModelInfo
from .results import Prediction, TrainResult
from .taxonomies import Taxonomy
from .training import Progress

__all__ = [
    "activate",
    "active_version",
    "classify",
    "classify_many",
    "configure",
    "corpus_examples",
    "default_classifier",
    "evaluate",
    "heldout_examples",
    "list_models",
    "read_examples",
    "taxonomy",
    "tokenize",
    "train",
]

_classifier: Classifier | None = None
_lock = threading.Lock()


def default_classifier() -> Classifier:
    """Return the process-default classifier: the configured one, else one from the environment."""
    global _classifier
    with _lock:
        if _classifier is None:
            _classifier = Classifier.from_settings(Settings.from_environment())
        return _classifier


def configure(
    *,
    model_dir: str | Path,
    taxonomy_path: str | Path | None = None,
    unsure_threshold: float = DEFAULT_UNSURE_THRESHOLD,
    use_embeddings: bool = True,
    corpus_dir: str | Path | None = None,
) -> None:
    """Replace the default classifier; cheap, loads nothing; the same settings keep the old one."""
    global _classifier
    new = Classifier(
        model_dir,
        taxonomy_path=taxonomy_path,
        unsure_threshold=unsure_threshold,
        use_embeddings=use_embeddings,
        corpus_dir=corpus_dir,
    )
    with _lock:
        if _classifier is None or _classifier.settings != new.settings:
            _classifier = new  # an app factory called again keeps the loaded model


# One-line delegations, each to the Classifier method of the same name.


def taxonomy() -> Taxonomy:
    """Return the default classifier's taxonomy."""
    return default_classifier().taxonomy


def tokenize(text: str) -> list[str]:
    """Tokenize with the default classifier's taxonomy words."""
    return default_classifier().tokenize(text)


def classify(text: str) -> Prediction:
    """Classify one message with the default classifier."""
    return default_classifier().classify(text)


def classify_many(
    texts: Iterable[str],
    *,
    embeddings: Sequence[bytes | None] | None = None,
    batch_size: int = 256,
    progress: Callable[[int], None] | None = None,
) -> list[Prediction]:
    """Classify many messages with the default classifier."""
    return default_classifier().classify_many(
        texts, embeddings=embeddings, batch_size=batch_size, progress=progress
    )


def train(
    extra_examples: Iterable[Example] = (),
    *,
    force: bool = False,
    progress: Progress | None = None,
) -> TrainResult:
    """Train a model version in the default classifier's model folder."""
    return default_classifier().train(extra_examples, force=force, progress=progress)


def evaluate(rows: Iterable[Example], *, labels: Sequence[str] = LABELS) -> Report:
    """Score the default classifier's active model on labelled rows."""
    return default_classifier().evaluate(rows, labels=labels)


def read_examples(path: str | Path) -> tuple[list[Example], tuple[str, ...]]:
    """Read a labelled CSV against the default classifier's taxonomy."""
    return default_classifier().read_examples(path)


def heldout_examples() -> list[Example]:
    """Return the default classifier's held-out corpus rows."""
    return default_classifier().heldout_examples()


def corpus_examples() -> list[Example]:
    """Return every row of the default classifier's corpus."""
    return default_classifier().corpus_examples()


def list_models() -> list[ModelInfo]:
    """List the model versions in the default classifier's folder."""
    return default_classifier().list_models()


def activate(version: str) -> None:
    """Activate a model version in the default classifier's folder."""
    default_classifier().activate(version)


def active_version() -> str | None:
    """Return the default classifier's active model version."""
    return default_classifier().active_version()
