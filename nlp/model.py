"""The classifier: TF-IDF (character and word n-grams), taxonomy keyword hits and sentence
embeddings, fed to two calibrated logistic regressions: kind, and topic (sub-areas, summed up
into strategies).

Training uses scikit-learn; the fitted model is exported to plain arrays (``.npz`` loaded with
``allow_pickle=False``) plus JSON, so loading never unpickles anything and inference needs only
numpy and scipy.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from scipy import sparse

from .taxonomies import Taxonomy
from .text import tokenize

__all__ = ["Featurizer", "Head", "Model", "TrainConfig", "fit_model"]

logger = logging.getLogger(__name__)

FORMAT = "ruamkid-nlp-model/1"
ARRAYS_FILE = "model.npz"
SPEC_FILE = "model.json"


@dataclass(frozen=True, slots=True)
class TrainConfig:
    """Hyper-parameters; the defaults were picked by cross-validation on the training split."""

    char_ngrams: tuple[int, int] = (1, 4)
    char_max_features: int = 20000
    word_max_features: int = 10000
    min_df: int = 2
    weight_char: float = 1.0
    weight_word: float = 1.0
    weight_keyword: float = 0.5
    weight_embedding: float = 2.0
    use_embeddings: bool = True
    keyword_examples: bool = True
    c_kind: float = 10.0
    c_topic: float = 10.0
    calibration_folds: int = 3
    # Real residents' words (staff corrections, imported complaint books) count five times a
    # corpus row: a few hundred of them move the model (measured in docs/nlp.md).
    real_weight: float = 5.0
    seed: int = 0


def _ngrams(text: str, lo: int, hi: int) -> Counter[str]:
    padded = f" {text} "
    counts: Counter[str] = Counter()
    for n in range(lo, hi + 1):
        for i in range(len(padded) - n + 1):
            counts[padded[i : i + n]] += 1
    return counts


def _word_terms(tokens: Sequence[str]) -> Counter[str]:
    counts: Counter[str] = Counter(tokens)
    counts.update(f"{a}|{b}" for a, b in zip(tokens, tokens[1:], strict=False))
    return counts


def _fit_vocab(docs: Sequence[Counter[str]], min_df: int, max_features: int) -> list[str]:
    df: Counter[str] = Counter()
    for doc in docs:
        df.update(doc.keys())
    kept = [(t, c) for t, c in df.items() if c >= min_df]
    kept.sort(key=lambda tc: (-tc[1], tc[0]))
    return sorted(t for t, _ in kept[:max_features])


def _idf(docs: Sequence[Counter[str]], vocab: dict[str, int]) -> np.ndarray:
    df = np.zeros(len(vocab), dtype=np.float64)
    for doc in docs:
        for term in doc:
            j = vocab.get(term)
            if j is not None:
                df[j] += 1
    n = len(docs)
    return (np.log((1 + n) / (1 + df)) + 1.0).astype(np.float32)


def _tfidf(
    docs: Sequence[Counter[str]], vocab: dict[str, int], idf: np.ndarray
) -> sparse.csr_matrix:
    indptr = [0]
    indices: list[int] = []
    data: list[float] = []
    for doc in docs:
        row: list[tuple[int, float]] = []
        for term, count in doc.items():
            j = vocab.get(term)
            if j is not None:
                row.append((j, (1.0 + math.log(count)) * float(idf[j])))
        norm = math.sqrt(sum(v * v for _, v in row)) or 1.0
        row.sort()
        indices.extend(j for j, _ in row)
        data.extend(v / norm for _, v in row)
        indptr.append(len(indices))
    return sparse.csr_matrix(
        (np.asarray(data, dtype=np.float32), np.asarray(indices, dtype=np.int32), indptr),
        shape=(len(docs), len(vocab)),
    )


@dataclass
class Featurizer:
    """Turns normalised texts (+ tokens, + embeddings) into one sparse feature row each."""

    config: TrainConfig
    char_vocab: list[str]
    char_idf: np.ndarray
    word_vocab: list[str]
    word_idf: np.ndarray
    keywords: list[tuple[str, ...]]  # one tuple of lower-cased keywords per strategy
    embedding_mean: np.ndarray | None
    _char_index: dict[str, int] = field(init=False, repr=False)
    _word_index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._char_index = {t: i for i, t in enumerate(self.char_vocab)}
        self._word_index = {t: i for i, t in enumerate(self.word_vocab)}

    @property
    def uses_embeddings(self) -> bool:
        """True if the model was trained with sentence embeddings."""
        return self.embedding_mean is not None

    @classmethod
    def fit(
        cls,
        config: TrainConfig,
        texts: Sequence[str],
        tokens: Sequence[Sequence[str]],
        taxonomy: Taxonomy,
        embeddings: np.ndarray | None,
    ) -> Featurizer:
        """Learn vocabularies and IDF weights from training texts."""
        lo, hi = config.char_ngrams
        char_docs = [_ngrams(t, lo, hi) for t in texts]
        word_docs = [_word_terms(tok) for tok in tokens]
        char_vocab = _fit_vocab(char_docs, config.min_df, config.char_max_features)
        word_vocab = _fit_vocab(word_docs, config.min_df, config.word_max_features)
        keywords = [
            tuple(
                sorted(
                    {k.lower() for k in s.keywords}
                    | {k.lower() for sub in s.subareas for k in sub.keywords}
                )
            )
            for s in taxonomy.strategies
        ]
        mean = None
        if embeddings is not None:
            mean = embeddings.mean(axis=0).astype(np.float32)
        char_index = {t: i for i, t in enumerate(char_vocab)}
        word_index = {t: i for i, t in enumerate(word_vocab)}
        return cls(
            config=config,
            char_vocab=char_vocab,
            char_idf=_idf(char_docs, char_index),
            word_vocab=word_vocab,
            word_idf=_idf(word_docs, word_index),
            keywords=keywords,
            embedding_mean=mean,
        )

    @property
    def n_features(self) -> int:
        """Width of a feature row."""
        width = len(self.char_vocab) + len(self.word_vocab) + len(self.keywords)
        return width + (len(self.embedding_mean) if self.embedding_mean is not None else 0)

    def keyword_hits(self, texts: Sequence[str]) -> np.ndarray:
        """One column per strategy: 1 if any of its taxonomy keywords occurs in the text."""
        out = np.zeros((len(texts), len(self.keywords)), dtype=np.float32)
        for i, text in enumerate(texts):
            for j, words in enumerate(self.keywords):
                if any(w in text for w in words):
                    out[i, j] = 1.0
        return out

    def transform(
        self,
        texts: Sequence[str],
        tokens: Sequence[Sequence[str]],
        embeddings: np.ndarray | None = None,
    ) -> sparse.csr_matrix:
        """Build the feature matrix; missing embeddings count as the corpus average."""
        cfg = self.config
        lo, hi = cfg.char_ngrams
        blocks = [
            _tfidf([_ngrams(t, lo, hi) for t in texts], self._char_index, self.char_idf)
            * cfg.weight_char,
            _tfidf([_word_terms(tok) for tok in tokens], self._word_index, self.word_idf)
            * cfg.weight_word,
            sparse.csr_matrix(self.keyword_hits(texts) * cfg.weight_keyword),
        ]
        if self.embedding_mean is not None:
            blocks.append(sparse.csr_matrix(self.embedding_block(embeddings, len(texts))))
        return sparse.hstack(blocks, format="csr", dtype=np.float32)

    def embedding_block(self, embeddings: np.ndarray | None, n: int) -> np.ndarray:
        """Centre and re-normalise embeddings (e5 vectors all point one way); zeros if missing."""
        assert self.embedding_mean is not None  # noqa: S101 - caller checked
        if embeddings is None:
            return np.zeros((n, len(self.embedding_mean)), dtype=np.float32)
        centred = embeddings - self.embedding_mean
        missing = ~np.isfinite(embeddings).all(axis=1) | (np.abs(embeddings).sum(axis=1) == 0)
        norms = np.linalg.norm(centred, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        block = centred / norms * self.config.weight_embedding
        block[missing] = 0.0
        return block.astype(np.float32)


@dataclass
class Head:
    """A calibrated linear classifier: softmax((X·Wᵀ + b) / temperature)."""

    labels: tuple[str, ...]
    coef: np.ndarray  # (n_labels, n_features)
    intercept: np.ndarray  # (n_labels,)
    temperature: float = 1.0

    def logits(self, x: sparse.csr_matrix) -> np.ndarray:
        """Raw scores, one column per label."""
        return np.asarray(x @ self.coef.T) + self.intercept

    def proba(self, x: sparse.csr_matrix) -> np.ndarray:
        """Calibrated probabilities, one column per label."""
        return _softmax(self.logits(x) / self.temperature)


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _fit_lr(
    x: sparse.csr_matrix, y: Sequence[str], weights: np.ndarray, c: float
) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=c, max_iter=3000, class_weight="balanced", tol=1e-4)
    with warnings.catch_warnings():
        # A near-separable corpus may stop a little short of the tolerance; the calibration
        # step below absorbs any over-confidence that leaves.
        warnings.simplefilter("ignore", ConvergenceWarning)
        # Tiny corpora (tests, a new municipality) have many sub-areas per example.
        warnings.filterwarnings(
            "ignore", message="The number of unique classes", category=UserWarning
        )
        clf.fit(x, list(y), sample_weight=weights)
    labels = tuple(str(c) for c in clf.classes_)
    coef = clf.coef_.astype(np.float32)
    intercept = clf.intercept_.astype(np.float32)
    if len(labels) == 2:  # scikit-learn keeps one row for two classes
        coef = np.vstack([np.zeros_like(coef), coef])
        intercept = np.array([0.0, intercept[0]], dtype=np.float32)
    return labels, coef, intercept


def _fit_temperature(
    logits: np.ndarray, y_idx: np.ndarray, groups: np.ndarray | None = None
) -> float:
    """Pick the temperature minimising the negative log-likelihood of out-of-fold scores.

    With ``groups`` (a labels × groups 0/1 matrix) the likelihood is that of the group, e.g.
    the strategy a sub-area belongs to, since that is the confidence users see.
    """
    best_t, best_nll = 1.0, math.inf
    for t in np.geomspace(0.05, 20.0, 241):
        p = _softmax(logits / t)
        if groups is not None:
            p = p @ groups
        nll = -float(np.mean(np.log(p[np.arange(len(y_idx)), y_idx] + 1e-12)))
        if nll < best_nll - 1e-9:
            best_t, best_nll = float(t), nll
    return best_t


def fit_head(
    x: sparse.csr_matrix,
    y: Sequence[str],
    weights: np.ndarray,
    c: float,
    folds: int,
    seed: int,
    group_of: Callable[[str], str] | None = None,
    calibrate: np.ndarray | None = None,
) -> Head:
    """Fit one head; calibrate its temperature on out-of-fold scores when every class allows.

    ``group_of`` maps a label to the group whose probability is calibrated (sub-area → strategy);
    ``calibrate`` masks the rows the temperature is fitted on (real messages, not keywords).
    """
    labels, coef, intercept = _fit_lr(x, y, weights, c)
    y_arr = np.asarray(y)
    key = [group_of(v) for v in y_arr] if group_of else list(y_arr)
    counts = Counter(key)
    if folds < 2 or min(counts.values()) < folds:
        return Head(labels, coef, intercept, 1.0)
    from sklearn.model_selection import StratifiedKFold

    oof = np.zeros((len(y_arr), len(labels)), dtype=np.float64)
    skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for tr, te in skf.split(np.zeros(len(y_arr)), np.asarray(key)):
        f_labels, f_coef, f_int = _fit_lr(x[tr], y_arr[tr], weights[tr], c)
        head = Head(f_labels, f_coef, f_int)
        cols = [labels.index(lbl) for lbl in f_labels]
        scores = np.full((len(te), len(labels)), -1e4)
        scores[:, cols] = head.logits(x[te])
        oof[te] = scores
    mask = np.ones(len(y_arr), dtype=bool) if calibrate is None else calibrate
    if group_of is None:
        y_idx = np.array([labels.index(v) for v in y_arr])
        t = _fit_temperature(oof[mask], y_idx[mask])
    else:
        group_names = sorted(set(group_of(lbl) for lbl in labels))
        groups = np.zeros((len(labels), len(group_names)))
        for i, lbl in enumerate(labels):
            groups[i, group_names.index(group_of(lbl))] = 1.0
        y_idx = np.array([group_names.index(k) for k in key])
        t = _fit_temperature(oof[mask], y_idx[mask], groups)
    return Head(labels, coef, intercept, t)


PSEUDO_SUFFIX = ".*"


def strategy_of(label: str) -> str:
    """Strategy code of a topic label: ``LPN-S7.2`` → ``LPN-S7``, ``LPN-S7.*`` → ``LPN-S7``.

    >>> strategy_of("LPN-S7.2"), strategy_of("LPN-S7.*")
    ('LPN-S7', 'LPN-S7')
    """
    return label.rsplit(".", 1)[0]


@dataclass
class Model:
    """A trained classifier: a featurizer, a kind head and a topic head.

    The topic head predicts sub-areas (plus ``<strategy>.*`` for examples labelled with a
    strategy only); a strategy's probability is the sum over its sub-areas. Learning the finer
    classes and adding them up scored better than a separate strategy head (docs/nlp.md).
    """

    featurizer: Featurizer
    kind: Head
    topic: Head
    info: dict = field(default_factory=dict)

    @property
    def strategy_labels(self) -> tuple[str, ...]:
        """Strategy codes, in the order of :meth:`predict_proba`'s strategy columns."""
        return tuple(dict.fromkeys(strategy_of(lbl) for lbl in self.topic.labels))

    @property
    def subarea_labels(self) -> tuple[str, ...]:
        """The topic labels (sub-area codes and ``<strategy>.*``)."""
        return self.topic.labels

    def predict_proba(
        self,
        texts: Sequence[str],
        tokens: Sequence[Sequence[str]],
        embeddings: np.ndarray | None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Probabilities for normalised texts: ``(kind, strategy, topic)``."""
        x = self.featurizer.transform(texts, tokens, embeddings)
        topic = self.topic.proba(x)
        strategies = self.strategy_labels
        groups = np.zeros((len(self.topic.labels), len(strategies)), dtype=topic.dtype)
        for i, lbl in enumerate(self.topic.labels):
            groups[i, strategies.index(strategy_of(lbl))] = 1.0
        return self.kind.proba(x), topic @ groups, topic

    # --- persistence: arrays in .npz (no pickle), everything else in JSON ---------------------

    def save(self, folder: Path) -> dict[str, str]:
        """Write ``model.npz`` and ``model.json`` into ``folder``; return their sha256 digests."""
        folder.mkdir(parents=True, exist_ok=True)
        f = self.featurizer
        arrays: dict[str, np.ndarray] = {"char_idf": f.char_idf, "word_idf": f.word_idf}
        if f.embedding_mean is not None:
            arrays["embedding_mean"] = f.embedding_mean
        heads = {"kind": self.kind, "topic": self.topic}
        spec_heads = {}
        for name, head in heads.items():
            if head is None:
                continue
            arrays[f"{name}_coef"] = head.coef
            arrays[f"{name}_intercept"] = head.intercept
            spec_heads[name] = {"labels": list(head.labels), "temperature": head.temperature}
        with (folder / ARRAYS_FILE).open("wb") as fh:
            np.savez_compressed(fh, **arrays)
        spec = {
            "format": FORMAT,
            "config": asdict(f.config),
            "char_vocab": f.char_vocab,
            "word_vocab": f.word_vocab,
            "keywords": [list(k) for k in f.keywords],
            "heads": spec_heads,
            "info": self.info,
        }
        (folder / SPEC_FILE).write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
        return {name: file_sha256(folder / name) for name in (ARRAYS_FILE, SPEC_FILE)}

    @classmethod
    def load(cls, folder: Path) -> Model:
        """Read a model written by :meth:`save` (callers verify its metadata first)."""
        spec = json.loads((folder / SPEC_FILE).read_text(encoding="utf-8"))
        if spec.get("format") != FORMAT:
            raise ValueError(f"{folder}: unknown model format {spec.get('format')!r}")
        cfg = dict(spec["config"])
        cfg["char_ngrams"] = tuple(cfg["char_ngrams"])
        config = TrainConfig(**cfg)
        with np.load(folder / ARRAYS_FILE, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        featurizer = Featurizer(
            config=config,
            char_vocab=spec["char_vocab"],
            char_idf=arrays["char_idf"],
            word_vocab=spec["word_vocab"],
            word_idf=arrays["word_idf"],
            keywords=[tuple(k) for k in spec["keywords"]],
            embedding_mean=arrays.get("embedding_mean"),
        )
        heads: dict[str, Head] = {}
        for name in ("kind", "topic"):
            hs = spec["heads"].get(name)
            if hs is None:
                raise ValueError(f"{folder}: model lacks a {name} head")
            heads[name] = Head(
                tuple(hs["labels"]),
                arrays[f"{name}_coef"],
                arrays[f"{name}_intercept"],
                float(hs["temperature"]),
            )
        return cls(featurizer, heads["kind"], heads["topic"], spec.get("info", {}))

    def weights_digest(self) -> str:
        """sha256 over every learned number: equal digests mean identical models."""
        h = hashlib.sha256()
        for head in (self.kind, self.topic):
            h.update("\n".join(head.labels).encode())
            h.update(np.ascontiguousarray(head.coef).tobytes())
            h.update(np.ascontiguousarray(head.intercept).tobytes())
            h.update(repr(round(head.temperature, 6)).encode())
        h.update("\n".join(self.featurizer.char_vocab).encode())
        h.update("\n".join(self.featurizer.word_vocab).encode())
        return h.hexdigest()


def file_sha256(path: Path) -> str:
    """sha256 of a file's bytes."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass
class TrainingData:
    """Normalised training rows with tokens, optional embeddings, labels and weights."""

    texts: list[str]
    tokens: list[list[str]]
    embeddings: np.ndarray | None
    kinds: list[str]
    strategies: list[str | None]
    subareas: list[str | None]
    weights: np.ndarray


def fit_model(
    data: TrainingData,
    taxonomy: Taxonomy,
    config: TrainConfig,
    progress: Callable[[str], None] | None = None,
) -> Model:
    """Fit featurizer and heads; deterministic for the same data and config."""

    def step(name: str) -> None:
        if progress is not None:
            progress(name)

    featurizer = Featurizer.fit(
        config,
        data.texts,
        data.tokens,
        taxonomy,
        data.embeddings if config.use_embeddings else None,
    )
    x = featurizer.transform(data.texts, data.tokens, data.embeddings)
    step("features")
    kind = fit_head(
        x, data.kinds, data.weights, config.c_kind, config.calibration_folds, config.seed
    )
    step("kind")

    req = [i for i, s in enumerate(data.strategies) if s is not None]
    x_req = x[req]
    y_req = [data.subareas[i] or data.strategies[i] + PSEUDO_SUFFIX for i in req]
    w_req = data.weights[req]
    real = np.ones(len(req), dtype=bool)
    if config.keyword_examples:
        # Each taxonomy keyword becomes a weak one-word example of its strategy (or sub-area), so
        # words the corpus never used still point somewhere sensible.
        kw_texts, kw_labels = [], []
        for strat in taxonomy.strategies:
            for kw in dict.fromkeys(k.lower() for k in strat.keywords):
                kw_texts.append(kw)
                kw_labels.append(strat.code + PSEUDO_SUFFIX)
            for sub in strat.subareas:
                for kw in dict.fromkeys(k.lower() for k in sub.keywords):
                    kw_texts.append(kw)
                    kw_labels.append(sub.code)
        if kw_texts:
            words = taxonomy.dictionary_words()
            kw_emb = None
            if featurizer.uses_embeddings:
                kw_emb = np.zeros((len(kw_texts), len(featurizer.embedding_mean)), np.float32)
            x_kw = featurizer.transform(kw_texts, [tokenize(t, words) for t in kw_texts], kw_emb)
            x_req = sparse.vstack([x_req, x_kw], format="csr")
            y_req = y_req + kw_labels
            w_req = np.concatenate([w_req, np.full(len(kw_texts), 0.3, dtype=np.float64)])
            real = np.concatenate([real, np.zeros(len(kw_texts), dtype=bool)])
    topic = fit_head(
        x_req,
        y_req,
        w_req,
        config.c_topic,
        config.calibration_folds,
        config.seed,
        strategy_of,
        real,
    )
    step("topic")
    return Model(featurizer, kind, topic)
