"""``ruamkid line …``: set up the LINE Official Account (the rich menu)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from bot.line import richmenu

SIZES = {"large": (2500, 843), "small": (1200, 405)}


@click.group("line")
def line_group() -> None:
    """Set up the LINE Official Account."""


@line_group.command("setup-richmenu")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Only draw the menu picture into this PNG file (nothing is sent to LINE).",
)
@click.option(
    "--size",
    type=click.Choice(sorted(SIZES)),
    default="large",
    show_default=True,
    help="large = 2500×843, small = 1200×405 pixels.",
)
@with_appcontext
def setup_richmenu_command(output: Path | None, size: str) -> None:
    """Create the rich menu (แจ้งเรื่อง / ติดตามเรื่อง / แบบสำรวจ / ข้อมูลของฉัน) as the default."""
    width, height = SIZES[size]
    if output is not None:
        output.write_bytes(richmenu.draw_image(width, height))
        click.echo(f"วาดภาพเมนูแล้ว: {output} ({width}×{height})")
        return
    from bot.line.api import LineError, line_api

    api = line_api(current_app)
    try:
        menu_id = richmenu.setup_rich_menu(api, width, height)
    except LineError as exc:
        raise click.ClickException(f"LINE ไม่รับเมนู: {exc}") from None
    finally:
        api.close()
    click.echo(f"ตั้งค่าเมนูแล้ว (rich menu id: {menu_id})")
