# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The credentials msal is given: a certificate file (PEM or PFX) turned into msal's ``client_credential``, a federated
token (a JWT) read from its file, and msal itself, imported only when a token must be acquired.

Split out of ``_auth`` (which re-exports every name); subpackage: graph.
"""

import base64
import json
import re
from importlib.util import find_spec

from ansible_collections.smarttrace.sso.plugins.module_utils._common.errors import AuthenticationError

# msal is imported by _msal(), when a token must be acquired; here only whether it is installed is looked up.
try:
    HAS_MSAL = find_spec("msal") is not None
except (ImportError, ValueError):
    HAS_MSAL = False
MSAL_IMPORT_ERROR = None if HAS_MSAL else "ModuleNotFoundError: No module named 'msal'"

# The audience Entra expects in a federated token (the default of a federated identity credential).
FEDERATED_AUDIENCE = "api://AzureADTokenExchange"
# A federated token file larger than this is not a token (a JWT of a CI system is a few KB).
MAX_FEDERATED_TOKEN_BYTES = 64 * 1024
# What to do about the AADSTS codes only workload identity federation meets.
FEDERATED_HINTS = {
    "70021": "no federated identity credential of client_id matches the token's issuer, subject and audience: add one "
             "(playbook create_automation_identity, smarttrace_sso_automation_federated) or check the CI job's subject",
    "700211": "the token's issuer matches no federated identity credential of client_id: the credential's issuer must equal the token's iss exactly",
    "700212": "the token's audience matches no federated identity credential of client_id: request the token for audience "
              "api://AzureADTokenExchange (or add the CI system's audience to the credential)",
    "700213": "the token's subject matches no federated identity credential of client_id (the match is case-sensitive): "
              "add a credential for this subject",
    "700024": "the federated token has expired: the CI system or Kubernetes must write a fresh one to federated_token_file "
              "(AZURE_FEDERATED_TOKEN_FILE) before the run",
    "50027": "federated_token_file does not hold a signed JWT: point it at the OIDC token file of the job",
    "700027": "the token's signature does not verify with the keys its issuer publishes (JWKS): use the token exactly as the issuer wrote it",
    "50166": "Entra ID cannot fetch the issuer's OpenID configuration or keys: the issuer URL must be reachable from the internet over https",
}


def _msal():
    """The msal package, imported on first use (with it come ``requests`` and ``urllib3``)."""
    try:
        import msal  # see the module docstring
    except ImportError:
        raise AuthenticationError("this auth_method needs the Python library msal", hint="pip install msal")
    return msal


def load_certificate_credential(path, password=None):
    """msal ``client_credential`` for a PEM (key + certificate) or PFX/P12 file; errors never show key material."""
    # cryptography is imported here, not at the top: only the certificate method needs it, and its import (about 20 ms)
    # would otherwise be paid by every task of every module (docs/performance.md).
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.serialization import pkcs12
    except ImportError:
        raise AuthenticationError("the certificate method needs the Python library cryptography", hint="install cryptography")
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except (IOError, OSError) as exc:
        raise AuthenticationError("cannot read client_certificate_path %s (%s)" % (path, exc.strerror or exc))
    secret = password.encode("utf-8") if password else None
    try:
        if b"-----BEGIN" in data:
            key_pem = _pem_block(data, b"PRIVATE KEY", path)
            # a password set for a PFX (e.g. in the environment) is not an error for an unencrypted PEM key
            key = serialization.load_pem_private_key(key_pem, secret if b"ENCRYPTED" in key_pem else None)
            certificate = x509.load_pem_x509_certificate(_pem_block(data, b"CERTIFICATE", path))
        else:
            key, certificate, _chain = pkcs12.load_key_and_certificates(data, secret)
    except AuthenticationError:
        raise
    except (ValueError, TypeError):
        raise AuthenticationError("cannot load the client certificate %s: wrong client_certificate_password, or not a PEM/PFX certificate "
                                  "with its key" % path)
    if key is None or certificate is None:
        raise AuthenticationError("cannot load the client certificate %s: the PFX/P12 file must hold the private key and the certificate" % path)
    credential = {
        "private_key": key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode("ascii"),
        "public_certificate": certificate.public_bytes(serialization.Encoding.PEM).decode("ascii"),
    }
    if _msal_version() < (1, 35):  # older msal needs the SHA-1 thumbprint (newer ones compute a SHA-256 one)
        credential["thumbprint"] = certificate.fingerprint(hashes.SHA1()).hex()  # nosec - thumbprint, not security
    return credential


def _pem_block(data, kind, path):
    match = re.search(br"-----BEGIN [A-Z ]*" + kind + br"-----.+?-----END [A-Z ]*" + kind + br"-----", data, re.S)
    if not match:
        raise AuthenticationError("client_certificate_path %s must hold the certificate and its private key (PEM); %s is missing"
                                  % (path, kind.decode("ascii").lower()))
    return match.group(0)


def read_federated_token(path):
    """The federated token (a JWT) in ``path``, read now: CI systems and Kubernetes replace the file while a job runs.

    Errors name the option and never show the file's content.
    """
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_FEDERATED_TOKEN_BYTES + 1)
    except (IOError, OSError) as exc:
        raise AuthenticationError("cannot read federated_token_file %s (%s)" % (path, exc.strerror or exc), method="federated",
                                  hint="point federated_token_file (or AZURE_FEDERATED_TOKEN_FILE) at the OIDC token file the CI system or "
                                       "Kubernetes writes for the job")
    try:
        token = data.decode("ascii").strip()
    except UnicodeDecodeError:
        token = ""
    if len(data) > MAX_FEDERATED_TOKEN_BYTES or not re.match(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\Z", token):
        raise AuthenticationError("federated_token_file %s does not hold a JSON Web Token (three base64url parts separated by dots)" % path,
                                  method="federated", hint="point federated_token_file (or AZURE_FEDERATED_TOKEN_FILE) at the OIDC token "
                                                           "file itself, not at a folder, a JSON document or a certificate")
    return token


def federated_claims(token):
    """(iss, sub, aud) of a federated token, unverified (Entra verifies it); None when its payload is not JSON."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode("utf-8"))
    except (IndexError, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(claims, dict):
        return None
    audience = claims.get("aud")
    audience = sorted(audience) if isinstance(audience, list) else audience
    return tuple(json.dumps(claims.get(name), sort_keys=True) for name in ("iss", "sub")) + (json.dumps(audience),)


def _msal_version():
    return tuple(int(part) for part in re.findall(r"\d+", getattr(_msal(), "__version__", "0"))[:2])
