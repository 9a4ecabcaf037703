"""Fixtures for the classifier tests.

* ``mini_corpus`` — a 100-row corpus written for these tests (``tests/nlp/data``), fast to train.
* ``untrained`` — a :class:`nlp.Classifier` on an empty model folder with the shipped taxonomy
  and corpus, for what needs no model (tokenizing, reading the corpus).
* ``lexical`` — a classifier on an empty model folder for the mini corpus, lexical features
  only: for versioning, determinism and loading tests that train several times.
* ``mini_trained`` — one such classifier trained once per session (doctests, read-only tests).
* ``shipped`` — the real model: the shipped corpus with embeddings, trained once per test
  session into the session's shared ``model_dir`` (the app tests reuse the same model).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import nlp

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def mini_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding only the mini corpus CSV."""
    folder = tmp_path_factory.mktemp("mini-corpus")
    shutil.copy(DATA / "mini_corpus.csv", folder / "mini.csv")
    return folder


@pytest.fixture
def untrained(tmp_path: Path) -> nlp.Classifier:
    """A classifier with the shipped taxonomy and corpus and an empty model folder."""
    return nlp.Classifier(tmp_path / "models")


@pytest.fixture
def lexical(tmp_path: Path, mini_corpus: Path) -> nlp.Classifier:
    """A classifier on an empty model folder, for the mini corpus without embeddings."""
    return nlp.Classifier(tmp_path / "models", corpus_dir=mini_corpus, use_embeddings=False)


@pytest.fixture(scope="session")
def mini_trained(tmp_path_factory: pytest.TempPathFactory, mini_corpus: Path) -> nlp.Classifier:
    """A classifier trained once on the mini corpus (lexical); tests must not retrain it."""
    classifier = nlp.Classifier(
        tmp_path_factory.mktemp("mini-models"), corpus_dir=mini_corpus, use_embeddings=False
    )
    classifier.train()
    return classifier


@pytest.fixture(scope="session")
def shipped(model_dir: Path) -> nlp.Classifier:
    """A classifier on the session's shared model folder, trained on the shipped corpus."""
    classifier = nlp.Classifier(model_dir)
    if classifier.active_version() is None:
        classifier.train()
    return classifier


@pytest.fixture(scope="session")
def heldout_report(shipped: nlp.Classifier) -> nlp.Report:
    """The shipped model scored on the corpus held-out split (computed once)."""
    return shipped.evaluate(shipped.heldout_examples())
