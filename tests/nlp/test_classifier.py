"""The Classifier object: built from settings, loads lazily and once, keeps to its own settings."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

import nlp
from nlp import classifier as classifier_module
from nlp import registry
from nlp.taxonomies import DEFAULT_TAXONOMY_PATH


def test_building_loads_nothing(tmp_path: Path) -> None:
    classifier = nlp.Classifier(tmp_path / "models", taxonomy_path=tmp_path / "missing.toml")
    assert not (tmp_path / "models").exists()
    assert "models" in repr(classifier)
    with pytest.raises(nlp.TaxonomyError, match="not found"):
        classifier.taxonomy  # noqa: B018 - the first use is what loads it


def test_settings_round_trip(tmp_path: Path, mini_corpus: Path) -> None:
    classifier = nlp.Classifier(
        str(tmp_path / "m"), corpus_dir=mini_corpus, use_embeddings=False, unsure_threshold=0.7
    )
    assert classifier.settings == nlp.Settings.create(
        model_dir=tmp_path / "m", corpus_dir=mini_corpus, use_embeddings=False, unsure_threshold=0.7
    )
    assert classifier.settings.taxonomy_path == DEFAULT_TAXONOMY_PATH
    assert nlp.Classifier.from_settings(classifier.settings).settings == classifier.settings


def test_first_use_from_many_threads_loads_once(
    lexical: nlp.Classifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    loads: list[str] = []
    taxonomy_loads: list[Path] = []
    real_load_version = registry.load_version
    real_load_taxonomy = classifier_module.load_taxonomy

    def counting_load_version(model_dir: Path, version: str):
        loads.append(version)
        return real_load_version(model_dir, version)

    def counting_load_taxonomy(path: Path) -> nlp.Taxonomy:
        taxonomy_loads.append(path)
        return real_load_taxonomy(path)

    monkeypatch.setattr(registry, "load_version", counting_load_version)
    monkeypatch.setattr(classifier_module, "load_taxonomy", counting_load_taxonomy)
    start = threading.Barrier(6)
    versions: list[str] = []
    errors: list[Exception] = []

    def classify() -> None:
        start.wait()
        try:
            versions.append(lexical.classify("ไฟกิ่งหน้าบ้านดับ").model_version)
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=classify) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(lexical.list_models()) == 1  # first start trained one model, not six
    assert versions == [lexical.active_version()] * 6
    assert loads == [lexical.active_version()]
    assert len(taxonomy_loads) == 1


def test_classifiers_keep_their_own_taxonomy(tmp_path: Path, untrained: nlp.Classifier) -> None:
    text = DEFAULT_TAXONOMY_PATH.read_text(encoding="utf-8")
    custom_path = tmp_path / "taxonomy.toml"
    custom_path.write_text(text.replace('"ลำเหมือง", ', '"ลำเหมือง", "ไฟกิ่งดับ", ', 1), "utf-8")
    custom = nlp.Classifier(tmp_path / "custom-models", taxonomy_path=custom_path)
    # Whichever loads its taxonomy last, each tokenizes with its own local words.
    assert custom.tokenize("ไฟกิ่งดับ") == ["ไฟกิ่งดับ"]
    assert untrained.tokenize("ไฟกิ่งดับ") == ["ไฟกิ่ง", "ดับ"]
    assert custom.tokenize("ไฟกิ่งดับ") == ["ไฟกิ่งดับ"]


def test_training_replaces_the_loaded_model(mini_trained: nlp.Classifier, tmp_path: Path) -> None:
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(mini_trained.settings.model_dir, folder)
    classifier = nlp.Classifier(
        folder, corpus_dir=mini_trained.settings.corpus_dir, use_embeddings=False
    )
    before = classifier.load()
    after = classifier.train(force=True).version
    assert before != after
    assert classifier.classify("ถนนเป็นหลุม").model_version == after


def test_another_process_activating_a_version_is_picked_up(
    mini_trained: nlp.Classifier, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from nlp import classifier as module

    folder = tmp_path / "shared"
    shutil.copytree(mini_trained.settings.model_dir, folder)
    corpus = mini_trained.settings.corpus_dir
    monkeypatch.setattr(module, "ACTIVE_RECHECK_SECONDS", 3600.0)
    worker = nlp.Classifier(folder, corpus_dir=corpus, use_embeddings=False)  # one process
    trainer = nlp.Classifier(folder, corpus_dir=corpus, use_embeddings=False)  # another
    first = worker.classify("ถนนเป็นหลุม").model_version
    second = trainer.train(force=True).version
    assert worker.classify("ถนนเป็นหลุม").model_version == first  # it looks now and then only
    monkeypatch.setattr(module, "ACTIVE_RECHECK_SECONDS", 0.0)
    worker._recheck_at = 0.0  # the next look is due
    assert worker.classify("ถนนเป็นหลุม").model_version == second
    trainer.activate(first)  # a roll-back elsewhere reaches it too
    assert worker.classify("ถนนเป็นหลุม").model_version == first


def test_is_current_follows_corpus_and_recipe(mini_trained: nlp.Classifier, tmp_path: Path) -> None:
    import shutil

    folder, corpus = tmp_path / "models", tmp_path / "corpus"
    shutil.copytree(mini_trained.settings.model_dir, folder)
    shutil.copytree(mini_trained.settings.corpus_dir, corpus)
    classifier = nlp.Classifier(folder, corpus_dir=corpus, use_embeddings=False)
    assert classifier.is_current()
    with (corpus / "mini.csv").open("a", encoding="utf-8") as fh:
        fh.write("ซอยนี้ไฟดับทั้งซอยมาสามคืนแล้ว,LPN-S7,LPN-S7.3,complaint\n")
    assert not classifier.is_current()  # an upgrade shipped a new corpus: retrain at release
    assert not nlp.Classifier(tmp_path / "empty").is_current()
