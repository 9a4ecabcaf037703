"""The release step, shared by ``ruamkid db upgrade`` (the Procfile's release), ``ruamkid serve``
and the tests: migrations, the first communities, and a classifier model that is current."""

from __future__ import annotations

import logging

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db import session_factory
from bot.municipality import Municipality
from bot.needs.classification import classifier
from bot.training import runs
from storage.migrate import upgrade
from storage.models import Community
from storage.routing import Division, RoutingRule

logger = logging.getLogger(__name__)


def prepare_database(app: Flask) -> None:
    """Apply migrations, add the configured communities if there are none yet, build the model."""
    upgrade(app.config["DATABASE_URL"])
    with session_factory(app)() as session:
        added = seed_communities(session, app.extensions["ruamkid"])
        seed_routing(session, app.extensions["ruamkid"])
        session.commit()
    if added:
        logger.info("added %d communities from the settings file", added)
    ensure_model(app)


def ensure_model(app: Flask) -> bool:
    """Train a model now unless the active one is current; return True if training ran.

    Here, at release, not on a resident's first message: a fresh install trains from the shipped
    corpus, and an upgrade that brings a new corpus or training recipe retrains with the real
    labels (activated only if not worse on them, as "train now" would).
    """
    if classifier(app).is_current():
        return False
    logger.info("the classifier model is missing or out of date: training it now")
    run, _ = runs.run_next(app, "release")
    logger.info("model %s (%s): %s", run.version, run.status, run.reason or run.error)
    return True


def seed_communities(session: Session, municipality: Municipality) -> int:
    """Create the settings file's communities when the table is empty; return how many."""
    if session.scalar(select(func.count()).select_from(Community)):
        return 0
    for position, name in enumerate(municipality.communities):
        session.add(Community(name=name, position=position))
    return len(municipality.communities)


def seed_routing(session: Session, municipality: Municipality) -> int:
    """Create the settings file's divisions and routing rules when there are no divisions yet;
    return how many divisions were added (admins edit them afterwards)."""
    if session.scalar(select(func.count()).select_from(Division)):
        return 0
    divisions = {}
    for position, (code, name, description) in enumerate(municipality.divisions):
        divisions[code] = Division(code=code, name=name, description=description, position=position)
        session.add(divisions[code])
    for subarea, kind, code, days, review in municipality.rules:
        session.add(
            RoutingRule(
                subarea=subarea,
                kind=kind,
                division=divisions[code] if code else None,
                due_days=days,
                review_date=review,
            )
        )
    session.flush()
    return len(divisions)
