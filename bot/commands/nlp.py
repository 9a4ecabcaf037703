"""``ruamkid nlp ...`` and ``ruamkid classify``: train, evaluate, list and roll back models."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import click
from flask.cli import with_appcontext

import nlp
from bot.needs.classification import classifier

__all__ = ["classify_command", "nlp_group", "staff_examples"]

logger = logging.getLogger(__name__)

CHUNK = 256


def staff_examples() -> tuple[list[nlp.Example], int]:
    """Read staff labels (latest per submission) with stored embeddings; return them and skips.

    Labels that no longer fit the taxonomy (a renamed code) or whose text was redacted are
    skipped and counted, never fatal.
    """
    from sqlalchemy import select

    from bot.db import get_session
    from nlp.corpus import CorpusError, make_example
    from storage.models import Submission, TrainingLabel

    session = get_session()
    rows = session.execute(
        select(TrainingLabel, Submission.embedding)
        .outerjoin(Submission, Submission.id == TrainingLabel.submission_id)
        .order_by(TrainingLabel.id)
    ).all()
    latest: dict[Any, tuple[TrainingLabel, bytes | None]] = {}
    for label, embedding in rows:
        key = ("submission", label.submission_id) if label.submission_id else ("label", label.id)
        latest[key] = (label, embedding)  # a later correction replaces an earlier label
    tax = classifier().taxonomy
    examples: list[nlp.Example] = []
    skipped = 0
    for label, embedding in latest.values():
        if not (label.text or "").strip():
            skipped += 1
            continue
        try:
            examples.append(
                make_example(
                    tax,
                    label.text,
                    label.strategy,
                    label.subarea,
                    label.kind,
                    embedding=embedding,
                    where=f"training label {label.id}",
                )
            )
        except CorpusError as exc:
            logger.warning("skipping %s", exc)  # names the label id, never its text
            skipped += 1
    return examples, skipped


@click.group("nlp")
def nlp_group() -> None:
    """Train, evaluate, list and activate classifier models."""


@nlp_group.command("train")
@click.option("--force", is_flag=True, help="Activate the new model even if it scores worse.")
@click.option("--no-staff-labels", is_flag=True, help="Train on the shipped corpus alone.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@with_appcontext
def train_command(force: bool, no_staff_labels: bool, as_json: bool) -> None:
    """Retrain on the corpus plus staff labels; activate only if not worse (or --force)."""
    extra: list[nlp.Example] = []
    skipped = 0
    if not no_staff_labels:
        extra, skipped = staff_examples()
    if not as_json:
        click.echo(f"staff labels: {len(extra)} used, {skipped} skipped")
    with click.progressbar(length=100, label="training", file=sys.stderr, show_percent=True) as bar:
        state = {"done": 0, "stage": ""}

        def progress(stage: str, fraction: float) -> None:
            target = int(fraction * 100)
            if target > state["done"]:
                bar.update(target - state["done"])
                state["done"] = target
            state["stage"] = stage

        result = classifier().train(extra, force=force, progress=progress)
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return
    held = result.metrics.get("heldout", {})
    click.echo(f"model {result.version} trained in {result.seconds:.1f} s")
    click.echo(
        "held-out: strategy macro-F1 {s}, kind macro-F1 {k}, other recall {o}".format(
            s=held.get("strategy_macro_f1"), k=held.get("kind_macro_f1"), o=held.get("other_recall")
        )
    )
    if result.activated:
        click.echo(f"activated ({result.reason})")
    else:
        click.echo(
            f"NOT activated: {result.reason}; `ruamkid nlp activate {result.version}` to force"
        )


@nlp_group.command("evaluate")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@with_appcontext
def evaluate_command(file: Path, as_json: bool) -> None:
    """Score the active model on FILE.csv (text, strategy; optional subarea, kind)."""
    from nlp.corpus import CorpusError

    try:
        rows, labels = classifier().read_examples(file)
    except CorpusError as exc:
        raise click.ClickException(str(exc)) from None
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
