"""The plan's taxonomy: strategies, sub-areas and kinds, loaded from a TOML file and validated."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_TAXONOMY_PATH",
    "Kind",
    "Plan",
    "Strategy",
    "Subarea",
    "Taxonomy",
    "TaxonomyError",
    "load_taxonomy",
]

DEFAULT_TAXONOMY_PATH = Path(__file__).parent / "data" / "taxonomy.toml"

# The kinds the classifier tells apart; a taxonomy file names them but cannot add new ones
# without examples to learn from, so an unknown or missing kind code is an error.
REQUIRED_KINDS = ("complaint", "need", "question", "suggestion", "other")
TOP_LABELS = ("ยุทธศาสตร์", "ประเด็นการพัฒนา")
_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


class TaxonomyError(ValueError):
    """A taxonomy file is malformed; the message names the file and the offending entry."""


@dataclass(frozen=True, slots=True)
class Subarea:
    """A sub-area (แนวทาง) of a strategy, e.g. ``LPN-S7.2`` ระบายน้ำ ลำเหมือง และป้องกันน้ำท่วม."""

    code: str
    name: str
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Strategy:
    """A strategy (ยุทธศาสตร์ / ประเด็นการพัฒนา) of the plan with its sub-areas."""

    code: str
    name: str
    gloss: str
    division: str
    programmes: tuple[str, ...]
    keywords: tuple[str, ...]
    subareas: tuple[Subarea, ...]

    def subarea(self, code: str) -> Subarea:
        """Return the sub-area with ``code``; raise ``KeyError`` if this strategy has none such."""
        for sub in self.subareas:
            if sub.code == code:
                return sub
        raise KeyError(code)


@dataclass(frozen=True, slots=True)
class Kind:
    """A kind of message: complaint, need, question, suggestion or other (ไม่ใช่คำร้อง)."""

    code: str
    name: str


@dataclass(frozen=True, slots=True)
class Plan:
    """The local development plan the strategies belong to."""

    name: str
    organisation: str
    years: tuple[int, ...]
    top_label: str
    sub_label: str
    communities: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Taxonomy:
    """A validated taxonomy: the plan, its kinds and its strategies (in file order)."""

    plan: Plan
    kinds: tuple[Kind, ...]
    strategies: tuple[Strategy, ...]
    words: tuple[str, ...] = ()
    source: str = ""

    @property
    def strategy_codes(self) -> tuple[str, ...]:
        """Strategy codes in file order, e.g. ``("LPN-S1", ..., "LPN-S8")``."""
        return tuple(s.code for s in self.strategies)

    @property
    def subarea_codes(self) -> tuple[str, ...]:
        """All sub-area codes in file order, e.g. ``("LPN-S1.1", ...)``."""
        return tuple(sub.code for s in self.strategies for sub in s.subareas)

    @property
    def kind_codes(self) -> tuple[str, ...]:
        """Kind codes in file order."""
        return tuple(k.code for k in self.kinds)

    def strategy(self, code: str) -> Strategy:
        """Return the strategy with ``code``; raise ``KeyError`` if there is none."""
        for strat in self.strategies:
            if strat.code == code:
                return strat
        raise KeyError(code)

    def strategy_of_subarea(self, code: str) -> Strategy:
        """Return the strategy a sub-area code belongs to, e.g. ``LPN-S7.2`` → ``LPN-S7``."""
        for strat in self.strategies:
            if any(sub.code == code for sub in strat.subareas):
                return strat
        raise KeyError(code)

    def subarea_name(self, code: str) -> str:
        """Return the Thai name of a sub-area code."""
        return self.strategy_of_subarea(code).subarea(code).name

    def kind_name(self, code: str) -> str:
        """Return the Thai name of a kind code, e.g. ``"complaint"`` → ``"แจ้งปัญหา/ขอซ่อม"``."""
        for kind in self.kinds:
            if kind.code == code:
                return kind.name
        raise KeyError(code)

    def dictionary_words(self) -> tuple[str, ...]:
        """Words the tokenizer should keep whole: keywords, community names and extra words."""
        words: list[str] = list(self.words) + list(self.plan.communities)
        for strat in self.strategies:
            words.extend(strat.keywords)
            for sub in strat.subareas:
                words.extend(sub.keywords)
        return tuple(dict.fromkeys(w.strip() for w in words if w.strip()))


def _require_str(table: dict[str, Any], key: str, where: str, *, optional: bool = False) -> str:
    value = table.get(key, "" if optional else None)
    if value is None:
        raise TaxonomyError(f"{where}: missing {key!r}")
    if not isinstance(value, str):
        raise TaxonomyError(f"{where}: {key!r} must be a string, got {type(value).__name__}")
    if not optional and not value.strip():
        raise TaxonomyError(f"{where}: {key!r} is empty")
    return value.strip()


def _str_list(table: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TaxonomyError(f"{where}: {key!r} must be a list of strings")
    return tuple(v.strip() for v in value if v.strip())


def _code(table: dict[str, Any], where: str) -> str:
    code = _require_str(table, "code", where)
    if not _CODE_RE.match(code):
        raise TaxonomyError(f"{where}: code {code!r} may only hold letters, digits, '.', '-', '_'")
    return code


def _parse_plan(data: dict[str, Any], where: str) -> Plan:
    plan = data.get("plan")
    if not isinstance(plan, dict):
        raise TaxonomyError(f"{where}: missing [plan] table")
    years = plan.get("years", [])
    if not isinstance(years, list) or not all(isinstance(y, int) for y in years):
        raise TaxonomyError(f"{where}: [plan] 'years' must be a list of integers (พ.ศ.)")
    top_label = _require_str(plan, "top_label", f"{where} [plan]", optional=True) or TOP_LABELS[0]
    if top_label not in TOP_LABELS:
        raise TaxonomyError(
            f"{where} [plan]: top_label {top_label!r} is not one of {', '.join(TOP_LABELS)}"
        )
    return Plan(
        name=_require_str(plan, "name", f"{where} [plan]"),
        organisation=_require_str(plan, "organisation", f"{where} [plan]"),
        years=tuple(years),
        top_label=top_label,
        sub_label=_require_str(plan, "sub_label", f"{where} [plan]", optional=True) or "แนวทาง",
        communities=_str_list(plan, "communities", f"{where} [plan]"),
    )


def _parse_kinds(data: dict[str, Any], where: str) -> tuple[Kind, ...]:
    raw = data.get("kinds")
    if not isinstance(raw, list) or not raw:
        raise TaxonomyError(f"{where}: missing [[kinds]]")
    kinds: list[Kind] = []
    for i, table in enumerate(raw):
        here = f"{where} kinds[{i}]"
        code = _code(table, here)
        if code not in REQUIRED_KINDS:
            raise TaxonomyError(f"{here}: unknown kind {code!r}; expected one of {REQUIRED_KINDS}")
        if any(k.code == code for k in kinds):
            raise TaxonomyError(f"{here}: duplicate kind code {code!r}")
        kinds.append(Kind(code=code, name=_require_str(table, "name", here)))
    missing = [k for k in REQUIRED_KINDS if k not in {kind.code for kind in kinds}]
    if missing:
        raise TaxonomyError(f"{where}: kinds {missing} are missing")
    return tuple(kinds)


def _parse_strategies(data: dict[str, Any], where: str) -> tuple[Strategy, ...]:
    raw = data.get("strategies")
    if not isinstance(raw, list) or len(raw) < 2:
        raise TaxonomyError(f"{where}: need at least two [[strategies]]")
    seen: set[str] = set()
    strategies: list[Strategy] = []
    for i, table in enumerate(raw):
        here = f"{where} strategies[{i}]"
        code = _code(table, here)
        if code in seen:
            raise TaxonomyError(f"{here}: duplicate code {code!r}")
        seen.add(code)
        here = f"{where} strategy {code}"
        subs: list[Subarea] = []
        raw_subs = table.get("subareas", [])
        if not isinstance(raw_subs, list) or not raw_subs:
            raise TaxonomyError(f"{here}: needs at least one [[strategies.subareas]]")
        for j, sub in enumerate(raw_subs):
            sub_where = f"{here} subareas[{j}]"
            sub_code = _code(sub, sub_where)
            if not sub_code.startswith(code + "."):
                raise TaxonomyError(
                    f"{sub_where}: sub-area code {sub_code!r} must start with {code + '.'!r}"
                )
            if sub_code in seen:
                raise TaxonomyError(f"{sub_where}: duplicate code {sub_code!r}")
            seen.add(sub_code)
            subs.append(
                Subarea(
                    code=sub_code,
                    name=_require_str(sub, "name", sub_where),
                    keywords=_str_list(sub, "keywords", sub_where),
                )
            )
        strategies.append(
            Strategy(
                code=code,
                name=_require_str(table, "name", here),
                gloss=_require_str(table, "gloss", here, optional=True),
                division=_require_str(table, "division", here, optional=True),
                programmes=_str_list(table, "programmes", here),
                keywords=_str_list(table, "keywords", here),
                subareas=tuple(subs),
            )
        )
    return tuple(strategies)


def parse_taxonomy(data: dict[str, Any], *, source: str = "<taxonomy>") -> Taxonomy:
    """Validate a parsed TOML mapping into a :class:`Taxonomy`; raise :class:`TaxonomyError`."""
    tokenizer = data.get("tokenizer", {})
    if not isinstance(tokenizer, dict):
        raise TaxonomyError(f"{source}: [tokenizer] must be a table")
    return Taxonomy(
        plan=_parse_plan(data, source),
        kinds=_parse_kinds(data, source),
        strategies=_parse_strategies(data, source),
        words=_str_list(tokenizer, "words", f"{source} [tokenizer]"),
        source=source,
    )


def load_taxonomy(path: str | Path = DEFAULT_TAXONOMY_PATH) -> Taxonomy:
    """Load and validate a taxonomy TOML file, e.g. ``load_taxonomy("nlp/data/taxonomy.toml")``.

    Raises :class:`TaxonomyError` (a ``ValueError``) naming the file and entry on any problem:
    duplicate codes, missing names, a sub-area code not prefixed by its strategy code, an unknown
    kind or a top label other than ``ยุทธศาสตร์`` / ``ประเด็นการพัฒนา``.

    >>> tax = load_taxonomy()
    >>> tax.plan.top_label, tax.strategy_codes[:3]
    ('ยุทธศาสตร์', ('LPN-S1', 'LPN-S2', 'LPN-S3'))
    >>> tax.strategy_of_subarea("LPN-S7.2").code, tax.subarea_name("LPN-S7.2")
    ('LPN-S7', 'ระบายน้ำ ลำเหมือง และป้องกันน้ำท่วม')
    """
    path = Path(path)
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise TaxonomyError(f"taxonomy file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise TaxonomyError(f"{path}: not valid TOML: {exc}") from None
    return parse_taxonomy(data, source=str(path))
