"""The Home tab in Chromium: every control clicked, what changed checked in the database and in
the person's chat (the fake Bot Connector's activities), forms with errors next to their field
and what was typed kept, keyboard use, a phone's width, the three themes, and axe-core.
"""

from __future__ import annotations

from playwright.sync_api import expect
from sqlmodel import Session, select

from bot.core.models import FeedbackRequest, Goal, GoalStatus, Journey, JourneyStatus, ManagerGrant
from tests.bot.teams.fakes import Sent
from tests.bot.teams.harness import (
    ALEX,
    FILE_CONSENT,
    MORGAN,
    SAM,
    TeamsFactory,
    attachment,
    card_text,
    person_name,
)
from tests.browser.conftest import Tab


def _started(tab: Tab, user: str = ALEX) -> None:
    """The person added the app and began their journey in the chat."""
    tab.teams.install(user)
    tab.teams.say(user, "start")


def _journey(tab: Tab) -> Journey:
    with Session(tab.teams.runtime.engine) as session:
        return session.exec(select(Journey)).one()


def _chat(tab: Tab, user: str = ALEX) -> list[Sent]:
    return tab.teams.cards(user)


def _carries(sent: Sent, content_type: str) -> bool:
    return any(a["contentType"] == content_type for a in sent.activity.get("attachments") or [])


def _last_said(tab: Tab, user: str = ALEX) -> str:
    return card_text(_chat(tab, user)[-1].card)


def test_pause_and_resume_change_the_journey_and_say_so_in_the_chat(tab: Tab) -> None:
    _started(tab)
    tab.open()
    expect(tab.page.locator("h1")).to_have_text("A quiet place for what comes next")
    home = tab.page.locator("#home").inner_text()
    assert "You're on step 1 of 10" in home
    # what comes next, and when, in the person's time (their Teams client said Europe/Berlin)
    assert "Next from me, on Thursday at 11:00: A quiet check-in about feedback" in home
    before = len(_chat(tab))

    tab.press("Pause")
    assert tab.status() == "Paused. I won't send you anything until you write resume."
    assert _journey(tab).status == JourneyStatus.PAUSED
    assert len(_chat(tab)) == before + 1
    assert _last_said(tab) == tab.status()

    paused = len(_chat(tab))
    tab.press("Resume")  # the Home drawn afresh offers resume in place of pause
    assert _journey(tab).status == JourneyStatus.ACTIVE
    # In the chat as a typed "resume" answers: the note first, then the step it brings back.
    note, step = (card_text(sent.card) for sent in _chat(tab)[paused:])
    assert "running again" in note and "Step 1 of 10" in step
    expect(tab.page.get_by_role("button", name="Pause", exact=True)).to_be_visible()


def test_a_change_in_the_chat_shows_on_the_tab_when_it_loads_again(tab: Tab) -> None:
    _started(tab)
    tab.open()
    expect(tab.page.get_by_role("button", name="Pause", exact=True)).to_be_visible()
    tab.teams.say(ALEX, "pause")
    tab.open()
    expect(tab.page.get_by_role("button", name="Resume", exact=True)).to_be_visible()
    assert "Your journey is paused" in tab.page.locator("#home").inner_text()


def test_the_hours_form_shows_errors_next_to_the_field_keeps_what_was_typed_and_saves(
    tab: Tab,
) -> None:
    _started(tab)
    tab.open()
    tab.press("Working hours and time zone")
    form = tab.page.locator("form[data-form='hours_form']")
    expect(form).to_be_visible()
    expect(tab.page.locator("#home")).to_be_hidden()  # one thing at a time, phone-sized

    hours = tab.page.get_by_label("Working hours")
    hours.fill("25:00-99:00")
    tab.page.get_by_label("Time zone").fill("Mars/Olympus")
    tab.submit("Save")
    hours = tab.page.get_by_label("Working hours")
    expect(hours).to_have_value("25:00-99:00")
    expect(tab.page.get_by_label("Time zone")).to_have_value("Mars/Olympus")
    error = tab.page.locator("#field-hours-error")
    expect(error).to_be_visible()
    expect(hours).to_have_attribute("aria-invalid", "true")
    expect(hours).to_be_focused()  # the first field in error takes the focus
    assert "field-hours-error" in (hours.get_attribute("aria-describedby") or "")
    person = tab.person()
    assert person is not None and person.work_hours is None  # nothing saved

    hours.fill("08:00-16:00")
    tab.page.get_by_label("Working days").fill("mon-thu")
    tab.page.get_by_label("Time zone").fill("Europe/Lisbon")
    tab.submit("Save")
    expect(form).to_have_count(0)
    assert "08:00" in tab.status() and "Europe/Lisbon" in tab.status()
    person = tab.person()
    assert person is not None
    assert (person.work_hours, person.time_zone_override) == ("08:00-16:00", "Europe/Lisbon")
    assert person.work_days is not None and "thu" in person.work_days
    assert "Europe/Lisbon" in _last_said(tab)  # said in the chat too


def test_goals_are_written_then_done_and_let_go(tab: Tab) -> None:
    _started(tab)
    tab.open()
    tab.press("Write or change my goals")
    tab.submit("Save")  # nothing written: the form says so
    expect(tab.page.locator("form .error")).to_have_count(1)
    tab.page.get_by_label("Goal 1", exact=False).first.fill("Lead the next migration")
    tab.page.get_by_label("Why goal 1 matters").fill("To show I can carry a project")
    tab.page.get_by_label("First step for goal 1").fill("Ask to shadow the current lead")
    tab.page.get_by_label("Goal 2", exact=False).first.fill("Finish the <b>cloud</b> course")
    tab.submit("Save")
    assert tab.status() == "Done. You will find it in our chat too."
    with Session(tab.teams.runtime.engine) as session:
        goals = session.exec(select(Goal).order_by(Goal.id)).all()  # type: ignore[arg-type]
        assert [g.what for g in goals] == [
            "Lead the next migration",
            "Finish the <b>cloud</b> course",
        ]
    home = tab.page.locator("#home")
    assert "Finish the <b>cloud</b> course" in home.inner_text()  # typed text is never markup
    assert home.locator("b").count() == 0

    tab.press("Done", nth=0)
    tab.press("Let it go", nth=0)  # the first goal is gone from the list: this is the second
    with Session(tab.teams.runtime.engine) as session:
        statuses = [g.status for g in session.exec(select(Goal).order_by(Goal.id)).all()]  # type: ignore[arg-type]
    assert statuses == [GoalStatus.DONE, GoalStatus.DROPPED]
    assert tab.page.get_by_role("button", name="Done", exact=True).count() == 0


def test_a_feedback_request_needs_the_decider_and_its_draft_arrives_in_the_chat(tab: Tab) -> None:
    _started(tab)
    tab.open()
    before = len(_chat(tab))
    tab.press("Help me ask for feedback")
    tab.page.get_by_label("What would you most like to understand?").fill("What to grow in")
    tab.submit("Write my draft")  # the decider is needed
    decider = tab.page.get_by_label("Who made the decision?")
    expect(decider).to_have_attribute("aria-invalid", "true")
    expect(tab.page.get_by_label("What would you most like to understand?")).to_have_value(
        "What to grow in"
    )
    decider.fill(MORGAN)
    tab.page.get_by_label("Formal").check()
    tab.submit("Write my draft")
    with Session(tab.teams.runtime.engine) as session:
        request = session.exec(select(FeedbackRequest)).one()
    assert (request.decider_user_id, request.tone) == (MORGAN, "formal")
    assert len(tab.teams.cards(ALEX, before + 1)) > before  # the draft, in the chat


def test_a_manager_is_invited_and_the_invitation_withdrawn(tab: Tab) -> None:
    _started(tab)
    tab.teams.install(MORGAN)
    tab.open()
    tab.press("Invite my manager")
    tab.field("Your manager").fill(MORGAN)
    tab.submit("Send invitation")
    with Session(tab.teams.runtime.engine) as session:
        grant = session.exec(select(ManagerGrant)).one()
        assert grant.manager_user_id == MORGAN and grant.revoked_at is None
    row = tab.page.locator(".row", has_text="You invited")
    expect(row).to_contain_text(person_name(MORGAN))  # by the name Teams gave them
    row.get_by_role("button", name="Withdraw").click()
    tab.idle()
    with Session(tab.teams.runtime.engine) as session:
        assert session.exec(select(ManagerGrant)).one().revoked_at is not None
    expect(tab.page.locator(".row", has_text="You invited")).to_have_count(0)


def test_export_offers_the_file_in_the_chat(tab: Tab) -> None:
    _started(tab)
    tab.open()
    before = len(_chat(tab))
    tab.press("Export my data")
    # The route's note and the offer, in either order.
    new = tab.teams.cards(ALEX, before + 2)[before:]
    [offer] = [sent for sent in new if _carries(sent, FILE_CONSENT)]
    consent = attachment(offer, FILE_CONSENT)
    assert consent["name"].startswith("my-data-") and consent["name"].endswith(".json")
    tab.teams.answer_file(ALEX, offer, "accept")
    [content] = tab.cloud.uploaded().values()
    assert b'"journeys"' in content or b"journey" in content


def test_erase_asks_first_and_keeps_everything_when_told_to(tab: Tab) -> None:
    _started(tab)
    tab.open()
    tab.page.get_by_role("button", name="Erase everything").click()
    dialog = tab.page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("This can't be undone.")
    expect(tab.page.get_by_role("button", name="Keep it")).to_be_focused()  # the safe choice
    tab.page.get_by_role("button", name="Keep it").click()
    expect(dialog).to_be_hidden()
    expect(tab.page.get_by_role("button", name="Erase everything")).to_be_focused()
    assert tab.person() is not None

    tab.page.keyboard.press("Enter")  # the focused Erase everything, by keyboard
    expect(dialog).to_be_visible()
    tab.page.keyboard.press("Escape")  # Escape is "keep it" too
    expect(dialog).to_be_hidden()
    assert tab.person() is not None

    tab.page.get_by_role("button", name="Erase everything").click()
    with tab.page.expect_response(lambda answer: "/tab/api/click" in answer.url):
        tab.page.get_by_role("button", name="Erase", exact=True).click()
    tab.idle()
    assert tab.status() == "Done. Everything I kept about you has been erased."
    assert tab.person() is None
    with Session(tab.teams.runtime.engine) as session:
        assert session.exec(select(Journey)).all() == []
    expect(tab.page.get_by_role("button", name="Begin")).to_be_visible()


def test_keyboard_alone_opens_fills_and_closes_a_form_and_focus_returns(tab: Tab) -> None:
    _started(tab)
    tab.open()
    page = tab.page
    opener = page.get_by_role("button", name="Working hours and time zone")
    opener.focus()
    with page.expect_response(lambda answer: "/tab/api/click" in answer.url):
        page.keyboard.press("Enter")
    tab.idle()
    expect(page.get_by_role("heading", name="Your working time")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Working hours")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator("form")).to_have_count(0)
    expect(page.get_by_role("button", name="Working hours and time zone")).to_be_focused()


def test_the_tab_shows_the_signed_in_persons_own_home_and_refuses_without_a_token(
    tab: Tab,
) -> None:
    _started(tab)
    tab.teams.install(SAM)
    tab.open(SAM)  # Sam never started: Sam's own welcome, nothing of Alex's
    expect(tab.page.get_by_role("button", name="Begin")).to_be_visible()
    assert "step 1 of 10" not in tab.page.locator("#home").inner_text()

    tab.cloud.signed_in = None  # Teams gives no token
    tab.page.goto(tab.url)
    expect(tab.page.locator("#status")).to_have_text(
        "Teams couldn't tell me who you are just now. Close this tab and open it again."
    )
    assert tab.page.locator("#home").inner_html() == ""


def test_outside_teams_the_page_says_where_it_belongs(tab: Tab, start_tab: TeamsFactory) -> None:
    """Out of test mode the page reaches Teams through teams-js alone: opened on its own, with
    no Teams around it, it says where it belongs instead of waiting, and asks for nothing."""
    served = start_tab()  # the same deployment, its tab not in test mode
    tab.page.goto(f"{served.bot.url}/tab/home")
    expect(tab.page.locator("body")).to_have_attribute("data-host", "teams")
    expect(tab.page.locator("#status")).to_have_text(
        "This page opens inside Microsoft Teams, in the tab beside our chat with each other."
    )
    assert tab.page.evaluate("typeof window.microsoftTeams.app.initialize") == "function"


def test_readable_at_a_phones_width(tab: Tab) -> None:
    _started(tab)
    tab.page.set_viewport_size({"width": 360, "height": 740})
    tab.open()
    wide = tab.page.evaluate("document.documentElement.scrollWidth")
    assert wide <= 360
    tab.press("Write or change my goals")
    assert tab.page.evaluate("document.documentElement.scrollWidth") <= 360


def test_axe_finds_nothing_serious_in_any_theme(tab: Tab) -> None:
    _started(tab)
    tab.teams.install(MORGAN)
    tab.open()
    tab.press("Invite my manager")  # the Home with an invitation row and its withdraw
    tab.field("Your manager").fill(MORGAN)
    tab.submit("Send invitation")
    for theme in ("default", "dark", "contrast"):
        tab.open(theme=theme)
        expect(tab.page.locator("body")).to_have_class(f"theme-{theme}")
        assert tab.axe() == [], theme
        tab.press("Help me ask for feedback")
        tab.submit("Write my draft")  # a form with an error under a field
        assert tab.axe() == [], theme


def test_the_language_form_opens_with_every_language_and_closes(tab: Tab) -> None:
    """Its saving goes through the dialogs' reader (bot.teams.form_render.read_dialog), as in
    the chat; here, that it opens from the tab with the choices its route draws."""
    _started(tab)
    tab.open()
    tab.press("Language")
    radios = tab.page.get_by_role("radio")
    expect(radios).to_have_count(5)  # the app's settings, and each shipped language
    expect(tab.page.get_by_role("radio", name="Deutsch")).to_be_visible()
    tab.page.get_by_role("button", name="Cancel").click()
    expect(tab.page.locator("form")).to_have_count(0)
    expect(tab.page.get_by_role("button", name="Language")).to_be_focused()
