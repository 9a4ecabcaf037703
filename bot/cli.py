"""The ``ruamkid`` command: database, worker, server, LINE setup and the classifier."""

from __future__ import annotations

import os
import signal
import sys
import threading

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from bot import create_app


def _create_cli_app():
    # CLI commands never start the in-process worker thread.
    return create_app({"INLINE_WORKER": False})


@click.group(cls=FlaskGroup, create_app=_create_cli_app, add_default_commands=True)
def main() -> None:
    """ร่วมคิด (Ruamkid): residents' needs over LINE, for the local development plan."""


@main.group("db")
def db_group() -> None:
    """Manage the database schema."""


@db_group.command("upgrade")
@with_appcontext
def db_upgrade() -> None:
    """Apply all migrations, add the configured communities, and build the classifier model."""
    from bot.setup import prepare_database

    prepare_database(current_app)
    click.echo("ฐานข้อมูลพร้อมใช้งาน (database is up to date)")


@db_group.command("downgrade")
@click.argument("revision", default="base")
@with_appcontext
def db_downgrade(revision: str) -> None:
    """Undo migrations down to REVISION (default: everything)."""
    from storage.migrate import downgrade

    downgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"downgraded to {revision}")


@main.command("worker")
@click.option("--once", is_flag=True, help="Drain what is due now, then exit.")
@click.option(
    "--concurrency",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker threads in this process (run more processes for more cores).",
)
@with_appcontext
def worker_command(once: bool, concurrency: int) -> None:
    """Process stored webhook events, download photos and send the outbox."""
    from bot.line.worker import Worker, run_threads

    app = current_app._get_current_object()
    if once:
        Worker(app).drain()
        return
    stop = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stop.set())
    run_threads(app, concurrency, stop)


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=None, type=int, help="Default: $PORT or 5000.")
@click.option("--workers", default=1, show_default=True, help="gunicorn worker processes.")
def serve_command(host: str, port: int | None, workers: int) -> None:
    """Prepare the database and serve the app with gunicorn (the simulator without LINE)."""
    from bot.setup import prepare_database

    port = port or int(os.environ.get("PORT", 5000))
    os.environ["PORT"] = str(port)
    app = create_app({"INLINE_WORKER": False})
    prepare_database(app)
    if app.config["SIMULATOR"]:
        click.echo(f"ไม่มีบัญชี LINE: เปิดเครื่องจำลองแชตที่ http://{host}:{port}/simulator")
    click.echo(f"แดชบอร์ดเจ้าหน้าที่: http://{host}:{port}/dashboard")
    # Through this interpreter: the venv's bin folder need not be on PATH.
    args = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--threads",
        "8",
        "--worker-class",
        "gthread",
        # An access log without query strings, tracebacks without messages (bot/logs.py).
        "--config",
        "python:bot.gunicorn_config",
        "--access-logfile",
        "-",
        "bot:create_app()",
    ]
    sys.stdout.flush()
    os.execv(sys.executable, args)  # noqa: S606 -- replace this process with gunicorn


def _register_subcommands() -> None:
    """Commands that live beside the parts they serve."""
    from bot.commands import line as line_commands
    from bot.commands import nlp as nlp_commands
    from bot.commands import open311 as open311_commands
    from bot.commands import opendata as opendata_commands
    from bot.commands import privacy as privacy_commands
    from bot.commands import surveys as surveys_commands
    from bot.commands import users as users_commands

    main.add_command(nlp_commands.nlp_group)
    main.add_command(nlp_commands.classify_command)
    main.add_command(line_commands.line_group)
    main.add_command(privacy_commands.privacy_group)
    main.add_command(users_commands.users_group)
    main.add_command(surveys_commands.surveys_group)
    main.add_command(open311_commands.open311_group)
    main.add_command(opendata_commands.opendata_group)


_register_subcommands()
