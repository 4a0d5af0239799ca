"""Every subcommand through the HTTP endpoint."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, func, select

from bot.core import ids
from bot.core.models import Checkin, Journey, Person
from bot.demo.slack_standin_records import PostedMessage
from tests.conftest import BotFactory, RunningBot, text_of

USER = "U0SAM"


def _text(reply: dict[str, Any]) -> str:
    return text_of(reply.get("blocks") or []) or str(reply.get("text"))


def _count(bot: RunningBot, model: type[Person] | type[Journey] | type[Checkin]) -> int:
    with Session(bot.runtime.engine) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def test_help_lists_the_subcommands_and_the_safety_net(start_bot: BotFactory) -> None:
    bot = start_bot()
    reply = bot.command(USER, "help").json()
    assert reply["response_type"] == "ephemeral"
    text = _text(reply)
    for word in ("status", "pause", "resume", "stop", "forget"):
        assert f"/notpromoted {word}" in text
    assert "weighing on you" in text
    assert bot.standin.dms_to(USER) == []


def test_help_points_to_the_employee_assistance_programme_when_configured(
    start_bot: BotFactory,
) -> None:
    bot = start_bot(company_links={"eap": "https://eap.example.com/"})
    text = _text(bot.command(USER, "help").json())
    assert "<https://eap.example.com/>" in text


def test_unknown_text_shows_help_and_is_escaped(start_bot: BotFactory) -> None:
    bot = start_bot()
    text = _text(bot.command(USER, "<!channel> & <@U0BOSS> hello").json())
    assert "&lt;!channel&gt; &amp; &lt;@U0BOSS&gt; hello" in text
    assert "<!channel>" not in text
    assert "/notpromoted status" in text
    assert _count(bot, Journey) == 0


def test_status_before_during_and_when_snoozed(start_bot: BotFactory) -> None:
    bot = start_bot()
    assert "haven't started" in _text(bot.command(USER, "status").json())
    bot.command(USER)
    first = bot.dms(USER, 1)[0]
    assert "step 1 of 10" in _text(bot.command(USER, "STATUS").json())
    bot.click(USER, first, ids.STAGE_SNOOZE)
    bot.wait_updated(first)
    bot.settle()
    status = _text(bot.command(USER, " status ").json())
    assert "step 1 of 10" in status and "tomorrow at 09:00" in status


def test_pause_holds_what_is_due_and_resume_sends_it(start_bot: BotFactory) -> None:
    bot = start_bot()
    bot.command(USER)
    first = bot.dms(USER, 1)[0]
    bot.click(USER, first, ids.STAGE_SNOOZE)
    bot.wait_updated(first)
    bot.settle()
    assert "Paused" in _text(bot.command(USER, "pause").json())
    assert "already paused" in _text(bot.command(USER, "pause").json())
    assert "paused" in _text(bot.command(USER, "status").json())
    bot.clock.move_to(datetime(2026, 11, 25, 12, 0, tzinfo=UTC))
    assert bot.sweep() == 0
    assert len(bot.standin.dms_to(USER)) == 1
    assert "running again" in _text(bot.command(USER, "resume").json())
    second = bot.dms(USER, 2)[1]
    assert "Step 1 of 10" in _text({"blocks": second.blocks})
    assert "isn't paused" in _text(bot.command(USER, "resume").json())
    assert bot.sweep() == 0  # sent once, by the command


def test_typing_the_command_while_paused_resumes(start_bot: BotFactory) -> None:
    bot = start_bot()
    bot.command(USER)
    bot.dms(USER, 1)
    bot.command(USER, "pause")
    assert "running again" in bot.command(USER).json()["text"]
    assert len(bot.dms(USER, 2)) == 2


def test_stop_without_a_journey(start_bot: BotFactory) -> None:
    bot = start_bot()
    assert "nothing to stop" in _text(bot.command(USER, "stop").json())
    assert "haven't started" in _text(bot.command(USER, "pause").json())
    assert "haven't started" in _text(bot.command(USER, "resume").json())


def _ephemeral(reply: dict[str, Any]) -> PostedMessage:
    blocks = reply["blocks"]
    assert isinstance(blocks, list)
    return PostedMessage(
        channel="C0GENERAL", ts="1.0", text=str(reply["text"]), blocks=blocks, metadata=None
    )


def test_forget_asks_first_and_then_erases_everything(start_bot: BotFactory) -> None:
    bot = start_bot()
    assert "don't keep anything" in _text(bot.command(USER, "forget").json())
    bot.command(USER)
    bot.dms(USER, 1)
    prompt = bot.command(USER, "forget").json()
    assert "can't be undone" in _text(prompt)
    # Cancel keeps everything.
    bot.click(USER, _ephemeral(prompt), ids.FORGET_CANCEL, ephemeral=True)
    assert bot.standin.wait_for(lambda: len(bot.standin.responses) == 1)
    assert "Nothing was erased" in str(bot.standin.responses[-1]["blocks"])
    assert _count(bot, Person) == 1
    # Confirm erases the person, their journey and every row about them.
    bot.click(USER, _ephemeral(prompt), ids.FORGET_CONFIRM, ephemeral=True)
    assert bot.standin.wait_for(lambda: len(bot.standin.responses) == 2)
    response = bot.standin.responses[-1]
    assert response["replace_original"] in (True, "true")
    assert "has been erased" in str(response["blocks"])
    assert (_count(bot, Person), _count(bot, Journey), _count(bot, Checkin)) == (0, 0, 0)
    # And the old stage message's buttons have expired (said privately: no row is left to
    # say which message the bot posted, so none is edited).
    old = bot.standin.dms_to(USER)[0]
    bot.click(USER, old, ids.STAGE_NEXT)
    assert bot.standin.wait_for(lambda: len(bot.standin.responses) == 3)
    assert "expired" in str(bot.standin.responses[-1]["blocks"])
    assert _count(bot, Person) == 0


def test_home_tab_welcomes_a_newcomer_and_shows_progress(start_bot: BotFactory) -> None:
    from bot.demo import slack_requests

    bot = start_bot()

    def open_home(event_id: str, retry: bool = False) -> int:
        body, kind = slack_requests.event_callback(
            team_id="T0TEST",
            event={"type": "app_home_opened", "user": USER, "channel": "D0", "tab": "home"},
            event_id=event_id,
        )
        headers = None
        if retry:
            from tests.conftest import SECRET

            headers = slack_requests.signed_headers(SECRET, body, content_type=kind)
            headers |= {"x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout"}
        return bot.post(body, kind, headers=headers).status_code

    assert open_home("Ev1") == 200
    [publish] = bot.standin.wait_for_calls("views.publish", 1)
    assert "Type /notpromoted" in str(publish.args["view"])
    # Slack delivers the same event again: one effect.
    assert open_home("Ev1", retry=True) == 200
    bot.settle()
    assert len(bot.standin.calls_to("views.publish")) == 1
    # The start button on the welcome begins the journey in the DM.
    home_start = {"type": "button", "action_id": ids.HOME_START, "value": "start"}
    view_message = PostedMessage(
        channel="",
        ts="",
        text="",
        blocks=[{"type": "actions", "elements": [home_start]}],
        metadata=None,
    )

    body, kind = slack_requests.button_click(
        user_id=USER,
        team_id="T0TEST",
        message=view_message,
        action_id=ids.HOME_START,
        value="start",
        response_url=bot.standin.response_url(USER),
    )
    assert bot.post(body, kind).status_code == 200
    assert len(bot.dms(USER, 1)) == 1
    calls = bot.standin.wait_for_calls("views.publish", 2)
    assert "step 1 of 10" in str(calls[-1].args["view"])
    assert open_home("Ev2") == 200
    assert "step 1 of 10" in str(bot.standin.wait_for_calls("views.publish", 3)[-1].args["view"])


def test_the_hours_word_offers_the_working_time_form(start_bot: BotFactory) -> None:
    """`hours` alone says the working time and offers the form that changes it; the button
    opens it filled with what is stored (the same form as the App Home's and Teams')."""
    bot = start_bot()
    bot.command(USER)
    bot.dms(USER, 1)
    answer = bot.command(USER, "hours").json()
    assert "My messages reach you" in answer["text"]
    [button] = [
        element
        for block in answer["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    ]
    assert button["action_id"] == ids.OPEN_HOURS_FORM
    shown = PostedMessage(
        channel="D0SAM", ts="1.1", text=answer["text"], blocks=answer["blocks"], metadata=None
    )
    views = len(bot.standin.opened_views)
    assert bot.click(USER, shown, ids.OPEN_HOURS_FORM, ephemeral=True).status_code == 200
    bot.settle()
    [form] = bot.standin.opened_views[views:]
    assert form["callback_id"] == ids.HOURS_FORM
    hours = next(b for b in form["blocks"] if b.get("block_id") == "hours")
    assert hours["element"]["initial_value"] == "09:00-17:00"
