"""``ruamkid surveys …``: send scheduled surveys and close finished ones."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext


@click.group("surveys")
def surveys_group() -> None:
    """Manage surveys sent over LINE."""


@surveys_group.command("send-due")
@with_appcontext
def send_due_command() -> None:
    """Send scheduled surveys whose time has come and close those past their closing time."""
    from bot.surveys.sending import run_send_due

    done = run_send_due(current_app._get_current_object())
    click.echo(
        f"ส่งแล้ว {done['sent']} ชุด, ส่งไม่ได้ {done['refused']} ชุด, ปิดแล้ว {done['closed']} ชุด "
        f"(sent {done['sent']}, refused {done['refused']}, closed {done['closed']})"
    )
