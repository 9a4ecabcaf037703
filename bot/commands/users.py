"""``ruamkid users …``: create and list staff accounts, set passwords."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from bot.accounts import password_words
from bot.db import session_factory
from storage import staff
from storage.models import Community


@click.group("users")
def users_group() -> None:
    """Manage staff accounts of the dashboard."""


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    # Asked twice, the second time only to confirm, both in the CLI's Thai (click's own
    # confirmation prompt and its mismatch error are English).
    while True:
        password = click.prompt("รหัสผ่าน (password)", hide_input=True)
        again = click.prompt("พิมพ์รหัสผ่านเดิมอีกครั้งเพื่อยืนยัน (confirm)", hide_input=True)
        if password == again:
            return password
        click.echo("รหัสผ่านสองครั้งไม่ตรงกัน กรุณาพิมพ์ใหม่", err=True)


@users_group.command("create")
@click.argument("username")
@click.option(
    "--role", type=click.Choice(staff.ROLES), required=True, help="admin, staff or leader."
)
@click.option("--community", "community_name", help="The leader's community (its exact name).")
@click.option("--name", "display_name", default="", help="The name shown in the dashboard.")
@click.option("--password-stdin", is_flag=True, help="Read the password from one line of stdin.")
@with_appcontext
def create_command(
    username: str, role: str, community_name: str | None, display_name: str, password_stdin: bool
) -> None:
    """Create a staff account (asks for the password twice unless --password-stdin)."""
    with session_factory(current_app)() as session:
        community_id = None
        if community_name:
            community = session.scalar(
                select(Community).where(Community.name == community_name.strip())
            )
            if community is None:
                raise click.ClickException(f"ไม่พบชุมชน {community_name!r}")
            community_id = community.id
        password = _read_password(password_stdin)
        try:
            user = staff.create_user(
                session,
                username,
                password,
                role=role,
                display_name=display_name,
                community_id=community_id,
                extra_words=password_words(session),
            )
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
        staff.audit(session, None, "user.create", "user", user.id, role=role, via="cli")
        session.commit()
        click.echo(f"สร้างผู้ใช้ {user.username} ({role}) แล้ว")


@users_group.command("list")
@with_appcontext
def list_command() -> None:
    """List staff accounts: username, role, community, active."""
    with session_factory(current_app)() as session:
        for user in staff.list_users(session):
            community = user.community.name if user.community else "-"
            state = "active" if user.active else "inactive"
            click.echo(f"{user.username}\t{user.role}\t{community}\t{state}")


@users_group.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from one line of stdin.")
@with_appcontext
def set_password_command(username: str, password_stdin: bool) -> None:
    """Set a new password for USERNAME (signs the account out everywhere)."""
    with session_factory(current_app)() as session:
        user = staff.get_user_by_username(session, username)
        if user is None:
            raise click.ClickException(f"ไม่พบผู้ใช้ {username!r}")
        try:
            password = _read_password(password_stdin)
            staff.set_password(session, user, password, password_words(session))
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
        staff.audit(session, None, "user.password", "user", user.id, via="cli")
        session.commit()
        click.echo(f"ตั้งรหัสผ่านใหม่ให้ {user.username} แล้ว")


@users_group.command("sign-out")
@click.argument("username")
@with_appcontext
def sign_out_command(username: str) -> None:
    """End every dashboard session of USERNAME (a lost phone, a shared computer)."""
    with session_factory(current_app)() as session:
        user = staff.get_user_by_username(session, username)
        if user is None:
            raise click.ClickException(f"ไม่พบผู้ใช้ {username!r}")
        ended = staff.end_sessions(session, user)
        staff.audit(session, None, "user.sessions_end", "user", user.id, sessions=ended, via="cli")
        session.commit()
        click.echo(f"ให้ {user.username} ออกจากระบบทุกเครื่องแล้ว ({ended} เซสชัน)")
