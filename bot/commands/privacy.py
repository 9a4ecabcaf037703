"""``ruamkid privacy …``: apply the retention period of the privacy notice."""

from __future__ import annotations

from datetime import timedelta

import click
from flask import current_app
from flask.cli import with_appcontext

from bot.db import get_session
from bot.needs.erasure import erase_older_than
from storage.base import utcnow


@click.group("privacy")
def privacy_group() -> None:
    """Residents' personal data."""


@privacy_group.command("purge")
@with_appcontext
def purge_command() -> None:
    """Erase words, photos and places of submissions older than the retention period.

    Run it daily (cron or the platform's scheduler). The period is ``retention_years`` in the
    municipality settings, the figure the privacy notice gives residents.
    """
    years = current_app.extensions["ruamkid"].retention_years
    cutoff = utcnow() - timedelta(days=round(365.25 * years))
    session = get_session()
    count = erase_older_than(session, cutoff, current_app.config["MEDIA_DIR"])
    session.commit()
    click.echo(f"ลบข้อความ รูปภาพ และตำแหน่งของเรื่องที่เก่ากว่า {years} ปีแล้ว {count} เรื่อง")
