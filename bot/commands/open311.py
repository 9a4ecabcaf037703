"""``ruamkid open311 keys …``: issue, list and revoke partner apps' Open311 API keys."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from bot.db import session_factory
from bot.thai import thai_date
from storage import open311, staff


@click.group("open311")
def open311_group() -> None:
    """Open311 GeoReport v2 for partner apps."""


@open311_group.group("keys")
def keys_group() -> None:
    """API keys that let a partner app file needs."""


@keys_group.command("create")
@click.argument("name")
@with_appcontext
def create_command(name: str) -> None:
    """Issue a key named NAME; the key itself is the last line printed (shown only once)."""
    with session_factory(current_app)() as session:
        try:
            row, key = open311.issue_key(session, name, created_by="cli")
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
        staff.audit(session, None, "open311_key.create", "open311_key", row.id, via="cli")
        session.commit()
        click.echo(f"ออกกุญแจ #{row.id} “{row.name}” แล้ว เก็บกุญแจนี้ไว้ ระบบจะไม่แสดงซ้ำ:")
        click.echo(key)


@keys_group.command("list")
@with_appcontext
def list_command() -> None:
    """List keys: id, state, issue date, name (never the keys themselves)."""
    with session_factory(current_app)() as session:
        for row in open311.list_keys(session):
            state = "active" if row.active else f"revoked {thai_date(row.revoked_at)}"
            click.echo(f"{row.id}\t{state}\t{thai_date(row.created_at)}\t{row.name}")


@keys_group.command("revoke")
@click.argument("key_id", type=int)
@with_appcontext
def revoke_command(key_id: int) -> None:
    """Revoke key KEY_ID at once."""
    with session_factory(current_app)() as session:
        row = open311.revoke_key(session, key_id)
        if row is None:
            raise click.ClickException(f"ไม่พบกุญแจหมายเลข {key_id}")
        staff.audit(session, None, "open311_key.revoke", "open311_key", row.id, via="cli")
        session.commit()
        click.echo(f"ยกเลิกกุญแจ #{row.id} “{row.name}” แล้ว")
