"""Compact postback data, e.g. ``a=cat&s=12&c=LPN-S7.3``, and its strict reading.

Anything a button carries can be forged: the reader accepts only known actions with small,
well-formed values, and every handler still checks that the records belong to the sender.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from bot.residents.replies import MAX_DATA

# consent, community page, community, fix category (top 3), all strategies, one strategy's
# sub-areas, set category, done, delete (confirm / cancel), rate a finished need, "not fixed yet"
ACTIONS = {
    "consent",
    "page",
    "com",
    "fix",
    "all",
    "str",
    "cat",
    "done",
    "del",
    "nodel",
    "rate",
    "reopen",
}
_VALUE = re.compile(r"^[A-Za-z0-9.\-_]{1,40}$")


@dataclass(frozen=True)
class Postback:
    """A button's action and its parameters."""

    action: str
    params: dict[str, str]

    def integer(self, key: str) -> int | None:
        """Return parameter ``key`` as a non-negative int, or None when absent or not one."""
        value = self.params.get(key)
        if value is None or not value.isdigit() or len(value) > 12:
            return None
        return int(value)


def encode(action: str, **params: object) -> str:
    """Return the data string of a button, e.g. ``encode("com", id=3)`` → ``a=com&id=3``."""
    if action not in ACTIONS:
        raise ValueError(f"unknown postback action {action!r}; expected one of {sorted(ACTIONS)}")
    data = urlencode({"a": action, **{k: str(v) for k, v in params.items()}})
    if len(data) > MAX_DATA:
        raise ValueError(f"postback data of {len(data)} characters; LINE takes {MAX_DATA}")
    return data


def parse(data: str | None) -> Postback | None:
    """Read button data; None when it is not ours or not well formed."""
    if not data or len(data) > MAX_DATA:
        return None
    try:
        pairs = parse_qsl(data, keep_blank_values=False, strict_parsing=True)
    except ValueError:
        return None
    params = dict(pairs)
    if len(params) != len(pairs):
        return None  # a repeated key is never ours
    action = params.pop("a", None)
    if action not in ACTIONS:
        return None
    if not all(_VALUE.match(k) and _VALUE.match(v) for k, v in params.items()):
        return None
    return Postback(action=action, params=params)
