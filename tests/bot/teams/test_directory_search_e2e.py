"""The forms that name a colleague, on phones (issue 18): with TEAMS_DIRECTORY_SEARCH=graph a
person field asks the bot as someone types (the `application/search` invoke of dynamic
typeahead), and the bot searches Microsoft Graph with its own app-only token for the asker's
tenant. Through /api/messages with authentication on, against the loopback Teams cloud and its
fake Graph (tests/bot/teams/fakes.py)."""

from __future__ import annotations

import io
import json
import time
from typing import Any

import httpx
import pytest
from sqlmodel import Session, select

from bot.core import ids
from bot.core.models import FeedbackRequest, ManagerGrant
from bot.teams.form_render import COLLEAGUES, PEOPLE_PICKER
from tests.bot.teams.fakes import TENANT, Failure, Payload
from tests.bot.teams.harness import ALEX, MORGAN, SAM, TeamsBot, TeamsFactory, card_text

SEARCH = {"teams_directory_search": "graph"}
OTHER_TENANT = "12345678-aaaa-4bbb-8ccc-1234567890ab"
MORGANA = "0a1b2c3d-0000-4000-8000-00000000f0a1"
ROBIN = "0a1b2c3d-0000-4000-8000-0000000b0b1e"  # of the other tenant
ELSEWHERE = "0a1b2c3d-0000-4000-8000-00000e15e0e1"  # a Morgan of the other tenant
RND = "0a1b2c3d-0000-4000-8000-000000000a0d"

DIRECTORY: dict[str, list[Payload]] = {
    TENANT: [
        {
            "id": MORGAN,
            "displayName": "Morgan Lee",
            "mail": "morgan.lee@contoso.example",
            "jobTitle": "Head of Sales",
        },
        {"id": MORGANA, "displayName": "Morgana Fay", "mail": "mfay@contoso.example"},
        {"id": SAM, "displayName": "Sam Rivera", "mail": "sam@contoso.example"},
        {"id": ALEX, "displayName": "Alex Kim", "mail": "alex@contoso.example"},
        {"id": RND, "displayName": "R&D Lab", "mail": "rnd@contoso.example"},
        # What Graph's answer may hold and the dropdown must not: no object id, no name.
        {"id": "not-an-object-id", "displayName": "Morgan Ghost"},
        {"id": "0a1b2c3d-0000-4000-8000-00000000bad0", "displayName": None, "mail": "morg@x"},
    ],
    OTHER_TENANT: [
        {"id": ELSEWHERE, "displayName": "Morgan Elsewhere", "mail": "morgan@fabrikam.example"}
    ],
}
MORGAN_LEE = ("Morgan Lee (Head of Sales, morgan.lee@contoso.example)", MORGAN)
MORGANA_FAY = ("Morgana Fay (mfay@contoso.example)", MORGANA)


def _teams(start_teams: TeamsFactory, **settings: Any) -> TeamsBot:
    teams = start_teams(**settings)
    teams.cloud.directory.update(json.loads(json.dumps(DIRECTORY)))
    return teams


def _results(response: httpx.Response) -> list[tuple[str, str]]:
    """The colleagues a search invoke's answer offers, as (title, value)."""
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["type"] == "application/vnd.microsoft.search.searchResponse"
    return [(result["title"], result["value"]) for result in body["value"]["results"]]


def _dialog(response: httpx.Response) -> dict[str, Any]:
    answer = response.json()
    assert answer["task"]["type"] == "continue", answer
    card: dict[str, Any] = answer["task"]["value"]["card"]["content"]
    return card


def _field(card: dict[str, Any], name: str) -> dict[str, Any]:
    return next(element for element in card["body"] if element.get("id") == name)


def _open(teams: TeamsBot, user: str, opener: str, value: str = "x") -> dict[str, Any]:
    data = {"msteams": {"type": "task/fetch"}, "opener": opener, "value": value}
    return _dialog(teams.open_dialog(user, data))


def _meeting_pick(teams: TeamsBot, manager: str) -> dict[str, Any]:
    teams.say(manager, "meeting")
    return _dialog(teams.open_from(manager, teams.cards(manager)[-1], ids.OPEN_MEETING_PICK))


def _started(teams: TeamsBot, user: str = ALEX) -> None:
    before = len(teams.cards(user))
    teams.say(user, "notpromoted")
    teams.cards(user, before + 2)


def _graph_logs(captured: io.StringIO, level: str) -> list[str]:
    return [
        record["message"]
        for record in map(json.loads, captured.getvalue().splitlines())
        if record["logger"] == "bot.teams.graph_people" and record["level"] == level
    ]


@pytest.mark.parametrize("search", [True, False], ids=["graph search", "people picker"])
def test_each_form_that_names_a_colleague_searches_where_the_setting_says(
    start_teams: TeamsFactory, search: bool
) -> None:
    teams = _teams(start_teams, teams_manager_ids=frozenset({SAM}), **(SEARCH if search else {}))
    _started(teams)
    teams.install(SAM)
    fields = {
        "decider": _field(_open(teams, ALEX, ids.OPEN_FEEDBACK_FORM, "stage"), "decider"),
        "manager": _field(_open(teams, ALEX, ids.OPEN_MANAGER_INVITE), "manager"),
        "person": _field(_meeting_pick(teams, SAM), "person"),
    }
    for field in fields.values():
        assert field["type"] == "Input.ChoiceSet" and field["choices"] == []
        if search:  # the bot's own dataset, drawn filtered as Microsoft's examples are
            assert field["choices.data"] == {"type": "Data.Query", "dataset": COLLEAGUES}
            assert field["style"] == "filtered"
        else:  # Teams' people picker (desktop and web)
            assert field["choices.data"] == {"type": "Data.Query", "dataset": PEOPLE_PICKER}
            assert "style" not in field
    assert teams.cloud.graph_requests == []  # drawing a form asks Graph nothing


def test_typing_part_of_a_name_offers_colleagues_and_picking_one_invites_that_manager(
    start_teams: TeamsFactory, captured: io.StringIO
) -> None:
    teams = _teams(start_teams, **SEARCH)
    teams.install(MORGAN)
    _started(teams)
    form = _open(teams, ALEX, ids.OPEN_MANAGER_INVITE)

    assert _results(teams.search(ALEX, " morg ")) == [MORGAN_LEE, MORGANA_FAY]
    # Microsoft Graph's List users, as its pages describe it, with the bot's Graph token.
    [(query, headers)] = teams.cloud.graph_requests
    assert query == {
        "$search": '"displayName:morg" OR "mail:morg"',
        "$select": "id,displayName,mail,jobTitle",
        "$top": "15",
    }
    assert headers["consistencylevel"] == "eventual"
    claims = teams.cloud.token_claims[headers["authorization"].removeprefix("Bearer ")]
    assert (claims["aud"], claims["tid"]) == (teams.cloud.graph_url, TENANT)
    graph_asks = [r for r in teams.cloud.token_requests if r["scope"].startswith("http://")]
    assert [(r["tenant"], r["scope"]) for r in graph_asks] == [
        (TENANT, f"{teams.cloud.graph_url}/.default")
    ]
    # A mail address's start finds its owner too; the token is reused.
    assert _results(teams.search(ALEX, "morgan.lee@con")) == [MORGAN_LEE]
    assert len(teams.cloud.graph_requests) == 2 and len(graph_asks) == 1

    # What Teams submits is the picked value: the object id, as with the people picker.
    submit = form["actions"][0]["data"]
    morgan_before = len(teams.cards(MORGAN))
    answer = teams.submit(ALEX, {**submit, "manager": MORGAN_LEE[1]}).json()
    assert answer["task"]["type"] == "message" and "Invitation saved" in answer["task"]["value"]
    invitation = teams.cards(MORGAN, morgan_before + 1)[-1]
    assert "has invited you" in card_text(invitation.card)

    # A title typed instead of picked is not a colleague: the form says so, nothing is saved.
    again = _dialog(teams.submit(ALEX, {**submit, "manager": MORGAN_LEE[0]}))
    assert "can't be reached" in card_text(again)
    with Session(teams.runtime.engine) as session:
        assert [g.manager_user_id for g in session.exec(select(ManagerGrant))] == [MORGAN]
    # What was typed and who was found stay out of the log (httpx's lines lose their query).
    logged = captured.getvalue().lower()
    assert "morg" not in logged and "head of sales" not in logged


def test_the_decider_and_the_person_of_a_meeting_are_picked_from_the_search_too(
    start_teams: TeamsFactory,
) -> None:
    teams = _teams(start_teams, teams_manager_ids=frozenset({SAM}), **SEARCH)
    _started(teams)
    teams.install(SAM)

    feedback = _open(teams, ALEX, ids.OPEN_FEEDBACK_FORM, "stage")
    [(title, sam)] = _results(teams.search(ALEX, "Sam R"))
    assert (title, sam) == ("Sam Rivera (sam@contoso.example)", SAM)
    saved = teams.submit(ALEX, {**feedback["actions"][0]["data"], "decider": sam, "tone": "warm"})
    assert saved.status_code == 200 and not saved.content  # the dialog closes
    with Session(teams.runtime.engine) as session:
        assert session.exec(select(FeedbackRequest)).one().decider_user_id == SAM

    pick = _meeting_pick(teams, SAM)
    [(_, alex)] = _results(teams.search(SAM, "alex"))
    template = _dialog(teams.submit(SAM, {**pick["actions"][0]["data"], "person": alex}))
    assert template["actions"][0]["data"] == {"action": ids.MEETING_FORM, "person": ALEX}


def _from_tenant(teams: TeamsBot, user: str, kind: str, tenant: str, **fields: Any) -> Payload:
    activity = teams.activity(user, kind, **fields)
    activity["channelData"] = {"tenant": {"id": tenant}}
    activity["conversation"] = {**activity["conversation"], "tenantId": tenant}
    return activity


def test_a_person_finds_only_colleagues_of_their_own_tenant(start_teams: TeamsFactory) -> None:
    teams = _teams(start_teams, teams_allowed_tenants=frozenset({OTHER_TENANT}), **SEARCH)
    teams.cloud.graph_roles[OTHER_TENANT] = {"User.Read.All"}  # consented there too
    _started(teams)
    assert teams.post(_from_tenant(teams, ROBIN, "message", OTHER_TENANT, text="hi")).status_code
    teams.settle()

    assert _results(teams.search(ALEX, "morgan")) == [MORGAN_LEE, MORGANA_FAY]
    value = {"queryText": "morgan", "queryOptions": {"top": 15}, "dataset": COLLEAGUES}
    theirs = teams.post(
        _from_tenant(teams, ROBIN, "invoke", OTHER_TENANT, name="application/search", value=value)
    )
    assert _results(theirs) == [("Morgan Elsewhere (morgan@fabrikam.example)", ELSEWHERE)]
    tenants = [
        teams.cloud.token_claims[headers["authorization"].removeprefix("Bearer ")]["tid"]
        for _, headers in teams.cloud.graph_requests
    ]
    assert tenants == [TENANT, OTHER_TENANT]


def test_nobody_the_bot_does_not_know_and_no_other_dataset_or_query_reaches_graph(
    start_teams: TeamsFactory,
) -> None:
    teams = _teams(start_teams, **SEARCH)
    # Sam never wrote to the bot: no chat, no answer.
    assert _results(teams.search(SAM, "morgan")) == []
    _started(teams)
    # An activity that names no Entra object id is nobody's.
    anonymous = teams.activity(
        ALEX,
        "invoke",
        name="application/search",
        value={"queryText": "morgan", "dataset": COLLEAGUES},
    )
    anonymous["from"] = {"id": f"29:{ALEX}", "name": "Person"}
    assert _results(teams.post(anonymous)) == []
    # Only the bot's own dataset is answered.
    assert _results(teams.search(ALEX, "morgan", dataset=PEOPLE_PICKER)) == []
    assert _results(teams.search(ALEX, "morgan", dataset="npm")) == []
    # Too short, blank, or longer than any name or address.
    for text in ("", "   ", "m", " m ", "\x00\x01m", "m" * 65, "morgan " * 20):
        assert _results(teams.search(ALEX, text)) == [], text
    assert teams.cloud.graph_requests == []
    # An invoke whose value is not a search gets a clear 400, never a 500.
    odd = teams.activity(ALEX, "invoke", name="application/search", value={"dataset": 7})
    assert teams.post(odd).status_code == 400
    # Another tenant's person does not get in at all.
    stranger = _from_tenant(
        teams,
        ROBIN,
        "invoke",
        OTHER_TENANT,
        name="application/search",
        value={"queryText": "morgan", "dataset": COLLEAGUES},
    )
    assert teams.post(stranger).status_code == 403
    assert teams.cloud.graph_requests == []
    # The same person with a real query is answered: the refusals above were refusals.
    assert _results(teams.search(ALEX, "morgan")) == [MORGAN_LEE, MORGANA_FAY]


def test_without_the_setting_a_search_finds_no_one_and_graph_is_never_asked(
    start_teams: TeamsFactory,
) -> None:
    teams = _teams(start_teams)
    _started(teams)
    assert _results(teams.search(ALEX, "morgan")) == []
    assert teams.cloud.graph_requests == []
    assert all("botframework" in r["scope"] for r in teams.cloud.token_requests)


def test_quotes_backslashes_and_ampersands_reach_graph_as_typed(start_teams: TeamsFactory) -> None:
    teams = _teams(start_teams, **SEARCH)
    _started(teams)
    assert _results(teams.search(ALEX, 'Mo"rg\\an + co')) == []
    clause = 'Mo\\"rg\\\\an + co'
    assert teams.cloud.graph_requests[-1][0]["$search"] == (
        f'"displayName:{clause}" OR "mail:{clause}"'
    )
    assert _results(teams.search(ALEX, "R&D")) == [("R&D Lab (rnd@contoso.example)", RND)]
    assert teams.cloud.graph_requests[-1][0]["$search"] == '"displayName:R&D" OR "mail:R&D"'


def test_graph_failing_or_throttling_answers_with_no_one_and_logs_once_a_kind(
    start_teams: TeamsFactory, captured: io.StringIO
) -> None:
    teams = _teams(start_teams, **SEARCH)
    _started(teams)
    teams.cloud.graph_failures.extend([Failure(503), Failure(503)])
    assert _results(teams.search(ALEX, "morgan")) == []
    assert _results(teams.search(ALEX, "morgana")) == []
    teams.cloud.graph_failures.append(Failure(429, retry_after=1))
    assert _results(teams.search(ALEX, "morgan")) == []
    asked = len(teams.cloud.graph_requests)
    # Graph asked the bot to wait a second: until then nothing is sent to it.
    assert _results(teams.search(ALEX, "morgan")) == []
    assert len(teams.cloud.graph_requests) == asked == 3
    warnings = _graph_logs(captured, "WARNING")
    assert len(warnings) == 2, warnings  # one line for the 503s, one for the 429
    assert "503" in warnings[0] and "429" in warnings[1]
    time.sleep(1.1)
    assert _results(teams.search(ALEX, "morgan")) == [MORGAN_LEE, MORGANA_FAY]
    assert "works again" in _graph_logs(captured, "INFO")[-1]


def test_a_slow_graph_gets_no_one_within_the_search_budget(start_teams: TeamsFactory) -> None:
    teams = _teams(start_teams, **SEARCH)
    _started(teams)
    listeners = teams.runtime.teams_listeners
    assert listeners is not None and listeners.people_search is not None
    listeners.people_search.timeout = 0.5  # Teams waits a few seconds; the test less
    teams.cloud.hold_graph()
    try:
        answer = teams.search(ALEX, "morgan")
        # Answered while Graph still holds the request.
        assert teams.cloud.graph_hold.held
        assert _results(answer) == []
    finally:
        teams.cloud.release_graph()


def test_without_admin_consent_no_one_is_offered_and_the_log_names_the_permission(
    start_teams: TeamsFactory, captured: io.StringIO
) -> None:
    teams = _teams(start_teams, **SEARCH)
    teams.cloud.graph_roles[TENANT] = set()  # nobody granted the bot User.Read.All
    _started(teams)
    assert _results(teams.search(ALEX, "morgan")) == []
    assert _results(teams.search(ALEX, "morgana")) == []
    assert len(teams.cloud.graph_requests) == 2
    [error] = _graph_logs(captured, "ERROR")
    assert "403 Authorization_RequestDenied" in error
    assert "User.Read.All" in error and "admin consent" in error
