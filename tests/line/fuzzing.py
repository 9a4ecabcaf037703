"""Hypothesis strategies for signed, mutated LINE webhook bodies, built from LINE's webhook.yml
(tests/payloads/webhook.yml), and the checks a batch must pass.

Used by tests/line/test_fuzz.py (a short run) and bench/fuzz_webhook.py (a long one). Each batch
holds events that follow the spec and events with mutated fields (odd values, wrong types,
missing or extra keys, deep nesting); the events left untouched must always be stored.
"""

from __future__ import annotations

import copy
import itertools
import json
import math
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

from tests import line_events

SPEC = Path(__file__).parents[1] / "payloads" / "webhook.yml"
# Events go to a few residents, so the worker sees conversations, not only strangers.
USERS = ["U" + f"{n:x}" * 32 for n in range(1, 6)]
TEXTS = ["ถนนเป็นหลุม", "ไฟทางดับหลายวันแล้วค่ะ", "ยินยอม", "เริ่ม", "ลบข้อมูลของฉัน", "สวัสดี", ""]
# Stands for JSON nested 100,000 deep; written out only when the body is serialised.
DEEP = "\x00deep\x00"
ODD_VALUES = [
    None,
    True,
    0,
    -1,
    12345,
    10**20,
    2**63,
    1.5,
    math.nan,
    math.inf,
    -math.inf,
    "",
    "x" * 33,
    "x" * 65,
    "x" * 256,
    "\x00",
    "\ud800",
    "ก" * 300,
    [],
    {},
    [1, "a", None],
    {"a": {"b": {"c": []}}},
    DEEP,
]
# Text as LINE sends it: no control characters (NUL cannot be stored) and no lone surrogates.
_LETTERS = st.characters(exclude_categories=("Cc", "Cs"))
# Fresh ids for every draw: a replayed example must not find its events already stored.
_ids = itertools.count(int(time.time()) * 10**6)


@cache
def _schemas() -> dict[str, Any]:
    return yaml.safe_load(SPEC.read_text())["components"]["schemas"]


def _name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _merged(name: str) -> tuple[dict[str, Any], set[str]]:
    """Return the properties and required keys of a schema, its allOf parents included."""
    schema = _schemas()[name]
    properties: dict[str, Any] = dict(schema.get("properties", {}))
    required = set(schema.get("required", []))
    for part in schema.get("allOf", []):
        if "$ref" in part:
            more, needed = _merged(_name(part["$ref"]))
        else:
            more, needed = part.get("properties", {}), set(part.get("required", []))
        properties.update(more)
        required |= needed
    return properties, required


def _discriminator(name: str) -> dict[str, Any] | None:
    return _schemas()[name].get("discriminator")


def schema(name: str) -> st.SearchStrategy[Any]:
    """Return a strategy for values of the named schema, following discriminators."""
    found = _discriminator(name)
    if found:
        key = found["propertyName"]
        return st.one_of(
            [
                _object(_name(ref)).map(lambda value, k=key, v=kind: {**value, k: v})
                for kind, ref in found["mapping"].items()
            ]
        )
    if "enum" in _schemas()[name]:
        return st.sampled_from(_schemas()[name]["enum"])
    return _object(name)


@cache
def _object(name: str) -> st.SearchStrategy[dict[str, Any]]:
    properties, required = _merged(name)
    strategies = {
        key: st.deferred(lambda k=key, p=spec: _value(k, p)) for key, spec in properties.items()
    }
    return st.fixed_dictionaries(
        {k: v for k, v in strategies.items() if k in required},
        optional={k: v for k, v in strategies.items() if k not in required},
    )


def _value(key: str, spec: dict[str, Any]) -> st.SearchStrategy[Any]:
    if "$ref" in spec:
        return schema(_name(spec["$ref"]))
    if "enum" in spec:
        return st.sampled_from(spec["enum"])
    kind = spec.get("type")
    if kind == "string":
        return _string(key)
    if kind == "integer":
        return st.integers(0, 2**31 - 1)
    if kind == "number":
        limit = 90 if key == "latitude" else 180
        return st.floats(-limit, limit, allow_nan=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        return st.lists(_value(key, spec["items"]), max_size=3)
    if kind == "object" and "additionalProperties" in spec:
        return st.dictionaries(
            st.text(_LETTERS, max_size=8), _value(key, spec["additionalProperties"]), max_size=3
        )
    return st.just({})


def _string(key: str) -> st.SearchStrategy[str]:
    plausible = {
        "userId": st.sampled_from(USERS),
        "text": st.sampled_from(TEXTS) | st.text(_LETTERS, max_size=40),
        "replyToken": st.uuids().map(lambda u: u.hex),
        "id": st.integers(1, 10**18).map(str),
        "data": st.sampled_from(["action=consent&value=yes", "action=community&id=1", "x"]),
    }
    return plausible.get(key, st.text(_LETTERS, max_size=20))


def event() -> st.SearchStrategy[dict[str, Any]]:
    """Return a strategy for one webhook event that follows the spec (fresh id, recent time)."""
    return schema("Event").map(_fresh)


def _fresh(value: dict[str, Any]) -> dict[str, Any]:
    value["webhookEventId"] = f"01FUZZ{next(_ids):020d}"
    value["timestamp"] = int(time.time() * 1000)
    return value


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any] | Any:
    """Return a spec event with one to three fields replaced, removed or added oddly."""
    value = copy.deepcopy(draw(event()))
    for _ in range(draw(st.integers(1, 3))):
        if not isinstance(value, dict):
            break
        paths = _paths(value)
        how = draw(st.sampled_from(["replace", "remove", "add", "whole"]))
        if how == "whole":
            value = copy.deepcopy(draw(st.sampled_from(ODD_VALUES)))
            break
        if how == "add" or not paths:
            parent, key = value, draw(st.sampled_from(["extra", "source", "message", "type"]))
        else:
            *ancestors, key = draw(st.sampled_from(paths))
            parent = value
            for step in ancestors:
                parent = parent[step]
        # A copy: a later step may reach into it, and the shared value must stay as it is.
        odd = copy.deepcopy(draw(st.sampled_from(ODD_VALUES)))
        if how == "remove" and isinstance(parent, dict):
            parent.pop(key, None)
        elif isinstance(parent, dict) or (isinstance(parent, list) and key < len(parent)):
            parent[key] = odd
    return value


@dataclass
class Batch:
    """One webhook body: its events, and which of them follow the spec untouched."""

    events: list[Any]
    untouched: list[bool]

    def body(self) -> bytes:
        """Return the body as LINE would send it (NaN and Infinity written as JavaScript does)."""
        text = json.dumps({"destination": "U" + "f" * 32, "events": self.events})
        deep = "[" * 100_000 + "]" * 100_000
        return text.replace(json.dumps(DEEP), deep).encode("utf-8")

    def untouched_ids(self) -> list[str]:
        """Return the ids of the events that follow the spec, each of which must be stored."""
        return [
            e["webhookEventId"] for e, ok in zip(self.events, self.untouched, strict=True) if ok
        ]


@st.composite
def batches(draw: st.DrawFn) -> Batch:
    """Return a batch of one to five events, some following the spec and some mutated."""
    events, untouched = [], []
    for _ in range(draw(st.integers(1, 5))):
        ok = draw(st.booleans())
        events.append(draw(event() if ok else mutated()))
        untouched.append(ok)
    return Batch(events, untouched)


def sign(raw: bytes, secret: str) -> str:
    """Return the X-Line-Signature for ``raw``."""
    return line_events.sign(raw, secret)


def post_and_check(client: Any, worker: Any, session: Any, batch: Batch, secret: str) -> list[str]:
    """Post ``batch`` signed, let the worker drain, and return what went wrong (empty if all held).

    ``client`` is a Flask test client (or anything with the same ``post``), ``session`` a
    database session of the same app.
    """
    from sqlalchemy import func, select

    from storage.models import InboxEvent, OutboxMessage

    raw = batch.body()
    response = client.post(
        "/callback",
        data=raw,
        headers={"X-Line-Signature": sign(raw, secret)},
        content_type="application/json",
    )
    problems = []
    if response.status_code != 200:
        problems.append(f"answered {response.status_code}")
    wanted = batch.untouched_ids()
    session.expire_all()
    stored = set(
        session.scalars(
            select(InboxEvent.webhook_event_id).where(InboxEvent.webhook_event_id.in_(wanted))
        )
    )
    if missing := [i for i in wanted if i not in stored]:
        problems.append(f"{len(missing)} events that follow the spec were not stored")
    worker.drain()
    session.expire_all()
    for model, bad in (
        (InboxEvent, ("pending", "processing", "failed")),
        (OutboxMessage, ("pending", "sending", "failed")),
    ):
        stuck = session.scalar(select(func.count()).select_from(model).where(model.status.in_(bad)))
        if stuck:
            problems.append(f"{stuck} {model.__tablename__} rows stuck or failed")
    return problems
