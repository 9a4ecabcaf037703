"""The release step builds the model, so a fresh install's first resident never waits for it."""

from __future__ import annotations

from pathlib import Path

from bot.cli import main
from bot.needs.classification import classifier


def test_db_upgrade_trains_a_model_once_and_again_after_a_new_corpus(app, runner) -> None:
    model = classifier(app)
    assert model.active_version() is None
    result = runner.invoke(main, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    first = model.active_version()
    assert first is not None and model.is_current()

    runner.invoke(main, ["db", "upgrade"])  # nothing changed: no second model
    assert [m.version for m in model.list_models()] == [first]

    corpus = next(Path(app.config["CORPUS_DIR"]).glob("*.csv"))
    with corpus.open("a", encoding="utf-8") as fh:  # an upgrade ships a new corpus
        fh.write("ไฟกิ่งหน้าวัดดับมาสามคืนแล้วเจ้า,LPN-S7,LPN-S7.3,complaint\n")
    runner.invoke(main, ["db", "upgrade"])
    assert model.active_version() != first and model.is_current()
