"""``ruamkid nlp ...`` and ``ruamkid classify``: train, evaluate, list and roll back models."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import click
from flask import current_app
from flask.cli import with_appcontext

import nlp
from bot.needs.classification import classifier

__all__ = ["classify_command", "nlp_group"]

logger = logging.getLogger(__name__)

CHUNK = 256


@click.group("nlp")
def nlp_group() -> None:
    """Train, evaluate, list and activate classifier models."""


@nlp_group.command("train")
@click.option("--force", is_flag=True, help="Activate the new model even if it scores worse.")
@click.option("--corpus-only", is_flag=True, help="Leave the real labels out.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@with_appcontext
def train_command(force: bool, corpus_only: bool, as_json: bool) -> None:
    """Retrain on the corpus plus real labels; activate only if not worse (or --force).

    Real labels are staff corrections from the queue and imported complaint books. The run is
    recorded like one started from the dashboard's model page.
    """
    from bot.training import runs

    with click.progressbar(length=100, label="training", file=sys.stderr, show_percent=True) as bar:
        state = {"done": 0}

        def progress(stage: str, fraction: float) -> None:
            target = int(fraction * 100)
            if target > state["done"]:
                bar.update(target - state["done"])
                state["done"] = target

        run, result = runs.run_next(
            current_app, "cli", force=force, corpus_only=corpus_only, progress=progress
        )
    if run.status == "failed":
        raise click.ClickException(f"training failed ({run.error}); the active model is unchanged")
    if result is None:
        click.echo(f"another worker trained model {run.version}: {run.reason}")
        return
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return
    click.echo(f"real labels: {run.labels_used} used")
    held = result.metrics.get("heldout", {})
    real = result.metrics.get("real_heldout", {})
    click.echo(f"model {result.version} trained in {result.seconds:.1f} s")
    click.echo(
        "corpus held-out: strategy macro-F1 {s}, kind macro-F1 {k}".format(
            s=held.get("strategy_macro_f1"), k=held.get("kind_macro_f1")
        )
    )
    if real:
        click.echo(
            "held-out real labels ({n}): strategy accuracy {a}, balanced {b}".format(
                n=real.get("n"),
                a=real.get("strategy_accuracy"),
                b=real.get("strategy_balanced_accuracy"),
            )
        )
    if result.activated:
        click.echo(f"activated ({result.reason})")
    else:
        click.echo(
            f"NOT activated: {result.reason}; `ruamkid nlp activate {result.version}` to force"
        )


@nlp_group.command("import-labels")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and report; store nothing.")
@with_appcontext
def import_labels_command(file: Path, dry_run: bool) -> None:
    """Import a complaint book (CSV or XLSX: text, strategy; optional subarea, kind) as labels.

    Bad rows are reported with their line numbers and left out; a file that cannot be read
    imports nothing. The same file twice adds nothing. Run `ruamkid nlp train` afterwards.
    """
    from bot.db import get_session
    from bot.training.imports import LabelFileError, import_labels, read_label_file

    try:
        checked = read_label_file(file.read_bytes(), file.name, classifier().taxonomy)
    except LabelFileError as exc:
        raise click.ClickException(f"{file}: {exc}; nothing imported") from None
    for problem in checked.problems:
        click.echo(f"{file}:{problem.line}: {problem.reason}", err=True)
    counts = ", ".join(f"{code} {n}" for code, n in sorted(checked.per_strategy().items()))
    click.echo(f"{len(checked.rows)} good rows ({counts}), {len(checked.problems)} bad rows")
    if dry_run:
        return
    session = get_session()
    result = import_labels(session, checked, "cli")
    session.commit()
    click.echo(
        f"imported: {result.added} added, {result.updated} updated, "
        f"{result.unchanged} already there"
    )


@nlp_group.command("evaluate")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--strategies",
    help="Score only rows of these strategies, e.g. LPN-S1,LPN-S2,LPN-S4,LPN-S7.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@with_appcontext
def evaluate_command(file: Path, strategies: str | None, as_json: bool) -> None:
    """Score the active model on FILE.csv (text, strategy; optional subarea, kind, also,
    small_talk)."""
    from nlp.corpus import CorpusError

    try:
        rows, labels = classifier().read_examples(file)
    except CorpusError as exc:
        raise click.ClickException(str(exc)) from None
    if strategies:
        wanted = {code.strip() for code in strategies.split(",") if code.strip()}
        rows = [r for r in rows if r.strategy in wanted]
    if not rows:
        raise click.ClickException(f"{file}: no labelled rows")
    report = classifier().evaluate(rows, labels=labels)
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(report.format())


@nlp_group.command("models")
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
@with_appcontext
def models_command(as_json: bool) -> None:
    """List model versions, oldest first; * marks the active one."""
    models = classifier().list_models()
    if as_json:
        click.echo(json.dumps([m.to_dict() for m in models], ensure_ascii=False, indent=2))
        return
    if not models:
        click.echo(
            "no models yet: run `ruamkid nlp train` (or classify once: first start builds one)"
        )
        return
    click.echo(
        f"  {'version':<28}{'created':<27}{'features':<20}{'train':>6}"
        f"{'strategy F1':>13}{'kind F1':>9}"
    )
    for m in models:
        held = m.metrics.get("heldout", {})
        click.echo(
            f"{'*' if m.active else ' '} {m.version:<28}{m.created:<27}{m.features:<20}"
            f"{m.n_train:>6}{_fmt(held.get('strategy_macro_f1')):>13}"
            f"{_fmt(held.get('kind_macro_f1')):>9}"
        )


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


@nlp_group.command("activate")
@click.argument("version")
@with_appcontext
def activate_command(version: str) -> None:
    """Make VERSION the active model (roll back or forward)."""
    try:
        classifier().activate(version)
    except nlp.ModelError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"active model: {version}")


def _read_messages(stream: IO[str]) -> Iterator[tuple[str, dict[str, Any] | None]]:
    for line in stream:
        line = line.rstrip("\r\n")
        stripped = line.strip()
        if stripped.startswith("{"):
            try:
                obj = json.loads(stripped)
            except json.JSONDecodeError:
                obj = None
            if isinstance(obj, dict):
                text = obj.get("text")
                yield (text if isinstance(text, str) else ""), obj
                continue
        yield line, None


def _output(pred: nlp.Prediction, source: dict[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if source is not None and "id" in source:
        out["id"] = source["id"]
    data = pred.to_dict()
    for key in (
        "strategy",
        "strategy_name",
        "subarea",
        "subarea_name",
        "kind",
        "confidence",
        "kind_confidence",
        "top3",
        "unsure",
        "model_version",
    ):
        out[key] = data[key]
    return out


@click.command("classify")
@click.argument("source", type=click.File("r", encoding="utf-8"), default="-")
@with_appcontext
def classify_command(source: IO[str]) -> None:
    """Classify stdin (or SOURCE): a message or a JSON object with "text" per line; JSON out."""
    batch: list[tuple[str, dict[str, Any] | None]] = []

    def flush() -> None:
        preds = classifier().classify_many([text for text, _ in batch])
        for pred, (_, source) in zip(preds, batch, strict=True):
            click.echo(json.dumps(_output(pred, source), ensure_ascii=False))
        batch.clear()

    for item in _read_messages(source):
        batch.append(item)
        if len(batch) >= CHUNK:
            flush()
    if batch:
        flush()
