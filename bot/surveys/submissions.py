"""Free-text survey answers that are requests become submissions in the staff queue.

The answer's classification (the conversation's reading of the message) is kept with the
answer; a request (any kind but ``other``) is filed as a need with source "survey" and linked
from the answer. Changing the answer later revises that need while staff have not touched it
yet, else files a new one.
"""

from __future__ import annotations

import logging

import nlp
from bot.needs import actions
from bot.needs.classification import classification_of, summary_of
from bot.residents.context import Context
from storage.models import Resident, Submission
from storage.surveys import Survey, SurveyAnswer

logger = logging.getLogger(__name__)


def file_survey_submission(
    context: Context,
    resident: Resident,
    survey: Survey,
    answer: SurveyAnswer,
    prediction: nlp.Prediction,
) -> Submission | None:
    """File (or revise) the need of a free-text answer that ``prediction`` calls a request."""
    text = answer.text or ""
    answer.classification = summary_of(prediction)
    if not prediction.is_request:
        return None
    classification = classification_of(prediction)
    session = context.session
    existing = session.get(Submission, answer.submission_id) if answer.submission_id else None
    if existing is not None and existing.status == "new" and not existing.label_confirmed:
        actions.revise_need(existing, text, classification)
        return existing
    submission = actions.create_need(
        session,
        resident,
        prefix=context.municipality.tracking_prefix,
        text=text,
        classification=classification,
        source="survey",
        now=context.now,
    )
    answer.submission_id = submission.id
    logger.info("survey %d: answer %d filed as submission %d", survey.id, answer.id, submission.id)
    return submission
