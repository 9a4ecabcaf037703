"""From normalised text and embeddings to a :class:`~nlp.results.Prediction`.

A :class:`Predictor` is one loaded model version with the taxonomy and the unsure threshold
that turn its probabilities into predictions: small talk or a request, the top three strategies,
the sub-area under the chosen strategy.
"""

from __future__ import annotations

import functools
import logging
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from .embeddings import (
    EMBEDDING_DIM,
    Embedder,
    EmbeddingCache,
    decode_embedding,
    encode_embedding,
    text_key,
)
from .model import Model, strategy_of
from .results import Prediction, ScoredLabel
from .smalltalk import is_small_talk, thanks_or_greeting_only
from .taxonomies import Taxonomy
from .text import PLACEHOLDERS, tokenize

__all__ = [
    "DOUBT_PROBABILITY",
    "Predictor",
    "batch_vectors",
    "known_vectors",
    "needs_model",
    "rule_prediction",
]

logger = logging.getLogger(__name__)

# Small talk is a closed class decided by nlp.smalltalk, not by the model: losing a request costs
# more than showing staff a chain message. The model's "other" only (a) confirms that a thank-you
# with a few more words is small talk, and (b) flags a filed message as unsure when it doubts
# the message is a request at all (adverts, chit-chat).
DOUBT_PROBABILITY = 0.5


def needs_model(norm: str) -> bool:
    """Say whether normalised text has letters for the model; emoji, laughter or a link do not.

    >>> needs_model("ถนนพัง 😡")
    True
    >>> needs_model("<laugh> 🙏 <url>"), needs_model("")
    (False, False)
    """
    if not norm:
        return False
    for ph in PLACEHOLDERS:
        norm = norm.replace(ph, " ")
    return any(unicodedata.category(ch).startswith("L") for ch in norm)


def rule_prediction(norm: str, version: str) -> Prediction:
    """Predict normalised text the model cannot read: small talk, or a request to sort by hand.

    Empty text, emoji and laughter are small talk; a bare link or phone number is a request.

    >>> rule_prediction("<laugh> 🙏", "v").kind, rule_prediction("<url>", "v").kind
    ('other', 'need')
    """
    if is_small_talk(norm):
        return Prediction.other(version)
    return Prediction.uncategorised(version)


def known_vectors(
    norms: Sequence[str],
    stored: Sequence[bytes | None],
    cache: EmbeddingCache | None = None,
) -> tuple[np.ndarray, list[int]]:
    """Take embeddings from stored bytes, else from ``cache``; return them and the rows without.

    Rows with neither are left at zero for the caller to embed.
    """
    vectors = np.zeros((len(norms), EMBEDDING_DIM), dtype=np.float32)
    missing: list[int] = []
    for i, (norm, data) in enumerate(zip(norms, stored, strict=True)):
        vec = decode_embedding(data)
        if vec is None and cache is not None:
            vec = cache.get(text_key(norm))
        if vec is None:
            missing.append(i)
        else:
            vectors[i] = vec
    return vectors, missing


def batch_vectors(
    norms: Sequence[str],
    stored: Sequence[bytes | None] | None,
    embedder: Callable[[], Embedder | None],
) -> np.ndarray | None:
    """Embed a batch to classify: the stored bytes where given, fresh vectors for the rest.

    ``embedder`` is asked for only when some text has no stored embedding, so a backlog with
    stored embeddings never loads the embedding model. ``None`` when a vector is missing and
    nothing can embed it.
    """
    vectors, missing = known_vectors(norms, stored or [None] * len(norms))
    if missing:
        engine = embedder()
        if engine is None:
            return None
        vectors[missing] = engine.embed([norms[r] for r in missing])
    return vectors


@functools.lru_cache(maxsize=1)
def warn_without_embeddings() -> None:
    """Log once per process that a model trained with embeddings runs on lexical features."""
    logger.warning("the active model uses embeddings but none are available; lexical only")


@dataclass
class Predictor:
    """One model version in memory, with the taxonomy and threshold its predictions use."""

    model: Model
    version: str
    taxonomy: Taxonomy
    unsure_threshold: float
    meta: dict = field(default_factory=dict)
    words: tuple[str, ...] = field(init=False, repr=False)
    names: dict[str, str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.words = self.taxonomy.dictionary_words()
        self.names = {s.code: s.name for s in self.taxonomy.strategies}

    @property
    def uses_embeddings(self) -> bool:
        """True if the model was trained with sentence embeddings."""
        return self.model.featurizer.uses_embeddings

    def predict(self, norms: Sequence[str], embeddings: np.ndarray | None) -> list[Prediction]:
        """Predict normalised texts that :func:`needs_model`; ``embeddings`` one row each."""
        model = self.model
        tokens = [tokenize(n, self.words) for n in norms]
        p_kind, p_strat, p_sub = model.predict_proba(norms, tokens, embeddings)
        out: list[Prediction] = []
        for i in range(len(norms)):
            emb = encode_embedding(embeddings[i]) if embeddings is not None else None
            out.append(self._one(norms[i], p_kind[i], p_strat[i], p_sub[i], emb))
        return out

    def _one(
        self,
        norm: str,
        p_kind: np.ndarray,
        p_strat: np.ndarray,
        p_sub: np.ndarray,
        emb: bytes | None,
    ) -> Prediction:
        kind_labels = self.model.kind.labels
        strat_labels = self.model.strategy_labels
        sub_labels = self.model.subarea_labels
        order = np.argsort(-p_strat, kind="stable")[:3]
        top3 = tuple(
            ScoredLabel(
                strat_labels[j], self.names.get(strat_labels[j], strat_labels[j]), float(p_strat[j])
            )
            for j in order
        )
        other = kind_labels.index("other") if "other" in kind_labels else None
        p_other = float(p_kind[other]) if other is not None else 0.0
        if is_small_talk(norm) or (p_other >= DOUBT_PROBABILITY and thanks_or_greeting_only(norm)):
            return Prediction.other(self.version, max(p_other, 0.5), top3=top3, embedding=emb)
        requests = [j for j in range(len(kind_labels)) if j != other]
        k = max(requests, key=lambda j: float(p_kind[j]))
        kind_conf = float(p_kind[k]) / max(1.0 - p_other, 1e-12)
        best = top3[0]
        sub_code, sub_name, sub_conf = None, None, 0.0
        cols = [j for j, code in enumerate(sub_labels) if strategy_of(code) == best.code]
        real = [j for j in cols if not sub_labels[j].endswith(".*")]
        if real:
            j = real[int(np.argmax(p_sub[real]))]
            sub_code = sub_labels[j]
            # P(sub-area | strategy); the ".*" mass (strategy-only examples) counts as unknown.
            sub_conf = float(p_sub[j] / max(float(p_sub[cols].sum()), 1e-12))
            try:
                sub_name = self.taxonomy.subarea_name(sub_code)
            except KeyError:
                sub_name = sub_code
        return Prediction(
            kind=kind_labels[k],
            kind_confidence=kind_conf,
            strategy=best.code,
            strategy_name=best.name,
            subarea=sub_code,
            subarea_name=sub_name,
            confidence=best.confidence,
            subarea_confidence=sub_conf,
            top3=top3,
            unsure=best.confidence < self.unsure_threshold or p_other >= DOUBT_PROBABILITY,
            model_version=self.version,
            embedding=emb,
        )
