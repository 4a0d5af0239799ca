"""bot.core.config and config_loading: defaults, normalisation, one ConfigError per bad variable."""

from __future__ import annotations

import re
from datetime import time
from pathlib import Path

import pytest

from bot.core.config import (
    DEFAULT_DATABASE_URL,
    DEFAULT_SLACK_API_URL,
    DEFAULT_TEAMS_SERVICE_URL_HOSTS,
    ConfigError,
    Settings,
)
from bot.core.config_loading import LINK_VARIABLES, load_settings
from bot.core.config_teams import service_url_allowed
from bot.core.working_calendar import WorkingTime, is_time_zone, load_time_zone
from messages.schema import LINK_KEYS

# -- defaults and normalisation ----------------------------------------------------------


def test_defaults_from_an_empty_environment() -> None:
    settings = load_settings({})

    assert settings.display_name == "Next Step"
    assert settings.slack_api_url == DEFAULT_SLACK_API_URL
    assert settings.slack_api_url.endswith("/")
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.database_url.startswith("sqlite:///")
    assert settings.log_level == "INFO"
    assert settings.default_time_zone == "UTC"
    assert settings.port == 3000
    assert settings.dispatch_interval_seconds == 30
    assert settings.content_dir is None
    assert dict(settings.company_links) == {}
    assert settings.working_time == WorkingTime()
    assert settings.working_time.days == frozenset({0, 1, 2, 3, 4})
    assert (settings.slack_bot_token, settings.slack_signing_secret) == (None, None)
    assert settings.slack_app_token is None


def test_blank_values_count_as_unset() -> None:
    settings = load_settings({"NOTPROMOTED_DISPLAY_NAME": "   ", "SLACK_BOT_TOKEN": ""})

    assert settings.display_name == "Next Step"
    assert settings.slack_bot_token is None


def test_valid_values_are_kept() -> None:
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": "xoxb-1-2-abc",
            "SLACK_APP_TOKEN": "xapp-1-A-abc",
            "SLACK_SIGNING_SECRET": "s3cret",
            "LOG_LEVEL": "debug",
            "NOTPROMOTED_DISPLAY_NAME": "Pathfinder",
            "NOTPROMOTED_DEFAULT_TIME_ZONE": "Europe/Berlin",
            "NOTPROMOTED_WORKING_HOURS": "08:30 - 16:00",
            "PORT": "8080",
            "NOTPROMOTED_DISPATCH_INTERVAL_SECONDS": "2.5",
        }
    )

    assert settings.slack_bot_token == "xoxb-1-2-abc"
    assert settings.slack_app_token == "xapp-1-A-abc"
    assert settings.slack_signing_secret == "s3cret"
    assert settings.log_level == "DEBUG"
    assert settings.display_name == "Pathfinder"
    assert settings.default_time_zone == "Europe/Berlin"
    assert settings.working_time.start == time(8, 30)
    assert settings.working_time.end == time(16, 0)
    assert settings.port == 8080
    assert settings.dispatch_interval_seconds == 2.5


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://slack.example/api", "https://slack.example/api/"),
        ("http://127.0.0.1:9000/api/", "http://127.0.0.1:9000/api/"),
    ],
)
def test_slack_api_url_gets_a_trailing_slash(given: str, expected: str) -> None:
    assert load_settings({"SLACK_API_URL": given}).slack_api_url == expected


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://user:pw@db:5432/np", "postgresql+psycopg://user:pw@db:5432/np"),
        ("postgresql+psycopg://user@db/np", "postgresql+psycopg://user@db/np"),
        ("sqlite:////var/lib/np.db", "sqlite:////var/lib/np.db"),
    ],
)
def test_database_url_is_normalised(given: str, expected: str) -> None:
    assert load_settings({"DATABASE_URL": given}).database_url == expected


def test_database_url_postgres_alias_is_rewritten() -> None:
    settings = load_settings({"DATABASE_URL": "postgres://user:pw@db/np"})
    assert settings.database_url == "postgresql+psycopg://user:pw@db/np"


@pytest.mark.parametrize("key", LINK_KEYS)
def test_company_links_are_read(key: str) -> None:
    settings = load_settings({LINK_VARIABLES[key]: "https://intranet.example/x"})
    assert dict(settings.company_links) == {key: "https://intranet.example/x"}


def test_mailto_company_link_is_accepted() -> None:
    settings = load_settings({"NOTPROMOTED_HR_CONTACT_URL": "mailto:people@example.com"})
    assert settings.company_links["hr_contact"] == "mailto:people@example.com"


def test_link_variables_are_named_after_their_keys() -> None:
    assert LINK_VARIABLES["eap"] == "NOTPROMOTED_EAP_URL"
    assert LINK_VARIABLES["job_board"] == "NOTPROMOTED_JOB_BOARD_URL"
    assert set(LINK_VARIABLES) == set(LINK_KEYS)


def test_content_dir_that_is_a_folder_is_kept(tmp_path: Path) -> None:
    settings = load_settings({"NOTPROMOTED_CONTENT_DIR": str(tmp_path)})
    assert settings.content_dir == tmp_path


# -- working days ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sun-thu", {6, 0, 1, 2, 3}),
        ("mon,wed", {0, 2}),
        ("Mon - Fri", {0, 1, 2, 3, 4}),
        ("fri-mon", {4, 5, 6, 0}),
        ("sat", {5}),
    ],
)
def test_working_days(given: str, expected: set[int]) -> None:
    days = load_settings({"NOTPROMOTED_WORKING_DAYS": given}).working_time.days
    assert days == frozenset(expected)


# -- every error names its variable ------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SLACK_BOT_TOKEN", "xoxp-user-token"),
        ("SLACK_BOT_TOKEN", "xapp-1-A-abc"),
        ("SLACK_APP_TOKEN", "xoxb-1-2-abc"),
        ("SLACK_API_URL", "ftp://slack.com/api/"),
        ("SLACK_API_URL", "slack.com/api"),
        ("DATABASE_URL", "mysql://user@db/np"),
        ("DATABASE_URL", "np.db"),
        ("LOG_LEVEL", "VERBOSE"),
        ("NOTPROMOTED_DISPLAY_NAME", "x" * 36),
        ("NOTPROMOTED_EAP_URL", "javascript:alert(1)"),
        ("NOTPROMOTED_EAP_URL", "intranet/eap"),
        ("NOTPROMOTED_JOB_BOARD_URL", "ftp://jobs.example/"),
        ("NOTPROMOTED_LEARNING_URL", "www.example.com"),
        ("NOTPROMOTED_MENTORING_URL", "https://"),
        ("NOTPROMOTED_HR_CONTACT_URL", "people@example.com"),
        ("NOTPROMOTED_DEFAULT_TIME_ZONE", "Mars/Olympus_Mons"),
        ("NOTPROMOTED_DEFAULT_TIME_ZONE", "../../etc/passwd"),
        ("NOTPROMOTED_WORKING_HOURS", "9-5"),
        ("NOTPROMOTED_WORKING_HOURS", "17:00-09:00"),
        ("NOTPROMOTED_WORKING_HOURS", "09:00-09:00"),
        ("NOTPROMOTED_WORKING_HOURS", "25:00-26:00"),
        ("NOTPROMOTED_WORKING_HOURS", "09:60-17:00"),
        ("NOTPROMOTED_WORKING_DAYS", "funday"),
        ("NOTPROMOTED_WORKING_DAYS", "mon-tue-wed"),
        ("NOTPROMOTED_WORKING_DAYS", "mon,,fri"),
        ("PORT", "http"),
        ("PORT", "0"),
        ("PORT", "-8080"),
        ("NOTPROMOTED_DISPATCH_INTERVAL_SECONDS", "soon"),
        ("NOTPROMOTED_DISPATCH_INTERVAL_SECONDS", "0"),
    ],
)
def test_malformed_variable_raises_config_error_naming_it(variable: str, value: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        load_settings({variable: value})


def test_display_name_of_exactly_35_characters_is_allowed() -> None:
    assert load_settings({"NOTPROMOTED_DISPLAY_NAME": "y" * 35}).display_name == "y" * 35


@pytest.mark.parametrize("name", ["missing-folder", "a-file.txt"])
def test_content_dir_not_a_folder(tmp_path: Path, name: str) -> None:
    (tmp_path / "a-file.txt").write_text("not a folder", encoding="utf-8")
    with pytest.raises(ConfigError, match="NOTPROMOTED_CONTENT_DIR"):
        load_settings({"NOTPROMOTED_CONTENT_DIR": str(tmp_path / name)})


@pytest.mark.parametrize("variable", ["PORT", "NOTPROMOTED_DISPATCH_INTERVAL_SECONDS"])
@pytest.mark.parametrize("value", ["nan", "inf"])
def test_non_finite_numbers_raise_config_error(variable: str, value: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        load_settings({variable: value})


def test_port_above_65535_raises_config_error() -> None:
    with pytest.raises(ConfigError, match="PORT"):
        load_settings({"PORT": "70000"})


def test_plain_http_company_link_raises_config_error() -> None:
    with pytest.raises(ConfigError, match="NOTPROMOTED_EAP_URL"):
        load_settings({"NOTPROMOTED_EAP_URL": "http://eap.example/"})


# -- what each transport requires --------------------------------------------------------


def test_require_http_names_the_missing_bot_token() -> None:
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN"):
        Settings(slack_signing_secret="s3cret").require_http()


def test_require_http_names_the_missing_signing_secret() -> None:
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET"):
        Settings(slack_bot_token="xoxb-1").require_http()


def test_require_http_passes_with_token_and_secret() -> None:
    settings = Settings(slack_bot_token="xoxb-1", slack_signing_secret="s3cret")
    settings.require_http()
    with pytest.raises(ConfigError, match="SLACK_APP_TOKEN"):
        settings.require_socket()


def test_require_socket_names_the_missing_bot_token() -> None:
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN"):
        Settings(slack_app_token="xapp-1").require_socket()


def test_require_socket_names_the_missing_app_token() -> None:
    with pytest.raises(ConfigError, match="SLACK_APP_TOKEN"):
        Settings(slack_bot_token="xoxb-1").require_socket()


def test_require_socket_passes_with_bot_and_app_tokens() -> None:
    settings = Settings(slack_bot_token="xoxb-1", slack_app_token="xapp-1")
    settings.require_socket()
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET"):
        settings.require_http()


# -- which platforms a deployment serves --------------------------------------------------

TEAMS_ONLY = {
    "TEAMS_CLIENT_ID": "11111111-2222-3333-4444-555555555555",
    "TEAMS_CLIENT_SECRET": "secret",
    "TEAMS_TENANT_ID": "99999999-8888-7777-6666-555555555555",
}
SLACK_ONLY = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s3cret"}


@pytest.mark.parametrize(
    ("env", "slack", "teams"),
    [
        (TEAMS_ONLY, False, True),
        (SLACK_ONLY, True, False),
        ({**SLACK_ONLY, **TEAMS_ONLY}, True, True),
    ],
)
def test_serve_and_worker_run_with_teams_alone_slack_alone_or_both(
    env: dict[str, str], slack: bool, teams: bool
) -> None:
    settings = load_settings(env)
    assert (settings.slack_enabled, settings.teams_enabled) == (slack, teams)
    settings.require_http()
    settings.require_sending()
    assert settings.default_platform == ("slack" if slack else "teams")


@pytest.mark.parametrize("require", ["require_http", "require_sending"])
def test_with_neither_platform_one_line_says_what_to_set_for_each(require: str) -> None:
    with pytest.raises(ConfigError) as raised:
        getattr(load_settings({}), require)()
    message = str(raised.value)
    assert "\n" not in message
    assert "SLACK_BOT_TOKEN" in message
    assert ("SLACK_SIGNING_SECRET" in message) == (require == "require_http")
    for name in TEAMS_ONLY:
        assert name in message
    assert load_settings({}).default_platform == "slack"


@pytest.mark.parametrize(
    ("slack", "missing"),
    [
        ({"SLACK_SIGNING_SECRET": "s"}, "SLACK_BOT_TOKEN"),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET"),
        ({"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "c"}, "NOTPROMOTED_ENCRYPTION_KEY"),
    ],
)
def test_half_a_slack_configuration_beside_teams_names_what_slack_lacks(
    slack: dict[str, str], missing: str
) -> None:
    with pytest.raises(ConfigError, match=missing):
        load_settings({**slack, **TEAMS_ONLY}).require_http()


def test_a_worker_needs_no_signing_secret_but_a_slack_token_if_any_slack_is_set() -> None:
    load_settings({"SLACK_BOT_TOKEN": "xoxb-1"}).require_sending()
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN"):
        load_settings({"SLACK_SIGNING_SECRET": "s", **TEAMS_ONLY}).require_sending()


# -- Teams -------------------------------------------------------------------------------

TEAMS_APP = "11111111-2222-3333-4444-555555555555"


def test_teams_is_off_without_settings_and_on_with_all_three_credentials() -> None:
    assert not load_settings({}).teams_enabled
    settings = load_settings(
        {
            "TEAMS_CLIENT_ID": TEAMS_APP,
            "TEAMS_CLIENT_SECRET": "secret",
            "TEAMS_TENANT_ID": TEAMS_APP.replace("1", "9"),
            "TEAMS_SERVICE_URL": "https://smba.infra.gcc.teams.microsoft.com/teams",
            "NOTPROMOTED_TEAMS_MANAGERS": f" {TEAMS_APP.upper()} , ",
        }
    )
    assert settings.teams_enabled and settings.teams_credentials is not None
    assert settings.teams_service_url == "https://smba.infra.gcc.teams.microsoft.com/teams/"
    assert settings.teams_manager_ids == frozenset({TEAMS_APP})
    assert not settings.teams_allow_unauthenticated
    dev = load_settings({"NOTPROMOTED_TEAMS_ALLOW_UNAUTHENTICATED": "true"})
    assert dev.teams_enabled and dev.teams_credentials is None


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"TEAMS_CLIENT_ID": TEAMS_APP}, "TEAMS_TENANT_ID"),
        (
            {"TEAMS_CLIENT_ID": "bot", "TEAMS_CLIENT_SECRET": "s", "TEAMS_TENANT_ID": TEAMS_APP},
            "TEAMS_CLIENT_ID",
        ),
        ({"TEAMS_LOGIN_URL": "http://login.example.com"}, "TEAMS_LOGIN_URL"),
        ({"TEAMS_SERVICE_URL": "smba"}, "TEAMS_SERVICE_URL"),
        ({"TEAMS_OPENID_METADATA_URL": "https://x.example.com/keys"}, "TEAMS_OPENID_METADATA_URL"),
        ({"NOTPROMOTED_TEAMS_ALLOW_UNAUTHENTICATED": "yes please"}, "ALLOW_UNAUTHENTICATED"),
        ({"NOTPROMOTED_TEAMS_MANAGERS": "U0123"}, "NOTPROMOTED_TEAMS_MANAGERS"),
        ({"TEAMS_ALLOWED_TENANTS": "contoso.com"}, "TEAMS_ALLOWED_TENANTS"),
        ({"TEAMS_SERVICE_URL_HOSTS": "https://smba.trafficmanager.net"}, "TEAMS_SERVICE_URL_HOSTS"),
        ({"TEAMS_UPLOAD_HOSTS": "https://contoso-my.sharepoint.com"}, "TEAMS_UPLOAD_HOSTS"),
        ({"TEAMS_UPLOAD_HOSTS": "sharepoint.com, com"}, "TEAMS_UPLOAD_HOSTS"),
        ({"TEAMS_SERVICE_URL": "https://smba.example.com/teams/"}, "TEAMS_SERVICE_URL"),
        (
            {
                "TEAMS_SERVICE_URL_HOSTS": "smba.example.cn",
                "TEAMS_SERVICE_URL": "http://smba.example.cn/",
            },
            "TEAMS_SERVICE_URL",
        ),
    ],
)
def test_malformed_teams_settings_name_the_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        load_settings(env)


# -- time zone names from people and platforms ----------------------------------------------

NOT_ZONES = [
    "Europe",  # a folder of zones: zoneinfo raised IsADirectoryError
    "America/Argentina",
    "x" * 5000,  # zoneinfo raised OSError (file name too long)
    "Europe/" + "x" * 300,
    "UTC\x00",
    "../etc/passwd",
    "/etc/localtime",
    "zone.tab",  # a file in the zone folder that is not a zone
    "tzdata.zi",
    "Europe/Berlin\udc80",
    " Europe/Berlin",
    "",
]


@pytest.mark.parametrize("name", NOT_ZONES, ids=lambda name: repr(name[:24]))
def test_is_time_zone_is_false_for_anything_zoneinfo_cannot_load(name: str) -> None:
    assert is_time_zone(name) is False
    assert load_time_zone(name) is None


@pytest.mark.parametrize(
    "name",
    [
        "Europe/Berlin",
        "America/Argentina/ComodRivadavia",
        "Etc/GMT+5",
        "UTC",
        "America/Port-au-Prince",
    ],
)
def test_is_time_zone_is_true_for_iana_names(name: str) -> None:
    assert is_time_zone(name) is True
    assert str(load_time_zone(name)) == name


def test_a_default_time_zone_naming_a_folder_stops_start_up_naming_the_setting() -> None:
    with pytest.raises(ConfigError, match="NOTPROMOTED_DEFAULT_TIME_ZONE"):
        load_settings({"NOTPROMOTED_DEFAULT_TIME_ZONE": "Europe"})


def test_teams_tenants_and_service_url_hosts_are_read() -> None:
    settings = load_settings(
        {
            "TEAMS_ALLOWED_TENANTS": f" {TEAMS_APP.upper()} ,",
            "TEAMS_SERVICE_URL_HOSTS": "SMBA.example.cn, 127.0.0.1:8123",
            "TEAMS_SERVICE_URL": "https://smba.example.cn/teams/",
        }
    )
    assert settings.teams_allowed_tenants == frozenset({TEAMS_APP})
    assert settings.teams_service_url_hosts == ("smba.example.cn", "127.0.0.1:8123")
    assert "smba.trafficmanager.net" in load_settings({}).teams_service_url_hosts


def test_teams_upload_hosts_are_read_and_default_to_sharepoint() -> None:
    assert load_settings({}).teams_upload_hosts == ("sharepoint.com",)
    settings = load_settings(
        {"TEAMS_UPLOAD_HOSTS": " SharePoint.com, .sharepoint.us,127.0.0.1:8123"}
    )
    assert settings.teams_upload_hosts == ("sharepoint.com", "sharepoint.us", "127.0.0.1:8123")


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://smba.trafficmanager.net/teams/", True),
        ("https://SMBA.trafficmanager.net:443/emea/", True),
        ("https://smba.infra.gov.teams.microsoft.us/teams", True),
        ("http://smba.trafficmanager.net/teams/", False),  # the token would travel in clear
        ("https://smba.trafficmanager.net:8443/teams/", False),
        ("https://evil.smba.trafficmanager.net/teams/", False),
        ("https://smba.trafficmanager.net.evil.example/teams/", False),
        ("https://user@smba.trafficmanager.net/teams/", False),
        ("https://evil-trafficmanager.net/teams/", False),
        ("ftp://smba.trafficmanager.net/", False),
        ("https://[::1/", False),
        ("not a url", False),
        ("http://127.0.0.1:8123/teams/", True),  # listed with its port
        ("http://127.0.0.1:8124/teams/", False),  # another port on the same host
    ],
)
def test_only_listed_hosts_receive_the_bots_token(url: str, allowed: bool) -> None:
    hosts = (*DEFAULT_TEAMS_SERVICE_URL_HOSTS, "127.0.0.1:8123")
    assert service_url_allowed(url, hosts) is allowed


# -- the forms' directory search in Microsoft Graph (TEAMS_DIRECTORY_SEARCH) ------------------

TEAMS_BOT = {
    "TEAMS_CLIENT_ID": TEAMS_APP,
    "TEAMS_CLIENT_SECRET": "secret",
    "TEAMS_TENANT_ID": TEAMS_APP.replace("1", "9"),
}


def test_the_directory_search_is_off_by_default_and_graph_when_asked() -> None:
    off = load_settings(TEAMS_BOT)
    assert off.teams_directory_search is None
    assert off.teams_graph_url == "https://graph.microsoft.com"
    on = load_settings(
        {
            **TEAMS_BOT,
            "TEAMS_DIRECTORY_SEARCH": " Graph ",
            "TEAMS_GRAPH_URL": "https://graph.microsoft.us/",
        }
    )
    assert on.teams_directory_search == "graph"
    assert on.teams_graph_url == "https://graph.microsoft.us"
    local = load_settings({**TEAMS_BOT, "TEAMS_GRAPH_URL": "http://127.0.0.1:8123"})
    assert local.teams_graph_url == "http://127.0.0.1:8123"


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({**TEAMS_BOT, "TEAMS_DIRECTORY_SEARCH": "yes"}, "TEAMS_DIRECTORY_SEARCH is `graph`"),
        ({"TEAMS_DIRECTORY_SEARCH": "graph"}, "with the bot's own credential"),
        (
            {"TEAMS_DIRECTORY_SEARCH": "graph", "NOTPROMOTED_TEAMS_ALLOW_UNAUTHENTICATED": "true"},
            "with the bot's own credential",
        ),
        # The Graph token would travel in clear, or to a path of someone else's site.
        ({**TEAMS_BOT, "TEAMS_GRAPH_URL": "http://graph.microsoft.com"}, "TEAMS_GRAPH_URL"),
        ({**TEAMS_BOT, "TEAMS_GRAPH_URL": "https://graph.microsoft.com/v1.0"}, "TEAMS_GRAPH_URL"),
        ({**TEAMS_BOT, "TEAMS_GRAPH_URL": "https://u:p@graph.microsoft.com"}, "TEAMS_GRAPH_URL"),
        ({**TEAMS_BOT, "TEAMS_GRAPH_URL": "graph.microsoft.com"}, "TEAMS_GRAPH_URL"),
        ({**TEAMS_BOT, "TEAMS_GRAPH_URL": "https://graph.microsoft.com?x=1"}, "TEAMS_GRAPH_URL"),
    ],
)
def test_a_wrong_directory_search_setting_stops_start_up_saying_why(
    env: dict[str, str], says: str
) -> None:
    with pytest.raises(ConfigError, match=re.escape(says)):
        load_settings(env)


# -- the Teams Home tab ---------------------------------------------------------------------

TEAMS_BOT = {
    "TEAMS_CLIENT_ID": TEAMS_APP,
    "TEAMS_TENANT_ID": TEAMS_APP,
    "TEAMS_CLIENT_SECRET": "secret",
}


def test_the_tab_is_off_unless_its_domain_is_set_and_its_audience_is_the_apps_uri() -> None:
    assert load_settings(TEAMS_BOT).teams_tab_audience is None
    settings = load_settings({**TEAMS_BOT, "TEAMS_TAB_DOMAIN": " Bot.Example.com "})
    assert settings.teams_tab_domain == "bot.example.com"
    assert settings.teams_tab_audience == f"api://bot.example.com/botid-{TEAMS_APP}"
    assert settings.teams_tab_test_token_url is None  # the test mode is off by default


def test_the_tabs_test_mode_is_on_only_when_switched_on_explicitly() -> None:
    url = "http://127.0.0.1:8123/tab-sso/token"
    on = load_settings(
        {
            **TEAMS_BOT,
            "TEAMS_TAB_DOMAIN": "localhost:3000",
            "NOTPROMOTED_TEAMS_TAB_TEST_MODE": "true",
            "NOTPROMOTED_TEAMS_TAB_TEST_TOKEN_URL": url,
        }
    )
    assert on.teams_tab_test_token_url == url


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"TEAMS_TAB_DOMAIN": "https://bot.example.com/tab"}, "TEAMS_TAB_DOMAIN"),
        # a URL without the switch is refused, not ignored: someone meant something
        (
            {
                "TEAMS_TAB_DOMAIN": "x.example",
                "NOTPROMOTED_TEAMS_TAB_TEST_TOKEN_URL": "http://127.0.0.1:1/t",
            },
            "NOTPROMOTED_TEAMS_TAB_TEST_MODE is not true",
        ),
        (
            {"TEAMS_TAB_DOMAIN": "x.example", "NOTPROMOTED_TEAMS_TAB_TEST_MODE": "yes"},
            "must be true or false",
        ),
        (
            {"TEAMS_TAB_DOMAIN": "x.example", "NOTPROMOTED_TEAMS_TAB_TEST_MODE": "true"},
            "needs NOTPROMOTED_TEAMS_TAB_TEST_TOKEN_URL",
        ),
        (
            {
                "TEAMS_TAB_DOMAIN": "x.example",
                "NOTPROMOTED_TEAMS_TAB_TEST_MODE": "true",
                "NOTPROMOTED_TEAMS_TAB_TEST_TOKEN_URL": "https://idp.example.com/token",
            },
            "must be on loopback",
        ),
        (
            {
                "NOTPROMOTED_TEAMS_TAB_TEST_MODE": "true",
                "NOTPROMOTED_TEAMS_TAB_TEST_TOKEN_URL": "http://127.0.0.1:1/t",
            },
            "set TEAMS_TAB_DOMAIN too",
        ),
    ],
)
def test_malformed_tab_settings_stop_start_up(env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        load_settings({**TEAMS_BOT, **env})


def test_the_tab_needs_the_bots_app_registration() -> None:
    with pytest.raises(ConfigError, match="TEAMS_TAB_DOMAIN is set, but"):
        load_settings({"TEAMS_TAB_DOMAIN": "bot.example.com"})
