"""The audit trail of the manager flow: who did what, for whom, when, and the outcome.

Rows hold user ids. When a person erases their data, their id in every row becomes "h:" and a
keyed hash of it (HMAC-SHA256 with NOTPROMOTED_SECRET_KEY): the trail keeps its shape and can
still be searched for that person by whoever knows the id, but no longer holds it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import func, or_, update
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from bot.core.models import AuditEntry
from bot.core.person_ref import PersonRef

HASH_PREFIX = "h:"

# What an entry records (action) and how it ended (outcome).
GRANT = "grant"
WITHDRAW = "withdraw"
PREPARE = "prepare"
ACCEPT = "accept"
DECLINE = "decline"
INSTALL = "install"
UNINSTALL = "uninstall"
ALLOWED = "allowed"
REFUSED = "refused"
DONE = "done"
# Data lifecycle: the retention job's purges, and HR's export and erase requests (bot.cli).
PURGE = "purge"
EXPORT = "export"
ERASE = "erase"
ERASED = "erased"  # the person and everything about them
JOURNEYS_ONLY = "journeys"  # old journeys only; the person has a live one
# Why an invitation sent nobody a message, or was refused
# (handlers.manager_invitation.invite_manager).
RENEWED = "renewed"
DAILY_LIMIT = "daily_limit"

# The actor of what the platform did on its own, like removing the app from a workspace.
PLATFORM_ACTOR = "platform"


def hashed(user_id: str, key: str) -> str:
    digest = hmac.new(key.encode(), user_id.encode(), hashlib.sha256).hexdigest()
    return HASH_PREFIX + digest


def record(
    session: Session,
    *,
    at: datetime,
    actor: PersonRef,
    action: str,
    outcome: str,
    subject: str | None = None,
    other: str | None = None,
    reason: str | None = None,
) -> None:
    session.add(
        AuditEntry(
            at=at,
            platform=actor.platform,
            workspace_id=actor.workspace_id,
            actor=actor.user_id,
            subject=subject,
            other=other,
            action=action,
            outcome=outcome,
            reason=reason,
        )
    )


def about(session: Session, person: PersonRef, *, key: str | None) -> Sequence[AuditEntry]:
    """Every row of the person's own workspace naming them, as actor, subject or other, by id
    or by its hash. A user id is only unique within a workspace: the same id elsewhere is
    someone else, whose rows are not this person's to see."""
    return session.exec(
        _naming(person.user_id, key)
        .where(
            AuditEntry.platform == person.platform,
            AuditEntry.workspace_id == person.workspace_id,
        )
        .order_by(col(AuditEntry.at), col(AuditEntry.id))
    ).all()


def _naming(user_id: str, key: str | None) -> SelectOfScalar[AuditEntry]:
    names = _names(user_id, key)
    return select(AuditEntry).where(
        or_(
            col(AuditEntry.actor).in_(names),
            col(AuditEntry.subject).in_(names),
            col(AuditEntry.other).in_(names),
        )
    )


def entries(
    session: Session, *, since: datetime | None, user_id: str | None, key: str | None
) -> Sequence[AuditEntry]:
    """The trail for the deployment's operators (`notpromoted audit`): every workspace."""
    query = (select(AuditEntry) if user_id is None else _naming(user_id, key)).order_by(
        col(AuditEntry.at), col(AuditEntry.id)
    )
    if since is not None:
        query = query.where(col(AuditEntry.at) >= since)
    return session.exec(query).all()


def invitations_told(
    session: Session,
    actor: PersonRef,
    *,
    since: datetime,
    key: str | None,
    manager: str | None = None,
) -> int:
    """How many invitations this person sent since `since` that messaged a manager (`manager`
    only, if given). Counted from the trail, which every process shares and which keeps the
    rows after a withdrawal and, hashed, after an erase."""
    query = select(func.count()).where(
        AuditEntry.platform == actor.platform,
        AuditEntry.workspace_id == actor.workspace_id,
        col(AuditEntry.actor).in_(_names(actor.user_id, key)),
        AuditEntry.action == GRANT,
        AuditEntry.outcome == DONE,
        col(AuditEntry.reason).is_(None),
        col(AuditEntry.at) >= since,
    )
    if manager is not None:
        query = query.where(col(AuditEntry.other).in_(_names(manager, key)))
    return int(session.exec(query).one())


def _names(user_id: str, key: str | None) -> list[str]:
    """A user id as the trail may hold it: as it is, or hashed once they erased their data."""
    return [user_id] + ([hashed(user_id, key)] if key else [])


def forget_user(session: Session, person: PersonRef, *, key: str) -> None:
    """Replace this person's id with its keyed hash wherever their workspace's rows name them
    (the same id in another workspace is someone else)."""
    stand_in = hashed(person.user_id, key)
    for column in ("actor", "subject", "other"):
        field = getattr(AuditEntry, column)
        session.exec(
            update(AuditEntry)
            .where(
                col(field) == person.user_id,
                col(AuditEntry.platform) == person.platform,
                col(AuditEntry.workspace_id) == person.workspace_id,
            )
            .values({column: stand_in})
        )


def forget_workspaces(
    session: Session, *, platform: str, workspace_ids: Collection[str], key: str
) -> None:
    """Replace every user id that rows of these workspaces still hold (the app was removed)."""
    rows = session.exec(
        select(AuditEntry).where(
            AuditEntry.platform == platform, col(AuditEntry.workspace_id).in_(workspace_ids)
        )
    ).all()
    for row in rows:
        for column in ("actor", "subject", "other"):
            value = getattr(row, column)
            if value and value != PLATFORM_ACTOR and not value.startswith(HASH_PREFIX):
                setattr(row, column, hashed(value, key))
        session.add(row)
