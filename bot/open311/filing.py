"""A partner app files a need (``POST requests``): checked field by field, then filed through
``bot.needs.actions`` as a LINE message is, with the service code fixing its sub-area.

The reporter's email, names and phone are kept in ``storage.open311`` (personal data, erased
with the need's words); ``media_url``, ``device_id`` and ``account_id`` are not kept.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

import nlp
from bot.needs import actions
from bot.needs.classification import Classification, classification_of
from bot.open311.formats import Open311Error
from storage.models import Submission
from storage.open311 import MAX_NAME, Open311Key, Open311Reporter

logger = logging.getLogger(__name__)

MAX_DESCRIPTION = 4000  # the spec's limit
MAX_ADDRESS = 500
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{6,30}$")


@dataclass(frozen=True)
class Request:
    """A checked ``POST requests``."""

    service_code: str
    description: str | None
    latitude: float | None
    longitude: float | None
    address: str | None
    email: str | None
    first_name: str | None
    last_name: str | None
    phone: str | None


def parse(form: Mapping[str, str], taxonomy: nlp.Taxonomy) -> Request:
    """Check the posted fields; raise :class:`Open311Error` (400) naming the first bad one."""
    code = (form.get("service_code") or "").strip()
    if not code:
        raise Open311Error(400, "service_code is required (ต้องระบุ service_code)")
    if code not in taxonomy.subarea_codes:
        raise Open311Error(400, f"service_code {code!r} not found (ไม่พบ service_code นี้)")
    latitude = _coordinate(form, "lat", 90)
    longitude = _coordinate(form, "long", 180)
    if (latitude is None) != (longitude is None):
        raise Open311Error(400, "lat and long go together (ต้องระบุ lat และ long คู่กัน)")
    address = _text(form, "address_string", MAX_ADDRESS)
    if latitude is None and address is None:
        raise Open311Error(
            400, "a location is required: lat and long, or address_string (ต้องระบุตำแหน่ง)"
        )
    email = _text(form, "email", 254)
    if email is not None and not EMAIL.match(email):
        raise Open311Error(400, "email is not an email address (อีเมลไม่ถูกต้อง)")
    phone = _text(form, "phone", 32)
    if phone is not None and not (PHONE.match(phone) and 9 <= _digits(phone) <= 15):
        raise Open311Error(400, "phone is not a phone number (หมายเลขโทรศัพท์ไม่ถูกต้อง)")
    return Request(
        service_code=code,
        description=_text(form, "description", MAX_DESCRIPTION),
        latitude=latitude,
        longitude=longitude,
        address=address,
        email=email,
        first_name=_text(form, "first_name", MAX_NAME),
        last_name=_text(form, "last_name", MAX_NAME),
        phone=phone,
    )


def file_request(
    session: Session,
    request: Request,
    key: Open311Key,
    classifier: nlp.Classifier,
    *,
    prefix: str,
) -> Submission:
    """File the need in the staff queue with its tracking number; the caller commits."""
    taxonomy = classifier.taxonomy
    strategy = taxonomy.strategy_of_subarea(request.service_code)
    classification = None
    if request.description:
        classification = _fixed(
            classification_of(classifier.classify(request.description)),
            strategy,
            request.service_code,
        )
    need = actions.create_need(
        session,
        None,
        prefix=prefix,
        text=request.description,
        classification=classification,
        source="open311",
        actor=f"open311:{key.id}",
    )
    if classification is None:
        need.strategy, need.subarea = strategy.code, request.service_code
    if request.latitude is not None and request.longitude is not None:
        actions.set_place(need, request.latitude, request.longitude, request.address)
    else:
        need.address = request.address
    if request.email or request.first_name or request.last_name or request.phone:
        session.add(
            Open311Reporter(
                submission_id=need.id,
                key_id=key.id,
                email=request.email,
                first_name=request.first_name,
                last_name=request.last_name,
                phone=request.phone,
            )
        )
    logger.info("open311: key %d filed submission %d", key.id, need.id)
    return need


def _fixed(classification: Classification, strategy: nlp.Strategy, code: str) -> Classification:
    """The model's reading of the words (kind, confidence), in the category the app chose."""
    return Classification(
        kind=classification.kind if classification.kind != "other" else "need",
        strategy=strategy.code,
        subarea=code,
        confidence=classification.confidence,
        top3=classification.top3,
        unsure=False,
        model_version=classification.model_version,
        embedding=classification.embedding,
        strategy_name=strategy.name,
        subarea_name=strategy.subarea(code).name,
    )


def _text(form: Mapping[str, str], name: str, limit: int) -> str | None:
    raw = form.get(name) or ""
    # A description keeps its lines; every other field is one line.
    value = raw.strip() if name == "description" else " ".join(raw.split())
    if not value:
        return None
    if len(value) > limit:
        raise Open311Error(400, f"{name} is longer than {limit} characters (ยาวเกินกำหนด)")
    return value


def _coordinate(form: Mapping[str, str], name: str, bound: float) -> float | None:
    raw = (form.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise Open311Error(400, f"{name} is not a number (ต้องเป็นตัวเลข)") from None
    if not math.isfinite(value) or abs(value) > bound:
        raise Open311Error(400, f"{name} is out of range (อยู่นอกช่วงที่ถูกต้อง)")
    return value


def _digits(text: str) -> int:
    return sum(ch.isdigit() for ch in text)
