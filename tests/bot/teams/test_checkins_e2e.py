"""Check-ins sent on their own through the dispatcher, to Teams: in the person's time zone and
working hours, once each, and what the Bot Connector's failures mean."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from bot.core import ids
from bot.core.models import Checkin, CheckinStatus, Journey, JourneyStatus, Person
from tests.bot.teams.fakes import Failure
from tests.bot.teams.harness import ALEX, TeamsBot, TeamsFactory, card_text, has_button

BERLIN = ZoneInfo("Europe/Berlin")
TOKYO = ZoneInfo("Asia/Tokyo")


def _rows(teams: TeamsBot, kind: str) -> list[Checkin]:
    with Session(teams.runtime.engine) as session:
        query = select(Checkin).where(Checkin.kind == kind).order_by(Checkin.id)  # type: ignore[arg-type]
        return list(session.exec(query))


def _start(teams: TeamsBot, when: datetime, zone: str = "Europe/Berlin") -> None:
    teams.zones[ALEX] = zone
    teams.bot.clock.move_to(when)
    teams.say(ALEX, "start")
    teams.cards(ALEX, 2)


def _sweep_at(teams: TeamsBot, moment: datetime) -> int:
    teams.bot.clock.move_to(moment)
    return teams.sweep()


def test_the_feedback_nudge_comes_three_working_days_later_in_the_teams_time_zone(
    start_teams: TeamsFactory,
) -> None:
    teams = start_teams()
    _start(teams, datetime(2026, 11, 23, 9, 30, tzinfo=TOKYO), zone="Asia/Tokyo")
    [nudge] = _rows(teams, ids.CHECKIN_KIND_FEEDBACK_NUDGE)
    local = nudge.due_at.astimezone(TOKYO)
    assert local.date() == date(2026, 11, 26) and 9 <= local.hour < 10  # Thursday, Tokyo time

    assert _sweep_at(teams, nudge.due_at - timedelta(minutes=1)) == 0
    assert _sweep_at(teams, nudge.due_at) == 1
    card = teams.cards(ALEX)[-1]
    assert "Have you asked for feedback yet?" in card_text(card.card)
    assert has_button(card.card, ids.NUDGE_ASKED)
    assert has_button(card.card, ids.NUDGE_HELP)  # opens the dialog
    assert card.card["actions"][1]["data"]["msteams"] == {"type": "task/fetch"}
    assert _sweep_at(teams, nudge.due_at + timedelta(hours=2)) == 0  # once


def test_a_new_time_zone_from_teams_moves_what_is_planned(start_teams: TeamsFactory) -> None:
    teams = start_teams()
    _start(teams, datetime(2026, 11, 23, 9, 30, tzinfo=BERLIN))
    [before] = _rows(teams, ids.CHECKIN_KIND_FEEDBACK_NUDGE)
    teams.zones[ALEX] = "Asia/Tokyo"
    teams.say(ALEX, "status")
    [after] = _rows(teams, ids.CHECKIN_KIND_FEEDBACK_NUDGE)
    assert after.due_at.astimezone(TOKYO).hour == 9
    assert after.due_at != before.due_at
    with Session(teams.runtime.engine) as session:
        assert session.exec(select(Person)).one().time_zone == "Asia/Tokyo"


def test_outside_working_hours_a_check_in_waits_for_the_morning(start_teams: TeamsFactory) -> None:
    teams = start_teams()
    _start(teams, datetime(2026, 11, 23, 9, 30, tzinfo=BERLIN))
    [nudge] = _rows(teams, ids.CHECKIN_KIND_FEEDBACK_NUDGE)
    with Session(teams.runtime.engine) as session:  # as if it had fallen due in the night
        row = session.get(Checkin, nudge.id)
        assert row is not None
        row.due_at = datetime(2026, 11, 25, 22, 0, tzinfo=BERLIN).astimezone(UTC)
        session.add(row)
        session.commit()
    assert _sweep_at(teams, datetime(2026, 11, 25, 23, 0, tzinfo=BERLIN)) == 0
    [waiting] = _rows(teams, ids.CHECKIN_KIND_FEEDBACK_NUDGE)
    assert waiting.status == CheckinStatus.PENDING
    assert waiting.due_at.astimezone(BERLIN).date() == date(2026, 11, 26)
    assert waiting.due_at.astimezone(BERLIN).hour == 9


def test_rate_limits_and_server_errors_are_retried_later_and_sent_once(
    start_teams: TeamsFactory,
) -> None:
    teams = start_teams()
    _start(teams, datetime(2026, 11, 23, 9, 30, tzinfo=BERLIN))
    [nudge] = _rows(teams, ids.CHECKIN_KIND_FEEDBACK_NUDGE)
    sent_before = len(teams.cards(ALEX))
    teams.cloud.fail_next(Failure(429, retry_after=120))
    assert _sweep_at(teams, nudge.due_at) == 0
    [row] = _rows(teams, ids.CHECKIN_KIND_FEEDBACK_NUDGE)
    assert row.status == CheckinStatus.PENDING and row.posting_since is None
    assert row.due_at >= nudge.due_at + timedelta(seconds=120)
    teams.cloud.fail_next(Failure(500))
    assert _sweep_at(teams, row.due_at) == 0
    [row] = _rows(teams, ids.CHECKIN_KIND_FEEDBACK_NUDGE)
    assert row.last_error == "teams answered 500"
    # A server error does not say whether Teams took the message: it may have gone out.
    assert row.posting_since is not None
    teams.cloud.fail_next(Failure(412))
    assert _sweep_at(teams, row.due_at) == 0
    [row] = _rows(teams, ids.CHECKIN_KIND_FEEDBACK_NUDGE)
    assert row.last_error == "teams answered 412"
    assert row.posting_since is not None  # a refusal now keeps the doubt an earlier try left
    assert _sweep_at(teams, row.due_at) == 1
    assert len(teams.cards(ALEX)) == sent_before + 1
    assert _rows(teams, ids.CHECKIN_KIND_FEEDBACK_NUDGE)[0].status == CheckinStatus.SENT


def test_a_removed_app_pauses_the_journey_instead_of_retrying(start_teams: TeamsFactory) -> None:
    teams = start_teams()
    _start(teams, datetime(2026, 11, 23, 9, 30, tzinfo=BERLIN))
    [nudge] = _rows(teams, ids.CHECKIN_KIND_FEEDBACK_NUDGE)
    teams.cloud.fail_next(Failure(403))
    assert _sweep_at(teams, nudge.due_at) == 0
    [row] = _rows(teams, ids.CHECKIN_KIND_FEEDBACK_NUDGE)
    assert row.status == CheckinStatus.FAILED and "403" in (row.last_error or "")
    with Session(teams.runtime.engine) as session:
        assert session.exec(select(Journey)).one().status == JourneyStatus.PAUSED


def test_the_bot_token_comes_from_the_login_service_and_is_reused(
    start_teams: TeamsFactory,
) -> None:
    teams = start_teams()
    teams.say(ALEX, "notpromoted")
    teams.cards(ALEX, 2)
    teams.say(ALEX, "status")
    teams.cards(ALEX, 3)
    assert teams.cloud.tokens_issued == 1  # MSAL keeps it until it is about to expire
    [request] = teams.cloud.token_requests
    assert request["scope"] == "https://api.botframework.com/.default"
    assert request["tenant"] == teams.ref(ALEX).workspace_id
    assert all(token in teams.cloud.tokens for _, _, token in teams.cloud.connector_calls)


def test_an_older_copy_of_a_stage_is_retired_by_updating_its_card(
    start_teams: TeamsFactory,
) -> None:
    teams = start_teams()
    teams.say(ALEX, "notpromoted")
    _, first = teams.cards(ALEX, 2)
    teams.say(ALEX, "notpromoted")  # again: the stage is sent anew, the old card retired
    teams.cards(ALEX, 4)
    assert teams.cloud.wait_for(lambda: len(first.updates) == 1)
    assert not has_button(first.card, ids.STAGE_NEXT)
