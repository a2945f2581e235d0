"""Access tokens of the sandbox: RS256 JWTs shaped like the v1.0 app-only tokens Entra ID issues for Graph.

A real app-only Graph token carries ``aud`` (the Graph resource, e.g. ``https://graph.microsoft.com``),
``iss`` ``https://sts.windows.net/<tid>/``, ``tid``, ``appid``, ``appidacr`` (1 = secret, 2 = certificate),
``oid``/``sub`` (the client's service principal), ``idtyp: app`` and ``roles`` (the Graph app roles granted
to that service principal when the token was issued). Graph checks signature, audience, issuer and
lifetime (with five minutes of clock skew) and then authorizes by ``roles``.
"""
from __future__ import annotations

import base64
import datetime
import functools
import hashlib
import threading
import typing as t
import uuid

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

TOKEN_LIFETIME = 3599
CLOCK_SKEW = 300
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
# .default scope resource -> audience, per cloud (contract 7.5).
GRAPH_RESOURCES = (
    "https://graph.microsoft.com",
    "https://graph.microsoft.us",
    "https://dod-graph.microsoft.us",
    "https://microsoftgraph.chinacloudapi.cn",
)
GRAPH_AUDIENCES = frozenset(GRAPH_RESOURCES) | frozenset(r + "/" for r in GRAPH_RESOURCES) | {GRAPH_APP_ID}

_KEY_LOCK = threading.Lock()


@functools.lru_cache(maxsize=None)
def _process_key(purpose: str) -> rsa.RSAPrivateKey:
    """One RSA key per purpose and process (key generation is the slow part of starting a directory)."""
    with _KEY_LOCK:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def process_key(purpose: str) -> rsa.RSAPrivateKey:
    return _process_key(purpose)


def self_signed(key: rsa.RSAPrivateKey, common_name: str, not_before: datetime.datetime, days: int, serial: int) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    return (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name)
            .public_key(key.public_key())
            .serial_number(serial)
            .not_valid_before(not_before)
            .not_valid_after(not_before + datetime.timedelta(days=days))
            .sign(key, hashes.SHA256()))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def thumbprints(cert_der: bytes) -> tuple[str, str]:
    """(x5t, x5t#S256) of a DER certificate, base64url as in JWT headers."""
    return b64url(hashlib.sha1(cert_der).digest()), b64url(hashlib.sha256(cert_der).digest())  # noqa: S324 - x5t is SHA-1 by definition


class TokenError(Exception):
    """Why Graph refuses a bearer token; the message is Graph's."""


class TokenIssuer:
    """Signs access tokens and verifies them for Graph; one signing key per process."""

    def __init__(self, clock: t.Callable[[], float]):
        self.clock = clock
        self._key = process_key("token-signing")
        cert = self_signed(self._key, "accounts.sandbox.local", datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc), 3650, 1)
        self._cert_der = cert.public_bytes(serialization.Encoding.DER)
        self.kid = thumbprints(self._cert_der)[0]
        self._public_pem = self._key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    def jwks(self, issuer: str) -> dict:
        numbers = self._key.public_key().public_numbers()
        return {"keys": [{
            "kty": "RSA",
            "use": "sig",
            "kid": self.kid,
            "x5t": self.kid,
            "n": b64url(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
            "e": b64url(numbers.e.to_bytes(3, "big")),
            "x5c": [base64.b64encode(self._cert_der).decode()],
            "issuer": issuer,
        }]}

    def issue(self, *, tenant_id: str, audience: str, app_id: str, app_display_name: str, object_id: str, roles: list[str],
              appidacr: str, token_id: str) -> tuple[str, int]:
        now = int(self.clock())
        claims = {
            "aud": audience,
            "iss": "https://sts.windows.net/%s/" % tenant_id,
            "iat": now,
            "nbf": now,
            "exp": now + TOKEN_LIFETIME,
            "app_displayname": app_display_name,
            "appid": app_id,
            "appidacr": appidacr,
            "idp": "https://sts.windows.net/%s/" % tenant_id,
            "idtyp": "app",
            "oid": object_id,
            "sub": object_id,
            "tid": tenant_id,
            "uti": token_id,
            "ver": "1.0",
        }
        if roles:
            claims["roles"] = sorted(roles)
        token = jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.kid, "x5t": self.kid, "typ": "JWT"})
        return token, TOKEN_LIFETIME

    def verify(self, token: str, tenant_id: str) -> dict:
        """The claims of a token Graph accepts; TokenError with Graph's message otherwise."""
        if not token:
            raise TokenError("Access token is empty.")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise TokenError("CompactToken parsing failed with error code: 80049217") from None
        if header.get("alg") != "RS256" or header.get("kid") not in (None, self.kid):
            raise TokenError("Access token validation failure.")
        try:
            claims = jwt.decode(token, self._public_pem, algorithms=["RS256"],
                                options={"verify_aud": False, "verify_exp": False, "verify_nbf": False, "verify_iat": False})
        except jwt.PyJWTError:
            raise TokenError("Access token validation failure.") from None
        if claims.get("aud") not in GRAPH_AUDIENCES:
            raise TokenError("Access token validation failure. Invalid audience.")
        if claims.get("tid") != tenant_id or claims.get("iss") != "https://sts.windows.net/%s/" % tenant_id:
            raise TokenError("Access token validation failure. Invalid issuer.")
        now = self.clock()
        if not isinstance(claims.get("exp"), int) or now > claims["exp"] + CLOCK_SKEW or now + CLOCK_SKEW < claims.get("nbf", 0):
            raise TokenError("Access token has expired or is not yet valid.")
        return claims


def new_token_id() -> str:
    return b64url(uuid.uuid4().bytes)
