"""First-start preparation shared by ``ruamkid db upgrade``, ``ruamkid serve`` and the tests."""

from __future__ import annotations

import logging

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db import session_factory
from bot.municipality import Municipality
from storage.migrate import upgrade
from storage.models import Community

logger = logging.getLogger(__name__)


def prepare_database(app: Flask) -> None:
    """Apply migrations, then add the configured communities if there are none yet."""
    upgrade(app.config["DATABASE_URL"])
    with session_factory(app)() as session:
        added = seed_communities(session, app.extensions["ruamkid"])
        session.commit()
    if added:
        logger.info("added %d communities from the settings file", added)


def seed_communities(session: Session, municipality: Municipality) -> int:
    """Create the settings file's communities when the table is empty; return how many."""
    if session.scalar(select(func.count()).select_from(Community)):
        return 0
    for position, name in enumerate(municipality.communities):
        session.add(Community(name=name, position=position))
    return len(municipality.communities)
