"""The person's private home: where they are, what comes next and when, goals, controls."""

from __future__ import annotations

from sqlmodel import Session, col, select

from bot.core import ids
from bot.core.checkin_planning import person_time
from bot.core.dependencies import Services
from bot.core.models import Checkin, CheckinStatus, FeedbackMeeting, Journey, JourneyStatus, Person
from bot.core.person_ref import PersonRef
from bot.core.storage import journeys, people
from bot.core.working_calendar import spread
from handlers import journey_controls
from handlers.feedback import notes_of
from handlers.goals import active_goal_rows
from handlers.manager_invitation import live_grants
from handlers.neutral_messages import format_when, home_message
from messages.content import LocaleContent
from messages.formatting import short_date
from messages.model import (
    Bullets,
    Button,
    Confirm,
    Message,
    Paragraph,
    Row,
    TextBlock,
    clean_typed,
    mention,
)


def home(services: Services, ref: PersonRef) -> Message:
    line = journey_controls.status_line(services, ref)
    with services.sessions.begin() as session:
        person = people.find_person(session, ref=ref)
        locale = services.content.for_locale(
            person.preferred_locale if person else None, ref.platform
        )
        if person is None or line is None:
            return home_message(locale, services.settings, status_line=None)
        base = home_message(locale, services.settings, status_line=line)
        blocks: list[TextBlock] = list(base.blocks[:1])
        upcoming = _next_message(session, services, person, locale)
        if upcoming:
            blocks.append(Paragraph(upcoming))
        notes = _notes(session, person, locale)
        if notes:
            blocks += [Paragraph(locale.text("home_notes")), Bullets(tuple(notes))]
        blocks += base.blocks[1:]
        goals = active_goal_rows(session, person, locale)
        if goals:
            blocks.append(Paragraph(locale.text("home_goals")))
            progress = _last_progress(session, person, locale)
            if progress:
                blocks.append(Paragraph(progress))
        journey = journeys.open_journey(session, person_id=person.id or 0)
        return Message(
            notification=base.notification,
            title=base.title,
            blocks=tuple(blocks),
            links=base.links,
            rows=(
                *(_goal_row(locale, goal_id, text) for goal_id, text in goals),
                *_manager_rows(session, person, locale),
            ),
            buttons=_controls(locale, journey),
        )


def invitations(services: Services, ref: PersonRef) -> Message | None:
    """The managers the person has invited, each with a way to withdraw; None if none."""
    with services.sessions.begin() as session:
        person = people.find_person(session, ref=ref)
        if person is None:
            return None
        locale = services.content.for_locale(person.preferred_locale, person.platform)
        rows = _invitation_rows(session, person, locale)
        if not rows:
            return None
        base = home_message(locale, services.settings, status_line=None)
        section = locale.checkin("meeting_home", "section")
        return Message(notification=base.notification, blocks=(Paragraph(section),), rows=rows)


def _last_progress(session: Session, person: Person, locale: LocaleContent) -> str | None:
    """How the person last said their goals were going, with their note."""
    row = session.exec(
        select(Checkin)
        .join(Journey, col(Journey.id) == col(Checkin.journey_id))
        .where(
            Journey.person_id == person.id,
            Checkin.kind == ids.CHECKIN_KIND_GOAL_PROGRESS,
            col(Checkin.answered_at).is_not(None),
        )
        .order_by(col(Checkin.answered_at).desc())
        .limit(1)
    ).first()
    labels = {
        ids.NUDGE_ON_TRACK: "button_on_track",
        ids.NUDGE_STUCK: "button_stuck",
        ids.NUDGE_DONE: "button_done",
        ids.NUDGE_LET_GO: "button_let_go",
    }
    if row is None or row.answer not in labels or row.answered_at is None:
        return None
    said = locale.checkin("goal_progress", labels[row.answer])
    line = locale.text(
        "home_progress", answer=said, date=short_date(locale.locale, row.answered_at.date())
    )
    return f"{line} {clean_typed(row.note)}" if row.note else line


def _notes(session: Session, person: Person, locale: LocaleContent) -> list[str]:
    lines: list[str] = []
    for note in notes_of(session, person):
        if note.keep:
            lines.append(locale.text("home_note_keep", text=clean_typed(note.keep)))
        if note.work_on:
            lines.append(locale.text("home_note_work_on", text=clean_typed(note.work_on)))
    return lines


def _manager_rows(session: Session, person: Person, locale: LocaleContent) -> list[Row]:
    """Who the person invited (each with a way to withdraw), and their meetings."""
    texts = locale.checkins["meeting_home"]
    grants = live_grants(session, person)
    meetings = session.exec(
        select(FeedbackMeeting)
        .where(FeedbackMeeting.person_id == person.id)
        .order_by(col(FeedbackMeeting.id))
    ).all()
    rows = [Row(texts["section"])]
    if not grants and not meetings:
        rows.append(Row(texts["none"]))
    rows += _invitation_rows(session, person, locale)
    for meeting in meetings:
        manager = session.get(Person, meeting.manager_id)
        rows.append(
            Row(
                locale.checkin(
                    "meeting_home",
                    "meeting",
                    manager=mention(manager.user_id) if manager else "",
                    meeting_on=short_date(locale.locale, meeting.meeting_on),
                    status=texts[f"status_{meeting.status}"],
                )
            )
        )
    return rows


def _invitation_rows(session: Session, person: Person, locale: LocaleContent) -> tuple[Row, ...]:
    rows = []
    for grant in live_grants(session, person):
        line = locale.checkin(
            "meeting_home",
            "invited",
            manager=mention(grant.manager_user_id),
            date=short_date(locale.locale, grant.granted_at.date()),
        )
        label = locale.checkin("meeting_home", "button_withdraw")
        rows.append(Row(line, (Button(ids.MANAGER_REVOKE, label, str(grant.id)),)))
    return tuple(rows)


def _goal_row(locale: LocaleContent, goal_id: int, text: str) -> Row:
    value = str(goal_id)
    return Row(
        text=text,
        buttons=(
            Button(ids.GOAL_DONE, locale.text("goal_done"), value),
            Button(ids.GOAL_DROP, locale.text("goal_drop"), value),
        ),
    )


def _next_message(
    session: Session, services: Services, person: Person, locale: LocaleContent
) -> str | None:
    """The next message scheduled for later, in the person's own time."""
    now = services.clock()
    # Through the person's journeys, then chosen here: a condition on the check-in's status
    # would let SQLite walk every pending row of every person by the status index.
    theirs = session.exec(
        select(Checkin)
        .join(Journey, col(Journey.id) == col(Checkin.journey_id))
        .where(
            Journey.person_id == person.id,
            col(Journey.status).in_((JourneyStatus.ACTIVE, JourneyStatus.COMPLETED)),
        )
    ).all()
    later = [c for c in theirs if c.status == CheckinStatus.PENDING and c.due_at > now]
    row = min(later, key=lambda c: (c.due_at, c.id or 0), default=None)
    if row is None:
        return None
    if row.kind == ids.CHECKIN_KIND_STAGE and row.stage_id in locale.stages:
        what = locale.stages[row.stage_id].title
    elif row.kind in locale.checkins:
        what = locale.checkin(row.kind, "title")
    else:
        return None
    zone, _ = person_time(session, person=person, settings=services.settings)
    # Shown as the time it was planned for, not the minutes it is spread by.
    shown = row.due_at - spread(row.id or 0, services.content.timing.spread_minutes)
    return locale.text("home_next", when=format_when(locale, shown, zone, now), what=what)


def _controls(locale: LocaleContent, journey: Journey | None) -> tuple[Button, ...]:
    buttons = [
        Button(ids.OPEN_FEEDBACK_FORM, locale.text("home_button_feedback"), "home"),
        Button(ids.OPEN_GOALS_FORM, locale.text("home_button_goals"), "home"),
        Button(ids.OPEN_HOURS_FORM, locale.text("home_button_hours"), "home"),
        Button(ids.OPEN_LANGUAGE_FORM, locale.text("home_button_language"), "home"),
        Button(ids.OPEN_MANAGER_INVITE, locale.checkin("meeting_home", "button_invite"), "home"),
    ]
    if journey is not None and journey.status == JourneyStatus.ACTIVE:
        buttons.append(Button(ids.HOME_PAUSE, locale.text("home_button_pause"), "pause"))
    elif journey is not None:
        buttons.append(Button(ids.HOME_RESUME, locale.text("home_button_resume"), "resume"))
    buttons.append(Button(ids.HOME_EXPORT, locale.text("home_button_export"), "export"))
    confirm = Confirm(
        title=locale.text("erase_confirm_title"),
        text=locale.text("erase_confirm_text"),
        yes=locale.text("erase_confirm_yes"),
        no=locale.text("erase_confirm_no"),
    )
    buttons.append(
        Button(ids.HOME_ERASE, locale.text("home_button_erase"), "erase", "danger", confirm)
    )
    return tuple(buttons)
