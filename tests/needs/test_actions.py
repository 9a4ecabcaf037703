"""A need's life through bot.needs: the prediction read in one place, history written by the
actions, and the status push in the municipality's words."""

from __future__ import annotations

import dataclasses

from sqlalchemy import select

import nlp
from bot.municipality import load_municipality
from bot.needs import actions
from bot.needs.classification import classification_of, is_small_talk, summary_of
from bot.wording import Wording
from storage.models import OutboxMessage, Resident, Submission, SubmissionEvent


def prediction(**values) -> nlp.Prediction:
    """A prediction as the classifier returns one (a street light that is out, by default)."""
    values = {
        "kind": "complaint",
        "kind_confidence": 0.97,
        "strategy": "LPN-S7",
        "strategy_name": "ด้านโครงสร้างพื้นฐาน",
        "subarea": "LPN-S7.3",
        "subarea_name": "ไฟฟ้าส่องสว่าง",
        "confidence": 0.95,
        "subarea_confidence": 0.9,
        "top3": (nlp.ScoredLabel("LPN-S7", "ด้านโครงสร้างพื้นฐาน", 0.95),),
        "unsure": False,
        "model_version": "test-1",
        "embedding": b"\x00\x01",
    } | values
    return nlp.Prediction(**values)


def test_a_prediction_becomes_the_needs_columns_and_names():
    classification = classification_of(prediction())
    assert classification.columns() == {
        "strategy": "LPN-S7",
        "subarea": "LPN-S7.3",
        "kind": "complaint",
        "confidence": 0.95,
        "top3": [{"code": "LPN-S7", "name": "ด้านโครงสร้างพื้นฐาน", "confidence": 0.95}],
        "unsure": False,
        "model_version": "test-1",
        "embedding": b"\x00\x01",
    }
    assert (classification.strategy_name, classification.subarea_name) == (
        "ด้านโครงสร้างพื้นฐาน",
        "ไฟฟ้าส่องสว่าง",
    )


def test_only_small_talk_is_answered_instead_of_filed():
    talk = prediction(
        kind="other", strategy=None, strategy_name=None, subarea=None, subarea_name=None
    )
    assert is_small_talk(talk)
    doubtful = dataclasses.replace(prediction(kind="need"), unsure=True)  # "ท่อตัน"
    assert not is_small_talk(doubtful)
    classification = classification_of(doubtful)
    assert (classification.kind, classification.unsure) == ("need", True)


def test_a_survey_answer_keeps_a_summary_without_the_embedding():
    summary = summary_of(prediction())
    assert summary["is_request"] is True and summary["strategy_name"] == "ด้านโครงสร้างพื้นฐาน"
    assert "embedding" not in summary


def test_each_action_writes_its_own_history(session):
    resident = Resident(line_user_id="U" + "3" * 32, consent="given", active=True, state={})
    session.add(resident)
    session.flush()
    need = actions.create_need(
        session, resident, prefix="LPN", text=None, awaiting_description=True
    )
    actions.describe_need(session, need, "ไฟดับ", classification_of(prediction()))
    actions.recategorise(session, need, "LPN-S4", None)
    actions.change_status(session, need, "reviewing", actor="system")
    session.flush()
    history = session.scalars(
        select(SubmissionEvent.action).where(SubmissionEvent.submission_id == need.id)
    ).all()
    # A photo-first need is routed once described, and again on each change of category.
    assert history == ["created", "described", "route", "category", "route", "status"]
    assert session.get(Submission, need.id).kind == "complaint"


def test_the_status_push_speaks_the_municipalitys_words(session):
    municipality = dataclasses.replace(
        load_municipality(), messages={"status_done": "เสร็จแล้วเจ้า ขอบใจหลาย"}
    )
    resident = Resident(line_user_id="U" + "4" * 32, consent="given", active=True, state={})
    session.add(resident)
    session.flush()
    need = actions.create_need(session, resident, prefix="LPN", text="ถนนพัง")
    actions.change_status(session, need, "done", actor="system", say=Wording(municipality))
    session.flush()
    text = session.scalars(select(OutboxMessage)).one().messages[0]["text"]
    assert "เสร็จแล้วเจ้า ขอบใจหลาย" in text
    assert need.tracking_no in text and "เสร็จสิ้น" in text
