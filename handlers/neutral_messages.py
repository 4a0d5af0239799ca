"""Neutral messages built from the content files: stages, help, status lines, the home tab."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core import ids
from bot.core.config import Settings
from messages.content import Content, LocaleContent
from messages.formatting import clock, day_in_sentence, day_names
from messages.model import Button, Link, Message, Paragraph, TextBlock, parse_text


def plain(locale: LocaleContent, settings: Settings, text: str) -> Message:
    return Message(notification=notification(locale, settings), blocks=(Paragraph(text),))


def notification(locale: LocaleContent, settings: Settings) -> str:
    return locale.text("notification", app_name=settings.display_name)


def safety_net(locale: LocaleContent, settings: Settings) -> tuple[TextBlock | None, Link | None]:
    eap = settings.company_links.get("eap")
    if eap:
        return None, Link(lead=locale.text("safety_net_eap"), url=eap)
    return Paragraph(locale.text("safety_net")), None


def stage_message(
    *,
    content: Content,
    locale: LocaleContent,
    settings: Settings,
    stage_id: str,
    checkin_id: int,
) -> Message:
    stage = locale.stages[stage_id]
    number, total = content.position(stage_id), len(content.stage_order)
    blocks = list(parse_text(stage.body))
    links: list[Link] = []
    with_safety_net = stage_id == content.safety_net_stage
    if with_safety_net:
        paragraph, link = safety_net(locale, settings)
        if paragraph:
            blocks.append(paragraph)
        if link:
            links.append(link)
    for stage_link in stage.links:
        url = settings.company_links.get(stage_link.key)
        if url and not (with_safety_net and stage_link.key == "eap"):
            links.append(Link(lead=stage_link.text, url=url))
    value = str(checkin_id)
    last = number == total
    return Message(
        notification=notification(locale, settings),
        title=stage.title,
        blocks=tuple(blocks),
        links=tuple(links),
        todo=stage.todo,
        todo_lead=locale.text("todo_lead"),
        note=locale.text("step_note", number=number, total=total),
        buttons=(
            Button(
                ids.STAGE_NEXT,
                locale.text("button_finish" if last else "button_next"),
                value,
                "primary",
            ),
            Button(ids.STAGE_SNOOZE, locale.text("button_snooze"), value),
            Button(ids.STAGE_STOP, locale.text("button_stop"), value),
            *_helpers(content, locale, stage_id),
        ),
    )


def _helpers(content: Content, locale: LocaleContent, stage_id: str) -> tuple[Button, ...]:
    """The form a stage offers beside its choices: asking for feedback, writing goals."""
    if stage_id == content.feedback_helper_stage:
        return (Button(ids.OPEN_FEEDBACK_FORM, locale.text("button_feedback_help"), "stage"),)
    if stage_id == content.goals_helper_stage:
        return (Button(ids.OPEN_GOALS_FORM, locale.text("button_write_goals"), "stage"),)
    if stage_id == content.manager_helper_stage:
        label = locale.checkin("meeting_stage", "button_invite")
        return (Button(ids.OPEN_MANAGER_INVITE, label, "stage"),)
    return ()


def finished_message(locale: LocaleContent, settings: Settings) -> Message:
    return Message(
        notification=notification(locale, settings),
        title=locale.text("finished_title"),
        blocks=parse_text(locale.text("finished_body")),
        todo=locale.text("finished_todo"),
        todo_lead=locale.text("todo_lead"),
    )


def help_message(
    locale: LocaleContent, settings: Settings, *, unknown_text: str | None = None
) -> Message:
    blocks: list[TextBlock] = []
    if unknown_text is not None:
        shown = unknown_text if len(unknown_text) <= 60 else unknown_text[:59] + "…"
        blocks.append(Paragraph(locale.text("unknown_command", text=shown)))
    blocks.extend(parse_text(locale.text("help_body")))
    paragraph, link = safety_net(locale, settings)
    if paragraph:
        blocks.append(paragraph)
    return Message(
        notification=notification(locale, settings),
        title=locale.text("help_title"),
        blocks=tuple(blocks),
        links=(link,) if link else (),
    )


def forget_prompt(locale: LocaleContent, settings: Settings) -> Message:
    return Message(
        notification=notification(locale, settings),
        blocks=(Paragraph(locale.text("forget_prompt")),),
        buttons=(
            Button(ids.FORGET_CONFIRM, locale.text("forget_confirm"), "confirm", "danger"),
            Button(ids.FORGET_CANCEL, locale.text("forget_cancel"), "cancel"),
        ),
    )


def format_when(locale: LocaleContent, due_at: datetime, zone: ZoneInfo, now: datetime) -> str:
    """ "today at 15:00", "tomorrow at 09:00", "on Monday at 09:00" or "on Wed, December 16
    at 09:00", in their zone and their language's words (messages.formatting)."""
    local_due, local_now = due_at.astimezone(zone), now.astimezone(zone)
    at = clock(locale.locale, local_due)
    days = (local_due.date() - local_now.date()).days
    if days == 1:
        return locale.text("when_tomorrow", time=at)
    if 1 < days < 7:
        weekday = day_names(locale.locale)[local_due.weekday()]
        return locale.text("when_weekday", weekday=weekday, time=at)
    if days <= 0:
        return locale.text("when_today", time=at)
    return locale.text("when_later", date=day_in_sentence(locale.locale, local_due.date()), time=at)


def home_message(
    locale: LocaleContent,
    settings: Settings,
    *,
    status_line: str | None,
) -> Message:
    """The App Home: a welcome with a start button, or where the person is."""
    if status_line is None:
        return Message(
            notification=notification(locale, settings),
            title=locale.text("home_welcome_title"),
            blocks=parse_text(locale.text("home_welcome_body")),
            buttons=(Button(ids.HOME_START, locale.text("button_start"), "start", "primary"),),
        )
    paragraph, link = safety_net(locale, settings)
    blocks: list[TextBlock] = [Paragraph(status_line)]
    if paragraph:
        blocks.append(paragraph)
    return Message(
        notification=notification(locale, settings),
        title=locale.text("home_welcome_title"),
        blocks=tuple(blocks),
        links=(link,) if link else (),
    )
