"""The Home tab in a real browser: Debian's Chromium driven by Playwright (from PyPI, its own
browser download unused), against the bot running under uvicorn on loopback with the tab in
its test mode, whose page takes its sign-in token from the fake Entra ID
(tests/bot/teams/fakes.py). Without Chromium these tests fail: .ci/run installs it.

The page may reach nothing but loopback: every other request is aborted and fails the test.
Any Content Security Policy violation the browser reports fails it too.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Locator,
    Page,
    Route,
    expect,
    sync_playwright,
)
from sqlmodel import Session, select

from bot.core.models import Person
from tests.bot.teams.fakes import TeamsCloud
from tests.bot.teams.harness import ALEX, TeamsBot, TeamsFactory

CHROMIUM = os.environ.get("NOTPROMOTED_CHROMIUM", "/usr/bin/chromium")
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
# Where the test serves axe-core to the page: on the page's own origin, so that the page's CSP
# ('self') admits it as it stands.
AXE_PATH = "/tab/static/__axe-under-test.js"
LOOPBACK = ("127.0.0.1", "localhost")
TEAMS_JS_HOSTS_LIST = "https://res.cdn.office.net/teams-js/validDomains/json/validDomains.json"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One Chromium per module: Playwright's sync API keeps its event loop running in this
    thread while it is open, and the tests after these must find none (asyncio.run)."""
    assert Path(CHROMIUM).is_file(), (
        f"Chromium is not at {CHROMIUM}: the browser tests need it "
        "(apt-get install -y chromium; .ci/run installs it when it is missing)"
    )
    with sync_playwright() as playwright:
        # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@dataclass
class Tab:
    """The Home tab of a running bot, open in a browser page as the person signed in."""

    teams: TeamsBot
    cloud: TeamsCloud
    page: Page
    # What the browser refused for the page's CSP, and requests that tried to leave loopback.
    csp_violations: list[str] = field(default_factory=list)
    left_loopback: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"{self.teams.bot.url}/tab/home"

    def open(self, user: str = ALEX, *, theme: str = "default") -> None:
        self.cloud.signed_in = user
        with self.page.expect_response(lambda answer: "/tab/api/home" in answer.url):
            self.page.goto(f"{self.url}?theme={theme}")
        self.idle()

    def idle(self) -> None:
        # (expect, not wait_for_function: that evaluates strings, which the page's CSP forbids)
        expect(self.page.locator("#main")).to_have_attribute("aria-busy", "false")
        self.teams.settle()

    def press(self, name: str, *, nth: int = 0) -> None:
        """Click a button by its visible name, and wait for the tab's answer."""
        button = self.page.get_by_role("button", name=name, exact=True).nth(nth)
        with self.page.expect_response(lambda answer: "/tab/api/" in answer.url):
            button.click()
        self.idle()

    def submit(self, name: str) -> None:
        self.press(name)

    def field(self, label: str, *, exact: bool = False) -> Locator:
        """A text field of the form by its label (or a part of it)."""
        return self.page.get_by_role("textbox", name=label, exact=exact)

    def status(self) -> str:
        return self.page.locator("#status").inner_text()

    def person(self, user: str = ALEX) -> Person | None:
        with Session(self.teams.runtime.engine) as session:
            return session.exec(select(Person).where(Person.user_id == user)).first()

    def axe(self) -> list[dict[str, Any]]:
        """axe-core's serious and critical violations on the page as it stands."""
        assert AXE.is_file(), f"axe-core is not at {AXE}: run `npm ci` in tests/browser"
        self.page.add_script_tag(url=AXE_PATH)
        found: list[dict[str, Any]] = self.page.evaluate(
            """async () => {
                const result = await axe.run(document, {
                    runOnly: {
                        type: "tag",
                        values: ["wcag2a", "wcag2aa", "wcag21aa", "best-practice"],
                    },
                });
                return result.violations
                    .filter(v => v.impact === "serious" || v.impact === "critical")
                    .map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.html)}));
            }"""
        )
        return found


@pytest.fixture
def tab(browser: Browser, start_tab: TeamsFactory, cloud: TeamsCloud) -> Iterator[Tab]:
    teams = start_tab(teams_tab_test_token_url=cloud.tab_token_url)
    context = browser.new_context(viewport={"width": 1024, "height": 900})
    page = context.new_page()
    opened = Tab(teams, cloud, page)

    def guard(route: Route) -> None:
        url = route.request.url
        if url.endswith(AXE_PATH):
            route.fulfill(body=AXE.read_bytes(), content_type="text/javascript")
        elif urlparse(url).hostname in LOOPBACK or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            opened.left_loopback.append(url)
            route.abort()

    def console(message: ConsoleMessage) -> None:
        # teams-js asks Microsoft's CDN for its list of Teams hosts as it loads; the CSP
        # blocks that (it falls back to its own list): the one request refused on purpose.
        if "Content Security Policy" in message.text and TEAMS_JS_HOSTS_LIST not in message.text:
            opened.csp_violations.append(message.text)

    context.route("**/*", guard)
    page.on("console", console)
    yield opened
    context.close()
    assert opened.left_loopback == [], f"the page tried to leave loopback: {opened.left_loopback}"
    assert opened.csp_violations == [], f"CSP violations: {opened.csp_violations}"
