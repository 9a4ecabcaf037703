"""Likely duplicates of a submission, for staff to merge (merging is ``bot.needs.actions``).

A candidate is a submission that is not merged, was sent within 180 days of this one, and has
the same strategy (when this one has a strategy). It is scored by the Jaccard similarity of
character trigrams of the folded text (Thai has no spaces between words, so character n-grams
work without a tokenizer and cost nothing to compute), plus a bonus when both have a location
within 250 m (as FixMyStreet does). Only the 1,500 candidates nearest in arrival order are
compared, so the detail page stays fast on a large table.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from storage.models import Submission

WINDOW = timedelta(days=180)
NEARBY_METRES = 250.0
MAX_CANDIDATES = 1500
MIN_TEXT_SIMILARITY = 0.3
MIN_TEXT_SIMILARITY_NEARBY = 0.12


@dataclass(frozen=True)
class Suggestion:
    """A likely duplicate with its score and a Thai explanation for staff."""

    submission: Submission
    score: float
    text_similarity: float
    distance_m: float | None

    @property
    def reason(self) -> str:
        """Why it was suggested, e.g. ``ข้อความคล้ายกัน 78%, ห่าง 120 ม.``."""
        parts = [f"ข้อความคล้ายกัน {round(self.text_similarity * 100)}%"]
        if self.distance_m is not None:
            parts.append(f"ห่าง {round(self.distance_m):,} ม.")
        return ", ".join(parts)


class _KeepTable(dict[int, int | None]):
    """``str.translate`` table: a code point maps to itself when ``fold`` keeps it, else to None.

    Filled on first sight of each character by the rule itself (a letter or digit, or a
    non-spacing mark such as Thai vowels and tone marks), so it is exact for every character
    and costs nothing at import; a page of Thai needs sees a few hundred distinct characters.
    """

    def __missing__(self, code: int) -> int | None:
        ch = chr(code)
        kept = code if ch.isalnum() or unicodedata.category(ch) == "Mn" else None
        if len(self) < _KEEP_TABLE_MAX:
            self[code] = kept
        return kept


_KEEP_TABLE_MAX = 65_536
_KEEP = _KeepTable()


def fold(text: str | None) -> str:
    """Reduce text to the letters and digits that carry meaning (no spaces, marks kept)."""
    if not text:
        return ""
    return unicodedata.normalize("NFC", text).lower().translate(_KEEP)


def trigrams(text: str | None) -> frozenset[str]:
    """Return the set of character trigrams of the folded text."""
    folded = fold(text)
    if len(folded) < 3:
        return frozenset({folded}) if folded else frozenset()
    return _trigrams_of(folded)


def _trigrams_of(folded: str) -> frozenset[str]:
    """The trigrams of text already folded (three characters or more)."""
    return frozenset([folded[i : i + 3] for i in range(len(folded) - 2)])


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """Return |a ∩ b| / |a ∪ b| (0 for two empty sets)."""
    if not a or not b:
        return 0.0
    common = len(a & b)
    return common / (len(a) + len(b) - common)


def similarity_at_least(mine: frozenset[str], text: str | None, floor: float) -> float | None:
    """Return ``jaccard(mine, trigrams(text))`` when it is at least ``floor``, else None.

    Most candidates share few trigrams with this need, so they are dismissed before their set
    is built: each of ``mine``'s trigrams is looked for in the folded text (a trigram is in the
    other set exactly when it is a substring), which counts the shared ones, and shared/|mine|
    is never below the Jaccard similarity (the other set holds at least the shared ones).
    """
    folded = fold(text)
    if len(folded) < 3 or not mine or len(next(iter(mine))) < 3:
        similarity = jaccard(mine, trigrams(text))
        return similarity if similarity >= floor else None
    if sum(map(folded.__contains__, mine)) / len(mine) < floor:
        return None
    similarity = jaccard(mine, _trigrams_of(folded))
    return similarity if similarity >= floor else None


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Return the great-circle distance in metres (haversine)."""
    radius = 6_371_000.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * radius * math.asin(math.sqrt(min(1.0, h)))


def suggest(
    session: Session,
    submission: Submission,
    *,
    restrict: Callable[[Select[Any]], Select[Any]] = lambda s: s,
    limit: int = 5,
) -> list[Suggestion]:
    """Return up to ``limit`` likely duplicates of ``submission``, best first.

    ``restrict`` narrows the candidates to what the viewer may see (``visible_submissions``).
    """
    if not submission.text and submission.latitude is None:
        return []
    s = Submission
    candidates = select(s.id, s.text, s.latitude, s.longitude).where(
        s.merged_into_id.is_(None),
        s.status != "duplicate",
        s.created_at >= submission.created_at - WINDOW,
        s.created_at <= submission.created_at + WINDOW,
    )
    if submission.strategy:
        candidates = candidates.where(s.strategy == submission.strategy)
    candidates = restrict(candidates)
    # The candidates nearest in arrival order on both sides of this need: each side reads
    # from its place in the (strategy, id) index and stops once it has enough, so an old need
    # costs what a new one does on a million rows. Only the few best are loaded whole.
    later = session.execute(
        candidates.where(s.id > submission.id).order_by(s.id.asc()).limit(MAX_CANDIDATES // 2)
    ).all()
    earlier = session.execute(
        candidates.where(s.id < submission.id)
        .order_by(s.id.desc())
        .limit(MAX_CANDIDATES - len(later))
    ).all()
    mine = trigrams(submission.text)
    here = (submission.latitude, submission.longitude)
    scored: list[tuple[int, float, float, float | None]] = []
    for ident, text, latitude, longitude in [*later, *earlier]:
        metres = None
        if None not in (*here, latitude, longitude):
            metres = distance_m(here[0], here[1], latitude, longitude)
        nearby = metres is not None and metres <= NEARBY_METRES
        similarity = similarity_at_least(
            mine, text, MIN_TEXT_SIMILARITY_NEARBY if nearby else MIN_TEXT_SIMILARITY
        )
        if similarity is None:
            continue
        score = similarity + (0.25 * (1 - metres / NEARBY_METRES) if nearby else 0.0)
        scored.append((ident, round(min(score, 1.0), 4), similarity, metres))
    scored.sort(key=lambda x: (-x[1], -x[0]))
    best = scored[:limit]
    if not best:
        return []
    loaded = {o.id: o for o in session.scalars(select(s).where(s.id.in_([b[0] for b in best])))}
    return [Suggestion(loaded[i], score, sim, metres) for i, score, sim, metres in best]
