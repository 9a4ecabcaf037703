"""Classifier settings: the model folder, the taxonomy and corpus, the unsure threshold."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .corpus import DEFAULT_CORPUS_DIR
from .taxonomies import DEFAULT_TAXONOMY_PATH

__all__ = ["DEFAULT_MODEL_DIR", "DEFAULT_UNSURE_THRESHOLD", "Settings"]

DEFAULT_UNSURE_THRESHOLD = 0.9  # held-out: ~68% of requests sure, 93% right (docs/nlp.md)
DEFAULT_MODEL_DIR = "instance/models"


@dataclass(frozen=True, slots=True)
class Settings:
    """What a :class:`nlp.Classifier` is built from; compare two with ``==``.

    >>> s = Settings.create(model_dir="instance/models")
    >>> s.model_dir.as_posix(), s.taxonomy_path.name, s.unsure_threshold, s.use_embeddings
    ('instance/models', 'taxonomy.toml', 0.9, True)
    >>> Settings.create(model_dir="instance/models", unsure_threshold=1.5)
    Traceback (most recent call last):
    ...
    ValueError: unsure_threshold must be within 0..1, got 1.5
    """

    model_dir: Path
    taxonomy_path: Path
    unsure_threshold: float
    use_embeddings: bool
    corpus_dir: Path

    def __post_init__(self) -> None:
        if not 0.0 <= self.unsure_threshold <= 1.0:
            raise ValueError(f"unsure_threshold must be within 0..1, got {self.unsure_threshold!r}")

    @classmethod
    def create(
        cls,
        *,
        model_dir: str | Path,
        taxonomy_path: str | Path | None = None,
        unsure_threshold: float = DEFAULT_UNSURE_THRESHOLD,
        use_embeddings: bool = True,
        corpus_dir: str | Path | None = None,
    ) -> Settings:
        """Build settings from paths or text; no taxonomy or corpus means the shipped one."""
        return cls(
            model_dir=Path(model_dir),
            taxonomy_path=Path(taxonomy_path) if taxonomy_path else DEFAULT_TAXONOMY_PATH,
            unsure_threshold=float(unsure_threshold),
            use_embeddings=bool(use_embeddings),
            corpus_dir=Path(corpus_dir) if corpus_dir else DEFAULT_CORPUS_DIR,
        )

    @classmethod
    def from_environment(cls) -> Settings:
        """Read ``RUAMKID_MODEL_DIR`` and ``RUAMKID_TAXONOMY``; everything else is a default."""
        return cls(
            model_dir=Path(os.environ.get("RUAMKID_MODEL_DIR", DEFAULT_MODEL_DIR)),
            taxonomy_path=Path(os.environ.get("RUAMKID_TAXONOMY", DEFAULT_TAXONOMY_PATH)),
            unsure_threshold=DEFAULT_UNSURE_THRESHOLD,
            use_embeddings=True,
            corpus_dir=DEFAULT_CORPUS_DIR,
        )
