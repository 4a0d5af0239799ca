"""The Teams stand-in's login service: Entra ID's client-credentials grant, which gives the bot
its own tokens for the Bot Connector, served over TLS with a certificate made on the spot
(MSAL talks to no login service over plain HTTP; whoever uses it trusts `ca_file`)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import threading
import time
from pathlib import Path

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from bot.demo.teams_standin_records import BOT_RESOURCE, CLIENT_ID, Payload


class LoginService:
    """Entra ID's token endpoint for the bot's app registration. Only a client secret is
    taken here; tests extend `credential_kind` with certificates and federated tokens."""

    # What it reads and changes, kept by TeamsStandIn.
    _lock: threading.Condition
    key: rsa.RSAPrivateKey
    client_secret: str
    token_lifetime: int
    tokens_issued: int
    token_requests: list[Payload]
    tokens: dict[str, str]  # every token issued, and the credential it was issued for
    token_claims: dict[str, Payload]  # and its claims (its audience: the resource it is for)

    def issue_token(
        self, tenant: str, form: dict[str, list[str]], token_endpoint: str = ""
    ) -> tuple[int, Payload]:
        """The client-credentials grant: the app's id and a credential it has."""
        request = {key: values[0] for key, values in form.items()}
        with self._lock:
            self.token_requests.append({"tenant": tenant, **request})
        if (
            request.get("grant_type") != "client_credentials"
            or request.get("client_id") != CLIENT_ID
        ):
            return refused("AADSTS700016: Application not found in the directory.")
        kind, problem = self.credential_kind(request, token_endpoint)
        if kind is None:
            return refused(problem or "AADSTS7000215: Invalid client credential.")
        scopes = (request.get("scope") or "").split()
        if len(scopes) != 1 or not scopes[0].endswith("/.default"):
            return refused("AADSTS1002012: The provided value for scope is not valid.")
        return 200, self.issue(kind, tenant, scopes[0].removesuffix("/.default"))

    def credential_kind(
        self, request: dict[str, str], token_endpoint: str
    ) -> tuple[str | None, str | None]:
        """The kind of credential the request proves, or None and why it proves none."""
        if "client_secret" not in request:
            return None, "AADSTS7000216: client_assertion or client_secret is required."
        if request["client_secret"] != self.client_secret:
            return None, "AADSTS7000215: Invalid client secret provided."
        return "secret", None

    def issue(self, kind: str, tenant: str, audience: str = BOT_RESOURCE) -> Payload:
        """A token for one resource (its audience) in one tenant, remembered with the
        credential it was issued for and its claims."""
        with self._lock:
            self.tokens_issued += 1
            now = int(time.time())
            claims: Payload = {"aud": audience, "appid": CLIENT_ID, "tid": tenant}
            claims.update(self.granted(tenant, audience))
            claims.update(iat=now, exp=now + self.token_lifetime, n=self.tokens_issued)
            token = jwt.encode(claims, self.key, algorithm="RS256")
            self.tokens[token] = kind
            self.token_claims[token] = claims
        return {"token_type": "Bearer", "expires_in": self.token_lifetime, "access_token": token}

    def granted(self, tenant: str, audience: str) -> Payload:
        """Claims a token carries besides who and what it is for (tests add Graph's roles)."""
        return {}


def tenant_configuration(port: int, tenant: str) -> Payload:
    """A tenant's OpenID configuration, which MSAL reads to find the token endpoint."""
    login = f"https://127.0.0.1:{port}/{tenant}"
    return {
        "issuer": f"{login}/v2.0",
        "authorization_endpoint": f"{login}/oauth2/v2.0/authorize",
        "token_endpoint": f"{login}/oauth2/v2.0/token",
    }


def refused(description: str) -> tuple[int, Payload]:
    return 401, {"error": "invalid_client", "error_description": f"{description}\r\nTrace ID: 0"}


def tls_certificate(workdir: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (its own CA) and its key, as PEM files."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = workdir / "login-cert.pem", workdir / "login-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path
