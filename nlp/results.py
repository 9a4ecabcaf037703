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

    ``kind == "other"`` means small talk (``nlp.smalltalk``): greetings, thanks, "ok", laughter,
    emoji, tests. Such a message is never filed, and has no strategy. Every other message is a
    request the bot files: its kind is the likeliest of complaint, need, question and suggestion,
    with the strategy and sub-area the model ranks first (none for a bare link or phone number).
    ``unsure`` is true when the strategy's confidence is under the configured threshold, or when
    the model doubts the message is a request at all: staff sort those first.
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
        """Build the prediction for small talk: no strategy, no sub-area, never filed.

        Blank text, emoji or laughter get the defaults without a model; small talk the model saw
        passes its kind confidence, ranked strategies and embedding.

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

    @classmethod
    def uncategorised(cls, model_version: str) -> Prediction:
        """Build the prediction for a request the model cannot read (a bare link or phone number).

        >>> p = Prediction.uncategorised("20260101-000000-0123abcd")
        >>> p.kind, p.is_request, p.strategy, p.unsure
        ('need', True, None, True)
        """
        return cls(
            kind="need",
            kind_confidence=0.0,
            strategy=None,
            strategy_name=None,
            subarea=None,
            subarea_name=None,
            confidence=0.0,
            subarea_confidence=0.0,
            top3=(),
            unsure=True,
            model_version=model_version,
        )

    @property
    def is_request(self) -> bool:
        """True unless the message is small talk (kind ``other``): the bot files every request."""
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
