"""A workspace adds or removes the app: the audit trail, and erasing everyone in it."""

from __future__ import annotations

import logging

from bot.core import audit
from bot.core.dependencies import Services
from bot.core.erasure import audit_key, erase_person
from bot.core.person_ref import PersonRef
from bot.core.storage.people import people_of_workspace

logger = logging.getLogger(__name__)


def record_install(services: Services, installer: PersonRef) -> None:
    with services.sessions.begin() as session:
        audit.record(
            session,
            at=services.clock(),
            actor=installer,
            action=audit.INSTALL,
            outcome=audit.DONE,
        )


def forget_workspace(
    services: Services,
    *,
    platform: str,
    workspace_id: str | None,
    enterprise_id: str | None,
    reason: str,
) -> int:
    """Erase everyone in a workspace the app was removed from (with no workspace, a whole Grid
    org), each as `forget` would, with their pending messages; the workspace's audit rows keep
    only keyed hashes of user ids. How many people were erased.

    Safe to run again: the second of Slack's two removal events finds no one left.
    """
    place = workspace_id or enterprise_id
    if place is None:
        return 0
    with services.sessions.begin() as session:
        people = people_of_workspace(
            session, platform=platform, workspace_id=workspace_id, enterprise_id=enterprise_id
        )
        for person in people:
            erase_person(session, services, person)
        # Ids of people who kept no data here (the installer, say) leave the trail too.
        audit.forget_workspaces(
            session,
            platform=platform,
            workspace_ids={place, *(person.workspace_id for person in people)},
            key=audit_key(services),
        )
        audit.record(
            session,
            at=services.clock(),
            actor=PersonRef(platform, place, audit.PLATFORM_ACTOR, enterprise_id=enterprise_id),
            action=audit.UNINSTALL,
            outcome=audit.DONE,
            reason=reason,
        )
    logger.info("%s: erased %s people of %s", reason, len(people), place)
    return len(people)
