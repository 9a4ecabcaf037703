"""Needs sent as text, photos and places; the "not this category" choice; "done".

A text is classified and stored at once with a tracking number. A photo or place sent on its
own starts a submission that waits for a description; the next text fills it. Anything sent
within ``OPEN_WINDOW`` of a submission (until "done") is attached to it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import nlp
from bot.needs import actions
from bot.needs.classification import Classification, classification_of, is_small_talk
from bot.needs.statuses import CLOSED
from bot.residents import basics, postbacks
from bot.residents import replies as r
from bot.residents.replies import Message
from bot.residents.turn import Turn
from storage import residents
from storage import submissions as store
from storage.models import Submission

logger = logging.getLogger(__name__)

STRATEGY_PREFIXES = ("ด้าน",)


# --- words ------------------------------------------------------------------------------------


def category_words(
    turn: Turn, submission: Submission, classification: Classification | None = None
) -> dict[str, str]:
    """Return the kind, strategy and sub-area of a submission in Thai words.

    A fresh ``classification`` brings its strategy and sub-area names; otherwise they come
    from the taxonomy, looked up once.
    """
    taxonomy = turn.context.classifier.taxonomy
    unknown = turn.say("submission_uncategorised")
    try:
        kind = taxonomy.kind_name(submission.kind)
    except KeyError:
        kind = unknown
    if classification is not None:
        strategy, subarea = classification.strategy_name, classification.subarea_name
    else:
        strategy = _name(lambda code: taxonomy.strategy(code).name, submission.strategy)
        subarea = _name(taxonomy.subarea_name, submission.subarea)
    return {"kind": kind, "strategy": strategy or unknown, "subarea": subarea or unknown}


def _name(lookup: Callable[[str], str], code: str | None) -> str | None:
    try:
        return lookup(code or "")
    except KeyError:
        return None


def submission_items(turn: Turn, submission: Submission) -> list[r.Item]:
    """Return the buttons under a received submission: photo, album, place, fix, done."""
    items = [
        r.camera(turn.say("add_photo_button")),
        r.camera_roll(turn.say("add_album_button")),
        r.location(turn.say("add_location_button")),
    ]
    if submission.text is not None:
        items.append(
            r.postback(turn.say("wrong_category_button"), postbacks.encode("fix", s=submission.id))
        )
    items.append(r.postback(turn.say("done_button"), postbacks.encode("done", s=submission.id)))
    return items


def received(
    turn: Turn, submission: Submission, classification: Classification | None = None
) -> Message:
    """Return the answer to a new (or newly described) submission."""
    body = turn.say(
        "submission_received",
        tracking_no=submission.tracking_no,
        **category_words(turn, submission, classification),
    )
    if submission.unsure:
        body += "\n" + turn.say("submission_unsure")
    return r.text(body, submission_items(turn, submission))


# --- incoming ---------------------------------------------------------------------------------


def _open(turn: Turn) -> Submission | None:
    return store.open_submission(turn.session, turn.resident, turn.now, CLOSED)


def _start(turn: Turn, text: str | None, classification: Classification | None) -> Submission:
    submission = actions.create_need(
        turn.session,
        turn.resident,
        prefix=turn.municipality.tracking_prefix,
        text=text,
        classification=classification,
        awaiting_description=text is None,
        now=turn.now,
    )
    residents.update_state(turn.resident, **{store.OPEN_KEY: submission.id})
    logger.info("submission %d created for resident %d", submission.id, turn.resident.id)
    return submission


def on_text(turn: Turn) -> list[Message]:
    """Classify a message; store a need (or describe a waiting photo), else explain the service."""
    text = turn.event.text or ""
    assert turn.reading is not None  # a text message's turn always has its reading
    prediction = turn.reading.prediction
    if is_small_talk(prediction):
        return basics.small_talk(turn, text)
    classification = classification_of(prediction)
    waiting = _open(turn)
    if waiting is not None and waiting.awaiting_description:
        actions.describe_need(turn.session, waiting, text, classification)
        return [received(turn, waiting, classification)]
    return [received(turn, _start(turn, text, classification), classification)]


def on_image(turn: Turn) -> list[Message]:
    """Attach a photo to the open submission, or start one that asks for a description."""
    message_id = turn.event.message_id
    if not message_id:
        return [r.text(turn.say("unsupported_media"))]
    submission = _open(turn)
    if submission is not None:
        actions.add_photo(turn.session, submission, message_id)
        return [
            r.text(
                turn.say("photo_added", tracking_no=submission.tracking_no),
                submission_items(turn, submission),
            )
        ]
    submission = _start(turn, None, None)
    actions.add_photo(turn.session, submission, message_id)
    return [
        r.text(
            turn.say("photo_first", tracking_no=submission.tracking_no),
            submission_items(turn, submission),
        )
    ]


def on_location(turn: Turn) -> list[Message]:
    """Attach a place to the open submission, or start one that asks for a description."""
    event = turn.event
    if event.latitude is None or event.longitude is None:
        return [r.text(turn.say("unsupported_media"))]
    submission = _open(turn)
    key = "location_added"
    if submission is None:
        submission, key = _start(turn, None, None), "location_first"
    actions.set_place(submission, event.latitude, event.longitude, event.address)
    return [
        r.text(
            turn.say(key, tracking_no=submission.tracking_no), submission_items(turn, submission)
        )
    ]


# --- buttons ----------------------------------------------------------------------------------


def _own(turn: Turn, postback: postbacks.Postback) -> Submission | None:
    """Return the submission a button names if it is the sender's own, else None."""
    submission_id = postback.integer("s")
    if submission_id is None:
        return None
    submission = turn.session.get(Submission, submission_id)
    if (
        submission is None
        or submission.resident_id != turn.resident.id
        or submission.redacted_at is not None
    ):
        logger.info("resident %d: button for a submission not theirs", turn.resident.id)
        return None
    return submission


def _own_editable(turn: Turn, postback: postbacks.Postback) -> Submission | list[Message]:
    """Return the sender's submission a button names if it may still change, else the refusal."""
    submission = _own(turn, postback)
    if submission is None:
        return _refuse(turn)
    if submission.status in CLOSED or submission.label_confirmed:
        return [r.text(turn.say("submission_locked"))]
    return submission


def _refuse(turn: Turn) -> list[Message]:
    return [r.text(turn.say("stale_button"))]


def _choices(lines: list[str]) -> str:
    return "\n".join(f"{number}. {line}" for number, line in enumerate(lines, 1))


def on_fix(turn: Turn, postback: postbacks.Postback) -> list[Message]:
    """ "Not this category": offer the classifier's top 3 and the full list (``a=fix&s=12``)."""
    submission = _own_editable(turn, postback)
    if not isinstance(submission, Submission):
        return submission  # the refusal
    taxonomy = turn.context.classifier.taxonomy
    known = set(taxonomy.strategy_codes)
    codes = [
        entry.get("code")
        for entry in (submission.top3 or [])
        if isinstance(entry, dict) and entry.get("code") in known
    ][:3]
    if not codes:
        return _strategies(turn, taxonomy, submission, list(taxonomy.strategy_codes))
    items = _strategy_buttons(turn, taxonomy, submission, codes)
    items.append(
        r.postback(turn.say("all_strategies_button"), postbacks.encode("all", s=submission.id))
    )
    names = [taxonomy.strategy(code).name for code in codes]
    body = turn.say("choose_strategy", tracking_no=submission.tracking_no, choices=_choices(names))
    return [r.text(body, items)]


def on_all(turn: Turn, postback: postbacks.Postback) -> list[Message]:
    """Offer every strategy of the plan (``a=all&s=12``)."""
    submission = _own_editable(turn, postback)
    if not isinstance(submission, Submission):
        return submission  # the refusal
    taxonomy = turn.context.classifier.taxonomy
    return _strategies(turn, taxonomy, submission, list(taxonomy.strategy_codes))


def _strategies(
    turn: Turn, taxonomy: nlp.Taxonomy, submission: Submission, codes: list[str]
) -> list[Message]:
    codes = codes[: r.MAX_QUICK_REPLIES]
    names = [taxonomy.strategy(code).name for code in codes]
    body = turn.say("choose_strategy", tracking_no=submission.tracking_no, choices=_choices(names))
    return [r.text(body, _strategy_buttons(turn, taxonomy, submission, codes))]


def _strategy_buttons(
    turn: Turn, taxonomy: nlp.Taxonomy, submission: Submission, codes: list[str]
) -> list[r.Item]:
    items = []
    for number, code in enumerate(codes, 1):
        name = taxonomy.strategy(code).name
        label = f"{number}. {r.short_name(name, STRATEGY_PREFIXES)}"
        items.append(
            r.postback(label, postbacks.encode("str", s=submission.id, c=code), display_text=name)
        )
    return items


def on_strategy(turn: Turn, postback: postbacks.Postback) -> list[Message]:
    """Offer the sub-areas of the chosen strategy (``a=str&s=12&c=LPN-S7``)."""
    submission = _own_editable(turn, postback)
    if not isinstance(submission, Submission):
        return submission  # the refusal
    try:
        strategy = turn.context.classifier.taxonomy.strategy(postback.params.get("c", ""))
    except KeyError:
        return _refuse(turn)
    # Room for "not sure" and "back" besides the sub-areas.
    subareas = strategy.subareas[: r.MAX_QUICK_REPLIES - 2]
    items = []
    for number, sub in enumerate(subareas, 1):
        items.append(
            r.postback(
                f"{number}. {sub.name}",
                postbacks.encode("cat", s=submission.id, c=sub.code),
                display_text=sub.name,
            )
        )
    items.append(
        r.postback(
            turn.say("subarea_unknown_button"),
            postbacks.encode("cat", s=submission.id, c=strategy.code),
            display_text=strategy.name,
        )
    )
    items.append(
        r.postback(turn.say("community_previous_button"), postbacks.encode("all", s=submission.id))
    )
    body = turn.say(
        "choose_subarea", strategy=strategy.name, choices=_choices([s.name for s in subareas])
    )
    return [r.text(body, items)]


def on_category(turn: Turn, postback: postbacks.Postback) -> list[Message]:
    """Set the category the resident chose (``a=cat&s=12&c=LPN-S7.3``, or a strategy code)."""
    submission = _own_editable(turn, postback)
    if not isinstance(submission, Submission):
        return submission  # the refusal
    code = postback.params.get("c", "")
    taxonomy = turn.context.classifier.taxonomy
    if code in taxonomy.strategy_codes:
        strategy, subarea = code, None
    elif code in taxonomy.subarea_codes:
        strategy, subarea = taxonomy.strategy_of_subarea(code).code, code
    else:
        return _refuse(turn)
    if (submission.strategy, submission.subarea) != (strategy, subarea):
        actions.recategorise(turn.session, submission, strategy, subarea)
    words = category_words(turn, submission)
    body = turn.say(
        "category_changed",
        tracking_no=submission.tracking_no,
        strategy=words["strategy"],
        subarea=words["subarea"],
    )
    return [r.text(body, submission_items(turn, submission))]


def on_done(turn: Turn, postback: postbacks.Postback) -> list[Message]:
    """Close the submission for additions (``a=done&s=12``): later photos start a new one."""
    submission = _own(turn, postback)
    if submission is None:
        return _refuse(turn)
    if (turn.resident.state or {}).get(store.OPEN_KEY) == submission.id:
        residents.update_state(turn.resident, **{store.OPEN_KEY: None})
    submission.awaiting_description = False
    return [r.text(turn.say("done", tracking_no=submission.tracking_no), basics.help_items(turn))]
