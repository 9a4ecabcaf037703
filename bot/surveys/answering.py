"""A resident answering a survey in LINE: plain functions from an event to the replies.

``try_handle`` takes a consenting resident's turn before the conversation (registered by
``bot.surveys.init_app``). It returns None when the event is not for a survey, so a new need
typed while a survey waits for buttons is still handled as a need and the survey keeps its
place (the recipient's first unanswered question). Only a free-text question takes the next
text message, and only for a while after it was asked.

Postback data is compact (``sv=12&q=3&o=2``) and only ever acts on the sender's own recipient
row; anything that does not match a survey the sender received, a question of that survey or an
option of that question is refused politely with no change.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.residents.context import Context
from bot.residents.reading import Reading
from bot.residents.turn import Turn
from bot.surveys import messages as m
from bot.surveys.submissions import file_survey_submission
from bot.wording import Wording, wording
from storage.models import Resident
from storage.surveys import (
    Survey,
    SurveyAnswer,
    SurveyQuestion,
    SurveyRecipient,
    answers_by_question,
    get_recipient,
    open_surveys_for,
)

logger = logging.getLogger(__name__)

STATE_KEY = "survey"
# A free-text question takes the next message only this long after it was asked: a need
# typed days later is a need, and the survey still waits at the same question.
TEXT_ANSWER_WINDOW = timedelta(minutes=30)
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))

Messages = list[dict[str, Any]]


def try_handle(turn: Turn) -> Messages | None:
    """Handle a survey postback, "แบบสำรวจ", or a free-text answer; None if not for a survey.

    Registered with the conversation (``bot.surveys.init_app``), which calls it first.
    """
    context, resident, event = turn.context, turn.resident, turn.event
    if event.type == "postback" and m.is_survey_postback(event.postback_data):
        if resident.consent != "given":
            return [m.refusal_message(_say(context))]
        return _on_postback(context, resident, event.postback_data or "")
    if event.type != "message" or event.message_type != "text" or turn.reading is None:
        return None
    if resident.consent != "given":
        return None
    # The conversation's command words ("แบบสำรวจ" from the rich menu, "ติดตามเรื่อง", …)
    # are never a free-text answer; only "แบบสำรวจ" is ours.
    if turn.command == "survey":
        return _resume(context, resident)
    if turn.command is not None:
        return None
    return _on_text(context, resident, turn.reading)


def _say(context: Context) -> Wording:
    return wording(context.municipality)


def _clean(text: str | None) -> str:
    return " ".join((text or "").translate(_INVISIBLE).split())


# --- state ------------------------------------------------------------------------------------


def _state(resident: Resident) -> dict[str, Any] | None:
    value = (resident.state or {}).get(STATE_KEY)
    if not isinstance(value, dict) or not isinstance(value.get("id"), int):
        return None
    return value


def _set_state(resident: Resident, value: dict[str, Any] | None) -> None:
    # Assign a new dict: the JSON column only notices replacement, not mutation.
    state = {k: v for k, v in (resident.state or {}).items() if k != STATE_KEY}
    if value is not None:
        state[STATE_KEY] = value
    resident.state = state


def _clear_state_for(resident: Resident, survey_id: int) -> None:
    current = _state(resident)
    if current is not None and current["id"] == survey_id:
        _set_state(resident, None)


# --- entry points -----------------------------------------------------------------------------


def _resume(context: Context, resident: Resident) -> Messages | None:
    surveys = open_surveys_for(context.session, resident.id, context.now)
    if not surveys:
        return None  # the conversation says, in its own wording, that there is none
    current = _state(resident)
    survey = next((s for s in surveys if current is not None and s.id == current["id"]), None)
    if survey is None:
        if len(surveys) > 1:
            return [m.choose_survey_message(surveys, _say(context))]
        survey = surveys[0]
    recipient = get_recipient(context.session, survey.id, resident.id)
    assert recipient is not None  # open_surveys_for joins on the recipient
    return _continue(context, resident, survey, recipient, resumed=True)


def _on_text(context: Context, resident: Resident, reading: Reading) -> Messages | None:
    text, raw = _clean(reading.text), reading.text
    current = _state(resident)
    if current is None or not isinstance(current.get("q"), int):
        return None
    session = context.session
    survey = session.get(Survey, current["id"])
    if survey is None or not survey.is_open(context.now):
        # Too late for that survey: the text is handled as whatever it is (likely a need).
        _set_state(resident, None)
        return None
    question = _question(survey, current["q"])
    if question is None or question.type != "text" or not text:
        return None
    recipient = get_recipient(session, survey.id, resident.id)
    if recipient is None:
        _set_state(resident, None)
        return None
    asked = recipient.last_activity_at
    if asked is None or context.now - asked > TEXT_ANSWER_WINDOW:
        return None
    answer = _record(session, recipient, question, context, text=raw.strip())
    file_survey_submission(context, resident, survey, answer, reading.prediction)
    return _advance(context, resident, survey, recipient)


def _on_postback(context: Context, resident: Resident, data: str) -> Messages:
    postback = m.parse_postback(data)
    if postback is None:
        logger.info("resident %d: malformed survey postback", resident.id)
        return [m.refusal_message(_say(context))]
    session = context.session
    survey = session.get(Survey, postback.survey_id)
    recipient = get_recipient(session, survey.id, resident.id) if survey is not None else None
    if survey is None or recipient is None or survey.status in {"draft", "scheduled"}:
        logger.info(
            "resident %d: postback for survey %d not sent to them", resident.id, postback.survey_id
        )
        return [m.refusal_message(_say(context))]
    if not survey.is_open(context.now):
        _clear_state_for(resident, survey.id)
        return [m.closed_message(survey, _say(context))]
    if postback.action == "start":
        return _continue(context, resident, survey, recipient, resumed=False)
    question = _question(survey, postback.question_id)
    if question is None:
        return [m.refusal_message(_say(context))]
    if postback.action == "edit":
        return _ask(context, resident, survey, recipient, question, editing=True)
    if postback.action == "skip":
        if question.required:
            note = _say(context)("survey_required")
            return _ask(context, resident, survey, recipient, question, note=note)
        _record(session, recipient, question, context, skipped=True)
        return _advance(context, resident, survey, recipient)
    if postback.rating is not None:
        if question.type != "rating" or not 1 <= postback.rating <= 5:
            return [m.refusal_message(_say(context))]
        _record(session, recipient, question, context, rating=postback.rating)
        return _advance(context, resident, survey, recipient)
    if postback.option_id is not None:
        option_ids = {o.id for o in question.options}
        if question.type not in {"single", "multiple"} or postback.option_id not in option_ids:
            return [m.refusal_message(_say(context))]
        if question.type == "single":
            _record(session, recipient, question, context, option_ids=[postback.option_id])
            return _advance(context, resident, survey, recipient)
        return _toggle(context, resident, survey, recipient, question, postback.option_id)
    if postback.action == "done":
        if question.type != "multiple":
            return [m.refusal_message(_say(context))]
        ticks = _ticks(context.session, resident, recipient, question)
        if not ticks and question.required:
            note = _say(context)("survey_choose_at_least_one")
            return _ask(context, resident, survey, recipient, question, note=note)
        _record(session, recipient, question, context, option_ids=ticks, skipped=not ticks)
        return _advance(context, resident, survey, recipient)
    return [m.refusal_message(_say(context))]


# --- steps ------------------------------------------------------------------------------------


def _question(survey: Survey, question_id: int | None) -> SurveyQuestion | None:
    return next((q for q in survey.questions if q.id == question_id), None)


def _touch(recipient: SurveyRecipient, context: Context) -> None:
    recipient.last_activity_at = context.now
    if recipient.status in {"queued", "sent", "failed"}:
        recipient.status = "answering"


def _ticks(
    session: Session, resident: Resident, recipient: SurveyRecipient, question: SurveyQuestion
) -> list[int]:
    """Return the options ticked so far: from the state, else the saved answer."""
    current = _state(resident)
    valid = [o.id for o in question.options]
    if current is not None and current.get("q") == question.id and "ticks" in current:
        chosen = set(current.get("ticks") or [])
    else:
        answer = answers_by_question(session, recipient.id).get(question.id)
        chosen = set(answer.option_ids) if answer is not None else set()
    return [i for i in valid if i in chosen]


def _toggle(
    context: Context,
    resident: Resident,
    survey: Survey,
    recipient: SurveyRecipient,
    question: SurveyQuestion,
    option_id: int,
) -> Messages:
    ticks = set(_ticks(context.session, resident, recipient, question))
    ticks ^= {option_id}
    ordered = [o.id for o in question.options if o.id in ticks]
    _set_state(resident, {"id": survey.id, "q": question.id, "ticks": ordered})
    recipient.current_question_id = question.id
    _touch(recipient, context)
    return [m.question_message(survey, question, ticks=ordered, say=_say(context))]


def _ask(
    context: Context,
    resident: Resident,
    survey: Survey,
    recipient: SurveyRecipient,
    question: SurveyQuestion,
    *,
    editing: bool = False,
    note: str | None = None,
) -> Messages:
    previous = answers_by_question(context.session, recipient.id).get(question.id)
    value: dict[str, Any] = {"id": survey.id, "q": question.id}
    ticks: list[int] = []
    if question.type == "multiple":
        ticks = (
            _ticks(context.session, resident, recipient, question)
            if not editing
            else (
                [
                    i
                    for i in (previous.option_ids if previous else [])
                    if i in {o.id for o in question.options}
                ]
            )
        )
        value["ticks"] = ticks
    _set_state(resident, value)
    recipient.current_question_id = question.id
    _touch(recipient, context)
    return [
        m.question_message(
            survey, question, ticks=ticks, previous=previous, note=note, say=_say(context)
        )
    ]


def _continue(
    context: Context,
    resident: Resident,
    survey: Survey,
    recipient: SurveyRecipient,
    *,
    resumed: bool,
) -> Messages:
    answers = answers_by_question(context.session, recipient.id)
    pending = [q for q in survey.questions if q.id not in answers]
    if not pending:
        _set_state(resident, None)
        say = _say(context)
        note = m.text_message(say("survey_all_answered"))
        return [note, m.summary_message(survey, answers, thanks=False, say=say)]
    note = _say(context)("survey_resumed") if resumed and answers else None
    return _ask(context, resident, survey, recipient, pending[0], note=note)


def _advance(
    context: Context, resident: Resident, survey: Survey, recipient: SurveyRecipient
) -> Messages:
    """Ask the first unanswered question, or finish with the summary."""
    answers = answers_by_question(context.session, recipient.id)
    pending = [q for q in survey.questions if q.id not in answers]
    if pending:
        return _ask(context, resident, survey, recipient, pending[0])
    _set_state(resident, None)
    recipient.current_question_id = None
    recipient.status = "completed"
    recipient.completed_at = recipient.completed_at or context.now
    return [m.summary_message(survey, answers, thanks=True, say=_say(context))]


def _record(
    session: Session,
    recipient: SurveyRecipient,
    question: SurveyQuestion,
    context: Context,
    *,
    option_ids: list[int] | None = None,
    rating: int | None = None,
    text: str | None = None,
    skipped: bool = False,
) -> SurveyAnswer:
    """Store the answer to a question, replacing the resident's earlier answer to it."""
    answer = answers_by_question(session, recipient.id).get(question.id)
    if answer is None:
        answer = SurveyAnswer(
            recipient_id=recipient.id, question_id=question.id, answered_at=context.now
        )
        session.add(answer)
    answer.option_ids = list(option_ids or [])
    answer.rating = rating
    if text is None:
        answer.text = None
        answer.classification = None
    else:
        answer.text = text
    answer.skipped = skipped
    answer.updated_at = context.now
    _touch(recipient, context)
    session.flush()
    return answer
