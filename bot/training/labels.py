"""Real labels: residents' own words with the label staff gave them, ready to train on."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

import nlp
from nlp.corpus import CorpusError, make_example
from storage import training

logger = logging.getLogger(__name__)


def real_labels(session: Session, taxonomy: nlp.Taxonomy) -> tuple[list[nlp.Example], int]:
    """Return the labels to train on (staff corrections and imported rows) and how many were
    skipped: a need whose text was erased, or a label that no longer fits the taxonomy (a
    renamed code). Never fatal; the log names label ids, never their text."""
    examples: list[nlp.Example] = []
    skipped = 0
    for label, embedding in training.latest_labels(session):
        if not (label.text or "").strip():
            skipped += 1
            continue
        try:
            examples.append(
                make_example(
                    taxonomy,
                    label.text,
                    label.strategy,
                    label.subarea,
                    label.kind,
                    embedding=embedding,
                    where=f"training label {label.id}",
                )
            )
        except CorpusError as exc:
            logger.warning("skipping %s", exc)
            skipped += 1
    return examples, skipped
