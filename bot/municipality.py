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
    return Municipality(
        name=section["name"],
        short_name=section.get("short_name", section["name"]),
        tracking_prefix=prefix,
        office=section.get("office", ""),
        phone=section.get("phone", ""),
        retention_years=int(section.get("retention_years", 5)),
        communities=tuple(communities),
        messages={str(k): str(v) for k, v in messages.items()},
    )
