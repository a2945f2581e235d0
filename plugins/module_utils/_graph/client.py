# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Microsoft Graph v1.0 over HTTP: retries, paging, ``$batch``, replication retries, safe create.

What the client does on its own (docs/graph-facts.md, sections "Throttling", "Replication", "Paging", "Batching"):

* a TLS certificate that does not verify fails at once (``TLSVerificationError``, naming ``ca_path``);
* 429, 503, 504, 408, 424, 500 and 502 are retried as ``_retry_policy`` says (``Retry-After`` honoured, else
  exponential backoff with jitter), within ``max_wait`` seconds per call and the task's ``budget`` if one is given
  (then a ``GraphError`` says so). A POST is not idempotent: it is retried only on 429 and 503 (the request was not
  processed); after a timeout, a connection error or another 5xx ``create()`` looks for the object first.
* ``@odata.nextLink`` is followed verbatim (and only on the Graph host: the token goes nowhere else).
* Replication lag is retried only where the caller asks, with the predicates of ``_graph_conditions``.
* ``batch()`` (``_graph_batch``) sends many requests through ``$batch``.

The URL helpers (``_graph_urls``), Graph's conditions (``_graph_conditions``) and ``$batch`` (``_graph_batch``) have
files of their own; their names are importable from here too.

Every request carries ``client-request-id`` and ``User-Agent: smarttrace.sso/<version>``;
``request_count`` counts HTTP requests and ``trace`` keeps the last ones (no bodies, no headers).
"""

import collections
import json
import time
import uuid
from urllib.parse import urlsplit

from ansible_collections.smarttrace.sso.plugins.module_utils._common.errors import GraphError, TLSVerificationError
from ansible_collections.smarttrace.sso.plugins.module_utils._graph.batch import GraphBatch
from ansible_collections.smarttrace.sso.plugins.module_utils._common.http import TLSCertificateError, TransportError
from ansible_collections.smarttrace.sso.plugins.module_utils._common.retry_policy import (
    REQUEST_MAX_ATTEMPTS,
    Deadline,
    backoff_delay,
    is_ambiguous,
    is_idempotent,
    parse_retry_after,
    retry_delay,
)
from ansible_collections.smarttrace.sso.plugins.module_utils._graph.urls import API_VERSION
from ansible_collections.smarttrace.sso.plugins.module_utils._common.version import USER_AGENT

# Names importers take from here: the URL helpers, Graph's conditions and $batch live in files of their own.
from ansible_collections.smarttrace.sso.plugins.module_utils._graph.batch import (  # noqa: F401  # pylint: disable=unused-import
    BATCH_LIMIT,
    BATCH_RETRIED_STATUSES,
    BATCH_ROUNDS_BEFORE_ALONE,
)
from ansible_collections.smarttrace.sso.plugins.module_utils._graph.conditions import (  # noqa: F401  # pylint: disable=unused-import
    APP_ROLE_NOT_DISABLED,
    APP_ROLE_NOT_ON_RESOURCE,
    ASSIGNMENT_EXISTS,
    BACKING_APPLICATION_NOT_VISIBLE,
    MAIL_NICKNAME_INVALID,
    NO_BACKING_APPLICATION,
    NOT_A_VALID_REFERENCE_UPDATE,
    PASSWORD_TOO_WEAK,
    REPLICATION_PREDICATES,
    UPN_CONFLICT,
    UPN_DOMAIN_NOT_VERIFIED,
    UPN_INVALID,
    conflict_409,
    message_kind,
    no_backing_application,
    not_a_valid_reference_update,
    not_found,
    owned_by_backing_app_403,
)
from ansible_collections.smarttrace.sso.plugins.module_utils._graph.urls import (  # noqa: F401  # pylint: disable=unused-import
    batch_url,
    entity_path,
    filter_eq,
    filter_query,
    key_path,
    odata_string,
    url_segment,
)


_Outcome = collections.namedtuple("_Outcome", ["body", "error", "delay"])


class GraphClient(GraphBatch):
    """Microsoft Graph client on an ``_http.Session``; ``token_provider()`` returns a bearer token."""

    def __init__(self, session, graph_root, token_provider, timeout=30, sleep=time.sleep, clock=time.monotonic, max_wait=300.0,
                 max_attempts=REQUEST_MAX_ATTEMPTS, backoff_base=1.0, backoff_cap=60.0, trace_size=50, on_token_rejected=None, budget=None):
        root = graph_root.rstrip("/")
        for suffix in ("/" + API_VERSION, "/beta"):
            if root.endswith(suffix):
                root = root[:-len(suffix)]
        self.session = session
        self.graph_root = root
        self.base_url = "%s/%s" % (root, API_VERSION)
        self.token_provider = token_provider
        self.on_token_rejected = on_token_rejected
        self._token_renewed = False
        self.timeout = timeout
        self.max_wait = max_wait
        # the whole task's time budget (a _retry_policy.Deadline), on top of max_wait per call; None: max_wait only
        self.budget = budget
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.request_count = 0
        self.trace = collections.deque(maxlen=trace_size)
        self._sleep = sleep
        self._clock = clock

    # ------------------------------------------------------------------ plain requests
    def request(self, method, path, params=None, body=None, headers=None, retry_on=(), expected=None, idempotent=None, deadline=None):
        """Send one logical request (retried as described in the module docstring); return the parsed body (None for 204).

        ``retry_on``: predicates of a ``GraphError`` that mean "not replicated yet, try again".
        ``expected``: statuses counted as success (default: any 2xx).
        ``idempotent``: whether a lost response may be re-sent (default: every method but POST).
        ``deadline``: the ``Deadline`` retries must end by (default: ``max_wait`` from now, or the task's ``budget`` if
        sooner; ``batch()`` passes its own).
        """
        method = method.upper()
        url = self.url_for(path)
        idempotent = is_idempotent(method) if idempotent is None else idempotent
        client_request_id = str(uuid.uuid4())
        deadline = self._deadline() if deadline is None else deadline
        attempt, waited = 0, 0.0
        while True:
            attempt += 1
            if self.budget is not None and self.budget.expired():
                raise GraphError("%s %s was not sent: %s has run out" % (method, url.split("?", 1)[0], self.budget.describe()),
                                 code="TimeBudgetExceeded", method=method, url=url, client_request_id=client_request_id)
            outcome = self._attempt(method, url, params, body, headers, client_request_id, attempt, idempotent, retry_on, expected)
            if outcome.error is None:
                return outcome.body
            error, delay = outcome.error, outcome.delay
            if delay is None:
                raise error
            if attempt >= self.max_attempts or not deadline.allows(delay):
                error.attempts, error.waited = attempt, waited
                error.message += " Gave up: %s." % (
                    "%d attempts made" % attempt if attempt >= self.max_attempts else
                    "waiting another %.0f s would exceed %s" % (delay, self._limit_text(deadline)))
                raise error
            self.trace[-1]["retry_in"] = round(delay, 2)
            self._sleep(delay)
            waited += delay

    def _attempt(self, method, url, params, body, headers, client_request_id, attempt, idempotent, retry_on, expected):
        """One HTTP exchange: its parsed body, or the error and the delay before a retry (None: do not retry)."""
        try:
            response = self._send(method, url, params, body, headers, client_request_id)
        except TLSCertificateError as exc:
            # a certificate that does not verify does not verify on the next attempt either: fail now, saying what to set
            verify = getattr(self.session, "verify", True)
            raise TLSVerificationError("Microsoft Graph", url=url.split("?", 1)[0], reason=str(exc), method=method,
                                       ca_path=verify if isinstance(verify, str) else None)
        except TransportError as exc:
            if exc.permanent:  # e.g. an unusable proxy setting: the message says what to fix, and repeating cannot help
                raise GraphError("no response from Microsoft Graph (%s): %s" % (exc.kind, exc), code=exc.kind, method=method, url=url,
                                 client_request_id=client_request_id)
            error = GraphError("no response from Microsoft Graph (%s)" % exc.kind, code=exc.kind, method=method, url=url,
                               client_request_id=client_request_id)
            return _Outcome(None, error, retry_delay(None, attempt, idempotent=idempotent, base=self.backoff_base, cap=self.backoff_cap))
        status = response.status_code
        if (status in expected) if expected else 200 <= status < 300:
            return _Outcome(_parse_body(response), None, None)
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        error = GraphError.from_response(status, response.content, response.headers, method=method, url=url, retry_after=retry_after)
        error.client_request_id = error.client_request_id or client_request_id
        if self._should_renew_token(error):
            return _Outcome(None, error, 0.0)
        delay = retry_delay(status, attempt, retry_after, idempotent, self.backoff_base, self.backoff_cap)
        if delay is not None:
            return _Outcome(None, error, delay)
        if any(predicate(error) for predicate in retry_on):
            return _Outcome(None, error, self._backoff(attempt))
        return _Outcome(None, error, None)

    def _send(self, method, url, params, body, headers, client_request_id):
        all_headers = {
            "Authorization": "Bearer %s" % self.token_provider(),
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            "client-request-id": client_request_id,
            "return-client-request-id": "true",
        }
        data = None
        if body is not None:
            all_headers["Content-Type"] = "application/json"
            data = json.dumps(body)
        all_headers.update(headers or {})
        self.request_count += 1
        started = self._clock()
        entry = {"method": method, "url": url.replace(self.base_url, "", 1) or "/", "params": dict(params) if params else None,
                 "client_request_id": client_request_id}
        self.trace.append(entry)
        # a request started near the end of the task's budget may not outlast it by a whole timeout
        timeout = self.timeout if self.budget is None else self.budget.cap(self.timeout)
        try:
            response = self.session.request(method, url, params=params, data=data, headers=all_headers, timeout=timeout, allow_redirects=False)
        except Exception as exc:
            entry["error"] = getattr(exc, "kind", None) or type(exc).__name__
            raise
        finally:
            entry["ms"] = int((self._clock() - started) * 1000)
        entry["status"] = response.status_code
        entry["request_id"] = response.headers.get("request-id")
        return response

    def _backoff(self, attempt):
        return backoff_delay(attempt, self.backoff_base, self.backoff_cap)

    def _deadline(self):
        """The ``Deadline`` of one call: ``max_wait`` from now, or the task's ``budget`` when that ends first."""
        return Deadline.earliest(Deadline(self.max_wait, self._clock), self.budget)

    def _limit_text(self, deadline):
        if deadline is self.budget:
            return deadline.describe()
        return "max_wait (%.0f s)" % self.max_wait

    def _should_renew_token(self, error):
        """A 401 InvalidAuthenticationToken for a cached token (revoked, signing key rolled over): drop it and retry once.

        Graph rejected the request before doing anything, so even a POST is safe to repeat.
        """
        if error.status != 401 or error.code != "InvalidAuthenticationToken" or self.on_token_rejected is None or self._token_renewed:
            return False
        self._token_renewed = True
        return bool(self.on_token_rejected())

    def url_for(self, path):
        """Absolute URL for a Graph path (``/applications``) or an absolute URL on the Graph host (a nextLink)."""
        if path.startswith(("https://", "http://")):
            if _origin(path) != _origin(self.graph_root):
                raise GraphError("refusing to send the Graph token to %s (not the Graph host %s)" % (_origin(path), _origin(self.graph_root)),
                                 code="ForeignNextLink", url=path)
            return path
        return self.base_url + ("" if path.startswith("/") else "/") + path

    # ------------------------------------------------------------------ conveniences
    def get(self, path, params=None, **kwargs):
        return self.request("GET", path, params=params, **kwargs)

    def get_or_none(self, path, params=None, **kwargs):
        """GET, with 404 answered as None."""
        try:
            return self.request("GET", path, params=params, **kwargs)
        except GraphError as error:
            if error.status == 404:
                return None
            raise

    def list_all(self, path, params=None, **kwargs):
        """Every item of a collection, following ``@odata.nextLink`` verbatim until there is none."""
        items = []
        url = path
        while url:
            page = self.request("GET", url, params=params, **kwargs) or {}
            items.extend(page.get("value", []))
            url, params = page.get("@odata.nextLink"), None
        return items

    def post(self, path, body=None, **kwargs):
        return self.request("POST", path, body=body, **kwargs)

    def patch(self, path, body, **kwargs):
        return self.request("PATCH", path, body=body, **kwargs)

    def delete(self, path, missing_ok=False, **kwargs):
        """DELETE; with ``missing_ok`` a 404 returns False instead of raising. Returns True when deleted."""
        try:
            self.request("DELETE", path, **kwargs)
        except GraphError as error:
            if missing_ok and error.status == 404:
                return False
            raise
        return True

    def create(self, path, body, find_existing, retry_on=(), max_posts=3, **kwargs):
        """A non-idempotent POST that never makes a duplicate knowingly.

        When the outcome of a POST is unknown (timeout, connection error, 408/500/502/504),
        ``find_existing()`` is asked (with backoff, within ``max_wait``) whether the object exists,
        and what it returns is returned; only when it keeps answering None is the POST sent again.
        """
        last_error = None
        for _post in range(max_posts):
            try:
                return self.request("POST", path, body=body, retry_on=retry_on, idempotent=False, **kwargs)
            except GraphError as error:
                if not is_ambiguous(error.status):
                    raise
                last_error = error
            found = self._find_after_ambiguous_write(find_existing)
            if found is not None:
                return found
        raise last_error

    def _find_after_ambiguous_write(self, find_existing, lookups=4):
        """Ask ``find_existing`` a few times: the object may be created but not yet visible (replication)."""
        deadline = self._deadline()
        for lookup in range(1, lookups + 1):
            found = find_existing()
            if found is not None:
                return found
            delay = self._backoff(lookup + 1)
            if lookup == lookups or not deadline.allows(delay):
                return None
            self._sleep(delay)
        return None  # pragma: no cover


def _parse_body(response):
    if response.status_code == 204 or not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text


def _origin(url):
    parts = urlsplit(url)
    return "%s://%s" % (parts.scheme.lower(), parts.netloc.lower())
