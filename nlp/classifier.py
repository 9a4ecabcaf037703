"""The classifier as an object: built from explicit settings, it loads what it needs once.

>>> classifier = Classifier("instance/models")  # loads nothing: no taxonomy, no model
>>> classifier.settings.unsure_threshold
0.9
>>> classifier.taxonomy.strategy("LPN-S7").subareas[1].code  # reads the taxonomy file only
'LPN-S7.2'
>>> classifier.tokenize("ลำเหมืองตันบ่ไหลเจ้า")  # the taxonomy's local words stay whole
['ลำเหมือง', 'ตัน', 'บ่', 'ไหล', 'เจ้า']
"""

from __future__ import annotations

import csv
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from . import embeddings, registry
from .config import DEFAULT_UNSURE_THRESHOLD, Settings
from .corpus import Example, corpus_hash, load_corpus, read_examples_csv, split
from .embeddings import Embedder, EmbeddingCache
from .evaluation import LABELS, Report, check_request, evaluate_predictor
from .predict import (
    Predictor,
    batch_vectors,
    needs_model,
    rule_prediction,
    warn_without_embeddings,
)
from .registry import ModelInfo
from .results import Prediction, TrainResult
from .taxonomies import Taxonomy, load_taxonomy
from .text import normalize, tokenize
from .training import RECIPE, Progress, taxonomy_digest, train_version

__all__ = ["Classifier"]

logger = logging.getLogger(__name__)

# How often a loaded classifier looks whether another process activated another version.
ACTIVE_RECHECK_SECONDS = 5.0


class Classifier:
    """Sort residents' messages into the plan's strategies, sub-areas and kinds.

    Building one loads nothing. The taxonomy loads on first use; the active model on the first
    message that needs it, trained from the corpus when the model folder has none yet (first
    start). Each loads once, whichever thread asks first; the others wait for it.

    In the doctests ``classifier`` is one trained on a 100-message corpus:

    >>> p = classifier.classify("ไฟกิ่งหน้าวัดดับมาสามวันแล้วเจ้า")
    >>> p.strategy, p.subarea[:7], p.is_request
    ('LPN-S7', 'LPN-S7.', True)
    >>> classifier.classify("   ").kind
    'other'
    """

    def __init__(
        self,
        model_dir: str | Path,
        *,
        taxonomy_path: str | Path | None = None,
        unsure_threshold: float = DEFAULT_UNSURE_THRESHOLD,
        use_embeddings: bool = True,
        corpus_dir: str | Path | None = None,
    ) -> None:
        self.settings = Settings.create(
            model_dir=model_dir,
            taxonomy_path=taxonomy_path,
            unsure_threshold=unsure_threshold,
            use_embeddings=use_embeddings,
            corpus_dir=corpus_dir,
        )
        self._taxonomy_lock = threading.Lock()
        self._model_lock = threading.Lock()
        self._vocabulary: tuple[Taxonomy, tuple[str, ...]] | None = None
        self._predictor: Predictor | None = None
        self._recheck_at = 0.0

    @classmethod
    def from_settings(cls, settings: Settings) -> Classifier:
        """Build a classifier from :class:`~nlp.config.Settings`."""
        return cls(
            settings.model_dir,
            taxonomy_path=settings.taxonomy_path,
            unsure_threshold=settings.unsure_threshold,
            use_embeddings=settings.use_embeddings,
            corpus_dir=settings.corpus_dir,
        )

    def __repr__(self) -> str:
        s = self.settings
        return (
            f"Classifier(model_dir={str(s.model_dir)!r}, taxonomy_path={str(s.taxonomy_path)!r}, "
            f"unsure_threshold={s.unsure_threshold!r}, use_embeddings={s.use_embeddings!r}, "
            f"corpus_dir={str(s.corpus_dir)!r})"
        )

    # --- the taxonomy -------------------------------------------------------------------------

    @property
    def taxonomy(self) -> Taxonomy:
        """The validated taxonomy (loaded once; see :func:`nlp.load_taxonomy`)."""
        return self._taxonomy_and_words()[0]

    def tokenize(self, text: str) -> list[str]:
        """Split text into words, keeping the taxonomy's local words whole."""
        return tokenize(text, self._taxonomy_and_words()[1])

    def _taxonomy_and_words(self) -> tuple[Taxonomy, tuple[str, ...]]:
        loaded = self._vocabulary
        if loaded is None:
            with self._taxonomy_lock:
                loaded = self._vocabulary
                if loaded is None:
                    tax = load_taxonomy(self.settings.taxonomy_path)
                    loaded = self._vocabulary = (tax, tax.dictionary_words())
        return loaded

    # --- classification -----------------------------------------------------------------------

    def classify(self, text: str) -> Prediction:
        """Classify one resident's message; blank text is ``other`` without a model."""
        return self.classify_many([text])[0]

    def classify_many(
        self,
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
        predictor = self._model() if any(needed) else None
        version = predictor.version if predictor is not None else (self.active_version() or "")
        results: list[Prediction] = []
        for start in range(0, len(texts), batch_size):
            stop = min(start + batch_size, len(texts))
            todo = [i for i in range(start, stop) if needed[i]]
            batch: dict[int, Prediction] = {}
            if todo and predictor is not None:
                sub = [norms[i] for i in todo]
                stored = [embeddings[i] for i in todo] if embeddings else None
                vectors = batch_vectors(sub, stored, self._embedder)
                if vectors is None and predictor.uses_embeddings:
                    warn_without_embeddings()
                batch = dict(zip(todo, predictor.predict(sub, vectors), strict=True))
            for i in range(start, stop):
                if i in batch:
                    results.append(batch[i])
                else:
                    results.append(rule_prediction(norms[i], version))
            if progress is not None:
                progress(stop - start)
        return results

    def load(self) -> str:
        """Load the active model now (training one on first start); return its version."""
        return self._model().version

    def warm_up(self) -> str:
        """Load the model and the embedding engine now, so the first message does not wait."""
        version = self.load()
        engine = self._embedder()
        if engine is not None:
            engine.embed(["สวัสดี"])
        return version

    # --- training and evaluation --------------------------------------------------------------

    def train(
        self,
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
        tax = self.taxonomy
        with registry.training_lock(self.settings.model_dir):
            result = train_version(
                self.settings,
                tax,
                extra_examples,
                embedder=self._embedder(),
                force=force,
                progress=progress,
            )
        self._forget_model()
        return result

    def evaluate(self, rows: Iterable[Example], *, labels: Sequence[str] = LABELS) -> Report:
        """Score the active model on labelled rows: accuracy, balanced accuracy, P/R/F1, confusion.

        Only ``labels`` are scored (a file without sub-areas is scored on strategy and kind).
        """
        rows = list(rows)
        check_request(rows, labels)
        predictor = self._model()
        embedder = self._embedder()
        cache = None
        if embedder is not None and predictor.uses_embeddings:
            # Read-only use of the training cache: held-out corpus rows are not embedded again.
            cache = EmbeddingCache(self.settings.model_dir, embedder.model_id)
        return evaluate_predictor(predictor, rows, labels, cache, embedder)

    def read_examples(self, path: str | Path) -> tuple[list[Example], tuple[str, ...]]:
        """Read a labelled CSV (``text``, ``strategy``, optional ``subarea``, ``kind``).

        Returns the rows and the labels the file actually has, e.g. ``("strategy", "kind")``.
        """
        with Path(path).open(encoding="utf-8-sig", newline="") as fh:
            fields = set(next(csv.reader(fh), []))
        labels = tuple(name for name in LABELS if name in fields)
        return read_examples_csv(path, self.taxonomy), labels

    def heldout_examples(self) -> list[Example]:
        """The corpus rows of the fixed held-out split (never trained on)."""
        return split(self.corpus_examples())[1]

    def corpus_examples(self) -> list[Example]:
        """Every row of the configured corpus."""
        return load_corpus(self.settings.corpus_dir, self.taxonomy)

    # --- model versions -----------------------------------------------------------------------

    def list_models(self) -> list[ModelInfo]:
        """All model versions in the model folder, oldest first, the active one marked."""
        return registry.list_versions(self.settings.model_dir)

    def activate(self, version: str) -> None:
        """Make ``version`` the active model (after checking it loads); use it to roll back."""
        registry.load_version(self.settings.model_dir, version)
        registry.write_active(self.settings.model_dir, version)
        self._forget_model()
        logger.info("model %s activated", version)

    def active_version(self) -> str | None:
        """The active model version in the model folder, or ``None`` before any."""
        return registry.read_active(self.settings.model_dir)

    def is_current(self) -> bool:
        """Tell whether the active model was trained on this corpus, taxonomy and recipe.

        An upgrade that ships a new corpus or changes training makes it false: the release step
        then trains again (``ruamkid db upgrade``), so installations get the better model.
        """
        version = self.active_version()
        if version is None:
            return False
        try:
            meta = registry.read_metadata(self.settings.model_dir, version)
        except registry.ModelError:
            return False
        return (
            meta.get("recipe") == RECIPE
            and meta.get("corpus_hash") == corpus_hash(self.corpus_examples())
            and meta.get("taxonomy_sha256") == taxonomy_digest(self.taxonomy)
        )

    # --- loading ------------------------------------------------------------------------------

    def _embedder(self) -> Embedder | None:
        return embeddings.get_embedder() if self.settings.use_embeddings else None

    def _model(self) -> Predictor:
        predictor = self._predictor
        if predictor is not None and time.monotonic() >= self._recheck_at:
            # Another process (a worker's training run, `ruamkid nlp activate`) may have
            # activated another version: look at ACTIVE now and then, reload when it moved.
            self._recheck_at = time.monotonic() + ACTIVE_RECHECK_SECONDS
            active = registry.read_active(self.settings.model_dir)
            if active is not None and active != predictor.version:
                self._forget_model()
                predictor = None
        if predictor is None:
            with self._model_lock:
                predictor = self._predictor
                if predictor is None:
                    predictor = self._predictor = self._load_active()
                    self._recheck_at = time.monotonic() + ACTIVE_RECHECK_SECONDS
        return predictor

    def _load_active(self) -> Predictor:
        cfg = self.settings
        tax = self.taxonomy
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
                    result = train_version(cfg, tax, (), embedder=self._embedder(), force=True)
                    version = result.version
        started = time.perf_counter()
        model, meta = registry.load_version(cfg.model_dir, version)
        logger.info("model %s loaded in %.2f s", version, time.perf_counter() - started)
        return Predictor(model, version, tax, cfg.unsure_threshold, meta)

    def _forget_model(self) -> None:
        with self._model_lock:
            self._predictor = None
