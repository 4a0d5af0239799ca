"""The pictures of the Home tab in docs/ (docs/images/teams-home-light.png, -dark.png): a
person a few steps in, with goals, feedback notes and an invitation, in Teams' light and dark
themes. Each run takes them (and checks them); `docs/images/take-screenshots.sh` keeps them.
"""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import expect

from bot.core import ids
from tests.bot.teams.harness import ALEX, MORGAN
from tests.browser.conftest import Tab

PNG = b"\x89PNG\r\n\x1a\n"


def _a_person_some_way_in(tab: Tab) -> None:
    teams = tab.teams
    teams.install(ALEX)
    teams.install(MORGAN)
    teams.say(ALEX, "start")
    teams.submit(  # feedback notes, written in the chat's dialog
        ALEX,
        {
            "action": ids.NOTES_FORM,
            "keep": "My stakeholder work was strong",
            "work_on": "Lead a cross-team project",
        },
    )
    tab.open()
    tab.press("Write or change my goals")
    tab.field("Goal 1", exact=True).fill("Lead the next platform migration")
    tab.field("First step for goal 1").fill("Ask to shadow the current lead")
    tab.field("Goal 2", exact=True).fill("Finish the cloud architecture course")
    tab.submit("Save")
    tab.press("Invite my manager")
    tab.field("Your manager").fill(MORGAN)
    tab.submit("Send invitation")


def test_screenshots_of_the_home_tab_in_light_and_dark(tab: Tab, tmp_path: Path) -> None:
    _a_person_some_way_in(tab)
    keep = os.environ.get("NOTPROMOTED_SCREENSHOTS_DIR")
    folder = Path(keep) if keep else tmp_path
    tab.page.set_viewport_size({"width": 720, "height": 900})
    for theme, name in (("default", "light"), ("dark", "dark")):
        tab.open(theme=theme)
        expect(tab.page.locator("body")).to_have_class(f"theme-{theme}")
        expect(tab.page.locator("#home .row").first).to_be_visible()
        # the notes written in the chat's dialog show on the tab
        expect(tab.page.locator("#home")).to_contain_text("To keep: My stakeholder work was strong")
        tab.page.locator("#status").evaluate("node => { node.textContent = ''; }")
        path = folder / f"teams-home-{name}.png"
        tab.page.screenshot(path=str(path), full_page=True)
        assert path.read_bytes().startswith(PNG)
