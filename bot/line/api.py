"""Every call Ruamkid makes to the LINE Messaging API, through line-bot-sdk v3.

Messages travel through the app as plain LINE JSON (dicts); they become SDK objects here.
Errors are sorted into ``TransientLineError`` (retry later: 5xx, 429, time-outs, network) and
``PermanentLineError`` (a 4xx that a retry would not fix).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import pydantic
import pydantic.v1
import urllib3
from flask import Flask, current_app
from linebot.v3.messaging import (
    ApiClient,
    ApiException,
    Configuration,
    MessagingApi,
    MessagingApiBlob,
    MulticastRequest,
    PushMessageRequest,
    ReplyMessageRequest,
    RichMenuRequest,
)

logger = logging.getLogger(__name__)

EXTENSION = "ruamkid_line"


class LineError(Exception):
    """A LINE API call failed; ``status`` is the HTTP status (None for network errors)."""

    def __init__(self, message: str, status: int | None = None, request_id: str | None = None):
        super().__init__(message)
        self.status = status
        self.request_id = request_id


class TransientLineError(LineError):
    """Worth retrying later with the same retry key."""


class PermanentLineError(LineError):
    """A retry would fail the same way."""


class UnreadableAnswer(PermanentLineError):
    """LINE accepted the request (2xx) but its answer could not be read."""


@dataclass
class Quota:
    """The month's message quota: ``limit`` is None when the plan has no limit."""

    limit: int | None
    used: int

    @property
    def remaining(self) -> int | None:
        """Return how many messages may still be sent this month (None: no limit)."""
        return None if self.limit is None else max(0, self.limit - self.used)


class LineApi:
    """A small facade over the SDK's MessagingApi and MessagingApiBlob with explicit time-outs."""

    def __init__(self, access_token: str, host: str | None = None, timeout: float = 5.0):
        # One stand-in (tests, the simulator) answers both the API and content downloads.
        hosts = {"host": host} if host else {}
        api_config = Configuration(access_token=access_token, **hosts)
        blob_config = Configuration(access_token=access_token, **hosts)
        self._api_client = ApiClient(api_config)
        self._blob_client = ApiClient(blob_config)
        self.api = MessagingApi(self._api_client)
        self.blob = MessagingApiBlob(self._blob_client)
        self.timeout = timeout

    def close(self) -> None:
        """Release the HTTP connection pools."""
        self._api_client.close()
        self._blob_client.close()

    def _call(self, what: str, function, *args, **kwargs):
        try:
            return function(*args, _request_timeout=self.timeout, **kwargs)
        except ApiException as exc:
            request_id = (exc.headers or {}).get("x-line-request-id")
            message = f"LINE {what} answered {exc.status}"
            if exc.status == 429 or exc.status >= 500:
                raise TransientLineError(message, exc.status, request_id) from exc
            raise PermanentLineError(message, exc.status, request_id) from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise TransientLineError(f"LINE {what} failed: {type(exc).__name__}") from exc
        except (pydantic.ValidationError, pydantic.v1.ValidationError) as exc:
            # LINE answered 2xx (so the request was taken) with a body the SDK cannot read.
            raise UnreadableAnswer(f"LINE {what} answered with an unexpected body") from exc

    @staticmethod
    def _build(what: str, model, data: dict[str, Any]):
        try:
            return model.from_dict(data)
        except (pydantic.ValidationError, pydantic.v1.ValidationError) as exc:
            # The SDK refuses what LINE would (e.g. 14 quick replies): a retry cannot help.
            # Only field paths and rules go into the error, never the values (residents' text).
            problems = "; ".join(
                f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}"
                for error in exc.errors()
            )
            raise PermanentLineError(f"LINE {what} request is invalid ({problems})") from exc

    def reply(self, reply_token: str, messages: list[dict[str, Any]]) -> None:
        """Answer with a reply token (free, single use, valid about a minute)."""
        data = {"replyToken": reply_token, "messages": messages}
        request = self._build("reply", ReplyMessageRequest, data)
        self._call("reply", self.api.reply_message, request)

    def push(self, to: str, messages: list[dict[str, Any]], retry_key: str) -> None:
        """Push to one user; LINE ignores a repeat with the same retry key (409)."""
        request = self._build("push", PushMessageRequest, {"to": to, "messages": messages})
        self._call("push", self.api.push_message, request, x_line_retry_key=retry_key)

    def multicast(self, to: list[str], messages: list[dict[str, Any]], retry_key: str) -> None:
        """Send to up to 500 users at once."""
        request = self._build("multicast", MulticastRequest, {"to": to, "messages": messages})
        self._call("multicast", self.api.multicast, request, x_line_retry_key=retry_key)

    def display_name(self, user_id: str) -> str | None:
        """Return the user's LINE display name, or None when LINE will not tell."""
        try:
            return self._call("profile", self.api.get_profile, user_id).display_name
        except LineError as exc:
            logger.warning("profile lookup failed: %s", exc)
            return None

    def content(self, message_id: str) -> tuple[bytes, str]:
        """Download a message's content (an image); return the bytes and content type."""
        response = self._call("content", self.blob.get_message_content_with_http_info, message_id)
        content_type = (response.headers or {}).get("Content-Type", "application/octet-stream")
        return bytes(response.data), content_type.split(";")[0].strip()

    def quota(self) -> Quota:
        """Return this month's message quota and how much of it was used."""
        limit = self._call("quota", self.api.get_message_quota)
        used = self._call("quota consumption", self.api.get_message_quota_consumption)
        value = limit.value if limit.type == "limited" else None
        return Quota(limit=value, used=used.total_usage)

    def create_rich_menu(self, menu: dict[str, Any], image: bytes) -> str:
        """Create a rich menu with its image, make it the default, and return its id."""
        request = self._build("rich menu", RichMenuRequest, menu)
        created = self._call("rich menu", self.api.create_rich_menu, request)
        rich_menu_id = created.rich_menu_id
        self._call(
            "rich menu image",
            self.blob.set_rich_menu_image,
            rich_menu_id,
            body=bytearray(image),
            _headers={"Content-Type": "image/png"},
        )
        self._call("default rich menu", self.api.set_default_rich_menu, rich_menu_id)
        return rich_menu_id


def init_app(app: Flask) -> None:
    """Remember how to reach LINE; clients are made per thread by ``line_api()``."""
    app.extensions[EXTENSION] = {
        "access_token": app.config["LINE_CHANNEL_ACCESS_TOKEN"] or "",
        "host": app.config.get("LINE_API_HOST"),
        "timeout": float(app.config["LINE_TIMEOUT"]),
    }


def line_api(app: Flask | None = None) -> LineApi:
    """Return a new LINE API facade for ``app`` (the current app by default)."""
    settings = (app or current_app).extensions[EXTENSION]
    return LineApi(**settings)
