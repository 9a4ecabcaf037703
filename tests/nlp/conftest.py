"""Fixtures for the classifier tests.

* ``mini_corpus`` — a 100-row corpus written for these tests (``tests/nlp/data``), fast to train.
* ``lexical_dir`` — an empty model folder configured for the mini corpus, lexical features only:
  for versioning, determinism and loading tests that train several times.
* ``shipped`` — the real model: the shipped corpus with embeddings, trained once per test
  session into the session's shared ``model_dir`` (the app tests reuse the same model).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import nlp
from nlp import api

DATA = Path(__file__).parent / "data"


@pytest.fixture(autouse=True)
def _restore_nlp_settings() -> Iterator[None]:
    """Each test may configure nlp; put the previous settings back afterwards."""
    before = api._settings
    yield
    if api._settings != before:
        api._settings = before
        api.taxonomy.cache_clear()
        api._active_model.cache_clear()


@pytest.fixture(scope="session")
def mini_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding only the mini corpus CSV."""
    folder = tmp_path_factory.mktemp("mini-corpus")
    shutil.copy(DATA / "mini_corpus.csv", folder / "mini.csv")
    return folder


@pytest.fixture
def lexical_dir(tmp_path: Path, mini_corpus: Path) -> Path:
    """An empty model folder, configured for the mini corpus without embeddings."""
    folder = tmp_path / "models"
    nlp.configure(model_dir=folder, corpus_dir=mini_corpus, use_embeddings=False)
    return folder


@pytest.fixture(scope="session")
def shipped(model_dir: Path) -> Path:
    """The session's shared model folder with a model trained on the shipped corpus."""
    nlp.configure(model_dir=model_dir)
    if nlp.active_version() is None:
        nlp.train()
    return model_dir


@pytest.fixture
def shipped_model(shipped: Path) -> Path:
    """Configure nlp for the shared shipped model (per test, as tests reconfigure)."""
    nlp.configure(model_dir=shipped)
    return shipped


@pytest.fixture(scope="session")
def heldout_report(shipped: Path) -> nlp.Report:
    """The shipped model scored on the corpus held-out split (computed once)."""
    nlp.configure(model_dir=shipped)
    return nlp.evaluate(nlp.heldout_examples())
