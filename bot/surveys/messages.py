"""LINE messages of a survey (plain JSON) and the compact postback data its buttons carry.

The same builders serve the resident's chat and the dashboard's preview, so the preview shows
exactly what will be sent. Their sentences are in ``bot/wording.py`` (``survey_*``); ``say`` is
the municipality's wording, the shipped one when None.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.thai import thai_date
from bot.wording import Wording, default_wording
from storage.surveys import MAX_LABEL, Survey, SurveyAnswer, SurveyQuestion

# LINE limits postback data to 300 characters; ours stay far below.
MAX_POSTBACK = 300
TICK = "✓ "
STAR = "⭐"
TYPE_LABELS = {
    "single": "เลือกคำตอบเดียว",
    "multiple": "เลือกได้หลายคำตอบ",
    "rating": "ให้คะแนน 1–5",
    "text": "พิมพ์คำตอบ",
}
_POSTBACK = re.compile(r"^sv=(\d{1,9})(?:&q=(\d{1,9}))?(?:&(o|r)=(\d{1,9}))?(?:&a=([a-z]{1,8}))?$")
ACTIONS = {"start", "done", "skip", "edit"}


@dataclass(frozen=True)
class Postback:
    """A survey button's data: which survey, question, option or rating, and what to do."""

    survey_id: int
    question_id: int | None = None
    option_id: int | None = None
    rating: int | None = None
    action: str | None = None

    def encode(self) -> str:
        """Return the compact data string, e.g. ``sv=12&q=3&o=2``."""
        parts = [f"sv={self.survey_id}"]
        if self.question_id is not None:
            parts.append(f"q={self.question_id}")
        if self.option_id is not None:
            parts.append(f"o={self.option_id}")
        if self.rating is not None:
            parts.append(f"r={self.rating}")
        if self.action is not None:
            parts.append(f"a={self.action}")
        return "&".join(parts)


def is_survey_postback(data: str | None) -> bool:
    """Tell whether postback data belongs to a survey (it starts with ``sv=``)."""
    return bool(data) and data.startswith("sv=")


def parse_postback(data: str) -> Postback | None:
    """Read survey postback data; None when it is malformed (forged or from an old version)."""
    if len(data) > MAX_POSTBACK:
        return None
    match = _POSTBACK.match(data)
    if match is None:
        return None
    survey, question, kind, value, action = match.groups()
    if action is not None and action not in ACTIONS:
        return None
    postback = Postback(
        survey_id=int(survey),
        question_id=int(question) if question else None,
        option_id=int(value) if kind == "o" else None,
        rating=int(value) if kind == "r" else None,
        action=action,
    )
    has_choice = postback.option_id is not None or postback.rating is not None
    if postback.question_id is None and (has_choice or action not in {"start"}):
        return None
    if has_choice and action is not None:
        return None
    if (
        postback.question_id is not None
        and not has_choice
        and action not in {"done", "skip", "edit"}
    ):
        return None
    return postback


def short_label(text: str, limit: int = MAX_LABEL) -> str:
    """Cut a label to LINE's quick-reply limit, marking the cut with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _postback_item(label: str, postback: Postback, display: str | None = None) -> dict[str, Any]:
    return {
        "type": "action",
        "action": {
            "type": "postback",
            "label": short_label(label),
            "data": postback.encode(),
            "displayText": (display or label)[:300],
        },
    }


def text_message(text: str, quick_replies: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Return a LINE text message, with quick-reply buttons when given (at most 13)."""
    message: dict[str, Any] = {"type": "text", "text": text[:5000]}
    if quick_replies:
        message["quickReply"] = {"items": quick_replies[:13]}
    return message


def invitation(survey: Survey, say: Wording | None = None) -> dict[str, Any]:
    """Return the message that invites a resident to a survey, with a start button."""
    say = say or default_wording()
    contents: list[dict[str, Any]] = [
        {"type": "text", "text": say("survey_invitation"), "size": "sm", "color": "#06C755"},
        {"type": "text", "text": survey.title, "weight": "bold", "size": "lg", "wrap": True},
    ]
    if survey.intro.strip():
        contents.append({"type": "text", "text": survey.intro.strip(), "wrap": True, "size": "sm"})
    count = len(survey.questions)
    footer_note = say("survey_question_count", count=count)
    if survey.closes_at is not None:
        footer_note += " " + say("survey_open_until", date=thai_date(survey.closes_at))
    contents.append(
        {"type": "text", "text": footer_note, "size": "xs", "color": "#888888", "wrap": True}
    )
    start = Postback(survey.id, action="start")
    start_label = say("survey_start_button")
    return {
        "type": "flex",
        "altText": say("survey_title", title=survey.title)[:400],
        "contents": {
            "type": "bubble",
            "body": {"type": "box", "layout": "vertical", "spacing": "md", "contents": contents},
            "footer": {
                "type": "box",
                "layout": "vertical",
                "contents": [
                    {
                        "type": "button",
                        "style": "primary",
                        "color": "#06C755",
                        "action": {
                            "type": "postback",
                            "label": start_label,
                            "data": start.encode(),
                            "displayText": start_label,
                        },
                    }
                ],
            },
        },
    }


def describe_answer(
    question: SurveyQuestion, answer: SurveyAnswer | None, say: Wording | None = None
) -> str:
    """Return an answer in words, as the resident and the summary see it."""
    say = say or default_wording()
    if answer is None:
        return say("survey_not_answered")
    if answer.skipped:
        return say("survey_skipped")
    if question.type == "rating":
        return f"{answer.rating} {STAR}" if answer.rating else say("survey_skipped")
    if question.type == "text":
        text = answer.text or say("survey_answer_deleted")
        return text if len(text) <= 120 else text[:119] + "…"
    labels = {o.id: o.label for o in question.options}
    chosen = [labels[i] for i in answer.option_ids if i in labels]
    return ", ".join(chosen) if chosen else say("survey_skipped")


def question_message(
    survey: Survey,
    question: SurveyQuestion,
    *,
    ticks: Iterable[int] = (),
    previous: SurveyAnswer | None = None,
    note: str | None = None,
    say: Wording | None = None,
) -> dict[str, Any]:
    """Return one question as a text message with its quick-reply buttons."""
    say = say or default_wording()
    questions = survey.questions
    number = next((i for i, q in enumerate(questions, 1) if q.id == question.id), 1)
    lines = []
    if note:
        lines.append(note)
    lines += [
        say("survey_title", title=survey.title),
        say("survey_question", number=number, count=len(questions), question=question.text),
    ]
    ticked = set(ticks)
    items: list[dict[str, Any]] = []
    if question.type == "single":
        lines.append(say("survey_single_hint"))
        for option in question.options:
            items.append(_postback_item(option.label, Postback(survey.id, question.id, option.id)))
    elif question.type == "multiple":
        lines.append(say("survey_multiple_hint"))
        chosen = [o.label for o in question.options if o.id in ticked]
        if chosen:
            lines.append(say("survey_chosen", choices=", ".join(chosen)))
        for option in question.options:
            label = (TICK + option.label) if option.id in ticked else option.label
            items.append(
                _postback_item(label, Postback(survey.id, question.id, option.id), option.label)
            )
        done = Postback(survey.id, question.id, action="done")
        items.append(_postback_item(say("survey_done_button"), done))
    elif question.type == "rating":
        lines.append(say("survey_rating_hint"))
        for score in range(1, 6):
            items.append(
                _postback_item(
                    f"{score} {STAR * score}",
                    Postback(survey.id, question.id, rating=score),
                    say("survey_rating_chosen", score=score),
                )
            )
    else:
        lines.append(say("survey_text_hint"))
    if previous is not None and not (question.type == "multiple" and ticked):
        lines.append(say("survey_previous_answer", answer=describe_answer(question, previous, say)))
    if not question.required and question.type != "multiple":
        skip = Postback(survey.id, question.id, action="skip")
        items.append(_postback_item(say("survey_skip_button"), skip))
    return text_message("\n".join(lines), items)


def summary_message(
    survey: Survey,
    answers: Mapping[int, SurveyAnswer],
    *,
    thanks: bool = True,
    say: Wording | None = None,
) -> dict[str, Any]:
    """Return the resident's answers with one "แก้ไขข้อ n" button per question."""
    say = say or default_wording()
    lines = []
    if thanks:
        lines.append(say("survey_thanks"))
    lines.append(say("survey_summary", title=survey.title))
    items = []
    for number, question in enumerate(survey.questions, 1):
        lines.append(
            f"{number}. {question.text}\n"
            f"   → {describe_answer(question, answers.get(question.id), say)}"
        )
        items.append(
            _postback_item(
                say("survey_edit_button", number=number),
                Postback(survey.id, question.id, action="edit"),
            )
        )
    if survey.closes_at is not None:
        lines.append(say("survey_editable_until", date=thai_date(survey.closes_at)))
    else:
        lines.append(say("survey_editable_while_open"))
    return text_message("\n".join(lines), items)


def closed_message(survey: Survey, say: Wording | None = None) -> dict[str, Any]:
    """Return the polite reply to an answer that came after the survey closed."""
    return text_message((say or default_wording())("survey_closed", title=survey.title))


def refusal_message(say: Wording | None = None) -> dict[str, Any]:
    """Return the polite reply to a survey button that is not valid for this resident."""
    return text_message((say or default_wording())("survey_refused"))


def choose_survey_message(surveys: list[Survey], say: Wording | None = None) -> dict[str, Any]:
    """Return the list of open surveys for a resident who has several."""
    say = say or default_wording()
    lines = [say("survey_choose", count=len(surveys))]
    items = []
    for number, survey in enumerate(surveys[:13], 1):
        lines.append(f"{number}. {survey.title}")
        items.append(
            _postback_item(
                f"{number}. {survey.title}", Postback(survey.id, action="start"), survey.title
            )
        )
    return text_message("\n".join(lines), items)


def preview(survey: Survey, say: Wording | None = None) -> list[dict[str, Any]]:
    """Return every message a resident would see, in order, for the dashboard preview."""
    messages = [invitation(survey, say)]
    messages += [question_message(survey, q, say=say) for q in survey.questions]
    return messages
