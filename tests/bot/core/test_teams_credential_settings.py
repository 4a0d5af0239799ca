"""The Teams credential settings: exactly one kind, each read into a typed credential, and a
one-line ConfigError naming the variable and the fix for every bad combination or file."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from bot.core.config import ConfigError, Settings
from bot.core.config_loading import load_settings
from bot.core.teams_credentials import (
    Certificate,
    ClientSecret,
    FederatedToken,
    ManagedIdentity,
    read_certificate,
)
from tests.bot.teams.fakes import bot_certificate

APP = "11111111-2222-3333-4444-555555555555"
TENANT = "99999999-8888-7777-6666-555555555555"
IDENTITY = {"TEAMS_CLIENT_ID": APP, "TEAMS_TENANT_ID": TENANT}


@pytest.fixture
def certificate(tmp_path: Path) -> Path:
    return bot_certificate(tmp_path)[0]


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    path = tmp_path / "azure-identity-token"
    path.write_text("eyJ.federated.token\n")
    return path


def test_an_old_env_file_with_a_secret_works_as_before() -> None:
    settings = load_settings({**IDENTITY, "TEAMS_CLIENT_SECRET": "s3cret"})
    assert settings.teams_enabled
    assert settings.teams_credentials == ClientSecret(APP, TENANT, "s3cret")
    assert "s3cret" not in repr(settings) and "s3cret" not in repr(settings.teams_credentials)


def test_each_credential_is_read_into_its_kind(certificate: Path, token_file: Path) -> None:
    cert = load_settings({**IDENTITY, "TEAMS_CERTIFICATE_PATH": str(certificate)})
    assert cert.teams_credentials == Certificate(APP, TENANT, certificate, None)
    managed = load_settings({**IDENTITY, "TEAMS_MANAGED_IDENTITY": "TRUE"})
    assert managed.teams_credentials == ManagedIdentity(APP, TENANT)
    federated = load_settings({**IDENTITY, "TEAMS_FEDERATED_TOKEN_FILE": str(token_file)})
    assert federated.teams_credentials == FederatedToken(APP, TENANT, token_file)
    for settings in (cert, managed, federated):
        assert settings.teams_enabled and settings.teams_client_secret is None
    assert not load_settings({"TEAMS_MANAGED_IDENTITY": "false"}).teams_enabled


def test_an_encrypted_key_opens_with_its_password(tmp_path: Path) -> None:
    path, issued = bot_certificate(tmp_path, password="open sesame")
    env = {**IDENTITY, "TEAMS_CERTIFICATE_PATH": str(path)}
    settings = load_settings({**env, "TEAMS_CERTIFICATE_PASSWORD": "open sesame"})
    assert settings.teams_credentials == Certificate(APP, TENANT, path, "open sesame")
    read = read_certificate(path, "open sesame")
    # the SHA-1 thumbprint the Azure portal lists the certificate by
    assert read.sha1_thumbprint == issued.fingerprint(hashes.SHA1()).hex().upper()  # noqa: S303
    assert "BEGIN PRIVATE KEY" in read.private_key_pem and "ENCRYPTED" not in read.private_key_pem
    with pytest.raises(ConfigError, match="set TEAMS_CERTIFICATE_PASSWORD"):
        load_settings(env)
    with pytest.raises(ConfigError, match="check the password"):
        load_settings({**env, "TEAMS_CERTIFICATE_PASSWORD": "wrong"})


TWO_OF_THEM = [
    ("TEAMS_CLIENT_SECRET", "TEAMS_CERTIFICATE_PATH"),
    ("TEAMS_CLIENT_SECRET", "TEAMS_MANAGED_IDENTITY"),
    ("TEAMS_CLIENT_SECRET", "TEAMS_FEDERATED_TOKEN_FILE"),
    ("TEAMS_CERTIFICATE_PATH", "TEAMS_MANAGED_IDENTITY"),
    ("TEAMS_CERTIFICATE_PATH", "TEAMS_FEDERATED_TOKEN_FILE"),
    ("TEAMS_MANAGED_IDENTITY", "TEAMS_FEDERATED_TOKEN_FILE"),
]


@pytest.mark.parametrize(("first", "second"), TWO_OF_THEM)
def test_two_credentials_are_refused_by_name(
    first: str, second: str, certificate: Path, token_file: Path
) -> None:
    values = {
        "TEAMS_CLIENT_SECRET": "s3cret",
        "TEAMS_CERTIFICATE_PATH": str(certificate),
        "TEAMS_MANAGED_IDENTITY": "true",
        "TEAMS_FEDERATED_TOKEN_FILE": str(token_file),
    }
    env = {**IDENTITY, first: values[first], second: values[second]}
    with pytest.raises(ConfigError) as error:
        load_settings(env)
    message = str(error.value)
    assert f"{first} and {second} are both set" in message and "keep" in message
    assert "\n" not in message


def test_settings_built_in_code_with_two_credentials_are_refused_too(certificate: Path) -> None:
    settings = Settings(
        teams_client_id=APP,
        teams_tenant_id=TENANT,
        teams_client_secret="s3cret",
        teams_certificate_path=certificate,
    )
    with pytest.raises(ConfigError, match="a client secret and a certificate"):
        _ = settings.teams_credentials


def test_the_managed_identity_switch_is_true_or_false() -> None:
    with pytest.raises(ConfigError, match="TEAMS_MANAGED_IDENTITY must be true or false"):
        load_settings({**IDENTITY, "TEAMS_MANAGED_IDENTITY": "yes"})


BAD = [
    # an identity without a credential, a credential without an identity
    (IDENTITY, "Teams has no credential: set one of TEAMS_CLIENT_SECRET"),
    ({"TEAMS_CLIENT_ID": APP}, "TEAMS_TENANT_ID is not set"),
    ({"TEAMS_TENANT_ID": TENANT}, "TEAMS_CLIENT_ID is not set"),
    ({"TEAMS_MANAGED_IDENTITY": "true"}, "TEAMS_CLIENT_ID is not set"),
    ({"TEAMS_CLIENT_SECRET": "s", "TEAMS_CLIENT_ID": APP}, "TEAMS_TENANT_ID is not set"),
    (
        {**IDENTITY, "TEAMS_CERTIFICATE_PASSWORD": "pw"},
        "TEAMS_CERTIFICATE_PASSWORD is set without TEAMS_CERTIFICATE_PATH",
    ),
    (
        {**IDENTITY, "TEAMS_CLIENT_SECRET": "s", "TEAMS_CERTIFICATE_PASSWORD": "pw"},
        "TEAMS_CERTIFICATE_PASSWORD is set without TEAMS_CERTIFICATE_PATH",
    ),
    ({**IDENTITY, "TEAMS_CLIENT_ID": "bot", "TEAMS_CLIENT_SECRET": "s"}, "TEAMS_CLIENT_ID must"),
    (
        {**IDENTITY, "TEAMS_CERTIFICATE_PATH": "/nowhere/bot.pem"},
        "TEAMS_CERTIFICATE_PATH '/nowhere/bot.pem' cannot be read",
    ),
    (
        {**IDENTITY, "TEAMS_FEDERATED_TOKEN_FILE": "/nowhere/token"},
        "TEAMS_FEDERATED_TOKEN_FILE '/nowhere/token' cannot be read",
    ),
]


@pytest.mark.parametrize(("env", "says"), BAD, ids=lambda value: str(value)[:40])
def test_bad_combinations_name_the_variable_and_the_fix(env: dict[str, str], says: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(env)
    assert says in str(error.value) and "\n" not in str(error.value)


def _pem_file(tmp_path: Path, data: bytes) -> dict[str, str]:
    path = tmp_path / "bot.pem"
    path.write_bytes(data)
    return {**IDENTITY, "TEAMS_CERTIFICATE_PATH": str(path)}


def test_certificate_files_that_cannot_sign_are_refused_with_the_fix(tmp_path: Path) -> None:
    path, _ = bot_certificate(tmp_path)
    pem = path.read_bytes()
    key_end = pem.index(b"-----END PRIVATE KEY-----\n") + len(b"-----END PRIVATE KEY-----\n")
    key, cert = pem[:key_end], pem[key_end:]
    _, other = bot_certificate(tmp_path, name="other")
    other_cert = other.public_bytes(serialization.Encoding.PEM)
    ec_key = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    cases = {
        b"a .pfx file, say\x00\x01": "is not a PEM file: convert a .pfx",
        key: "holds no certificate",
        cert: "holds no private key",
        key + other_cert: "the private key belongs to none of the certificates",
        ec_key + cert: "not an RSA key",
        b"-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n" + cert: (
            "the private key cannot be read"
        ),
    }
    for data, says in cases.items():
        with pytest.raises(ConfigError) as error:
            load_settings(_pem_file(tmp_path, data))
        message = str(error.value)
        assert message.startswith("TEAMS_CERTIFICATE_PATH ") and says in message, message
        assert "\n" not in message
    with pytest.raises(ConfigError, match="remove TEAMS_CERTIFICATE_PASSWORD"):
        load_settings({**_pem_file(tmp_path, pem), "TEAMS_CERTIFICATE_PASSWORD": "pw"})


def test_an_empty_federated_token_file_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "token"
    empty.write_text("\n")
    with pytest.raises(ConfigError, match="is empty: the federated token has not been written"):
        load_settings({**IDENTITY, "TEAMS_FEDERATED_TOKEN_FILE": str(empty)})
