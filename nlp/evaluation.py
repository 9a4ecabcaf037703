"""Classification metrics computed with numpy alone (no warnings for empty classes)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

__all__ = ["ClassScore", "LabelReport", "Report", "label_report"]


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
    other_recall: float | None = None
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
        if self.other_recall is not None:
            head.append(f"other recall {self.other_recall:.3f}")
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
