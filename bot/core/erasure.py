"""Erasing a person: everything about them goes; the audit trail keeps a keyed hash of their id.

One rule for every way in: the person's own `forget`, an operator's `erase`, retention, and a
workspace removing the app.
"""

from __future__ import annotations

import logging
import secrets

from sqlmodel import Session

from bot.core import audit
from bot.core.dependencies import Services
from bot.core.models import Person
from bot.core.person_ref import PersonRef
from bot.core.storage import people

logger = logging.getLogger(__name__)


def erase_person(session: Session, services: Services, person: Person) -> None:
    """Delete everything about the person; the audit trail keeps a keyed hash of their id."""
    assert person.id is not None
    people.delete_person(session, person_id=person.id)
    own = PersonRef(person.platform, person.workspace_id, person.user_id)
    audit.forget_user(session, own, key=audit_key(services))


def audit_key(services: Services) -> str:
    """The key of the hashes that stand in for erased ids in the audit trail."""
    key = services.settings.secret_key
    if key is None:  # only outside serve, socket and worker, which require one
        logger.warning("NOTPROMOTED_SECRET_KEY is not set: erased ids are hashed with a random key")
        key = secrets.token_urlsafe(32)
    return key
