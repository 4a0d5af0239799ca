"""The data export in Teams, through /api/messages with authentication on: a file consent card,
then the file in the person's OneDrive (the fake's upload session) and a file info card; a
decline, someone else's answer, an upload URL off Microsoft's hosts, a failing or silent
OneDrive: a calm message (or nothing), never a 500, and the data nowhere else."""

from __future__ import annotations

import asyncio
import json
import logging
import re

import pytest

from bot.core import ids
from bot.teams.file_upload import RANGE_UNIT, UploadFailed, upload_file
from handlers.export import export_data, export_json
from tests.bot.teams.fakes import Recorder, Sent, TeamsCloud
from tests.bot.teams.harness import (
    ALEX,
    FILE_CONSENT,
    FILE_INFO,
    SAM,
    TeamsBot,
    TeamsFactory,
    attachment,
    card_text,
)


@pytest.fixture
def teams(start_teams: TeamsFactory) -> TeamsBot:
    return start_teams()


def _offer(teams: TeamsBot, user: str = ALEX) -> Sent:
    """Start a journey, ask for the export; the consent card that follows."""
    teams.say(user, "notpromoted")
    teams.cards(user, 2)
    teams.say(user, "export")
    sent = teams.cards(user, 4)
    assert "in a file" in card_text(sent[2].card)
    return sent[3]


def _expected(teams: TeamsBot, user: str = ALEX) -> bytes:
    data = export_data(teams.runtime.services, teams.ref(user))
    assert data is not None
    return export_json(data).encode()


def test_export_asks_first_then_uploads_exactly_the_export_and_shows_the_file(
    teams: TeamsBot,
) -> None:
    offer = _offer(teams)
    consent = attachment(offer, FILE_CONSENT)
    assert re.fullmatch(r"my-data-\d{4}-\d{2}-\d{2}\.json", consent["name"])
    expected = _expected(teams)
    content = consent["content"]
    assert content["sizeInBytes"] == len(expected)
    assert "OneDrive" in content["description"]
    # The card holds no personal data: not the person's id, nothing of the export.
    assert content["acceptContext"] == content["declineContext"]
    assert set(content["acceptContext"]) == {"export", "for"}
    shown = json.dumps([consent, offer.activity.get("text"), offer.activity.get("summary")])
    for private in (ALEX, "journeys", "professional", "Europe/Berlin"):
        assert private not in shown
    assert teams.cloud.uploaded() == {}  # nothing goes anywhere before the person accepts

    answer = teams.answer_file(ALEX, offer, "accept")
    assert answer.status_code == 200
    [session] = teams.cloud.uploads.values()
    assert teams.cloud.uploaded() == {consent["name"]: expected}
    assert json.loads(expected)["person"]["user"] == ALEX
    # One PUT, with its Content-Range and without the bot's token.
    assert session.puts == [(f"bytes 0-{len(expected) - 1}/{len(expected)}", None, len(expected))]

    shown_file = teams.cards(ALEX, 5)[-1]
    info = attachment(shown_file, FILE_INFO)
    assert info["name"] == consent["name"]
    assert info["contentUrl"].endswith(f"/Applications/{consent['name']}")
    assert info["content"] == {"uniqueId": session.unique_id, "fileType": "json"}
    assert shown_file.activity["text"] == "Everything I keep about you, as you asked."
    assert "Next Step" in shown_file.activity["summary"]  # the neutral notification line


def test_a_decline_gets_a_kind_note_and_nothing_is_uploaded(teams: TeamsBot) -> None:
    offer = _offer(teams)
    assert teams.answer_file(ALEX, offer, "decline").status_code == 200
    note = teams.cards(ALEX, 5)[-1]
    assert "No file sent. Write export whenever you want it." in card_text(note.card)
    assert teams.cloud.upload_puts() == 0 and teams.cloud.uploads == {}


def test_an_answer_from_someone_the_card_was_not_for_is_refused(teams: TeamsBot) -> None:
    offer = _offer(teams)
    teams.say(SAM, "notpromoted")
    teams.cards(SAM, 2)
    # Sam answers Alex's card (its context copied) in Sam's own chat: Sam's OneDrive would
    # get Alex's data, or Sam's own if the context were trusted; neither happens.
    assert teams.answer_file(ALEX, offer, "accept", by=SAM).status_code == 200
    # A context that names no one, in Alex's own chat, is no card of ours either.
    forged = attachment(offer, FILE_CONSENT)
    forged["content"]["acceptContext"] = {"export": "data-export"}
    tampered = Sent(offer.conversation_id, offer.activity_id, {"attachments": [forged]})
    assert teams.answer_file(ALEX, tampered, "accept").status_code == 200
    assert teams.cloud.upload_puts() == 0
    assert len(teams.cards(ALEX)) == 4 and len(teams.cards(SAM)) == 2  # nobody was answered


def test_an_upload_url_off_microsofts_hosts_never_receives_the_data(teams: TeamsBot) -> None:
    stranger = Recorder()  # someone else's server on loopback, not on TEAMS_UPLOAD_HOSTS
    try:
        offer = _offer(teams)
        name = attachment(offer, FILE_CONSENT)["name"]
        elsewhere = [
            f"{stranger.service_url}up/session",
            # the Bot Connector's host is trusted for replies, not for a person's data
            f"{teams.cloud.service_url}up/session",
            "https://contoso-my.sharepoint.com.attacker.example/up/session",
            "ftp://contoso-my.sharepoint.com/up/session",
        ]
        for number, url in enumerate(elsewhere, start=5):
            info = {**teams.cloud.upload_session(name), "uploadUrl": url}
            assert teams.answer_file(ALEX, offer, "accept", upload_info=info).status_code == 200
            failed = teams.cards(ALEX, number)[-1]
            assert "couldn't put the file in your OneDrive" in card_text(failed.card)
        assert stranger.requests == []
        assert teams.cloud.upload_puts() == 0
    finally:
        stranger.stop()


def test_a_failing_or_silent_onedrive_tells_the_person_and_logs_no_data(
    teams: TeamsBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    offer = _offer(teams)
    teams.cloud.fail_uploads(507)  # OneDrive is full
    assert teams.answer_file(ALEX, offer, "accept").status_code == 200
    assert "couldn't put the file" in card_text(teams.cards(ALEX, 5)[-1].card)

    listeners = teams.runtime.teams_listeners
    assert listeners is not None
    listeners.export_file.timeout = 0.5
    teams.cloud.hold_uploads()  # takes the bytes and never answers in time
    try:
        assert teams.answer_file(ALEX, offer, "accept").status_code == 200
        assert "couldn't put the file" in card_text(teams.cards(ALEX, 6)[-1].card)
    finally:
        teams.cloud.release_uploads()
    assert teams.cloud.uploaded() == {}

    # It works again once OneDrive does.
    assert teams.answer_file(ALEX, offer, "accept").status_code == 200
    assert list(teams.cloud.uploaded().values()) == [_expected(teams)]
    attachment(teams.cards(ALEX, 7)[-1], FILE_INFO)

    warnings = [r for r in caplog.records if r.name.startswith("bot.teams")]
    assert any("answered 507" in r.getMessage() for r in warnings)
    assert any("no answer within" in r.getMessage() for r in warnings)
    sessions = list(teams.cloud.uploads)
    # (httpx's own request lines are INFO, which bot.core.logs keeps out of a deployment's log)
    for record in [r for r in caplog.records if r.name != "httpx"]:
        text = record.getMessage() + (record.exc_text or "")
        assert ALEX not in text and '"journeys"' not in text
        assert not any(session in text for session in sessions)  # nor the upload URL


def test_an_unreadable_consent_answer_is_a_400_not_a_500(teams: TeamsBot) -> None:
    offer = _offer(teams)
    for value in ({"action": "maybe"}, {"uploadInfo": "x"}, "accept", None):
        invoke = teams.activity(ALEX, "invoke", name="fileConsent/invoke", value=value)
        invoke["replyToId"] = offer.activity_id
        assert teams.post(invoke).status_code == 400, value
    teams.settle()
    assert teams.cloud.upload_puts() == 0


def test_someone_unknown_by_accept_time_gets_nothing_uploaded(teams: TeamsBot) -> None:
    offer = _offer(teams)
    teams.say(ALEX, "forget")
    prompt = teams.cards(ALEX, 5)[-1]
    teams.click(ALEX, prompt, ids.FORGET_CONFIRM)
    assert teams.answer_file(ALEX, offer, "accept").status_code == 200
    assert "nothing to export" in card_text(teams.cards(ALEX, 6)[-1].card)
    assert teams.cloud.upload_puts() == 0


def test_a_large_file_goes_in_ranges_of_320_kib(cloud: TeamsCloud) -> None:
    """OneDrive's rule for a split upload: in order, each range a multiple of 320 KiB."""
    content = bytes(range(256)) * (RANGE_UNIT * 5 // 2 // 256)
    info = cloud.upload_session("big.json")
    asyncio.run(upload_file(info["uploadUrl"], content, piece=RANGE_UNIT))
    [session] = cloud.uploads.values()
    size = len(content)
    assert [put[0] for put in session.puts] == [
        f"bytes 0-{RANGE_UNIT - 1}/{size}",
        f"bytes {RANGE_UNIT}-{2 * RANGE_UNIT - 1}/{size}",
        f"bytes {2 * RANGE_UNIT}-{size - 1}/{size}",
    ]
    assert cloud.uploaded() == {"big.json": content}
    # A session that refuses a range stops the upload there.
    again = cloud.upload_session("again.json")
    cloud.fail_uploads(416)
    with pytest.raises(UploadFailed, match="416"):
        asyncio.run(upload_file(again["uploadUrl"], content, piece=RANGE_UNIT))
    assert len(cloud.uploads[again["uploadUrl"].rpartition("/")[2]].puts) == 1


def test_an_export_button_offers_the_file_too(teams: TeamsBot) -> None:
    """The export control (a card's Action.Execute) goes the same way as the typed word."""
    teams.say(ALEX, "notpromoted")
    teams.cards(ALEX, 2)
    data = {"action": ids.HOME_EXPORT}
    invoke = teams.activity(
        ALEX,
        "invoke",
        name="adaptiveCard/action",
        value={"action": {"type": "Action.Execute", "verb": ids.HOME_EXPORT, "data": data}},
    )
    assert teams.post(invoke).status_code == 200
    teams.settle()
    offer = teams.cards(ALEX, 3)[-1]
    consent = attachment(offer, FILE_CONSENT)
    assert teams.answer_file(ALEX, offer, "accept").status_code == 200
    assert teams.cloud.uploaded() == {consent["name"]: _expected(teams)}
    attachment(teams.cards(ALEX, 4)[-1], FILE_INFO)
