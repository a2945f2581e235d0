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
  valid token in the persistent cache imports neither (docs/performance.md);
* every retry wait ends within ``max_wait`` and the task's time budget (``budget``, option ``time_budget``).

The options and ``AuthConfig`` are in ``_auth_options``, the certificate and federated token files in
``_auth_credentials``; their names are importable from here too.
"""

import json
import os
import shutil
import subprocess
import sys
import time
from urllib.parse import urlsplit

from ansible_collections.smarttrace.sso.plugins.module_utils._graph.auth_credentials import (
    FEDERATED_HINTS,
    HAS_MSAL,
    _msal,
    federated_claims,
    load_certificate_credential,
    read_federated_token,
)
from ansible_collections.smarttrace.sso.plugins.module_utils._graph.auth_options import MSAL_METHODS, check_required, select_auth_method
from ansible_collections.smarttrace.sso.plugins.module_utils._graph.clouds import is_microsoft_authority
from ansible_collections.smarttrace.sso.plugins.module_utils._common.errors import AuthenticationError, mask_secrets
from ansible_collections.smarttrace.sso.plugins.module_utils._common.http import TLSError, TransportError
from ansible_collections.smarttrace.sso.plugins.module_utils._common.identifiers import is_guid
from ansible_collections.smarttrace.sso.plugins.module_utils._common.retry_policy import RETRIED_STATUSES, backoff_delay, parse_retry_after
from ansible_collections.smarttrace.sso.plugins.module_utils._graph.token_cache import PersistentTokenCache

# Names importers take from here: the options and the credentials have files of their own.
from ansible_collections.smarttrace.sso.plugins.module_utils._graph.auth_credentials import (  # noqa: F401  # pylint: disable=unused-import
    FEDERATED_AUDIENCE,
    MAX_FEDERATED_TOKEN_BYTES,
    MSAL_IMPORT_ERROR,
)
from ansible_collections.smarttrace.sso.plugins.module_utils._graph.auth_options import (  # noqa: F401  # pylint: disable=unused-import
    AUTH_METHODS,
    MANAGED_IDENTITY_ENV,
    AuthConfig,
    build_session,
    entra_argument_spec,
)

MIN_REMAINING_SECONDS = 300
# The login endpoint's answers are repeated by the collection's one policy (_retry_policy): a token request may be sent
# again (it changes nothing), at most MAX_ATTEMPTS times and within max_wait seconds of waiting.
RETRY_STATUSES = RETRIED_STATUSES
MAX_ATTEMPTS = 6
LOGIN_BACKOFF_CAP = 30.0


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
        with cache.exclusive(sleep=self._sleep, budget=self.budget):
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
        limit = max(self.config.timeout, 60)  # az signs in slowly the first time
        rc, stdout, stderr = self._run_command(command, limit if self.budget is None else self.budget.cap(limit))
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
        completed = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return 1, "", str(exc)
    return completed.returncode, completed.stdout.decode("utf-8", "replace"), completed.stderr.decode("utf-8", "replace")
