"""Scoring a model on labelled rows: metrics per label, coverage when sure, calibration.

The metrics are computed with numpy alone (no warnings for empty classes);
:func:`evaluate_predictor` runs a model version over :class:`~nlp.corpus.Example` rows and
:func:`summary` keeps the headline figures stored in a model's metadata.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from .corpus import Example
from .embeddings import Embedder, EmbeddingCache, text_key
from .predict import Predictor, known_vectors, needs_model, rule_prediction
from .results import Prediction
from .text import normalize

__all__ = [
    "LABELS",
    "ClassScore",
    "LabelReport",
    "Report",
    "check_request",
    "evaluate_predictor",
    "expected_calibration_error",
    "label_report",
    "summary",
]

LABELS = ("strategy", "subarea", "kind")


@dataclass(frozen=True, slots=True)
class ClassScore:
    """Precision, recall and F1 of one class, with its support in the true labels."""

    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True, slots=True)
class LabelReport:
    """Metrics for one label (``strategy``, ``subarea`` or ``kind``) over the rows that have it."""

    label: str
    n: int
    accuracy: float
    balanced_accuracy: float
    macro_f1: float
    per_class: dict[str, ClassScore]
    classes: tuple[str, ...]
    confusion: tuple[tuple[int, ...], ...]  # rows: true class, columns: predicted class

    def format(self) -> str:
        """Render as a plain-text block for the terminal."""
        lines = [
            f"== {self.label} (n={self.n}) accuracy {self.accuracy:.3f}  balanced accuracy "
            f"{self.balanced_accuracy:.3f}  macro-F1 {self.macro_f1:.3f}",
            f"{'class':<14}{'precision':>10}{'recall':>8}{'f1':>7}{'n':>6}",
        ]
        for cls, score in self.per_class.items():
            lines.append(
                f"{cls:<14}{score.precision:>10.3f}{score.recall:>8.3f}{score.f1:>7.3f}"
                f"{score.support:>6}"
            )
        short = [c.replace("LPN-", "")[:6] for c in self.classes]
        lines.append("confusion (rows true, columns predicted):")
        lines.append(" " * 8 + "".join(f"{s:>7}" for s in short))
        for s, row in zip(short, self.confusion, strict=True):
            lines.append(f"{s:>8}" + "".join(f"{v:>7}" for v in row))
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class Report:
    """Evaluation of a model on labelled rows: one :class:`LabelReport` per label present."""

    model_version: str
    n: int
    labels: dict[str, LabelReport]
    small_talk_recall: float | None = None  # small-talk rows the model kept out of the queue
    requests_kept: float | None = None  # request rows filed, not answered as small talk
    strategy_plausible: float | None = None  # strategy is the label or one in ``also``
    unsure_threshold: float | None = None
    coverage: float | None = None  # share of true requests not flagged unsure
    precision_when_sure: float | None = None  # strategy precision on those
    extra: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Return plain JSON-ready data."""
        return asdict(self)

    def format(self) -> str:
        """Render the whole report for the terminal."""
        head = [f"model {self.model_version}  rows {self.n}"]
        if self.requests_kept is not None:
            head.append(f"requests kept {self.requests_kept:.4f}")
        if self.small_talk_recall is not None:
            head.append(f"small talk recognised {self.small_talk_recall:.3f}")
        if self.strategy_plausible is not None:
            head.append(f"plausible strategy {self.strategy_plausible:.3f}")
        if self.coverage is not None and self.precision_when_sure is not None:
            head.append(
                f"not unsure (threshold {self.unsure_threshold:.2f}): coverage "
                f"{self.coverage:.3f}, strategy precision {self.precision_when_sure:.3f}"
            )
        blocks = ["  ".join(head)] + [rep.format() for rep in self.labels.values()]
        return "\n\n".join(blocks)


def label_report(
    label: str,
    y_true: Sequence[str],
    y_pred: Sequence[str],
    classes: Sequence[str] | None = None,
) -> LabelReport:
    """Compute accuracy, balanced accuracy, per-class P/R/F1, macro-F1 and the confusion matrix.

    Macro-F1 and balanced accuracy average over the classes present in ``y_true``.

    >>> r = label_report("kind", ["need", "need", "other"], ["need", "other", "other"])
    >>> round(r.accuracy, 3), r.per_class["other"].precision, r.per_class["need"].recall
    (0.667, 0.5, 0.5)
    >>> r.classes, r.confusion
    (('need', 'other'), ((1, 1), (0, 1)))
    """
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true has {len(y_true)} rows but y_pred has {len(y_pred)}")
    present = sorted(set(y_true))
    if classes is None:
        classes = sorted(set(y_true) | set(y_pred))
    else:
        extra = sorted((set(y_true) | set(y_pred)) - set(classes))
        classes = [c for c in classes if c in set(y_true) | set(y_pred)] + extra
    index = {c: i for i, c in enumerate(classes)}
    cm = np.zeros((len(classes), len(classes)), dtype=int)
    for t, p in zip(y_true, y_pred, strict=True):
        cm[index[t], index[p]] += 1
    n = len(y_true)
    per_class: dict[str, ClassScore] = {}
    for c in classes:
        i = index[c]
        tp = cm[i, i]
        pred_n = cm[:, i].sum()
        true_n = cm[i, :].sum()
        precision = tp / pred_n if pred_n else 0.0
        recall = tp / true_n if true_n else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[c] = ClassScore(float(precision), float(recall), float(f1), int(true_n))
    accuracy = float(np.trace(cm) / n) if n else 0.0
    balanced = float(np.mean([per_class[c].recall for c in present])) if present else 0.0
    macro_f1 = float(np.mean([per_class[c].f1 for c in present])) if present else 0.0
    return LabelReport(
        label=label,
        n=n,
        accuracy=accuracy,
        balanced_accuracy=balanced,
        macro_f1=macro_f1,
        per_class=per_class,
        classes=tuple(classes),
        confusion=tuple(tuple(int(v) for v in row) for row in cm),
    )


def check_request(rows: Sequence[Example], labels: Sequence[str]) -> None:
    """Raise ``ValueError`` for no rows or a label other than strategy, subarea and kind."""
    if not rows:
        raise ValueError("evaluate needs at least one labelled row")
    for name in labels:
        if name not in LABELS:
            raise ValueError(f"unknown label {name!r}; expected strategy, subarea or kind")


def evaluate_predictor(
    predictor: Predictor,
    rows: Sequence[Example],
    labels: Sequence[str] = LABELS,
    cache: EmbeddingCache | None = None,
    embedder: Embedder | None = None,
) -> Report:
    """Score a model version on labelled rows.

    Embeddings come from the rows' stored bytes, then ``cache``; the rest are embedded (and
    cached) when ``embedder`` is given, or the model runs on lexical features alone.
    """
    preds = predict_rows(predictor, rows, cache, embedder)
    return report_of(predictor, rows, preds, labels)


def report_of(
    predictor: Predictor,
    rows: Sequence[Example],
    preds: Sequence[Prediction],
    labels: Sequence[str] = LABELS,
) -> Report:
    """Score predictions already made for labelled rows (see :func:`predict_rows`)."""
    tax = predictor.taxonomy
    reports = {}
    if "strategy" in labels:
        pairs = [(r.strategy, p) for r, p in zip(rows, preds, strict=True) if r.strategy]
        if pairs:
            reports["strategy"] = label_report(
                "strategy",
                [t for t, _ in pairs],
                [p.strategy or "none" for _, p in pairs],
                tax.strategy_codes,
            )
    if "subarea" in labels:
        pairs = [(r.subarea, p) for r, p in zip(rows, preds, strict=True) if r.subarea]
        if pairs:
            reports["subarea"] = label_report(
                "subarea",
                [t for t, _ in pairs],
                [p.subarea or "none" for _, p in pairs],
                tax.subarea_codes,
            )
    if "kind" in labels:
        reports["kind"] = label_report(
            "kind", [r.kind for r in rows], [p.kind for p in preds], tax.kind_codes
        )
    pairs = list(zip(rows, preds, strict=True))
    talk = [p for r, p in pairs if r.kind == "other" and r.small_talk is not False]
    requests = [(r, p) for r, p in pairs if r.kind != "other"]
    small_talk_recall = sum(not p.is_request for p in talk) / len(talk) if talk else None
    kept = sum(p.is_request for _, p in requests) / len(requests) if requests else None
    threshold = predictor.unsure_threshold
    coverage = precision = plausible = None
    req = [(r, p) for r, p in requests if r.strategy and p.top3]
    if req:
        # A filed message's confidence is its strategy's; small talk counts as a miss here.
        sure = [(r, p) for r, p in req if p.is_request and not p.unsure]
        coverage = len(sure) / len(req)
        precision = sum(r.strategy == p.strategy for r, p in sure) / len(sure) if sure else 0.0
        plausible = sum(p.strategy in {r.strategy, *r.also} for r, p in req) / len(req)
    extra: dict[str, float] = {}
    if req:
        extra["strategy_top3_accuracy"] = sum(
            r.strategy in {s.code for s in p.top3} for r, p in req
        ) / len(req)
        extra["strategy_ece"] = float(
            expected_calibration_error(
                np.array([p.top3[0].confidence for _, p in req]),
                np.array([r.strategy == p.top3[0].code for r, p in req]),
            )
        )
    return Report(
        extra=extra,
        model_version=predictor.version,
        n=len(rows),
        labels=reports,
        small_talk_recall=small_talk_recall,
        requests_kept=kept,
        strategy_plausible=plausible,
        unsure_threshold=threshold,
        coverage=coverage,
        precision_when_sure=precision,
    )


def predict_rows(
    predictor: Predictor,
    rows: Sequence[Example],
    cache: EmbeddingCache | None = None,
    embedder: Embedder | None = None,
) -> list[Prediction]:
    """Predict labelled rows as the classifier would, embeddings from the rows or ``cache``."""
    norms = [normalize(r.text) for r in rows]
    embeddings = None
    if predictor.uses_embeddings:
        embeddings, missing = known_vectors(norms, [r.embedding for r in rows], cache)
        if missing and embedder is None:
            embeddings = None
        elif missing:
            got = embedder.embed([norms[i] for i in missing])
            embeddings[missing] = got
            if cache is not None:
                for i, vec in zip(missing, got, strict=True):
                    cache.put(text_key(norms[i]), vec)
    preds = [rule_prediction(n, predictor.version) for n in norms]
    idx = [i for i, n in enumerate(norms) if needs_model(n)]
    if idx:
        sub_norms = [norms[i] for i in idx]
        sub_emb = embeddings[idx] if embeddings is not None else None
        for i, p in zip(idx, predictor.predict(sub_norms, sub_emb), strict=True):
            preds[i] = p
    return preds


def expected_calibration_error(confidence: np.ndarray, right: np.ndarray, bins: int = 10) -> float:
    """Mean gap between confidence and accuracy over ten equal-width bins, weighted by size.

    >>> ece = expected_calibration_error(np.array([0.95, 0.95, 0.55]), np.array([1, 0, 1]))
    >>> round(float(ece), 3)
    0.45
    """
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            total += abs(float(confidence[mask].mean()) - float(right[mask].mean())) * mask.sum()
    return total / max(len(confidence), 1)


def summary(report: Report) -> dict:
    """The headline figures of a report, as stored in model metadata."""
    out: dict[str, float | int | None] = {"n": report.n}
    for name, rep in report.labels.items():
        out[f"{name}_macro_f1"] = round(rep.macro_f1, 4)
        out[f"{name}_accuracy"] = round(rep.accuracy, 4)
        out[f"{name}_balanced_accuracy"] = round(rep.balanced_accuracy, 4)
    for key, value in report.extra.items():
        out[key] = round(value, 4)
    for key in ("small_talk_recall", "requests_kept", "strategy_plausible"):
        value = getattr(report, key)
        out[key] = None if value is None else round(value, 4)
    out["coverage"] = None if report.coverage is None else round(report.coverage, 4)
    out["precision_when_sure"] = (
        None if report.precision_when_sure is None else round(report.precision_when_sure, 4)
    )
    return out
