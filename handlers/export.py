"""Everything stored about one person, as plain data they can keep."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from sqlmodel import col, select

from bot.core import audit
from bot.core.dependencies import Services
from bot.core.models import (
    Checkin,
    FeedbackMeeting,
    FeedbackNote,
    FeedbackRequest,
    Goal,
    Journey,
    ManagerGrant,
    Person,
)
from bot.core.person_ref import PersonRef
from bot.core.storage import people
from messages.content import LocaleContent
from messages.schema import EXPORT_SECTIONS

FORMAT_VERSION = 1


def export_data(services: Services, ref: PersonRef) -> dict[str, Any] | None:
    """The person's record, journeys, messages scheduled and sent, and goals; None if unknown."""
    with services.sessions.begin() as session:
        person = people.find_person(session, ref=ref)
        if person is None or person.id is None:
            return None
        journeys = session.exec(
            select(Journey).where(Journey.person_id == person.id).order_by(col(Journey.id))
        ).all()
        journey_ids = [j.id for j in journeys]
        checkins = session.exec(
            select(Checkin)
            .where(col(Checkin.journey_id).in_(journey_ids))
            .order_by(col(Checkin.id))
        ).all()
        goals = session.exec(
            select(Goal).where(Goal.person_id == person.id).order_by(col(Goal.id))
        ).all()
        requests = session.exec(
            select(FeedbackRequest)
            .where(FeedbackRequest.person_id == person.id)
            .order_by(col(FeedbackRequest.id))
        ).all()
        notes = session.exec(
            select(FeedbackNote)
            .where(FeedbackNote.person_id == person.id)
            .order_by(col(FeedbackNote.id))
        ).all()
        grants = session.exec(
            select(ManagerGrant)
            .where(ManagerGrant.person_id == person.id)
            .order_by(col(ManagerGrant.id))
        ).all()
        meetings = session.exec(
            select(FeedbackMeeting)
            .where(FeedbackMeeting.person_id == person.id)
            .order_by(col(FeedbackMeeting.id))
        ).all()
        managers = {
            m.manager_id: manager.user_id
            for m in meetings
            if (manager := session.get(Person, m.manager_id)) is not None
        }
        own = PersonRef(person.platform, person.workspace_id, person.user_id)
        trail = audit.about(session, own, key=services.settings.secret_key)
        locale = services.content.for_locale(person.preferred_locale, person.platform)
        return {
            "format": FORMAT_VERSION,
            "exported_at": _when(services.clock()),
            "about": about(locale, services.settings.display_name),
            "person": {
                "platform": person.platform,
                "workspace": person.workspace_id,
                "user": person.user_id,
                "time_zone": person.time_zone,
                "time_zone_chosen": person.time_zone_override,
                "locale": person.locale,
                "language_chosen": person.language,
                "working_hours": person.work_hours,
                "working_days": person.work_days,
                "first_seen": _when(person.created_at),
            },
            "journeys": [
                {
                    "id": j.id,
                    "status": j.status,
                    "step": j.stage_id,
                    "started": _when(j.started_at),
                    "ended": _when(j.ended_at),
                    "messages": [
                        {
                            "kind": c.kind,
                            "step": c.stage_id,
                            "status": c.status,
                            "due": _when(c.due_at),
                            "sent": _when(c.sent_at),
                            "your_answer": c.answer,
                            "answered": _when(c.answered_at),
                            "your_note": c.note,
                        }
                        for c in checkins
                        if c.journey_id == j.id
                    ],
                }
                for j in journeys
            ],
            "goals": [
                {
                    "what": g.what,
                    "why": g.why,
                    "first_step": g.first_step,
                    "by_when": _when(g.by_when),
                    "status": g.status,
                    "written": _when(g.created_at),
                }
                for g in goals
            ],
            "feedback_requests": [
                {
                    "asked": r.decider_user_id,
                    "to_understand": r.focus,
                    "tone": r.tone,
                    "written": _when(r.created_at),
                }
                for r in requests
            ],
            "feedback_notes": [
                {"keep": n.keep, "work_on": n.work_on, "written": _when(n.created_at)}
                for n in notes
            ],
            "managers_invited": [
                {
                    "manager": g.manager_user_id,
                    "invited": _when(g.granted_at),
                    "withdrawn": _when(g.revoked_at),
                }
                for g in grants
            ],
            "feedback_meetings": [
                {
                    "manager": managers.get(m.manager_id),
                    "status": m.status,
                    "meeting_on": _when(m.meeting_on),
                    "follow_up_on": _when(m.follow_up_on),
                    "thanks": m.thanks,
                    "observed": m.observed,
                    "gaps": m.gaps,
                    "next_steps": m.next_steps,
                    "growth": m.growth,
                    "prepared": _when(m.created_at),
                    "answered": _when(m.answered_at),
                }
                for m in meetings
            ],
            "audit_trail": [
                {
                    "when": _when(e.at),
                    "who": e.actor,
                    "for_whom": e.subject,
                    "other": e.other,
                    "what": e.action,
                    "outcome": e.outcome,
                    "reason": e.reason,
                }
                for e in trail
            ],
        }


def about(locale: LocaleContent, app_name: str) -> dict[str, Any]:
    """What the file is and what each part holds, in the person's language: the parts' own
    names stay the same in every language, for whoever reads the file with a program."""
    return {
        "title": locale.text("export_title", app_name=app_name),
        "language": locale.locale,
        "sections": {
            section: locale.text(f"export_section_{section}") for section in EXPORT_SECTIONS
        },
    }


def export_json(data: dict[str, Any]) -> str:
    """The export as the file a person receives, the same on every platform."""
    return json.dumps(data, indent=2, ensure_ascii=False)


def _when(moment: datetime | date | None) -> str | None:
    return moment.isoformat() if moment is not None else None
