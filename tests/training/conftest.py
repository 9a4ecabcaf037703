"""Training tests run on a small corpus without embeddings, in a model folder of their own, so
each training takes about a second and the session's shared model is never touched."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.staff.conftest import (  # noqa: F401 - the dashboard's fixtures serve these pages
    PASSWORD,
    login,
    make_submission,
    make_user,
)

MINI_CORPUS = Path(__file__).parents[1] / "nlp" / "data" / "mini_corpus.csv"


@pytest.fixture
def csrf_enabled() -> bool:
    """CSRF checks are off unless a test parametrizes this to True (as the staff tests do)."""
    return False


@pytest.fixture
def app_config(app_config: dict[str, Any], csrf_enabled: bool, tmp_path: Path) -> dict[str, Any]:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "mini.csv").write_bytes(MINI_CORPUS.read_bytes())
    return {
        **app_config,
        "WTF_CSRF_ENABLED": csrf_enabled,
        "MODEL_DIR": str(tmp_path / "models"),
        "CORPUS_DIR": str(corpus),
        "CLASSIFIER_EMBEDDINGS": False,
    }
