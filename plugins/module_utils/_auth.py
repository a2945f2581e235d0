# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""From the shared Entra options to a Microsoft Graph access token.

Methods (``auth_method``): ``client_secret`` and ``certificate`` (msal client credentials),
``federated`` (workload identity federation: an OIDC token from a file, e.g. ``AZURE_FEDERATED_TOKEN_FILE``, sent as
msal's client assertion and read again at every token request, since CI systems and Kubernetes rotate it),
``managed_identity`` (msal, system- or user-assigned), ``access_token`` (given), ``azure_cli``
(``az account get-access-token``), and ``auto``, which picks from what is given.

Rules this file keeps:

* with ``token_cache`` on, a valid token in the persistent cache is used without any HTTP request
  (it is looked up before msal is constructed: msal's constructor fetches the OpenID configuration),
  but only when it was obtained with the same credential (``_token_cache``: a salted HMAC of the client
  secret, or of the certificate file and its password, or of the federated token's path, issuer, subject and audience):
  a wrong, rotated or revoked secret goes to the token endpoint at once, which refuses it with its AADSTS code;
* msal's error dicts and exceptions become ``AuthenticationError`` with the AADSTS code and a fix;
  429 and 5xx from the login endpoint are retried honouring ``Retry-After``, for a bounded time;
* one ``_http.Session`` (the standard library's ``http.client``, not ``requests``) for the login endpoint
  and Graph, also given to msal as its ``http_client``: ``REQUESTS_CA_BUNDLE`` cannot override ``ca_path``,
  ``~/.netrc`` cannot replace the bearer token, proxies are still taken from the environment per URL, and
  there is a default timeout;
* msal (and with it ``requests``) is imported only when a token must be acquired: a task that finds a
  valid token in the persistent cache imports neither (docs/performance.md).
"""

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import time
from importlib.util import find_spec
from urllib.parse import urlsplit

from ansible.module_utils.basic import env_fallback

from ansible_collections.smarttrace.sso.plugins.module_utils._clouds import CLOUDS, DEFAULT_CLOUD, get_cloud, is_microsoft_authority, normalize_root
from ansible_collections.smarttrace.sso.plugins.module_utils._errors import AuthenticationError, mask_secrets
from ansible_collections.smarttrace.sso.plugins.module_utils._retry_policy import RETRIED_STATUSES, backoff_delay, parse_retry_after
from ansible_collections.smarttrace.sso.plugins.module_utils._http import TLSError, TransportError, session_for
from ansible_collections.smarttrace.sso.plugins.module_utils._time_budget import time_budget_argument_spec
from ansible_collections.smarttrace.sso.plugins.module_utils._token_cache import PersistentTokenCache

# msal is imported by _msal(), when a token must be acquired; here only whether it is installed is looked up.
try:
    HAS_MSAL = find_spec("msal") is not None
except (ImportError, ValueError):
    HAS_MSAL = False
MSAL_IMPORT_ERROR = None if HAS_MSAL else "ModuleNotFoundError: No module named 'msal'"


AUTH_METHODS = ("auto", "client_secret", "certificate", "federated", "managed_identity", "access_token", "azure_cli")
MSAL_METHODS = ("client_secret", "certificate", "federated", "managed_identity")
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
# Environment variables that reveal a managed identity endpoint (App Service, Functions, Arc, Azure ML).
MANAGED_IDENTITY_ENV = ("IDENTITY_ENDPOINT", "MSI_ENDPOINT")
MIN_REMAINING_SECONDS = 300
from ansible_collections.smarttrace.sso.plugins.module_utils._identifiers import is_guid
# A tenant is a GUID or a domain name: nothing else may go into the authority URL (``<authority root>/<tenant>``).
_TENANT_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?\Z")
# The login endpoint's answers are repeated by the collection's one policy (_retry_policy): a token request may be sent
# again (it changes nothing), at most MAX_ATTEMPTS times and within max_wait seconds of waiting.
RETRY_STATUSES = RETRIED_STATUSES
MAX_ATTEMPTS = 6
LOGIN_BACKOFF_CAP = 30.0


def entra_argument_spec():
    """The options every Entra module shares (documented in the ``smarttrace.sso.entra`` doc fragment)."""
    spec = dict(
        tenant_id=dict(type="str", fallback=(env_fallback, ["AZURE_TENANT_ID", "AZURE_TENANT"])),
        client_id=dict(type="str", fallback=(env_fallback, ["AZURE_CLIENT_ID"])),
        client_secret=dict(type="str", no_log=True, fallback=(env_fallback, ["AZURE_CLIENT_SECRET", "AZURE_SECRET"])),
        client_certificate_path=dict(type="path", fallback=(env_fallback, ["AZURE_CLIENT_CERTIFICATE_PATH"])),
        client_certificate_password=dict(type="str", no_log=True, fallback=(env_fallback, ["AZURE_CLIENT_CERTIFICATE_PASSWORD"])),
        federated_token_file=dict(type="path", fallback=(env_fallback, ["AZURE_FEDERATED_TOKEN_FILE"])),
        access_token=dict(type="str", no_log=True),
        auth_method=dict(type="str", default="auto", choices=list(AUTH_METHODS)),
        cloud=dict(type="str", default=DEFAULT_CLOUD, choices=sorted(CLOUDS)),
        authority_url=dict(type="str", fallback=(env_fallback, ["AZURE_AUTHORITY_HOST"])),
        graph_url=dict(type="str", fallback=(env_fallback, ["ENTRA_GRAPH_URL"])),
        validate_certs=dict(type="bool", default=True),
        ca_path=dict(type="path", fallback=(env_fallback, ["ENTRA_CA_PATH", "REQUESTS_CA_BUNDLE"])),
        timeout=dict(type="int", default=30),
        token_cache=dict(type="bool", default=True),
    )
    spec.update(time_budget_argument_spec())
    return spec


class AuthConfig:
    """The shared Entra options, resolved: cloud defaults applied, URLs normalized."""

    def __init__(self, params):
        self.tenant_id = params.get("tenant_id")
        self.client_id = params.get("client_id")
        self.client_secret = params.get("client_secret")
        self.client_certificate_path = params.get("client_certificate_path")
        self.client_certificate_password = params.get("client_certificate_password")
        self.federated_token_file = params.get("federated_token_file")
        self.access_token = params.get("access_token")
        self.auth_method = params.get("auth_method") or "auto"
        self.cloud = get_cloud(params.get("cloud"))
        self.authority_root = normalize_root(params.get("authority_url")) or self.cloud.authority_root
        self.graph_root = normalize_root(params.get("graph_url")) or self.cloud.graph_root
        self.validate_certs = params.get("validate_certs", True) is not False
        self.ca_path = params.get("ca_path") or None
        self.timeout = params.get("timeout") or 30
        self.token_cache = params.get("token_cache", True) is not False

    @property
    def authority(self):
        """``<authority root>/<tenant>`` (an authority_url that already ends with the tenant is kept)."""
        if self.authority_root.lower().endswith("/" + (self.tenant_id or "").lower()):
            return self.authority_root
        return "%s/%s" % (self.authority_root, self.tenant_id)

    @property
    def scope(self):
        """The Graph scope stays the cloud's, also when ``graph_url`` points elsewhere (a proxy, the sandbox)."""
        return self.cloud.scope


def select_auth_method(config, which=shutil.which, environ=None):
    """The method ``auto`` stands for, given what ``config`` holds; an explicit method is returned as is."""
    if config.auth_method != "auto":
        return config.auth_method
    environ = os.environ if environ is None else environ
    if config.access_token:
        return "access_token"
    if config.client_secret:
        return "client_secret"
    if config.client_certificate_path:
        return "certificate"
    if config.federated_token_file:
        return "federated"
    if any(environ.get(name) for name in MANAGED_IDENTITY_ENV):
        return "managed_identity"
    if which("az"):
        return "azure_cli"
    raise AuthenticationError(
        "no credential was given",
        hint="set client_secret (or AZURE_CLIENT_SECRET), client_certificate_path (or AZURE_CLIENT_CERTIFICATE_PATH), "
             "federated_token_file (or AZURE_FEDERATED_TOKEN_FILE) or access_token, "
             "together with tenant_id and client_id; or choose auth_method managed_identity or azure_cli")


_REQUIRED = {
    "client_secret": (("tenant_id", "AZURE_TENANT_ID"), ("client_id", "AZURE_CLIENT_ID"), ("client_secret", "AZURE_CLIENT_SECRET")),
    "certificate": (("tenant_id", "AZURE_TENANT_ID"), ("client_id", "AZURE_CLIENT_ID"), ("client_certificate_path", "AZURE_CLIENT_CERTIFICATE_PATH")),
    "federated": (("tenant_id", "AZURE_TENANT_ID"), ("client_id", "AZURE_CLIENT_ID"), ("federated_token_file", "AZURE_FEDERATED_TOKEN_FILE")),
    "access_token": (("access_token", None),),
}


def check_required(config, method):
    """Raise ``AuthenticationError`` naming every option (and its environment variable) ``method`` lacks."""
    missing = ["%s%s" % (name, " (or %s)" % env if env else "") for name, env in _REQUIRED.get(method, ()) if not getattr(config, name)]
    if missing:
        raise AuthenticationError("auth_method %s needs %s" % (method, ", ".join(missing)), hint="set the missing option(s) or environment variable(s)")
    if config.tenant_id and not _TENANT_RE.match(config.tenant_id):
        raise AuthenticationError("tenant_id %r is neither a tenant ID (a GUID) nor a domain name" % config.tenant_id,
                                  hint="give the Directory (tenant) ID, such as 00000000-0000-0000-0000-000000000000, or a verified domain "
                                       "such as contoso.onmicrosoft.com (or set AZURE_TENANT_ID)")


def build_session(validate_certs=True, ca_path=None, timeout=30, warn=None, service="the login endpoint and Microsoft Graph"):
    """The session for the login endpoint and Graph (or ``service``, named in the warning); ``validate_certs=False`` always warns."""
    if validate_certs and ca_path and not os.path.isfile(ca_path):
        raise AuthenticationError("ca_path %s is not a file" % ca_path,
                                  hint="give the PEM file of the certificate authorities that signed the certificates of %s, "
                                       "or leave ca_path unset to use the system's" % service)
    return session_for(validate_certs, ca_path, timeout, warn=warn, service=service)


def _msal():
    """The msal package, imported on first use (with it come ``requests`` and ``urllib3``)."""
    try:
        import msal  # see the module docstring
    except ImportError:
        raise AuthenticationError("this auth_method needs the Python library msal", hint="pip install msal")
    return msal


def _transport_errors():
    """(TLS errors, other transport errors): ours, and requests' when msal brought it (Service Fabric's own session)."""
    tls, other = [TLSError], [TransportError]
    requests = sys.modules.get("requests")
    if requests is not None:
        tls.append(requests.exceptions.SSLError)
        other += [requests.ConnectionError, requests.Timeout]
    return tuple(tls), tuple(other)


def _kind(exc):
    """The failure's name as requests called it (``ConnectionError``, ``ConnectTimeout``, ...)."""
    return getattr(exc, "kind", None) or type(exc).__name__


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
            if key is None or certificate is None:
                raise ValueError("the PFX/P12 file must hold the private key and the certificate")
    except AuthenticationError:
        raise
    except (ValueError, TypeError) as exc:
        reason = str(exc) if "must hold" in str(exc) else "wrong client_certificate_password, or not a PEM/PFX certificate with its key"
        raise AuthenticationError("cannot load the client certificate %s: %s" % (path, reason))
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


class TokenProvider:
    """Callable returning a valid Graph access token, acquired once per process and cached on disk.

    ``requests`` counts the HTTP requests made to acquire tokens (for tests and ``-vvv``);
    ``source`` tells where the last token came from: ``cache``, ``identity_provider``, ``given``, ``azure_cli``.
    """

    def __init__(self, config, session, warn=None, sleep=time.sleep, clock=time.time, max_wait=60.0, cache_dir=None,
                 which=shutil.which, run_command=None, environ=None, budget=None):
        self.config = config
        self.session = session
        self.method = select_auth_method(config, which=which, environ=environ)
        check_required(config, self.method)
        self.requests = 0
        self.source = None
        self._warn = warn or (lambda message: None)
        self._sleep = sleep
        self._clock = clock
        self._max_wait = max_wait
        # the whole task's time budget (a _retry_policy.Deadline): retries end by it as well as by max_wait
        self.budget = budget
        self._cache_dir = cache_dir
        self._which = which
        self._run_command = run_command or _run_command
        self._token = None
        self._last_response = None
        self._listening = False
        session.hooks.setdefault("response", []).append(self._on_response)

    def __call__(self):
        if self._token and (self._token.get("expires_on") is None or self._token["expires_on"] - self._clock() > MIN_REMAINING_SECONDS):
            return self._token["access_token"]
        if self.method in MSAL_METHODS and not HAS_MSAL:
            raise AuthenticationError("auth_method %s needs the Python library msal" % self.method, hint="pip install msal")
        acquire = {
            "client_secret": self._confidential_client_token,
            "certificate": self._confidential_client_token,
            "federated": self._confidential_client_token,
            "managed_identity": self._managed_identity_token,
            "access_token": self._given_token,
            "azure_cli": self._azure_cli_token,
        }[self.method]
        self._listening = True
        try:
            self._token = acquire()
        finally:
            self._listening = False
        return self._token["access_token"]

    def invalidate(self):
        """Graph rejected the current token: forget it (here and in the persistent cache) so the next call gets a new one.

        Returns True when a new token can be had (not for a given ``access_token`` or an Azure CLI token).
        """
        token, self._token = self._token, None
        if token is None or self.method not in MSAL_METHODS:
            return False
        if self.source == "cache" and self.config.token_cache:
            config = self.config
            cache = (self._persistent_cache(config.authority, config.tenant_id, config.client_id, self._credential_material())
                     if self.method != "managed_identity" else self._persistent_cache("managed_identity", "", config.client_id or "system"))
            if cache and cache.forget_access_token(token["access_token"]):
                cache.save()
        return True

    # ------------------------------------------------------------------ methods
    def _given_token(self):
        self.source = "given"
        return {"access_token": self.config.access_token, "expires_on": None}

    def _persistent_cache(self, authority, tenant_id, client_id, credential=None):
        if not self.config.token_cache:
            return None
        return PersistentTokenCache(authority, tenant_id, client_id, directory=self._cache_dir, warn=self._warn, clock=self._clock,
                                    credential=credential)

    def _credential_material(self):
        """What the cached tokens are bound to (``_token_cache``: only a salted HMAC of it is stored): the client secret, or the
        certificate file's bytes and its password. None when the certificate file cannot be read (then the cache is not used,
        and loading the certificate says what is wrong)."""
        config = self.config
        if self.method == "client_secret":
            return b"client_secret\x00" + config.client_secret.encode("utf-8")
        if self.method == "federated":
            # Bound to who the token says the job is, not to the token itself: a rotated token of the same job keeps the
            # cached access token (no request), a token of another issuer, subject or audience does not use it.
            try:
                claims = federated_claims(read_federated_token(config.federated_token_file))
            except AuthenticationError:
                return None
            if claims is None:
                return None
            return b"\x00".join([b"federated", os.path.abspath(config.federated_token_file).encode("utf-8")] + [c.encode("utf-8") for c in claims])
        try:
            with open(config.client_certificate_path, "rb") as handle:
                data = handle.read()
        except (IOError, OSError):
            return None
        return b"certificate\x00" + data + b"\x00" + (config.client_certificate_password or "").encode("utf-8")

    def _cached_confidential_client_token(self, cache):
        """The cache's valid token of this identity (read without msal), or None."""
        config = self.config
        realm = config.tenant_id if is_guid(config.tenant_id) else None  # a domain name is resolved by msal to a GUID realm
        return cache.find_access_token(config.client_id, config.scope, realm=realm, environment=urlsplit(config.authority_root).hostname)

    def _confidential_client_token(self):
        config = self.config
        credential = self._credential_material()
        cache = self._persistent_cache(config.authority, config.tenant_id, config.client_id, credential) if credential is not None else None
        if not cache:
            return self._request_confidential_client_token(None)
        cached = self._cached_confidential_client_token(cache)
        if cached:
            self.source = "cache"
            return cached
        with cache.exclusive(sleep=self._sleep):
            cache.reload()  # another fork of the play may have asked while this one waited
            cached = self._cached_confidential_client_token(cache)
            if cached:
                self.source = "cache"
                return cached
            return self._request_confidential_client_token(cache)

    def _request_confidential_client_token(self, cache):
        config = self.config
        if self.method == "certificate":
            credential = load_certificate_credential(config.client_certificate_path, config.client_certificate_password)
        elif self.method == "federated":
            path = config.federated_token_file
            read_federated_token(path)  # a missing or malformed file is said before any request
            # msal calls this at every token request: the file is read again each time (it is rotated)
            credential = {"client_assertion": lambda: read_federated_token(path)}
        else:
            credential = config.client_secret
        http_cache = {}
        options = {} if is_microsoft_authority(config.authority_root) else {"instance_discovery": False}
        msal = _msal()
        app = self._with_retries(
            lambda: msal.ConfidentialClientApplication(
                config.client_id, client_credential=credential, authority=config.authority, http_client=self.session,
                token_cache=cache.cache if cache else None, http_cache=http_cache, **options),
            "reading the OpenID configuration of %s" % config.authority, http_cache)
        result = self._with_retries(lambda: app.acquire_token_for_client(scopes=[config.scope]), "requesting a token", http_cache)
        return self._finish(result, cache)

    def _managed_identity_token(self):
        client_id = self.config.client_id
        cache = self._persistent_cache("managed_identity", "", client_id or "system")
        msal = _msal()
        identity = msal.UserAssignedManagedIdentity(client_id=client_id) if client_id else msal.SystemAssignedManagedIdentity()
        http_cache = {}
        client = msal.ManagedIdentityClient(identity, http_client=self._managed_identity_http_client(), token_cache=cache.cache if cache else None,
                                            http_cache=http_cache)
        result = self._with_retries(lambda: client.acquire_token_for_client(resource=self.config.cloud.resource),
                                    "requesting a managed identity token", http_cache, retry_connection_errors=False)
        return self._finish(result, cache)

    def _managed_identity_http_client(self, environ=None):
        """The session; on Service Fabric a ``requests.Session`` (msal pins the endpoint's certificate there and accepts nothing else)."""
        environ = os.environ if environ is None else environ
        if not all(environ.get(name) for name in ("IDENTITY_ENDPOINT", "IDENTITY_HEADER", "IDENTITY_SERVER_THUMBPRINT")):
            return self.session
        import requests  # msal, imported already, has imported it
        session = requests.Session()
        session.trust_env = False  # as the own session: no REQUESTS_CA_BUNDLE, no ~/.netrc
        session.hooks["response"].append(lambda response, *args, **kwargs: self._on_response(response))
        original = session.request
        session.request = lambda method, url, **kwargs: original(method, url, **dict(kwargs, timeout=kwargs.get("timeout") or self.config.timeout))
        return session

    def _finish(self, result, cache):
        """msal result -> token dict, or AuthenticationError; persist the cache if msal changed it."""
        if "access_token" not in result:
            error = AuthenticationError.from_token_response(result, status=self._last_status(), method=self.method)
            if self.method == "federated" and error.aadsts in FEDERATED_HINTS:
                error.hint = FEDERATED_HINTS[error.aadsts]
            raise error
        if cache:
            cache.save()
        self.source = result.get("token_source", "identity_provider")
        expires_in = int(result.get("expires_in") or 3600)
        return {"access_token": result["access_token"], "expires_on": self._clock() + expires_in}

    def _azure_cli_token(self):
        executable = self._which("az")
        if not executable:
            raise AuthenticationError("auth_method azure_cli needs the Azure CLI (az) on PATH", hint="install the Azure CLI or choose another auth_method")
        command = [executable, "account", "get-access-token", "--resource", self.config.cloud.resource, "--output", "json"]
        if self.config.tenant_id:
            command += ["--tenant", self.config.tenant_id]
        rc, stdout, stderr = self._run_command(command, self.config.timeout)
        if rc != 0:
            first_line = (mask_secrets(stderr).strip().splitlines() or ["exit code %s" % rc])[0]
            login = "az login" + (" --tenant " + self.config.tenant_id if self.config.tenant_id else "")
            raise AuthenticationError("az account get-access-token failed: %s" % first_line, hint="sign in with '%s' as the user running Ansible" % login)
        try:
            answer = json.loads(stdout)
            token = answer["accessToken"]
        except (ValueError, KeyError, TypeError):
            raise AuthenticationError("az account get-access-token printed no token", hint="update the Azure CLI")
        self.source = "azure_cli"
        expires_on = answer.get("expires_on")
        return {"access_token": token, "expires_on": int(expires_on) if expires_on else self._clock() + 600}

    # ------------------------------------------------------------------ retries
    def _on_response(self, response, *args, **kwargs):
        """Session hook: remember the last login response's status and Retry-After (msal hides them)."""
        if self._listening:
            self.requests += 1
            self._last_response = response
        return response

    def _last_status(self):
        return self._last_response.status_code if self._last_response is not None else None

    def _with_retries(self, call, what, http_cache, retry_connection_errors=True):
        """Run an msal ``call``; retry 429/5xx (error dict or exception) and connection errors, bounded by ``max_wait``."""
        msal_service_error = _msal().exceptions.MsalServiceError
        tls_errors, transport_errors = _transport_errors()
        attempt, waited = 0, 0.0
        while True:
            attempt += 1
            self._last_response = None
            try:
                result = call()
            except msal_service_error as exc:
                problem = "%s (HTTP %s)" % (exc, self._last_status())
            except tls_errors:
                # A certificate that does not verify does not verify on the next attempt either.
                raise AuthenticationError("%s failed: the TLS certificate of %s does not verify" % (what, self.config.authority_root),
                                          method=self.method, hint="give the certificate authority that signed it in ca_path (or "
                                          "REQUESTS_CA_BUNDLE); validate_certs=false turns verification off, for tests only, with a warning")
            except transport_errors as exc:
                if getattr(exc, "permanent", False):  # an unusable proxy setting (_http.UnsupportedProxy): repeating cannot help
                    raise AuthenticationError("%s failed: %s" % (what, mask_secrets(str(exc))), method=self.method)
                if not retry_connection_errors:
                    raise AuthenticationError("%s failed: cannot connect (%s)" % (what, _kind(exc)), method=self.method,
                                              hint="check that this machine has a managed identity endpoint" if self.method == "managed_identity" else None)
                problem = "cannot connect (%s)" % _kind(exc)
            except ValueError as exc:
                raise self._construction_error(what, exc)
            else:
                if not (isinstance(result, dict) and "error" in result and self._last_status() in RETRY_STATUSES):
                    return result
                problem = "HTTP %s %s" % (self._last_status(), result.get("error"))
            delay = self._retry_delay(attempt)
            over_budget = self.budget is not None and not self.budget.allows(delay)
            if attempt >= MAX_ATTEMPTS or waited + delay > self._max_wait or over_budget:
                stop = "; waiting another %.0f s would exceed %s" % (delay, self.budget.describe()) if over_budget else ""
                raise AuthenticationError("%s failed after %d attempts: %s%s" % (what, attempt, mask_secrets(problem), stop), status=self._last_status(),
                                          method=self.method, hint="raise time_budget, or retry later" if over_budget else
                                          "the identity platform is throttling or unavailable: retry later")
            http_cache.clear()  # else msal answers the retry from its throttle cache
            self._sleep(delay)
            waited += delay

    def _retry_delay(self, attempt):
        retry_after = parse_retry_after(self._last_response.headers.get("Retry-After")) if self._last_response is not None else None
        return retry_after if retry_after is not None else backoff_delay(attempt, cap=LOGIN_BACKOFF_CAP)

    def _construction_error(self, what, exc):
        """msal raises ValueError when the authority is unusable (bad URL, unknown tenant): explain which."""
        response = self._last_response
        if response is not None and response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = {}
            if isinstance(body, dict) and body.get("error"):
                return AuthenticationError.from_token_response(body, status=response.status_code, method=self.method, context=what)
            return AuthenticationError("%s failed: HTTP %s" % (what, response.status_code), status=response.status_code, method=self.method,
                                       hint="check tenant_id and authority_url")
        return AuthenticationError("%s failed: %s" % (what, mask_secrets(exc)), method=self.method, hint="check tenant_id and authority_url (an https URL)")


def _run_command(command, timeout):
    """Run ``command`` without a shell; return (rc, stdout, stderr)."""
    try:
        completed = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=max(timeout, 60), check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return 1, "", str(exc)
    return completed.returncode, completed.stdout.decode("utf-8", "replace"), completed.stderr.decode("utf-8", "replace")
