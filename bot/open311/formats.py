"""Open311 answers as JSON or XML, shaped as GeoReport v2 shows them, and its errors.

XML is built with ``xml.etree``: a list becomes ``<root><item>…</item>…</root>``; a value that is
a list (an endpoint's formats, a service's attributes) becomes an element of children named by
:data:`CHILDREN`; None is an empty element.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from xml.etree import ElementTree

from flask import Response

from bot.thai import to_bangkok

FORMATS = {"json": "application/json", "xml": "text/xml"}
# The element names of list items inside a record (GeoReport v2's XML examples).
CHILDREN = {"endpoints": "endpoint", "formats": "format", "attributes": "attribute"}


class Open311Error(Exception):
    """An error answered as the spec shapes it: a list of ``{code, description}``."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def timestamp(value: datetime | None) -> str | None:
    """Return an ISO 8601 time with its offset, in Bangkok time (``2026-11-30T09:15:00+07:00``)."""
    return None if value is None else to_bangkok(value).replace(microsecond=0).isoformat()


def answer(fmt: str, data: Any, root: str, item: str | None = None, status: int = 200) -> Response:
    """Return ``data`` as JSON, or as XML under ``root`` (each list entry an ``item``)."""
    if fmt == "xml":
        element = ElementTree.Element(root)
        if isinstance(data, list):
            for record in data:
                _fill(ElementTree.SubElement(element, item or "item"), record)
        else:
            _fill(element, data)
        body = ElementTree.tostring(element, encoding="unicode", xml_declaration=True)
        return Response(body, status=status, content_type="text/xml; charset=utf-8")
    body = json.dumps(data, ensure_ascii=False)
    return Response(body, status=status, content_type="application/json; charset=utf-8")


def error(fmt: str, status: int, description: str) -> Response:
    """Return the spec's error list with one error."""
    return answer(fmt, [{"code": status, "description": description}], "errors", "error", status)


def _fill(element: ElementTree.Element, record: dict[str, Any]) -> None:
    for name, value in record.items():
        child = ElementTree.SubElement(element, name)
        if isinstance(value, list):
            for entry in value:
                grandchild = ElementTree.SubElement(child, CHILDREN.get(name, "item"))
                if isinstance(entry, dict):
                    _fill(grandchild, entry)
                else:
                    grandchild.text = _text(entry)
        elif isinstance(value, dict):
            _fill(child, value)
        else:
            child.text = _text(value)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
