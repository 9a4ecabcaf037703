"""The worker's path for one text: read once, classified before the inbox row is locked."""

from __future__ import annotations

import pytest

from bot.needs import classification
from bot.residents import reading
from storage import mailbox
from tests import line_events
from tests.residents.support import TRACKING, USER, join, last_text


@pytest.fixture
def calls(app, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record, in order, each classification, command lookup and inbox row lock."""
    seen: list[str] = []
    classifier = classification.classifier(app)
    classify, command_of, lock = classifier.classify, reading.command_of, mailbox.load_claimed_inbox

    def counted_classify(text):
        seen.append("classify")
        return classify(text)

    def counted_command_of(text):
        seen.append("command_of")
        return command_of(text)

    def counted_lock(*args, **kwargs):
        seen.append("lock")
        return lock(*args, **kwargs)

    monkeypatch.setattr(classifier, "classify", counted_classify)
    monkeypatch.setattr(reading, "command_of", counted_command_of)
    monkeypatch.setattr(mailbox, "load_claimed_inbox", counted_lock)
    return seen


def test_a_need_is_read_once_and_classified_before_its_row_is_locked(line, line_api, calls):
    join(line, line_api)
    calls.clear()
    line.send(line_events.text("ไฟกิ่งหน้าบ้านดับมาสามวันแล้วค่ะ", USER))
    assert TRACKING.search(last_text(line_api))
    assert calls == ["command_of", "classify", "lock"]


def test_a_command_is_read_once_and_never_classified(line, line_api, calls):
    join(line, line_api)
    calls.clear()
    line.send(line_events.text("ติดตามเรื่อง", USER))
    assert calls == ["command_of", "lock"]


def test_a_strangers_text_is_never_classified(line, line_api, calls):
    line.send(line_events.event("follow", USER))
    calls.clear()
    line.send(line_events.text("ไฟกิ่งหน้าบ้านดับมาสามวันแล้วค่ะ", USER))
    assert "ยินยอม" in last_text(line_api)  # the privacy notice again; nothing was kept
    assert calls == ["lock", "command_of"]
