"""Logging that never carries residents' personal data, on any path, errors included.

Log lines carry ids and codes, never message text, names, LINE ids or search words
(STYLE.md). Errors are where that breaks: a database error's message holds the values that
failed (PostgreSQL's ``DETAIL: Key (line_user_id)=(U…) already exists``, SQLAlchemy's
``[parameters: …]``), and a traceback repeats it. So:

- engines hide SQL parameters (``storage.db.make_engine``);
- an error is described by :func:`describe_error`: its type and where it happened, never its
  message; the worker stores that in ``inbox_events.error`` and the app logs it for a 500;
- :class:`SafeFormatter`, on the handler :func:`configure` installs, does the same for a
  library that logs a traceback itself;
- neither gunicorn's access log (:class:`AccessLogger`) nor werkzeug's request lines carry a
  query string (staff search words travel in ``?q=``) or a LINE id in a path.
"""

from __future__ import annotations

import logging
import os
import re
import traceback
from types import TracebackType
from typing import Any

from gunicorn.glogging import Logger as GunicornLogger

# A LINE user, group or room id: U, C or R and 32 hex digits.
LINE_ID = re.compile(r"\b[UCR][0-9a-f]{32}\b")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Address, time, request line without its query string, status, bytes, milliseconds.
ACCESS_LOG_FORMAT = '%(h)s %(t)s "%(r)s" %(s)s %(B)s %(M)sms'


def describe_error(error: BaseException) -> str:
    """Return an error's types and the frames it passed through, without any message.

    >>> try:
    ...     int("ลำเหมืองตัน")
    ... except ValueError as exc:
    ...     text = describe_error(exc)
    >>> "ValueError" in text, "ลำเหมือง" in text
    (True, False)
    """
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        parts.append(_frames(type(current), current.__traceback__))
        current = current.__cause__ or current.__context__
    return "\n-- caused by --\n".join(parts)


def _frames(kind: type[BaseException], tb: TracebackType | None) -> str:
    lines = [f"{kind.__module__}.{kind.__qualname__} (message withheld: it may hold personal data)"]
    for frame in traceback.extract_tb(tb):
        lines.append(f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}')
    return "\n".join(lines)


class SafeFormatter(logging.Formatter):
    """Format a record's traceback as :func:`describe_error` does: types and frames only."""

    def formatException(self, ei) -> str:  # noqa: N802 -- logging's name
        _kind, value, _tb = ei
        return describe_error(value) if value is not None else ""


def strip_query(target: str) -> str:
    """Return a URL or request line without its query string, LINE ids masked.

    >>> strip_query("GET /dashboard/submissions?q=%E0%B8%AA HTTP/1.1")
    'GET /dashboard/submissions HTTP/1.1'
    """
    parts = target.split(" ")
    cleaned = [LINE_ID.sub("U…", part.split("?", 1)[0]) for part in parts]
    return " ".join(cleaned)


class _WerkzeugRequestLine(logging.Filter):
    """Drop the query string from the development server's request lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args and isinstance(record.args[0], str):
            record.args = (strip_query(record.args[0]), *record.args[1:])
        return True


def configure() -> None:
    """Log to stdout once per process, through :class:`SafeFormatter`."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(SafeFormatter(LOG_FORMAT))
        root.addHandler(handler)
        root.setLevel(os.environ.get("LOG_LEVEL", "INFO"))
    werkzeug = logging.getLogger("werkzeug")
    if not any(isinstance(f, _WerkzeugRequestLine) for f in werkzeug.filters):
        werkzeug.addFilter(_WerkzeugRequestLine())


class AccessLogger(GunicornLogger):
    """gunicorn's logger with an access log that holds no query string, header or LINE id,
    and error tracebacks without messages."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                old = handler.formatter or logging.Formatter()
                handler.setFormatter(SafeFormatter(old._fmt, old.datefmt))

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        method = environ.get("REQUEST_METHOD", "-")
        path = strip_query(environ.get("PATH_INFO", "") or "-")
        protocol = environ.get("SERVER_PROTOCOL", "-")
        # Only these: headers (a signature, a cookie), the environment, the referrer (the
        # previous page's query) and the query string itself stay out of the access log.
        keep = {"h", "l", "u", "t", "s", "m", "H", "b", "B", "T", "D", "M", "L", "p"}
        safe = {key: value for key, value in atoms.items() if key in keep}
        safe.update(r=f"{method} {path} {protocol}", U=path, q="", f="-", a="-")
        return safe
