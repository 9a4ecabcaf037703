"""What the classifier returns: a :class:`Prediction` per message, a :class:`TrainResult` per run.

Plain frozen dataclasses with ``to_dict()`` for JSON; nothing here needs numpy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Prediction", "ScoredLabel", "TrainResult"]


@dataclass(frozen=True, slots=True)
class ScoredLabel:
    """A strategy code with its Thai name and calibrated probability.

    >>> ScoredLabel("LPN-S7", "ด้านโครงสร้างพื้นฐาน", 0.91234).to_dict()
    {'code': 'LPN-S7', 'name': 'ด้านโครงสร้างพื้นฐาน', 'confidence': 0.9123}
    """

    code: str
    name: str
    confidence: float

    def to_dict(self) -> dict:
        """Return plain JSON-ready data."""
        return {"code": self.code, "name": self.name, "confidence": round(self.confidence, 4)}


@dataclass(frozen=True, slots=True)
class Prediction:
    """What the classifier says about one message.

    ``strategy``/``subarea`` are ``None`` when ``kind == "other"`` (not a request); ``top3``
    still ranks strategies so staff can reassign. ``unsure`` is true when the deciding
    confidence (strategy for a request, kind for ``other``) is under the configured threshold.
    ``embedding`` is the float32 sentence embedding to store with the submission.
    """

    kind: str
    kind_confidence: float
    strategy: str | None
    strategy_name: str | None
    subarea: str | None
    subarea_name: str | None
    confidence: float
    subarea_confidence: float
    top3: tuple[ScoredLabel, ...]
    unsure: bool
    model_version: str
    embedding: bytes | None = field(default=None, repr=False)

    @classmethod
    def other(
        cls,
        model_version: str,
        kind_confidence: float = 1.0,
        *,
        top3: tuple[ScoredLabel, ...] = (),
        unsure: bool = False,
        embedding: bytes | None = None,
    ) -> Prediction:
        """Build the prediction for a message that is not a request: no strategy, no sub-area.

        Blank text, emoji or a bare link get the defaults without a model; the model's own
        ``other`` passes its kind confidence, ranked strategies and embedding.

        >>> p = Prediction.other("20260101-000000-0123abcd")
        >>> p.kind, p.is_request, p.strategy, p.confidence, p.top3, p.unsure
        ('other', False, None, 0.0, (), False)
        """
        return cls(
            kind="other",
            kind_confidence=kind_confidence,
            strategy=None,
            strategy_name=None,
            subarea=None,
            subarea_name=None,
            confidence=0.0,
            subarea_confidence=0.0,
            top3=top3,
            unsure=unsure,
            model_version=model_version,
            embedding=embedding,
        )

    @property
    def is_request(self) -> bool:
        """True for complaint, need, question and suggestion; never for ``other``."""
        return self.kind != "other"

    def to_dict(self) -> dict:
        """Return JSON-ready data (without the embedding bytes)."""
        return {
            "kind": self.kind,
            "kind_confidence": round(self.kind_confidence, 4),
            "strategy": self.strategy,
            "strategy_name": self.strategy_name,
            "subarea": self.subarea,
            "subarea_name": self.subarea_name,
            "confidence": round(self.confidence, 4),
            "subarea_confidence": round(self.subarea_confidence, 4),
            "top3": [s.to_dict() for s in self.top3],
            "unsure": self.unsure,
            "is_request": self.is_request,
            "model_version": self.model_version,
        }


@dataclass(frozen=True, slots=True)
class TrainResult:
    """Outcome of a training run: the new version, whether it is now active, and why."""

    version: str
    activated: bool
    reason: str
    previous_version: str | None
    weights_sha256: str
    metrics: dict
    previous_metrics: dict | None
    seconds: float

    def to_dict(self) -> dict:
        """Return plain JSON-ready data."""
        return {
            "version": self.version,
            "activated": self.activated,
            "reason": self.reason,
            "previous_version": self.previous_version,
            "weights_sha256": self.weights_sha256,
            "metrics": self.metrics,
            "previous_metrics": self.previous_metrics,
            "seconds": round(self.seconds, 2),
        }
