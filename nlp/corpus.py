"""Labelled examples: the shipped seed corpus, staff labels, and the fixed held-out split.

The held-out split
------------------
Each example is put in the held-out split by a hash of its *split key*: the text in NFC,
lower-cased, with whitespace squeezed (deliberately simpler than :func:`nlp.normalize`, so that
improving the normaliser never reshuffles the split). ``sha256(key)`` read as an integer, modulo
100, below :data:`HELDOUT_PERCENT` (25) → held out. So:

* it is deterministic and needs no seed or stored list;
* adding rows never moves an existing row from one side to the other (stable);
* exact duplicates (up to case and spacing) always land on the same side (no leakage);
* every class gets about 25% held out (a hash is independent of the label), comfortably ≥ 20%.

Held-out rows are never trained on; staff labels follow the same rule, and their held-out part is
the "recent staff labels" set a new model is compared on before it is activated.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .taxonomies import Taxonomy

__all__ = [
    "DEFAULT_CORPUS_DIR",
    "HELDOUT_PERCENT",
    "CorpusError",
    "Example",
    "corpus_hash",
    "is_heldout",
    "load_corpus",
    "read_examples_csv",
    "split",
    "split_key",
]

logger = logging.getLogger(__name__)

DEFAULT_CORPUS_DIR = Path(__file__).parent / "data" / "corpus"
HELDOUT_PERCENT = 25
KINDS = ("complaint", "need", "question", "suggestion", "other")


class CorpusError(ValueError):
    """A corpus or evaluation file has a bad row; the message names file, line and value."""


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled message, e.g. ``Example("ไฟกิ่งดับ", "LPN-S7", "LPN-S7.3", "complaint")``.

    ``strategy`` and ``subarea`` are ``None`` for kind ``other`` (and ``subarea`` may be unknown).
    ``embedding`` is the sentence embedding stored with a submission (float32 bytes), if any.
    Evaluation files may say more: ``also`` lists other strategies a fair reader would accept,
    and ``small_talk`` tells a greeting or thanks (True) from another non-request such as a
    chain message (False) among ``other`` rows; ``None`` when the file does not say.
    """

    text: str
    strategy: str | None
    subarea: str | None
    kind: str
    embedding: bytes | None = None
    also: tuple[str, ...] = field(default=(), repr=False)
    small_talk: bool | None = field(default=None, repr=False)

    @property
    def is_request(self) -> bool:
        """True unless the kind is ``other``."""
        return self.kind != "other"


def split_key(text: str) -> str:
    """Return the key the held-out split hashes: NFC, lower case, single spaces.

    >>> split_key("  ถนน  พัง CCTV ")
    'ถนน พัง cctv'
    """
    return " ".join(unicodedata.normalize("NFC", text).lower().split())


def is_heldout(text: str, percent: int = HELDOUT_PERCENT) -> bool:
    """True if ``text`` belongs to the fixed held-out split (never trained on).

    >>> is_heldout("ถนน  พัง CCTV") == is_heldout("ถนน พัง cctv")
    True
    """
    digest = hashlib.sha256(split_key(text).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % 100 < percent


def split(examples: Iterable[Example]) -> tuple[list[Example], list[Example]]:
    """Split examples into ``(train, heldout)`` by :func:`is_heldout`, keeping their order."""
    train: list[Example] = []
    heldout: list[Example] = []
    for ex in examples:
        (heldout if is_heldout(ex.text) else train).append(ex)
    return train, heldout


def make_example(
    taxonomy: Taxonomy,
    text: str,
    strategy: str | None,
    subarea: str | None,
    kind: str | None,
    *,
    embedding: bytes | None = None,
    where: str = "example",
    also: str | None = None,
    small_talk: str | None = None,
) -> Example:
    """Validate labels against the taxonomy and build an :class:`Example`; raise ``CorpusError``.

    A missing strategy is taken from the sub-area (``LPN-S7.2`` → ``LPN-S7``); a missing kind on a
    row with a strategy defaults to ``need``; a row with neither is ``other``.

    >>> from nlp.taxonomies import load_taxonomy
    >>> make_example(load_taxonomy(), "ไฟกิ่งหน้าบ้านดับ", None, "LPN-S7.3", None)
    Example(text='ไฟกิ่งหน้าบ้านดับ', strategy='LPN-S7', subarea='LPN-S7.3', kind='need', embedding=None)
    >>> make_example(load_taxonomy(), "ถนนพัง", "LPN-S99", None, "complaint")
    Traceback (most recent call last):
    ...
    nlp.corpus.CorpusError: example: unknown strategy 'LPN-S99'; expected one of (...)
    """
    text = (text or "").strip()
    strategy = (strategy or "").strip() or None
    subarea = (subarea or "").strip() or None
    kind = (kind or "").strip().lower() or None
    if not text:
        raise CorpusError(f"{where}: empty text")
    if kind is None:
        kind = "need" if (strategy or subarea) else "other"
    if kind not in taxonomy.kind_codes:
        raise CorpusError(f"{where}: unknown kind {kind!r}; expected one of {taxonomy.kind_codes}")
    if kind == "other":
        flag = None if small_talk is None else small_talk.strip().lower() in {"yes", "true", "1"}
        return Example(text, None, None, "other", embedding, small_talk=flag)
    if subarea is not None:
        try:
            owner = taxonomy.strategy_of_subarea(subarea).code
        except KeyError:
            raise CorpusError(f"{where}: unknown subarea {subarea!r}") from None
        if strategy is None:
            strategy = owner
        elif strategy != owner:
            raise CorpusError(f"{where}: subarea {subarea!r} is not under strategy {strategy!r}")
    if strategy is None:
        raise CorpusError(f"{where}: kind {kind!r} needs a strategy")
    if strategy not in taxonomy.strategy_codes:
        raise CorpusError(
            f"{where}: unknown strategy {strategy!r}; expected one of {taxonomy.strategy_codes}"
        )
    accepted = tuple(code.strip() for code in (also or "").split("|") if code.strip())
    for code in accepted:
        if code not in taxonomy.strategy_codes:
            raise CorpusError(f"{where}: unknown strategy {code!r} in 'also'")
    return Example(text, strategy, subarea, kind, embedding, also=accepted)


def read_examples_csv(
    path: str | Path, taxonomy: Taxonomy, *, require_strategy_column: bool = True
) -> list[Example]:
    """Read a CSV with ``text`` and ``strategy`` (optional ``subarea``, ``kind``, ``also``,
    ``small_talk``) columns."""
    path = Path(path)
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        fields = set(reader.fieldnames or ())
        needed = {"text", "strategy"} if require_strategy_column else {"text"}
        if not needed <= fields:
            raise CorpusError(f"{path}: needs columns {sorted(needed)}, has {sorted(fields)}")
        rows: list[Example] = []
        for row in reader:
            if not (row.get("text") or "").strip():
                continue
            where = f"{path}:{reader.line_num}"
            rows.append(
                make_example(
                    taxonomy,
                    row.get("text") or "",
                    row.get("strategy"),
                    row.get("subarea"),
                    row.get("kind"),
                    where=where,
                    also=row.get("also"),
                    small_talk=row.get("small_talk") if "small_talk" in fields else None,
                )
            )
    return rows


def load_corpus(corpus_dir: str | Path, taxonomy: Taxonomy) -> list[Example]:
    """Load every ``*.csv`` under ``corpus_dir`` (sorted by path) as examples."""
    corpus_dir = Path(corpus_dir)
    files = sorted(corpus_dir.rglob("*.csv"))
    if not files:
        raise CorpusError(f"no *.csv corpus files under {corpus_dir}")
    examples: list[Example] = []
    for path in files:
        examples.extend(read_examples_csv(path, taxonomy))
    logger.info("corpus: %d examples from %d files", len(examples), len(files))
    return examples


def corpus_hash(examples: Sequence[Example]) -> str:
    """Return a sha256 over the labelled texts, order-independent, to tell corpora apart."""
    lines = sorted(f"{ex.text}\t{ex.strategy}\t{ex.subarea}\t{ex.kind}" for ex in examples)
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()
