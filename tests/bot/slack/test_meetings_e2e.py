"""The manager flow through the real HTTP endpoint and the Slack stand-in.

Who may prepare a feedback meeting for whom (the authorization matrix), what reaches whom,
and what the audit trail says; then the whole flow with an accept, and with a decline.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import Session, col, select

from bot.app.operator_commands import print_audit
from bot.core import audit, ids
from bot.core.models import AuditEntry, FeedbackNote, Person
from bot.demo import slack_requests
from bot.demo.slack_standin_records import PostedMessage
from handlers.export import export_data
from tests.conftest import TEAM, BotFactory, RunningBot, text_of

PERSON = "U0PERSON"
MANAGER = "U0MANAGER"
FORMER = "U0FORMER"  # invited, then the invitation was withdrawn
GROUPIE = "U0GROUPIE"  # in the managers' user group
ADMIN = "U0ADMIN"
STRANGER = "U0STRANGER"
SOME_BOT = "U0SOMEBOT"
GONE = "U0GONE"  # deactivated
NOBODY = "U0NOBODY"  # users.info has never heard of them
GROUP = "people-managers"
PRIVATE_NOTE = "my private note about the panel"


def _start(start_bot: BotFactory) -> RunningBot:
    bot = start_bot(manager_usergroup=GROUP, admin_users=frozenset({ADMIN}))
    bot.standin.usergroups[GROUP] = [GROUPIE]
    bot.standin.add_user(SOME_BOT, is_bot=True)
    bot.standin.add_user(GONE, deleted=True)
    bot.standin.missing_users.add(NOBODY)
    return bot


def _begin(bot: RunningBot) -> None:
    """The person starts their journey and keeps a private note."""
    assert bot.command(PERSON).status_code == 200
    bot.dms(PERSON, 1)
    with Session(bot.runtime.engine) as session:
        person = session.exec(select(Person).where(Person.user_id == PERSON)).one()
        session.add(
            FeedbackNote(person_id=person.id or 0, keep=PRIVATE_NOTE, created_at=bot.clock.now)
        )
        session.commit()


def _home(bot: RunningBot, user: str) -> PostedMessage:
    count = len(bot.standin.calls_to("views.publish"))
    body, kind = slack_requests.event_callback(
        team_id=TEAM,
        event={"type": "app_home_opened", "user": user, "channel": "D0", "tab": "home"},
        event_id=f"Ev{count}{user}",
    )
    assert bot.post(body, kind).status_code == 200
    view = bot.standin.wait_for_calls("views.publish", count + 1)[-1].args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    return PostedMessage(channel="", ts="", text="", blocks=view["blocks"], metadata=None)


def _opened(bot: RunningBot, count: int) -> dict[str, Any]:
    bot.settle()
    assert bot.standin.wait_for(lambda: len(bot.standin.opened_views) >= count)
    return bot.standin.opened_views[count - 1]


def _submit(bot: RunningBot, user: str, view: dict[str, Any], values: dict[str, Any]) -> Any:
    body, kind = slack_requests.view_submission(
        user_id=user, team_id=TEAM, view=view, values=values
    )
    response = bot.post(body, kind)
    assert response.status_code == 200
    bot.settle()
    return response.json() if response.content else None


def _invite(bot: RunningBot, manager: str) -> Any:
    """From the home tab: the invitation form, a manager picked, sent."""
    views = len(bot.standin.opened_views)
    home = _home(bot, PERSON)
    assert bot.click(PERSON, home, ids.OPEN_MANAGER_INVITE).status_code == 200
    form = _opened(bot, views + 1)
    assert form["callback_id"] == ids.MANAGER_INVITE_FORM
    return _submit(
        bot, PERSON, form, {"manager": {"type": "users_select", "selected_user": manager}}
    )


def _withdraw(bot: RunningBot, manager: str) -> None:
    home = _home(bot, PERSON)
    [grant_id] = [
        e["value"]
        for block in home.blocks
        if block["type"] == "actions"
        for e in block["elements"]
        if e["action_id"] == ids.MANAGER_REVOKE
        and manager in text_of(home.blocks[home.blocks.index(block) - 1 : home.blocks.index(block)])
    ]
    count = len(bot.standin.calls_to("views.publish"))
    assert bot.click(PERSON, home, ids.MANAGER_REVOKE, grant_id).status_code == 200
    bot.standin.wait_for_calls("views.publish", count + 1)
    bot.settle()


def _meeting_command(bot: RunningBot, actor: str, target: str) -> str:
    """The command's private answer (a refusal, or empty when the template opened)."""
    response = bot.command(actor, f"meeting <@{target}|{target.lower()}>")
    assert response.status_code == 200
    bot.settle()
    return str((response.json() if response.content else {}).get("text") or "")


def _template_values(**changes: str) -> dict[str, Any]:
    fields = {
        "thanks": "Thank you for applying; I know this is disappointing.",
        "observed": "Your answers about the migration ran long and lost their point.",
        "gaps": "The role needs experience leading a cross-team project.",
        "next_steps": "- Lead the Q1 billing rotation\n- Take the facilitation course",
        "growth": "Staff engineer in about a year.",
        "meeting_on": "2026-11-26",
        "follow_up_on": "2026-12-10",
        **changes,
    }
    values: dict[str, Any] = {}
    for name, value in fields.items():
        if name in ("meeting_on", "follow_up_on"):
            values[name] = {"type": "datepicker", "selected_date": value or None}
        else:
            values[name] = {"type": "plain_text_input", "value": value}
    return values


def _count(bot: RunningBot, user: str, title: str) -> int:
    """How many of the user's DMs carry this title."""
    bot.settle()
    return sum(1 for m in bot.standin.dms_to(user) if title in text_of(m.blocks[:1]))


def _audit(bot: RunningBot) -> list[AuditEntry]:
    with Session(bot.runtime.engine) as session:
        return list(session.exec(select(AuditEntry).order_by(col(AuditEntry.id))).all())


@dataclass(frozen=True)
class Case:
    actor: str
    target: str
    allowed: bool
    reason: str | None = None


MATRIX = {
    "invited manager": Case(MANAGER, PERSON, True, "invited"),
    "user group member": Case(GROUPIE, PERSON, True, "group"),
    "admin": Case(ADMIN, PERSON, True, "admin"),
    "stranger": Case(STRANGER, PERSON, False, "not_invited"),
    "invitation withdrawn": Case(FORMER, PERSON, False, "not_invited"),
    "self": Case(PERSON, PERSON, False, "self"),
    "bot user": Case(ADMIN, SOME_BOT, False, "bot"),
    "deactivated user": Case(ADMIN, GONE, False, "deactivated"),
    "unknown id": Case(ADMIN, NOBODY, False, "unknown_user"),
}


@pytest.mark.parametrize("case", MATRIX.values(), ids=list(MATRIX))
def test_who_may_prepare_a_meeting_for_whom(start_bot: BotFactory, case: Case) -> None:
    bot = _start(start_bot)
    _begin(bot)
    _invite(bot, MANAGER)
    _invite(bot, FORMER)
    _withdraw(bot, FORMER)
    dms_before = len(bot.standin.dms_to(case.target))
    views_before = len(bot.standin.opened_views)
    audit_before = len(_audit(bot))

    answered = _meeting_command(bot, case.actor, case.target)

    opened = [v for v in bot.standin.opened_views[views_before:] if v]
    new_rows = _audit(bot)[audit_before:]
    if case.allowed:
        [template] = opened
        assert template["callback_id"] == ids.MEETING_FORM
        assert json.loads(template["private_metadata"]) == {"person": case.target}
        assert new_rows == []  # opening the template is not yet a use
        # Preparing it: the person is asked, the manager gets the agenda, and it is on record.
        _submit(bot, case.actor, template, _template_values())
        offer = bot.dms(case.target, dms_before + 1)[-1]
        assert "Your manager would like to give you feedback" in text_of(offer.blocks)
        agenda = bot.dms(case.actor, 1)[-1]
        assert "leading a cross-team project" in text_of(agenda.blocks)
        [row] = _audit(bot)[audit_before:]
        assert (row.actor, row.subject, row.action, row.outcome, row.reason) == (
            case.actor,
            case.target,
            audit.PREPARE,
            audit.ALLOWED,
            case.reason,
        )
        return
    assert opened == []
    assert len(bot.standin.dms_to(case.target)) == dms_before
    assert "Nothing was sent" in answered
    [row] = new_rows
    assert (row.actor, row.subject, row.action, row.outcome, row.reason) == (
        case.actor,
        case.target,
        audit.PREPARE,
        audit.REFUSED,
        case.reason,
    )
    # A template submitted anyway (a forged payload) is refused the same way.
    forged = {
        "type": "modal",
        "callback_id": ids.MEETING_FORM,
        "private_metadata": json.dumps({"person": case.target}),
        "blocks": [],
    }
    answer = _submit(bot, case.actor, forged, _template_values())
    assert answer["response_action"] == "errors"
    assert "Nothing was sent" in answer["errors"]["thanks"]
    assert len(bot.standin.dms_to(case.target)) == dms_before
    assert _audit(bot)[-1].outcome == audit.REFUSED


def test_the_shortcut_picks_a_person_and_refuses_inline(start_bot: BotFactory) -> None:
    bot = _start(start_bot)
    _begin(bot)
    body, kind = slack_requests.global_shortcut(
        user_id=STRANGER, team_id=TEAM, callback_id=ids.MEETING_SHORTCUT
    )
    assert bot.post(body, kind).status_code == 200
    picker = _opened(bot, 1)
    assert picker["callback_id"] == ids.MEETING_PICK_FORM
    pick = {"person": {"type": "users_select", "selected_user": PERSON}}
    answer = _submit(bot, STRANGER, picker, pick)
    assert (
        answer["response_action"] == "errors" and "Nothing was sent" in answer["errors"]["person"]
    )
    assert _audit(bot)[-1].reason == "not_invited"
    # The same picker, for a member of the managers' group, turns into the template.
    answer = _submit(bot, GROUPIE, picker, pick)
    assert answer["response_action"] == "update"
    assert answer["view"]["callback_id"] == ids.MEETING_FORM
    assert len(bot.standin.dms_to(PERSON)) == 1  # only the first stage, nothing else


def _prepared(bot: RunningBot) -> tuple[PostedMessage, PostedMessage]:
    """Invited, the manager opens the template from their DM and prepares the meeting."""
    _begin(bot)
    saved = _invite(bot, MANAGER)
    assert saved["response_action"] == "update"
    [grant] = bot.dms(MANAGER, 1)
    assert "has invited you to prepare a feedback meeting" in text_of(grant.blocks)
    assert f"<@{PERSON}>" in text_of(grant.blocks)
    assert bot.click(MANAGER, grant, ids.MEETING_PREPARE).status_code == 200
    template = _opened(bot, 2)
    assert template["callback_id"] == ids.MEETING_FORM
    hints = [b["hint"]["text"] for b in template["blocks"] if "hint" in b]
    assert any("Behaviour, not inference" in hint for hint in hints)

    # Inline errors: a required field left empty, dates in the wrong order, a past date.
    answer = _submit(
        bot,
        MANAGER,
        template,
        _template_values(observed="", meeting_on="2026-11-20", follow_up_on="2026-11-19"),
    )
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {"observed", "meeting_on", "follow_up_on"}
    assert len(bot.standin.dms_to(PERSON)) == 1

    answer = _submit(bot, MANAGER, template, _template_values())
    assert answer["response_action"] == "update"
    agenda = bot.dms(MANAGER, 2)[-1]
    offer = bot.dms(PERSON, 2)[-1]
    return agenda, offer


def test_invite_prepare_accept_follow_up_and_remind(start_bot: BotFactory) -> None:
    bot = _start(start_bot)
    agenda, offer = _prepared(bot)
    assert "Where the gaps were" in text_of(agenda.blocks)
    assert "Thursday, November 26, 2026" in text_of(offer.blocks)
    assert "cross-team" not in text_of(offer.blocks)  # the agenda waits for an accept

    meeting_id = slack_requests.button_of(offer, ids.MEETING_ACCEPT)
    assert bot.click(PERSON, offer, ids.MEETING_ACCEPT).status_code == 200
    assert bot.wait_updated(offer)
    person_agenda = bot.dms(PERSON, 3)[-1]
    manager_news = bot.dms(MANAGER, 3)[-1]
    assert "leading a cross-team project" in text_of(person_agenda.blocks)
    assert f"<@{PERSON}> accepted and has the agenda now" in text_of(manager_news.blocks)
    # A second click on the same invitation (an old copy of it) changes nothing.
    assert bot.click(PERSON, offer, ids.MEETING_DECLINE, meeting_id).status_code == 200
    bot.settle()
    assert len(bot.standin.dms_to(MANAGER)) == 3

    # The person takes the next steps into their goals form.
    views = len(bot.standin.opened_views)
    assert bot.click(PERSON, person_agenda, ids.MEETING_TO_GOALS).status_code == 200
    goals_form = _opened(bot, views + 1)
    assert goals_form["callback_id"] == ids.GOALS_FORM
    firsts = [
        b["element"].get("initial_value")
        for b in goals_form["blocks"]
        if b.get("block_id", "").startswith("what_")
    ]
    assert firsts[:2] == ["Lead the Q1 billing rotation", "Take the facilitation course"]

    # The day after the meeting: a follow-up to each; on the follow-up date: a reminder.
    # (The person's journey check-ins come in the same sweeps; they are not counted here.)
    bot.clock.move_to(datetime(2026, 11, 27, 9, 30, tzinfo=UTC))
    bot.sweep()
    assert _count(bot, PERSON, "After the feedback meeting") == 1
    assert _count(bot, MANAGER, "After the feedback meeting") == 1
    assert _count(bot, PERSON, "Time to meet again") == 0
    bot.clock.move_to(datetime(2026, 12, 10, 9, 30, tzinfo=UTC))
    bot.sweep()
    assert _count(bot, PERSON, "Time to meet again") == 1
    assert _count(bot, MANAGER, "Time to meet again") == 1
    assert len(bot.standin.dms_to(MANAGER)) == 5

    # Nothing of the person's own notes ever reached the manager.
    assert all(PRIVATE_NOTE not in text_of(m.blocks) for m in bot.standin.dms_to(MANAGER))
    trail = [(r.actor, r.action, r.outcome) for r in _audit(bot)]
    assert trail == [
        (PERSON, audit.GRANT, audit.DONE),
        (MANAGER, audit.PREPARE, audit.ALLOWED),
        (PERSON, audit.ACCEPT, audit.DONE),
    ]


def test_an_answer_naming_the_managers_message_changes_nothing(start_bot: BotFactory) -> None:
    """A signed click on the person's own offer whose payload names the manager's agenda (and
    carries forged blocks) neither answers nor edits anything; the real click still works."""
    bot = _start(start_bot)
    agenda, offer = _prepared(bot)
    agenda_before = [dict(block) for block in agenda.blocks]
    meeting_id = slack_requests.button_of(offer, ids.MEETING_ACCEPT)
    forged = [{"type": "section", "text": {"type": "mrkdwn", "text": "FORGED agenda"}}]
    named = PostedMessage(
        channel=agenda.channel, ts=agenda.ts, text="FORGED", blocks=forged, metadata=None
    )
    answered = len(bot.standin.responses)
    assert bot.click(PERSON, named, ids.MEETING_ACCEPT, meeting_id).status_code == 200
    bot.settle()
    assert agenda.updates == 0 and agenda.blocks == agenda_before
    assert not any(c.args.get("ts") == agenda.ts for c in bot.standin.calls_to("chat.update"))
    assert len(bot.standin.dms_to(MANAGER)) == 2 and _audit(bot)[-1].action != audit.ACCEPT
    assert bot.standin.wait_for(lambda: len(bot.standin.responses) > answered)

    assert bot.click(PERSON, offer, ids.MEETING_ACCEPT).status_code == 200
    assert bot.wait_updated(offer)
    assert "FORGED" not in text_of(offer.blocks)
    assert f"<@{PERSON}> accepted" in text_of(bot.dms(MANAGER, 3)[-1].blocks)


def test_a_decline_is_final_and_private(start_bot: BotFactory) -> None:
    bot = _start(start_bot)
    _agenda, offer = _prepared(bot)
    # While the person has not answered, a second meeting is not sent on top of the first.
    assert "still waiting for their answer" in _meeting_command(bot, MANAGER, PERSON)
    assert _audit(bot)[-1].reason == "waiting"
    assert bot.click(PERSON, offer, ids.MEETING_DECLINE).status_code == 200
    assert bot.wait_updated(offer)
    told = bot.dms(MANAGER, 3)[-1]
    assert "would rather not have the meeting" in text_of(told.blocks)
    # Nothing more about it, to either of them, however long we wait.
    bot.clock.move_to(datetime(2026, 12, 11, 10, 0, tzinfo=UTC))
    bot.sweep()
    for title in ("After the feedback meeting", "Time to meet again"):
        assert _count(bot, PERSON, title) == 0
        assert _count(bot, MANAGER, title) == 0
    assert len(bot.standin.dms_to(MANAGER)) == 3
    assert [(r.actor, r.action) for r in _audit(bot)][-1] == (PERSON, audit.DECLINE)
    # The manager can't ask again, by command or from the old invitation's button...
    person_dms = len(bot.standin.dms_to(PERSON))
    views = len(bot.standin.opened_views)
    _meeting_command(bot, MANAGER, PERSON)
    grant = bot.standin.dms_to(MANAGER)[0]
    assert bot.click(MANAGER, grant, ids.MEETING_PREPARE).status_code == 200
    bot.settle()
    assert len(bot.standin.opened_views) == views
    assert len(bot.standin.dms_to(PERSON)) == person_dms
    assert [r.reason for r in _audit(bot)[-2:]] == ["declined", "declined"]
    # ...until the person invites them again.
    _invite(bot, MANAGER)
    _meeting_command(bot, MANAGER, PERSON)
    assert _opened(bot, views + 2)["callback_id"] == ids.MEETING_FORM


def test_erasing_keeps_only_a_keyed_hash_in_the_audit_trail(start_bot: BotFactory) -> None:
    bot = _start(start_bot)
    _agenda, offer = _prepared(bot)
    bot.click(PERSON, offer, ids.MEETING_ACCEPT)
    bot.settle()
    # The export holds the meeting and the audit rows about the person.
    exported = export_data(bot.runtime.services, bot.ref(PERSON))
    assert exported is not None
    assert [m["status"] for m in exported["feedback_meetings"]] == ["accepted"]
    assert {e["what"] for e in exported["audit_trail"]} == {"grant", "prepare", "accept"}

    prompt = bot.command(PERSON, "forget").json()
    confirm = PostedMessage(channel="", ts="", text="", blocks=prompt["blocks"], metadata=None)
    assert bot.click(PERSON, confirm, ids.FORGET_CONFIRM, ephemeral=True).status_code == 200
    bot.settle()

    rows = _audit(bot)
    assert len(rows) == 3
    for row in rows:
        assert PERSON not in (row.actor, row.subject, row.other)
    hashed = audit.hashed(PERSON, bot.runtime.services.settings.secret_key or "")
    assert {rows[0].actor, rows[1].subject, rows[2].actor} == {hashed}
    assert rows[1].actor == MANAGER  # the manager's own id stays
    # HR can still find the rows by the id they are given.
    out = io.StringIO()
    url = bot.runtime.engine.url.render_as_string(hide_password=False)
    found = print_audit(
        replace(bot.runtime.services.settings, database_url=url),
        since=None,
        user=PERSON,
        as_json=True,
        out=out,
    )
    assert found == 3
    assert PERSON not in out.getvalue()
    # The meeting and its messages are gone with the person.
    with Session(bot.runtime.engine) as session:
        assert session.exec(select(Person).where(Person.user_id == PERSON)).first() is None
