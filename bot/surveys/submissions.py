"""Free-text survey answers that are requests become submissions in the staff queue.

The answer is classified with ``nlp``; a request (any kind but ``other``) is stored as a
submission with source "survey" and linked from the answer. Changing the answer later updates
that submission while staff have not touched it yet, else files a new one.
"""

from __future__ import annotations

import logging

import nlp
from bot.residents.context import Context
from storage import submissions as store
from storage.models import Resident, Submission
from storage.surveys import Survey, SurveyAnswer

logger = logging.getLogger(__name__)


def classification_summary(prediction) -> dict:
    """Return what results pages show of a prediction (no embedding)."""
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


def file_survey_submission(
    context: Context,
    resident: Resident,
    survey: Survey,
    answer: SurveyAnswer,
    prediction: nlp.Prediction,
) -> Submission | None:
    """File (or update) the submission of a free-text answer that ``prediction`` calls a request."""
    text = answer.text or ""
    answer.classification = classification_summary(prediction)
    if not prediction.is_request:
        return None
    session = context.session
    existing = session.get(Submission, answer.submission_id) if answer.submission_id else None
    if existing is not None and existing.status == "new" and not existing.label_confirmed:
        existing.text = text
        store.apply_classification(existing, store.classification_fields(prediction))
        return existing
    submission = store.create_submission(
        session,
        resident,
        prefix=context.municipality.tracking_prefix,
        text=text,
        classification=store.classification_fields(prediction),
        source="survey",
        now=context.now,
    )
    answer.submission_id = submission.id
    logger.info("survey %d: answer %d filed as submission %d", survey.id, answer.id, submission.id)
    return submission
