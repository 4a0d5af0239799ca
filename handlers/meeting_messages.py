"""The messages of a feedback meeting, composed when the dispatcher sends them."""

from __future__ import annotations

from sqlmodel import Session

from bot.core import ids
from bot.core.delivery import NothingToSay
from bot.core.dependencies import Services
from bot.core.models import Checkin, FeedbackMeeting, ManagerGrant, Person
from handlers.neutral_messages import notification
from messages.content import LocaleContent
from messages.formatting import full_date
from messages.model import (
    Button,
    Message,
    Paragraph,
    Preformatted,
    TextBlock,
    clean_typed,
    mention,
)


def meeting_message(
    session: Session,
    *,
    kind: str,
    checkin_id: int,
    recipient_id: int,
    locale: LocaleContent,
    services: Services,
) -> Message:
    checkin = session.get(Checkin, checkin_id)
    recipient = session.get(Person, recipient_id)
    if checkin is None or recipient is None:
        raise NothingToSay(f"check-in {checkin_id}")
    texts = locale.checkins
    alert = notification(locale, services.settings)
    if kind == ids.CHECKIN_KIND_MEETING_GRANT:
        grant_id = checkin.key.removeprefix("grant:")
        grant = session.get(ManagerGrant, int(grant_id)) if grant_id.isdigit() else None
        person = session.get(Person, grant.person_id) if grant else None
        if grant is None or person is None or grant.revoked_at is not None:
            raise NothingToSay(f"grant {grant_id}")
        who = mention(person.user_id)
        return Message(
            notification=alert,
            title=texts["meeting_grant"]["title"],
            blocks=(Paragraph(locale.checkin("meeting_grant", "body", person=who)),),
            buttons=(
                Button(
                    ids.MEETING_PREPARE,
                    texts["meeting_grant"]["button_prepare"],
                    person.user_id,
                    "primary",
                ),
            ),
        )
    meeting = session.get(FeedbackMeeting, checkin.meeting_id) if checkin.meeting_id else None
    if meeting is None:
        raise NothingToSay(f"meeting of check-in {checkin_id}")
    person = session.get(Person, meeting.person_id)
    manager = session.get(Person, meeting.manager_id)
    if person is None or manager is None:
        raise NothingToSay(f"meeting {meeting.id}")
    to_person = recipient.id == person.id
    values = {
        "person": mention(person.user_id),
        "manager": mention(manager.user_id),
        "meeting_on": full_date(locale.locale, meeting.meeting_on),
        "follow_up_on": full_date(locale.locale, meeting.follow_up_on),
    }
    goals_button = Button(
        ids.MEETING_TO_GOALS, texts["meeting_accepted"]["button_goals"], str(meeting.id)
    )

    def say(section: str, key: str) -> str:
        return locale.checkin(section, key, **values)

    if kind == ids.CHECKIN_KIND_MEETING_AGENDA:
        return Message(
            notification=alert,
            title=say("meeting_agenda", "title"),
            blocks=(Paragraph(say("meeting_agenda", "intro")), *agenda(meeting, locale)),
        )
    if kind == ids.CHECKIN_KIND_MEETING_OFFER:
        offer = texts["meeting_offer"]
        value = str(meeting.id)
        return Message(
            notification=alert,
            title=offer["title"],
            blocks=(Paragraph(say("meeting_offer", "body")),),
            buttons=(
                Button(ids.MEETING_ACCEPT, offer["button_accept"], value, "primary"),
                Button(ids.MEETING_DECLINE, offer["button_decline"], value),
            ),
        )
    if kind == ids.CHECKIN_KIND_MEETING_ACCEPTED:
        side = "person" if to_person else "manager"
        return Message(
            notification=alert,
            title=say("meeting_accepted", f"title_{side}"),
            blocks=(Paragraph(say("meeting_accepted", f"intro_{side}")), *agenda(meeting, locale)),
            buttons=(goals_button,) if to_person else (),
        )
    if kind == ids.CHECKIN_KIND_MEETING_DECLINED:
        return Message(
            notification=alert,
            title=texts["meeting_declined"]["title"],
            blocks=(Paragraph(say("meeting_declined", "body")),),
        )
    if kind in (ids.CHECKIN_KIND_MEETING_FOLLOWUP, ids.CHECKIN_KIND_MEETING_REMINDER):
        section = (
            "meeting_followup" if kind == ids.CHECKIN_KIND_MEETING_FOLLOWUP else "meeting_reminder"
        )
        side = "person" if to_person else "manager"
        with_goals = to_person and kind == ids.CHECKIN_KIND_MEETING_FOLLOWUP
        return Message(
            notification=alert,
            title=texts[section]["title"],
            blocks=(Paragraph(say(section, f"body_{side}")),),
            buttons=(goals_button,) if with_goals else (),
        )
    raise NothingToSay(kind)


def agenda(meeting: FeedbackMeeting, locale: LocaleContent) -> tuple[TextBlock, ...]:
    """The prepared meeting as one block to copy, then its dates."""
    texts = locale.checkins["meeting_agenda"]
    parts = [
        (texts["heading_thanks"], meeting.thanks),
        (texts["heading_observed"], meeting.observed),
        (texts["heading_gaps"], meeting.gaps),
        (texts["heading_next_steps"], meeting.next_steps),
        (texts["heading_growth"], meeting.growth or ""),
    ]
    # clean_typed: rows written before typed text was cleaned on the way in name nobody either.
    text = "\n\n".join(f"{heading}\n{clean_typed(body)}" for heading, body in parts if body)
    dates = locale.checkin(
        "meeting_agenda",
        "dates",
        meeting_on=full_date(locale.locale, meeting.meeting_on),
        follow_up_on=full_date(locale.locale, meeting.follow_up_on),
    )
    return (Preformatted(text), Paragraph(dates))
