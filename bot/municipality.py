"""The municipality's own settings (name, communities, wording) from a TOML file."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

DEFAULT_SETTINGS = "municipality.toml"


@dataclass(frozen=True)
class Municipality:
    """What differs from one municipality to the next."""

    name: str
    short_name: str
    tracking_prefix: str
    office: str = ""
    phone: str = ""
    retention_years: int = 5
    communities: tuple[str, ...] = ()
    messages: dict[str, str] = field(default_factory=dict)
    # Divisions (code, name, description) and the routing rules that seed the database on
    # first start: (sub-area or None, kind or None, division code or None, days, "MM-DD").
    divisions: tuple[tuple[str, str, str], ...] = ()
    rules: tuple[tuple[str | None, str | None, str | None, int | None, str | None], ...] = ()


def load_municipality(path: str | Path | None = None) -> Municipality:
    """Read the settings file at ``path`` (the shipped Lamphun default when None)."""
    if path is None:
        raw = resources.files("bot.defaults").joinpath(DEFAULT_SETTINGS).read_bytes()
        source = "bot/defaults/" + DEFAULT_SETTINGS
    else:
        raw = Path(path).read_bytes()
        source = str(path)
    data = tomllib.loads(raw.decode("utf-8"))
    section = data.get("municipality")
    if not isinstance(section, dict):
        raise ValueError(f"{source}: missing [municipality] table")
    for key in ("name", "tracking_prefix"):
        if not section.get(key):
            raise ValueError(f"{source}: [municipality] needs '{key}'")
    prefix = section["tracking_prefix"]
    if not (prefix.isascii() and prefix.isalnum() and prefix.isupper() and len(prefix) <= 6):
        raise ValueError(f"{source}: tracking_prefix must be 1-6 capital letters or digits")
    communities = section.get("communities", [])
    if len(set(communities)) != len(communities):
        raise ValueError(f"{source}: a community is listed twice")
    messages = data.get("messages", {})
    divisions, rules = _routing(data, source)
    return Municipality(
        name=section["name"],
        short_name=section.get("short_name", section["name"]),
        tracking_prefix=prefix,
        office=section.get("office", ""),
        phone=section.get("phone", ""),
        retention_years=int(section.get("retention_years", 5)),
        communities=tuple(communities),
        messages={str(k): str(v) for k, v in messages.items()},
        divisions=divisions,
        rules=rules,
    )


def _routing(data: dict, source: str) -> tuple[tuple, tuple]:
    """Read ``[[divisions]]``, ``[routing] subareas`` and ``[[service_levels]]``."""
    divisions = tuple(
        (str(d["code"]), str(d["name"]), str(d.get("description", "")))
        for d in data.get("divisions", [])
    )
    codes = {code for code, _, _ in divisions}
    if len(codes) != len(divisions):
        raise ValueError(f"{source}: a division code is listed twice")
    rules: list[tuple] = []
    for subarea, code in data.get("routing", {}).get("subareas", {}).items():
        if code not in codes:
            raise ValueError(f"{source}: [routing] {subarea} names unknown division {code!r}")
        rules.append((subarea, None, code, None, None))
    for level in data.get("service_levels", []):
        days, review = level.get("days"), level.get("review")
        if (days is None) == (review is None):
            raise ValueError(f"{source}: a [[service_levels]] entry needs days or review")
        rules.append((level.get("subarea"), level.get("kind"), None, days, review))
    return divisions, tuple(rules)
