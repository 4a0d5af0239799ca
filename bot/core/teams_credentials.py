"""How the Teams bot proves who it is when it asks Entra ID for its own tokens: the four
credentials Azure offers a single-tenant bot, exactly one per deployment, and the reading of a
certificate file (checked when the settings are read, read again when the bot starts)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.core.config import ConfigError


@dataclass(frozen=True)
class ClientSecret:
    """A client secret of the bot's app registration (TEAMS_CLIENT_SECRET)."""

    client_id: str
    tenant_id: str
    secret: str = field(repr=False)
    kind = "client secret"


@dataclass(frozen=True)
class Certificate:
    """A certificate of the bot's app registration: a PEM file with its private key."""

    client_id: str
    tenant_id: str
    path: Path
    password: str | None = field(default=None, repr=False)
    kind = "certificate"


@dataclass(frozen=True)
class ManagedIdentity:
    """The bot is a user-assigned managed identity (Azure Bot app type "User-Assigned Managed
    Identity"): client_id is the identity's client id, and the host hands out its tokens."""

    client_id: str
    tenant_id: str
    kind = "managed identity"


@dataclass(frozen=True)
class FederatedToken:
    """A federated credential: the app registration trusts a token another issuer writes to a
    file (AKS workload identity), sent as the client assertion and read again for each
    request, because the file is replaced before the token in it expires."""

    client_id: str
    tenant_id: str
    token_file: Path
    kind = "federated credential"


TeamsCredentials = ClientSecret | Certificate | ManagedIdentity | FederatedToken

CERTIFICATE_VARIABLE = "TEAMS_CERTIFICATE_PATH"


@dataclass(frozen=True)
class CertificateFile:
    """What a certificate file holds, as MSAL takes it: the key (PEM, unencrypted, in memory
    only), the key's own certificate (MSAL sends it in the x5c header, for subject name and
    issuer authentication, and takes its SHA-256 thumbprint from it) and the SHA-1 thumbprint
    the Azure portal lists it by."""

    private_key_pem: str = field(repr=False)
    certificate_pem: str
    sha1_thumbprint: str


def read_certificate(path: Path, password: str | None) -> CertificateFile:
    """The key and certificates in a PEM file; ConfigError naming TEAMS_CERTIFICATE_PATH (and
    what to do) if the file cannot be read, is not PEM, or lacks the key or its certificate."""
    where = f"{CERTIFICATE_VARIABLE} {str(path)!r}"
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ConfigError(
            f"{where} cannot be read ({error.strerror or type(error).__name__}): point it at "
            "the PEM file holding the bot's private key and certificate"
        ) from None
    blocks = _PEM_BLOCK.findall(data)
    if not blocks:
        raise ConfigError(
            f"{where} is not a PEM file: convert a .pfx with "
            "`openssl pkcs12 -in bot.pfx -out bot.pem` and point it at the .pem"
        )
    certificates = []
    for block, label in blocks:
        if label == b"CERTIFICATE":
            try:
                certificates.append(x509.load_pem_x509_certificate(block))
            except ValueError:
                raise ConfigError(f"{where} holds a certificate that cannot be read") from None
    if not certificates:
        raise ConfigError(
            f"{where} holds no certificate: put the certificate you uploaded to the app "
            "registration in the file, after the private key"
        )
    keys = [block for block, label in blocks if label.endswith(b"PRIVATE KEY")]
    key = _private_key(keys[0] if keys else None, password, where)
    public = key.public_key().public_numbers()
    own = [cert for cert in certificates if _public_numbers(cert) == public]
    if not own:
        raise ConfigError(
            f"{where}: the private key belongs to none of the certificates in the file: put "
            "the key and its own certificate together"
        )
    return CertificateFile(
        private_key_pem=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode(),
        certificate_pem=own[0].public_bytes(serialization.Encoding.PEM).decode(),
        sha1_thumbprint=own[0].fingerprint(hashes.SHA1()).hex().upper(),  # noqa: S303
    )


# A PEM block and its label ("CERTIFICATE", "PRIVATE KEY", "ENCRYPTED PRIVATE KEY", ...).
_PEM_BLOCK = re.compile(rb"(-----BEGIN ([A-Z0-9 ]+)-----.*?-----END \2-----)", re.DOTALL)


def _private_key(data: bytes | None, password: str | None, where: str) -> rsa.RSAPrivateKey:
    if data is None:
        raise ConfigError(
            f"{where} holds no private key: put the certificate's private key in the file "
            "(a certificate alone cannot sign)"
        )
    secret = password.encode() if password else None
    try:
        key = serialization.load_pem_private_key(data, secret)
    except TypeError:  # encrypted without a password, or a password for a plain key
        if secret is None:
            raise ConfigError(
                f"{where}: the private key is encrypted: set TEAMS_CERTIFICATE_PASSWORD"
            ) from None
        raise ConfigError(
            f"{where}: the private key is not encrypted: remove TEAMS_CERTIFICATE_PASSWORD"
        ) from None
    except ValueError:
        if secret is not None:
            raise ConfigError(
                f"{where}: the private key cannot be read with TEAMS_CERTIFICATE_PASSWORD: "
                "check the password"
            ) from None
        raise ConfigError(f"{where}: the private key cannot be read (not a PEM key)") from None
    except Exception as error:  # an algorithm this cryptography build does not offer
        raise ConfigError(f"{where}: the private key cannot be read ({error})") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigError(
            f"{where}: the key is not an RSA key: MSAL signs the bot's client assertion with "
            "RSA (PS256), so use an RSA certificate"
        )
    return key


def _public_numbers(certificate: x509.Certificate) -> rsa.RSAPublicNumbers | None:
    public = certificate.public_key()
    return public.public_numbers() if isinstance(public, rsa.RSAPublicKey) else None
