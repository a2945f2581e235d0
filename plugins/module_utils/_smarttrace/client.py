# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The SmartTrace API: paths, authentication, error codes, retries. With ``_smarttrace/integration.py`` (the integration's
fields, input checks, view and plan) it is everything the collection knows about SmartTrace; no other file knows it.

SmartTrace publishes no API reference; the collection speaks the contract of ``smarttrace-api.yaml``
(paths, field names, error codes, callback URIs). When the vendor confirms its real API, adapt these
two files only: the modules see input checks, an integration "view", a plan and typed errors.

What the contract says and this file relies on:

* ``POST /auth/login`` ``{email, password}`` gives a bearer token; otherwise an administrator's API token.
* ``/instances/{instance}/integrations/azure-ad``: ``GET`` (never configured: ``enabled`` false, ids null),
  ``PUT`` (the Save button: replaces every value and enables), ``PATCH`` (some values; ``client_secret``
  without ``client_secret_id`` clears the stored id; 409 ``not_configured`` before a PUT), ``DELETE`` (204).
* ``POST .../test`` redeems the stored credentials at Entra ID: ``{ok, error}``, 409 when not configured.
* The API never returns a secret, only ``client_secret_hint`` (its first 3 characters) and the
  ``client_secret_id`` (Entra keyId) the caller declared: that is what idempotency compares.
* Errors: ``{"error": {code, message, field}}``; 429 carries ``Retry-After``.

Every request is safe to repeat (GET, PUT, PATCH with the same body and DELETE are idempotent; login and
the test create nothing), so 429/503 are retried after ``Retry-After`` and 408/500/502/504 and lost
connections with backoff (``_retry_policy``), within ``max_wait`` seconds and the task's ``budget`` if one is given.
"""

import collections
import re
import time
from urllib.parse import quote, urlsplit

from ansible_collections.smarttrace.sso.plugins.module_utils._common.errors import SmartTraceError, mask_secrets
from ansible_collections.smarttrace.sso.plugins.module_utils._common.http import TLSError, TransportError, UnsupportedProxy
from ansible_collections.smarttrace.sso.plugins.module_utils._smarttrace.integration import InputError, integration_view
from ansible_collections.smarttrace.sso.plugins.module_utils._common.retry_policy import (
    REQUEST_MAX_ATTEMPTS,
    Deadline,
    backoff_delay,
    parse_retry_after,
    retry_delay,
    wait_until,
)
from ansible_collections.smarttrace.sso.plugins.module_utils._common.version import USER_AGENT

DEFAULT_API_URL = "https://api.smarttrace.ai/v1"
INSTANCE_DOMAIN = "smarttrace.ai"

LOGIN_PATH = "/auth/login"
INTEGRATION_PATH = "/instances/%s/integrations/azure-ad"
TEST_PATH = INTEGRATION_PATH + "/test"

INSTANCE_RE = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\Z")

# Request body fields of PUT/PATCH and the module option each comes from (422 names the field).
FIELD_OPTIONS = {"application_id": "application_id", "tenant_id": "tenant_id", "client_secret": "client_secret",
                 "client_secret_id": "client_secret_id", "client_secret_expires_at": "client_secret_expires_at",
                 "enabled": "state", "email": "username", "password": "password"}
# Errors the test relays from Entra ID that a just-created secret gives until it has replicated.
TRANSIENT_TEST_ERRORS = ("AADSTS7000215",)

# Repeated as _retry_policy says (every SmartTrace request is safe to repeat): Retry-After honoured, else backoff.
RETRY_AFTER_STATUSES = (429, 503)
BACKOFF_STATUSES = (408, 500, 502, 504)
RETRY_BACKOFF_CAP = 30.0


# ---------------------------------------------------------------------- input
def check_instance(value):
    """The instance name (lower-cased, DNS names are case-insensitive); ``InputError`` when it cannot be one."""
    text = (value or "").strip()
    host = urlsplit(text).hostname if "://" in text else text.split("/")[0]
    if host and "." in host and INSTANCE_RE.match(host.split(".")[0].lower()):
        raise InputError("instance must be only the first label of the SmartTrace address: instance=%s for %s" % (host.split(".")[0].lower(), text))
    name = text.lower()
    if not INSTANCE_RE.match(name):
        raise InputError("instance %r is not a SmartTrace instance name: give the first label of your SmartTrace address <instance>.%s "
                         "(1 to 63 letters, digits and hyphens, no hyphen first or last), e.g. instance=acme for https://acme.%s"
                         % (text, INSTANCE_DOMAIN, INSTANCE_DOMAIN))
    return name


def is_transient_test_error(error):
    """Whether the test's error is one a just-created secret gives until Entra ID has replicated it."""
    return any(code in (error or "") for code in TRANSIENT_TEST_ERRORS)


# ---------------------------------------------------------------------- errors
def _error_envelope(response):
    try:
        body = response.json()
    except ValueError:
        body = None
    envelope = body.get("error") if isinstance(body, dict) else None
    return envelope if isinstance(envelope, dict) else {}


def error_hint(status, code, field, path, credential, instance=None, api_url=None):
    """What to do about an error answer: ``credential`` says how the request authenticated ("api_token" or "user 'x'")."""
    if path == LOGIN_PATH and status == 401:
        return ("check username (the SmartTrace administrator's e-mail address, or SMARTTRACE_USERNAME) and password "
                "(or SMARTTRACE_PASSWORD)")
    if status == 401:
        if credential == "api_token":
            return ("api_token (or SMARTTRACE_API_TOKEN) is not a valid SmartTrace API token, or it expired: give an administrator's "
                    "API token, or username and password")
        return "the session token of %s was refused: run again; if it persists, give an API token in api_token" % credential
    if status == 403:
        return ("the %s may read but not change integrations: use the credentials of a SmartTrace administrator, who may change "
                "Integrations > Azure Active Directory" % credential)
    if status == 404 and code == "instance_not_found":
        named = " (%s)" % instance if instance else ""
        return ("instance is the first label of the SmartTrace address <instance>.%s, e.g. acme for https://acme.%s: check instance%s, "
                "and api_url (%s)" % (INSTANCE_DOMAIN, INSTANCE_DOMAIN, named, api_url))
    if status in (404, 405):
        return "api_url (%s) does not serve the SmartTrace API: give its root, such as %s" % (api_url, DEFAULT_API_URL)
    if status == 409 and code == "not_configured":
        return "configure the integration first (state=present with client_secret)"
    if status == 422:
        if field:
            return "correct option %s" % FIELD_OPTIONS.get(field, field)
        return "check the values given"
    if status == 429:
        return "SmartTrace is throttling requests: run again later"
    if status is not None and status >= 500:
        return "SmartTrace is unavailable: run again later"
    if status is not None and 300 <= status < 400:
        return "api_url redirects elsewhere: give the final address of the SmartTrace API in api_url"
    return None


# ---------------------------------------------------------------------- credentials
def given_api_token(value):
    """The API token to send, or None when there is none: an empty or whitespace-only value counts as not set.

    The one rule for ``api_token`` (an AWX credential field that is set but empty gives ``SMARTTRACE_API_TOKEN=""``): the input
    checks and the client both apply it, so an empty token never hides ``username``/``password`` nor reaches a request.
    """
    if value is None:
        return None
    value = str(value).strip()
    return value or None


# ---------------------------------------------------------------------- HTTP
class SmartTraceClient:
    """The SmartTrace API on an ``_http.Session`` (see the module docstring for what is retried).

    Authenticates with ``api_token`` (unless empty, see ``given_api_token``), or with ``username``/``password`` at ``/auth/login``
    (once, on first use);
    ``on_token(token)`` is called with every bearer token obtained, so the caller can keep it out of logs.
    """

    def __init__(self, session, api_url=DEFAULT_API_URL, api_token=None, username=None, password=None, on_token=None,
                 timeout=30, sleep=time.sleep, clock=time.monotonic, max_wait=120.0, max_attempts=REQUEST_MAX_ATTEMPTS, trace_size=50, budget=None):
        self.session = session
        self.api_url = (api_url or DEFAULT_API_URL).rstrip("/")
        self.username = username
        self._password = password
        self._token = given_api_token(api_token)
        self._on_token = on_token or (lambda token: None)
        self.credential = "api_token" if self._token else "user %r" % username
        self.timeout = timeout
        self.max_wait = max_wait
        self.budget = budget  # the whole task's time budget (a _retry_policy.Deadline); None: max_wait per request only
        self.max_attempts = max_attempts
        self.request_count = 0
        self.trace = collections.deque(maxlen=trace_size)
        self._sleep = sleep
        self._clock = clock

    # ------------------------------------------------------------------ the API
    def get_integration(self, instance):
        return integration_view(self.request("GET", INTEGRATION_PATH % quote(instance), instance=instance), instance)

    def apply(self, instance, plan):
        """Carry out a ``Plan``; return the integration as SmartTrace reports it afterwards."""
        if plan.method is None:
            return plan.after
        body = self.request(plan.method, INTEGRATION_PATH % quote(instance), body=plan.body, instance=instance)
        return plan.after if plan.method == "DELETE" else integration_view(body, instance)

    def run_test(self, instance):
        """Run SmartTrace's test of the stored values: (ok, error text from Entra ID or None)."""
        body = self.request("POST", TEST_PATH % quote(instance), instance=instance)
        body = body if isinstance(body, dict) else {}
        return bool(body.get("ok")), (mask_secrets(body.get("error")) if not body.get("ok") else None)

    def verify(self, instance, timeout):
        """The test, repeated with backoff for up to ``timeout`` seconds while it fails only because a new secret is replicating.

        Returns ``{ok, error, attempts, waited}``; any other failure returns at once.
        """
        started, deadline, attempts = self._clock(), Deadline.earliest(Deadline(timeout, self._clock), self.budget), []

        def tested():
            attempts.append(None)
            ok, error = self.run_test(instance)
            return {"ok": ok, "error": error, "attempts": len(attempts), "waited": round(self._clock() - started, 1)}

        return wait_until(tested, deadline, self._sleep, delay=lambda attempt: backoff_delay(attempt, base=2.0, cap=15.0),
                          done=lambda outcome: outcome["ok"] or not is_transient_test_error(outcome["error"]))

    # ------------------------------------------------------------------ requests
    def bearer_token(self):
        if self._token is None:
            answer = self.request("POST", LOGIN_PATH, body={"email": self.username, "password": self._password}, authenticated=False)
            token = answer.get("access_token") if isinstance(answer, dict) else None
            if not token:
                raise SmartTraceError("the login answer holds no access_token", status=200, method="POST", path=LOGIN_PATH,
                                      hint="check that api_url is the SmartTrace API")
            self._on_token(token)
            self._token = token
        return self._token

    def request(self, method, path, body=None, authenticated=True, instance=None):
        """One logical request, retried as the module docstring says; the parsed JSON answer (None when empty)."""
        started, attempt = self._clock(), 0
        deadline = Deadline.earliest(Deadline(self.max_wait, self._clock), self.budget)
        while True:
            attempt += 1
            headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
            if authenticated:
                headers["Authorization"] = "Bearer %s" % self.bearer_token()
            response, error = self._send(method, path, body, headers, instance)
            if error is None:
                return _parse(response)
            delay = self._retry_delay(response, error, attempt)
            waited = self._clock() - started
            if delay is None or attempt >= self.max_attempts or not deadline.allows(delay):
                if attempt > 1:
                    error.attempts, error.waited = attempt, waited
                raise error
            self.trace[-1]["retry_in"] = round(delay, 2)
            self._sleep(delay)

    def _send(self, method, path, body, headers, instance):
        """One HTTP exchange: (response, None) on success, else (response or None, SmartTraceError)."""
        entry = {"method": method, "path": path}
        self.trace.append(entry)
        self.request_count += 1
        started = self._clock()
        try:
            response = self.session.request(method, self.api_url + path, json=body, headers=headers, timeout=self.timeout, allow_redirects=False)
        except TLSError as exc:
            entry["error"] = exc.kind
            return None, SmartTraceError("the TLS certificate of %s could not be verified (%s)" % (self.api_url, _reason(exc)), method=method,
                                         path=path, code="SSLError", hint="give the certificate authority of api_url in ca_path")
        except TransportError as exc:
            entry["error"] = exc.kind
            if exc.permanent:  # e.g. an unusable proxy setting: the message says what to fix
                return None, SmartTraceError("no answer from %s (%s: %s)" % (self.api_url, exc.kind, exc), method=method, path=path,
                                             code=exc.kind, hint="check the proxy settings (HTTPS_PROXY, ALL_PROXY)")
            return None, SmartTraceError("no answer from %s (%s)" % (self.api_url, exc.kind), method=method, path=path,
                                         code=exc.kind, hint="check api_url, the network and the proxy settings (HTTPS_PROXY)")
        finally:
            entry["ms"] = int((self._clock() - started) * 1000)
        entry["status"] = response.status_code
        if 200 <= response.status_code < 300:
            return response, None
        envelope = _error_envelope(response)
        code, field = envelope.get("code"), envelope.get("field")
        message = envelope.get("message") or "HTTP %s without a SmartTrace error message" % response.status_code
        if 300 <= response.status_code < 400:
            message = "redirected to %s" % response.headers.get("Location", "another address")
        hint = error_hint(response.status_code, code, field, path, self.credential, instance, self.api_url)
        return response, SmartTraceError(message, status=response.status_code, code=code, field=field, hint=hint, method=method, path=path)

    def _retry_delay(self, response, error, attempt):
        """Seconds to wait before repeating the request, or None when it must not be repeated."""
        if response is None:
            return None if error.code in ("SSLError", UnsupportedProxy.kind) else retry_delay(None, attempt, cap=RETRY_BACKOFF_CAP)
        return retry_delay(response.status_code, attempt, parse_retry_after(response.headers.get("Retry-After")), cap=RETRY_BACKOFF_CAP,
                           statuses=RETRY_AFTER_STATUSES + BACKOFF_STATUSES)


def _parse(response):
    if response.status_code == 204 or not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _reason(exc):
    """The last, most specific part of a TLS error text (``[SSL: ...] ...``), without addresses repeated."""
    text = str(exc)
    match = re.search(r"\[SSL[^\]]*\][^)'\"]*", text)
    return mask_secrets(match.group(0) if match else text[-200:])
