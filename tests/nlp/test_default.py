"""TRANSITIONAL: nlp's module-level functions delegate to a process-default Classifier.

Delete this file together with nlp/default.py once the bot holds its own Classifier.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import nlp
from nlp import default


def configure_like(classifier: nlp.Classifier, **changes) -> None:
    s = classifier.settings
    settings = {
        "model_dir": s.model_dir,
        "taxonomy_path": s.taxonomy_path,
        "unsure_threshold": s.unsure_threshold,
        "use_embeddings": s.use_embeddings,
        "corpus_dir": s.corpus_dir,
    }
    nlp.configure(**(settings | changes))


def test_module_functions_answer_like_the_classifier(
    mini_trained: nlp.Classifier, tmp_path: Path
) -> None:
    configure_like(mini_trained)
    assert default.default_classifier().settings == mini_trained.settings
    texts = ["ไฟกิ่งหน้าวัดดับมาสามวันแล้วเจ้า", "", "สวัสดีครับ"]
    assert nlp.classify(texts[0]) == mini_trained.classify(texts[0])
    assert nlp.classify_many(texts) == mini_trained.classify_many(texts)
    assert nlp.taxonomy() == mini_trained.taxonomy
    assert nlp.tokenize("ลำเหมืองตันบ่ไหลเจ้า") == mini_trained.tokenize("ลำเหมืองตันบ่ไหลเจ้า")
    assert nlp.active_version() == mini_trained.active_version()
    assert nlp.list_models() == mini_trained.list_models()
    assert nlp.corpus_examples() == mini_trained.corpus_examples()
    heldout = nlp.heldout_examples()
    assert heldout == mini_trained.heldout_examples()
    assert nlp.evaluate(heldout, labels=("kind",)) == mini_trained.evaluate(
        heldout, labels=("kind",)
    )
    path = tmp_path / "labelled.csv"
    path.write_text("text,strategy\nไฟกิ่งหน้าบ้านดับ,LPN-S7\n", encoding="utf-8")
    assert nlp.read_examples(path) == mini_trained.read_examples(path)


def test_train_and_activate_through_the_default(lexical: nlp.Classifier) -> None:
    configure_like(lexical)
    first = nlp.train()
    second = nlp.train(force=True)
    assert second.previous_version == first.version
    nlp.activate(first.version)
    assert lexical.active_version() == first.version  # the same folder
    assert nlp.classify("ถนนเป็นหลุม").model_version == first.version


def test_same_settings_keep_the_loaded_classifier(mini_trained: nlp.Classifier) -> None:
    configure_like(mini_trained)
    before = default.default_classifier()
    nlp.classify("ถนนพัง")  # loads the model
    configure_like(mini_trained)  # an app factory called again
    assert default.default_classifier() is before
    configure_like(mini_trained, unsure_threshold=0.5)
    assert default.default_classifier() is not before
    with pytest.raises(ValueError, match="unsure_threshold"):
        configure_like(mini_trained, unsure_threshold=1.5)


def test_environment_gives_the_first_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUAMKID_MODEL_DIR", str(tmp_path / "env-models"))
    monkeypatch.setattr(default, "_classifier", None)
    assert default.default_classifier().settings.model_dir == tmp_path / "env-models"
