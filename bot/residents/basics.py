"""Help, the "แจ้งเรื่อง" prompt, stickers, and what the bot cannot take (video, audio, files)."""

from __future__ import annotations

from bot.residents import replies as r
from bot.residents.community import start_items
from bot.residents.replies import Message
from bot.residents.turn import Turn

THANKS = ("ขอบคุณ", "ขอบใจ", "thank", "ขอบคุน")
HELLO = ("สวัสดี", "หวัดดี", "ดีค่ะ", "ดีครับ", "hello", "hi")


def help_items(turn: Turn) -> list[r.Item]:
    """Return the buttons under the help text."""
    return [r.say("แจ้งเรื่อง"), r.say("ติดตามเรื่อง"), r.say("ข้อมูลของฉัน")]


def small_talk(turn: Turn, text: str) -> list[Message]:
    """Answer a greeting, thanks or test kindly and say how to use the service."""
    if any(word in text for word in THANKS):
        key = "small_talk_thanks"
    elif any(word in text for word in HELLO):
        key = "small_talk_hello"
    else:
        key = "small_talk"
    opening = turn.say(key, name=turn.name()).strip()
    return [r.text(opening + "\n" + turn.say("help"), help_items(turn))]


def on_help(turn: Turn) -> list[Message]:
    """Explain how to use the service."""
    return [r.text(turn.say("help"), help_items(turn))]


def on_report(turn: Turn) -> list[Message]:
    """Invite the resident to describe a need, or send a photo or place first."""
    return [r.text(turn.say("report_prompt"), start_items(turn))]


def on_survey(turn: Turn) -> list[Message]:
    """Say there is no survey to answer (the survey hook answers when there is one)."""
    return [r.text(turn.say("no_survey"), help_items(turn))]


def on_sticker(turn: Turn) -> list[Message]:
    """Answer a sticker kindly; a sticker is never a submission."""
    return [r.text(turn.say("sticker") + "\n" + turn.say("help"), help_items(turn))]


def on_unsupported_media(turn: Turn) -> list[Message]:
    """Answer a video, audio clip, file or unknown message type politely."""
    return [r.text(turn.say("unsupported_media"), start_items(turn))]


def on_already_consented(turn: Turn) -> list[Message]:
    """Answer "ยินยอม" typed by someone who already agreed."""
    return [r.text(turn.say("consent_given") + "\n" + turn.say("help"), help_items(turn))]
