"""Time zone names that zoneinfo cannot load, from a person or from Slack (issue 15, item 7).

"Europe" is a folder in the zone database and 5,000 characters a file name too long: zoneinfo
raised IsADirectoryError and OSError for them, which nothing caught, and the person read
"I can't reach my records" (or, from users.info, their DM never went).
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.core import ids
from bot.core.models import Person
from bot.demo import slack_requests
from bot.slack.form_render import build_modal
from handlers.form_specs import HOURS
from messages.content import language_tag
from messages.form import draw
from tests.conftest import TEAM, BotFactory, text_of

USER = "U0ALEX"
NOT_A_ZONE = "isn't a time zone I know"
UNAVAILABLE = "can't reach my records"
BAD_ZONES = {"folder": "Europe", "5000-characters": "x" * 5000}


@pytest.mark.parametrize("zone", BAD_ZONES.values(), ids=BAD_ZONES.keys())
def test_the_hours_command_names_a_zone_it_cannot_load(start_bot: BotFactory, zone: str) -> None:
    bot = start_bot()
    answer = bot.command(USER, f"hours 07:00-15:00 mon-thu {zone}").json()
    assert NOT_A_ZONE in answer["text"]
    assert UNAVAILABLE not in answer["text"]
    # Nothing was changed, and a real zone is still taken.
    assert "07:00" not in bot.command(USER, "hours").json()["text"]
    answer = bot.command(USER, "hours 07:00-15:00 mon-thu Europe/Berlin").json()
    assert "Europe/Berlin" in answer["text"] and "07:00" in answer["text"]


@pytest.mark.parametrize("zone", BAD_ZONES.values(), ids=BAD_ZONES.keys())
def test_the_home_hours_form_names_a_zone_it_cannot_load(start_bot: BotFactory, zone: str) -> None:
    bot = start_bot()
    view = build_modal(draw(HOURS, bot.runtime.services.content.for_locale(None, "slack")))
    values = {
        "hours": {"type": "plain_text_input", "value": "09:00-17:00"},
        "days": {"type": "plain_text_input", "value": "mon-fri"},
        "zone": {"type": "plain_text_input", "value": zone},
    }
    body, kind = slack_requests.view_submission(
        user_id=USER, team_id=TEAM, view=view, values=values
    )
    response = bot.post(body, kind)
    assert response.status_code == 200
    answer = response.json()
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {"zone"}
    assert NOT_A_ZONE in answer["errors"]["zone"]


def _stored_zone(engine: Engine) -> str | None:
    with Session(engine) as session:
        return session.exec(select(Person.time_zone)).one()


def test_a_slack_profile_zone_naming_a_folder_falls_back_and_the_dm_goes(
    start_bot: BotFactory,
) -> None:
    bot = start_bot(default_time_zone="Europe/London")
    bot.standin.add_user(USER, tz="Europe")
    answer = bot.command(USER).json()
    assert "direct message" in answer["text"]
    [dm] = bot.dms(USER, 1)
    assert "Step 1 of 10" in text_of(dm.blocks)
    assert _stored_zone(bot.runtime.engine) is None  # the default zone counts their days
    assert bot.click(USER, dm, ids.STAGE_SNOOZE).status_code == 200  # counts in that zone
    assert bot.wait_updated(dm)
    assert "tomorrow at 09:00" in text_of(dm.blocks)


def test_a_slack_profile_zone_of_5000_characters_falls_back_on_postgres(
    start_bot: BotFactory, postgres_engine: Engine
) -> None:
    """PostgreSQL keeps a zone in 64 characters: storing this one failed the DM's send."""
    from bot.core.migrate import upgrade

    upgrade(postgres_engine)
    bot = start_bot(engine=postgres_engine, migrate=False)
    bot.standin.add_user(USER, tz="x" * 5000)
    bot.command(USER)
    [dm] = bot.dms(USER, 1)
    assert "Step 1 of 10" in text_of(dm.blocks)
    assert _stored_zone(postgres_engine) is None


def test_a_slack_profile_locale_of_5000_characters_falls_back_on_postgres(
    start_bot: BotFactory, postgres_engine: Engine
) -> None:
    """PostgreSQL keeps a locale in 16 characters: an over-long one must not stop the DM."""
    from bot.core.migrate import upgrade

    upgrade(postgres_engine)
    bot = start_bot(engine=postgres_engine, migrate=False)
    bot.standin.add_user(USER, locale="fr-" + "x" * 5000)
    bot.command(USER)
    [dm] = bot.dms(USER, 1)
    assert "Step 1 of 10" in text_of(dm.blocks)
    with Session(postgres_engine) as session:
        assert session.exec(select(Person.locale)).one() is None


@pytest.mark.parametrize(
    ("tag", "kept"),
    [
        *[("en-GB", True), ("es_419", True), ("zh-Hant-TW", True), ("de", True)],
        *[("", False), ("x" * 17, False), ("fr FR", False), ("<b>", False), ("e", False)],
    ],
)
def test_only_a_language_tag_that_fits_is_kept(tag: str, kept: bool) -> None:
    assert (language_tag(tag) == tag) is kept
    assert language_tag(None) is None and language_tag(42) is None
