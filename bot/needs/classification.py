"""The one place where the classifier's prediction becomes what a need stores.

A prediction (``nlp.Prediction``) is read here and nowhere else in bot: its fields become a
:class:`Classification`, whose :meth:`~Classification.columns` are the submission's columns,
and whose names (from the same prediction) are what the resident reads back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app

import nlp

EXTENSION = "ruamkid_classifier"

# The submission columns a classification fills.
COLUMNS = (
    "strategy",
    "subarea",
    "kind",
    "confidence",
    "top3",
    "unsure",
    "model_version",
    "embedding",
)


def init_app(app: Flask) -> None:
    """Build the app's classifier from its configuration (loads nothing until first used)."""
    threshold = app.config["UNSURE_THRESHOLD"]
    app.extensions[EXTENSION] = nlp.Classifier(
        app.config["MODEL_DIR"],
        taxonomy_path=app.config["TAXONOMY_FILE"],
        corpus_dir=app.config["CORPUS_DIR"],
        use_embeddings=app.config["CLASSIFIER_EMBEDDINGS"],
        **({"unsure_threshold": threshold} if threshold is not None else {}),
    )


def classifier(app: Flask | None = None) -> nlp.Classifier:
    """Return the app's classifier (the current app's by default)."""
    return (app or current_app).extensions[EXTENSION]


def taxonomy(app: Flask | None = None) -> nlp.Taxonomy:
    """Return the plan's taxonomy the app's classifier sorts into."""
    return classifier(app).taxonomy


@dataclass(frozen=True)
class Classification:
    """What a need keeps of a prediction, with the Thai names of its strategy and sub-area."""

    kind: str
    strategy: str | None
    subarea: str | None
    confidence: float
    top3: list[dict[str, Any]]
    unsure: bool
    model_version: str
    embedding: bytes | None = field(default=None, repr=False)
    strategy_name: str | None = None
    subarea_name: str | None = None

    def columns(self) -> dict[str, Any]:
        """Return the submission columns this classification sets."""
        return {name: getattr(self, name) for name in COLUMNS}


def is_small_talk(prediction: nlp.Prediction) -> bool:
    """Tell whether a message is small talk to answer kindly rather than a need to file.

    Small talk is a closed class (greetings, thanks, "ok", laughter, emoji, tests: see
    ``nlp.smalltalk``); anything else a resident writes is filed, flagged unsure when the
    classifier doubts it is a request, for staff to sort (their correction becomes a label).
    """
    return not prediction.is_request


def classification_of(prediction: nlp.Prediction) -> Classification:
    """Return what a need keeps of ``prediction``."""
    return Classification(
        kind=prediction.kind,
        strategy=prediction.strategy,
        subarea=prediction.subarea,
        confidence=prediction.confidence,
        top3=[label.to_dict() for label in prediction.top3],
        unsure=prediction.unsure,
        model_version=prediction.model_version,
        embedding=prediction.embedding,
        strategy_name=prediction.strategy_name,
        subarea_name=prediction.subarea_name,
    )


def summary_of(prediction: nlp.Prediction) -> dict[str, Any]:
    """Return what a survey answer keeps of ``prediction`` for the results (no embedding)."""
    return {
        "kind": prediction.kind,
        "strategy": prediction.strategy,
        "strategy_name": prediction.strategy_name,
        "subarea": prediction.subarea,
        "subarea_name": prediction.subarea_name,
        "confidence": round(float(prediction.confidence), 4),
        "unsure": bool(prediction.unsure),
        "is_request": bool(prediction.is_request),
    }
