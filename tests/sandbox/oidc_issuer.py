"""Test OIDC issuers: what a CI system (GitHub Actions, GitLab, AWX with an OIDC plug-in) or a Kubernetes cluster is to Entra ID
in workload identity federation.

Each issuer has a name (``ci``, ``k8s``, any ``[a-z0-9-]`` word) and its own RS256 signing key, and is served over the
sandbox's HTTPS like a real one:

- ``GET /oidc/{name}/.well-known/openid-configuration``: ``issuer`` (``<sandbox url>/oidc/{name}``) and ``jwks_uri``;
- ``GET /oidc/{name}/jwks``: its public key (JWKS).

Tokens for tests come from ``POST /_sandbox/oidc/token`` (test control) with ``{"issuer": "ci", "subject": "...",
"audience": "api://AzureADTokenExchange", "lifetime": 600}``; ``lifetime`` below 0 gives an expired token, ``"foreign_key":
true`` a token signed with a key the issuer's JWKS does not hold. The answer is ``{"token": "<jwt>", "issuer": "<url>"}``.

``verify`` is what the token endpoint does with a federated assertion once a federated identity credential matched it:
the issuer's keys from its JWKS, the signature, then the time range (``login.py`` turns the outcome into AADSTS codes).
"""
from __future__ import annotations

import re
import time
import uuid

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from .http import Request, Response
from .tokens import b64url, process_key

ISSUER_ROOT = "/oidc"
DEFAULT_AUDIENCE = "api://AzureADTokenExchange"
DEFAULT_LIFETIME = 600
_NAME_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,62}\Z")


class IssuerUnreachable(Exception):
    """The issuer's OpenID configuration or keys cannot be had (not a sandbox issuer)."""


class BadSignature(Exception):
    """No key of the issuer's JWKS verifies the token."""


def _kid(key: rsa.RSAPrivateKey) -> str:
    numbers = key.public_key().public_numbers()
    return b64url(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")[:12])


class OidcIssuers:
    """The sandbox's test issuers; keys are made on first use (one per issuer name and process)."""

    def __init__(self, clock=time.time):
        self.clock = clock

    @staticmethod
    def _key(name: str) -> rsa.RSAPrivateKey:
        return process_key("oidc-issuer-" + name)

    @staticmethod
    def issuer_url(base_url: str, name: str) -> str:
        return "%s%s/%s" % (base_url, ISSUER_ROOT, name)

    def jwks(self, name: str) -> dict:
        key = self._key(name)
        numbers = key.public_key().public_numbers()
        return {"keys": [{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": _kid(key),
                          "n": b64url(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
                          "e": b64url(numbers.e.to_bytes(3, "big"))}]}

    # ------------------------------------------------------------------ HTTP (login surface, paths under /oidc)
    def handle(self, req: Request, segments: list[str]) -> Response:
        """``segments`` follow ``/oidc``: ``[name, ".well-known", "openid-configuration"]`` or ``[name, "jwks"]``."""
        if req.method != "GET" or not segments or not _NAME_RE.match(segments[0]):
            return Response(404, {"error": "not_found"})
        name, rest = segments[0], "/".join(segments[1:])
        issuer = self.issuer_url(req.base_url, name)
        if rest == ".well-known/openid-configuration":
            return Response(200, {"issuer": issuer, "jwks_uri": issuer + "/jwks", "response_types_supported": ["id_token"],
                                  "subject_types_supported": ["public"], "id_token_signing_alg_values_supported": ["RS256"],
                                  "claims_supported": ["sub", "aud", "exp", "iat", "iss", "jti", "nbf"]})
        if rest == "jwks":
            return Response(200, self.jwks(name))
        return Response(404, {"error": "not_found"})

    # ------------------------------------------------------------------ test control
    def mint(self, base_url: str, body) -> Response:
        """``POST /_sandbox/oidc/token``: a signed token of a test issuer (see the module docstring)."""
        body = body if isinstance(body, dict) else {}
        name = body.get("issuer", "ci")
        subject = body.get("subject")
        audience = body.get("audience", DEFAULT_AUDIENCE)
        lifetime = body.get("lifetime", DEFAULT_LIFETIME)
        if not isinstance(name, str) or not _NAME_RE.match(name):
            return Response(400, {"error": {"code": "bad_request", "message": "issuer must be a name of [a-z0-9-]"}})
        if not isinstance(subject, str) or not subject:
            return Response(400, {"error": {"code": "bad_request", "message": "subject is required"}})
        if not isinstance(audience, (str, list)) or not isinstance(lifetime, int) or isinstance(lifetime, bool):
            return Response(400, {"error": {"code": "bad_request", "message": "audience is a string (or list), lifetime an integer"}})
        now = int(self.clock())
        issued = now if lifetime > 0 else now + lifetime - 60
        claims = {"iss": self.issuer_url(base_url, name), "sub": subject, "aud": audience, "iat": issued, "nbf": issued,
                  "exp": now + lifetime, "jti": str(uuid.uuid4())}
        key = process_key("oidc-foreign") if body.get("foreign_key") else self._key(name)
        token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": _kid(self._key(name)), "typ": "JWT"})
        return Response(200, {"token": token, "issuer": claims["iss"]})

    # ------------------------------------------------------------------ what the token endpoint does
    def verify(self, base_url: str, token: str) -> dict:
        """The token's claims when a key of its issuer's JWKS verifies its signature (time range not checked here).

        Raises ``IssuerUnreachable`` for an issuer that is not one of the sandbox's, ``BadSignature`` otherwise.
        """
        claims = jwt.decode(token, options={"verify_signature": False})
        issuer = claims.get("iss") or ""
        prefix = base_url + ISSUER_ROOT + "/"
        name = issuer[len(prefix):] if issuer.startswith(prefix) else ""
        if not _NAME_RE.match(name):
            raise IssuerUnreachable(issuer)
        for jwk in self.jwks(name)["keys"]:
            try:
                return jwt.decode(token, jwt.PyJWK(jwk).key, algorithms=["RS256"],
                                  options={"verify_aud": False, "verify_exp": False, "verify_nbf": False, "verify_iat": False})
            except jwt.InvalidSignatureError:
                continue
        raise BadSignature(issuer)
