"""``ruamkid opendata dump DIR``: write the open-data files now (the worker does daily)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from bot.opendata import dump as opendata


@click.group("opendata")
def opendata_group() -> None:
    """Anonymised needs and plan projects as open data."""


@opendata_group.command("dump")
@click.argument("folder", required=False, type=click.Path(file_okay=False))
@with_appcontext
def dump_command(folder: str | None) -> None:
    """Write needs and projects as CSV and JSON with a data dictionary into FOLDER
    (default: OPENDATA_DIR, the folder /opendata/ serves)."""
    index = opendata.dump(current_app._get_current_object(), folder)
    click.echo(
        f"เขียนข้อมูลเปิดแล้ว: เรื่อง {index['needs']} เรื่อง โครงการ {index['projects']} โครงการ "
        f"({', '.join(index['files'])}) สัญญาอนุญาต {index['licence']}"
    )
