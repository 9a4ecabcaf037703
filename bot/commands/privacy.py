"""``ruamkid privacy …``: apply the retention periods now (the worker also does, daily)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from bot.retention import purge


@click.group("privacy")
def privacy_group() -> None:
    """Residents' personal data."""


@privacy_group.command("purge")
@with_appcontext
def purge_command() -> None:
    """Erase what is past its keeping period (see README, Privacy): now, not at the daily run.

    Words, photos and places of needs older than ``retention_years`` (the figure of the
    privacy notice), idle residents, survey answers' words, and LINE ids and words of handled
    webhook events and sent messages older than MAILBOX_KEEP_HOURS.
    """
    app = current_app._get_current_object()
    report = purge(app)
    years = app.extensions["ruamkid"].retention_years
    click.echo(
        f"ลบข้อความ รูปภาพ และตำแหน่งของเรื่องที่เก่ากว่า {years} ปีแล้ว {report.submissions} เรื่อง\n"
        f"ลบข้อมูลผู้ใช้ที่ไม่มีความเคลื่อนไหวเกิน {years} ปี {report.residents} คน, "
        f"ข้อความตอบแบบสำรวจ {report.answers} คำตอบ\n"
        f"ล้างรหัสผู้ใช้ LINE และข้อความในกล่องรับ {report.inbox} รายการ "
        f"และกล่องส่ง {report.outbox} รายการ, ไฟล์รูปที่ไม่มีเจ้าของ {report.files} ไฟล์\n"
        f"({report.summary()})"
    )
