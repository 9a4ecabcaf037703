"""Open311 GeoReport v2 under ``/open311/v2``: discovery, services, requests (read and file).

Reads are public and anonymised by ``storage.public`` (the one set of rules: no names, no
words unless staff made them public, places on a 100 m grid). Filing needs an API key an admin
issued (``bot.open311.keys``). Every route answers ``.json`` or ``.xml``; errors are the spec's
list of ``{code, description}`` with 400, 403 or 404.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, current_app, request, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from bot.db import get_session
from bot.needs import classification
from bot.needs.statuses import CLOSED, STATUS_LABELS, status_label
from bot.open311 import filing
from bot.open311.formats import FORMATS, Open311Error, answer, error, timestamp
from bot.thai import BANGKOK
from storage import open311
from storage.base import utcnow
from storage.public import MAX_LIMIT, PublicNeed, public_need, public_needs

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# When this API last changed (the discovery's changeset).
CHANGESET = "2026-11-30T00:00:00+07:00"
OPEN = tuple(code for code in STATUS_LABELS if code not in CLOSED)
# The spec's default window when a search gives no dates.
DEFAULT_DAYS = 90
PAGE_SIZE = 50


def _format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise Open311Error(404, f"format {fmt!r} not supported: use json or xml")
    return fmt


@bp.errorhandler(Open311Error)
def _open311_error(exc: Open311Error) -> Response:
    return error(_requested_format(), exc.status, exc.description)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response:
    # 404s, 405s and the rate limit's 429 in the spec's shape too.
    return error(_requested_format(), exc.code or 500, exc.description or exc.name)


def _requested_format() -> str:
    return "xml" if request.path.endswith(".xml") else "json"


@bp.get("/discovery.<fmt>")
def discovery(fmt: str) -> Response:
    """Describe this endpoint: its specification, formats and how to get a key."""
    fmt = _format(fmt)
    municipality = current_app.extensions["ruamkid"]
    data = {
        "changeset": CHANGESET,
        "contact": " ".join(part for part in (municipality.name, municipality.phone) if part),
        "key_service": f"ขอ API key จากผู้ดูแลระบบของ{municipality.name}",
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": url_for("open311.discovery", fmt="json", _external=True).rsplit("/", 1)[0],
                "changeset": CHANGESET,
                "type": "production",
                "formats": list(FORMATS.values()),
            }
        ],
    }
    return answer(fmt, data, "discovery")


@bp.get("/services.<fmt>")
def services(fmt: str) -> Response:
    """List the services: the plan's sub-areas, grouped by strategy."""
    fmt = _format(fmt)
    taxonomy = classification.taxonomy()
    data = [
        {
            "service_code": sub.code,
            "service_name": sub.name,
            "description": f"{strategy.name}: {sub.name}",
            "metadata": False,
            "type": "realtime",
            "keywords": ", ".join(sub.keywords),
            "group": strategy.name,
        }
        for strategy in taxonomy.strategies
        for sub in strategy.subareas
    ]
    return answer(fmt, data, "services", "service")


@bp.get("/services/<code>.<fmt>")
def service_definition(code: str, fmt: str) -> Response:
    """Define one service: no extra attributes are asked."""
    fmt = _format(fmt)
    if code not in classification.taxonomy().subarea_codes:
        raise Open311Error(404, f"service_code {code!r} not found")
    return answer(fmt, {"service_code": code, "attributes": []}, "service_definition")


@bp.get("/requests.<fmt>")
def requests_list(fmt: str) -> Response:
    """Search public needs: by id, service code, open/closed and dates; page and page_size."""
    fmt = _format(fmt)
    session = get_session()
    args = request.args
    ids = _split(args.get("service_request_id"))
    if ids:
        found = (public_need(session, tracking) for tracking in ids[:MAX_LIMIT])
        return _requests(fmt, [need for need in found if need is not None])
    statuses = _statuses(args.get("status"))
    since = _date(args.get("start_date"), "start_date")
    until = _date(args.get("end_date"), "end_date")
    if since is None and until is None:
        since = utcnow() - timedelta(days=DEFAULT_DAYS)
    page, size = _number(args, "page", 1, 10**6), _number(args, "page_size", PAGE_SIZE, MAX_LIMIT)
    needs = public_needs(
        session,
        subareas=_split(args.get("service_code")) or None,
        statuses=statuses,
        since=since,
        until=until,
        limit=size,
        offset=(page - 1) * size,
    )
    return _requests(fmt, needs)


@bp.get("/requests/<tracking>.<fmt>")
def request_detail(tracking: str, fmt: str) -> Response:
    """Return one public need by its tracking number (``service_request_id``)."""
    fmt = _format(fmt)
    need = public_need(get_session(), tracking)
    if need is None:
        raise Open311Error(404, f"service_request_id {tracking!r} not found")
    return _requests(fmt, [need])


@bp.post("/requests.<fmt>")
def create_request(fmt: str) -> Response:
    """File a need for a partner app holding an API key; answer its tracking number."""
    fmt = _format(fmt)
    session = get_session()
    key = open311.active_key(session, request.form.get("api_key"))
    if key is None:
        raise Open311Error(403, "api_key missing, unknown or revoked (API key ไม่ถูกต้อง)")
    classifier = classification.classifier()
    parsed = filing.parse(request.form, classifier.taxonomy)
    need = filing.file_request(
        session,
        parsed,
        key,
        classifier,
        prefix=current_app.extensions["ruamkid"].tracking_prefix,
    )
    session.commit()
    notice = "ได้รับเรื่องแล้ว ติดตามสถานะได้ด้วยหมายเลขนี้"
    data = [{"service_request_id": need.tracking_no, "service_notice": notice, "account_id": None}]
    return answer(fmt, data, "service_requests", "request", status=201)


def _requests(fmt: str, needs: list[PublicNeed]) -> Response:
    return answer(fmt, [_record(need) for need in needs], "service_requests", "request")


def _record(need: PublicNeed) -> dict[str, Any]:
    """A need in the spec's fields (anonymised: no address, the grid's place)."""
    taxonomy = classification.taxonomy()
    service_name = division = None
    if need.strategy in taxonomy.strategy_codes:
        strategy = taxonomy.strategy(need.strategy)
        division = strategy.division or None
        service_name = strategy.name
        if need.subarea in taxonomy.subarea_codes:
            service_name = taxonomy.subarea_name(need.subarea)
    return {
        "service_request_id": need.tracking,
        "status": "closed" if need.status in CLOSED else "open",
        "status_notes": status_label(need.status),
        "service_name": service_name,
        "service_code": need.subarea,
        "description": need.text,
        "agency_responsible": division,
        "service_notice": None,
        "requested_datetime": timestamp(need.created_at),
        "updated_datetime": timestamp(need.updated_at),
        "expected_datetime": None,
        "address": None,
        "address_id": None,
        "zipcode": None,
        "lat": need.latitude,
        "long": need.longitude,
        "media_url": None,
    }


def _split(raw: str | None) -> list[str]:
    return [part.strip() for part in (raw or "").split(",") if part.strip()]


def _statuses(raw: str | None) -> tuple[str, ...] | None:
    wanted = set(_split(raw))
    if not wanted:
        return None
    if not wanted <= {"open", "closed"}:
        raise Open311Error(400, "status must be open, closed or both")
    if wanted == {"open", "closed"}:
        return None
    return OPEN if "open" in wanted else tuple(sorted(CLOSED))


def _date(raw: str | None, name: str) -> datetime | None:
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.strip().replace(" ", "+"))
    except ValueError:
        raise Open311Error(400, f"{name} is not an ISO 8601 time") from None
    # A time without an offset is the municipality's (Bangkok) time.
    return value if value.tzinfo is not None else value.replace(tzinfo=BANGKOK)


def _number(args: Any, name: str, default: int, largest: int) -> int:
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= largest:
        raise Open311Error(400, f"{name} must be a whole number from 1 to {largest}")
    return int(raw)
