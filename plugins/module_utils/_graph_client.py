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
* Replication lag is retried only where the caller asks, with the predicates below.

Every request carries ``client-request-id`` and ``User-Agent: smarttrace.sso/<version>``;
``request_count`` counts HTTP requests and ``trace`` keeps the last ones (no bodies, no headers).
"""

import collections
import json
import time
import uuid
from urllib.parse import quote, urlsplit

from ansible_collections.smarttrace.sso.plugins.module_utils._errors import GraphError, TLSVerificationError
from ansible_collections.smarttrace.sso.plugins.module_utils._http import TLSCertificateError, TransportError
from ansible_collections.smarttrace.sso.plugins.module_utils._retry_policy import (
    Deadline,
    backoff_delay,
    is_ambiguous,
    is_idempotent,
    parse_retry_after,
    retry_delay,
)
from ansible_collections.smarttrace.sso.plugins.module_utils._version import USER_AGENT

API_VERSION = "v1.0"
BATCH_LIMIT = 20
# A $batch sub-request throttled in this many rounds is then sent on its own (with the requests that depend on it).
BATCH_ROUNDS_BEFORE_ALONE = 3
# A $batch sub-request is repeated on 429, 503 and (unless a POST) 504: the others are its own answer.
BATCH_RETRIED_STATUSES = (429, 503, 504)


# ---------------------------------------------------------------------- values in URLs
# Every value the collection places in a Graph URL goes through one of these: a name such as a unique_name, a user
# principal name or a group name may hold ' ) / ? # & % or spaces, and must address exactly the object it names.
# Left as they are in a path segment: RFC 3986 unreserved characters and "@" (user principal names). Everything
# else, "/", "?", "#", "(", ")", "'", "=", "%" and spaces included, is percent-encoded.
_SEGMENT_SAFE = "@"



def odata_string(value):
    """``value`` as an OData string literal: quoted, with ``'`` doubled. Not percent-encoded: for ``$filter`` values
    given in ``params`` (which are encoded whole, alone and in ``$batch``) or built into a URL by ``filter_query``."""
    return "'%s'" % str(value).replace("'", "''")


def url_segment(value):
    """One path segment (an object id, a user principal name): percent-encoded, so it stays one segment."""
    return quote(str(value), safe=_SEGMENT_SAFE)


def entity_path(collection, object_id, *segments):
    """``/collection/{object_id}[/segment...]``, each part percent-encoded: ``entity_path("/users", upn)``."""
    return "%s/%s%s" % (collection, url_segment(object_id), "".join("/" + url_segment(segment) for segment in segments))


def key_path(collection, key, value, *segments):
    """An alternate-key path ``/collection(key='value')[/segment...]``: ``'`` doubled, then percent-encoded, so a value
    such as ``a')/owners?x=('`` addresses the object with that key (or none), never another path.
    """
    literal = "'%s'" % quote(str(value).replace("'", "''"), safe=_SEGMENT_SAFE + "'")
    return "%s(%s=%s)%s" % (collection, key, literal, "".join("/" + url_segment(segment) for segment in segments))


def filter_eq(prop, value):
    """``prop eq 'value'`` (a ``$filter`` text; the caller gives it in ``params`` or to ``filter_query``)."""
    return "%s eq %s" % (prop, odata_string(value))


def filter_query(path, params):
    """``path?key=value&...`` with every value percent-encoded (``$filter`` texts included): for URLs written out whole,
    such as ``$batch`` sub-requests built by the caller. Equivalent to giving ``params`` to ``request()`` or ``batch()``."""
    return batch_url(path, params)


# ---------------------------------------------------------------------- what Graph says only in words
# Graph's error ``code`` (and ``details[].code``) decide everything they can. A few conditions come with a code shared by
# many others (``Request_BadRequest``, ``Authorization_RequestDenied``) and only an English message tells them apart
# (docs/graph-facts.md, "Errors told only in words"): they are recognised here, and only here, by ``message_kind``.
NOT_A_VALID_REFERENCE_UPDATE = "not_a_valid_reference_update"
NO_BACKING_APPLICATION = "no_backing_application"
BACKING_APPLICATION_NOT_VISIBLE = "backing_application_not_visible"
APP_ROLE_NOT_DISABLED = "app_role_not_disabled"
ASSIGNMENT_EXISTS = "assignment_exists"
APP_ROLE_NOT_ON_RESOURCE = "app_role_not_on_resource"
UPN_CONFLICT = "upn_conflict"
UPN_DOMAIN_NOT_VERIFIED = "upn_domain_not_verified"
UPN_INVALID = "upn_invalid"
PASSWORD_TOO_WEAK = "password_too_weak"
MAIL_NICKNAME_INVALID = "mail_nickname_invalid"
# (kind, status, words in the message, lower case): the first match wins.
_MESSAGE_KINDS = (
    (NOT_A_VALID_REFERENCE_UPDATE, 400, "not a valid reference update"),
    (NO_BACKING_APPLICATION, 400, "does not reference a valid application object"),
    (BACKING_APPLICATION_NOT_VISIBLE, 403, "backing application"),
    (APP_ROLE_NOT_DISABLED, 400, "disabled first"),
    (ASSIGNMENT_EXISTS, 400, "already exists on the object"),
    (APP_ROLE_NOT_ON_RESOURCE, 400, "not found on application"),
    (UPN_CONFLICT, 400, "same value for property userprincipalname"),
    (UPN_DOMAIN_NOT_VERIFIED, 400, "domain portion of the userprincipalname"),
    (UPN_INVALID, 400, "property userprincipalname is invalid"),
    (PASSWORD_TOO_WEAK, 400, "password complexity"),
    (MAIL_NICKNAME_INVALID, 400, "mailnickname"),
)


def message_kind(error):
    """The condition a Graph error states only in its message (one of the constants above), or None.

    For conditions Graph gives a code of their own, compare ``error.code`` / ``error.detail_codes`` instead.
    """
    message = (getattr(error, "message", None) or "").lower()
    for kind, status, words in _MESSAGE_KINDS:
        if error.status == status and words in message:
            return kind
    return None


# ---------------------------------------------------------------------- replication predicates (docs/graph-facts.md, "Replication")
def not_found(error):
    """404: the object was just created and is not visible yet (GET/PATCH after create, assignment POST)."""
    return error.status == 404


def no_backing_application(error):
    """400 NoBackingApplicationObject (a detail code; its text when the details are missing): a service principal created
    right after its application."""
    return error.status == 400 and ("NoBackingApplicationObject" in error.detail_codes or message_kind(error) == NO_BACKING_APPLICATION)


def not_a_valid_reference_update(error):
    """400 "Not a valid reference update." (no code of its own): an assignment naming a just-created principal or resource."""
    return message_kind(error) == NOT_A_VALID_REFERENCE_UPDATE


def owned_by_backing_app_403(error):
    """403 with Application.ReadWrite.OwnedBy (no code of its own): the backing application of a new service principal is not
    visible yet."""
    return message_kind(error) == BACKING_APPLICATION_NOT_VISIBLE


def conflict_409(error):
    """409 on PATCH of a just-created application (e.g. Error_MsaAppDoesNotExist); not the "already exists" conflict."""
    return error.status == 409 and error.code != "Request_MultipleObjectsWithSameKeyValue"


REPLICATION_PREDICATES = {
    "not_found": not_found,
    "no_backing_application": no_backing_application,
    "not_a_valid_reference_update": not_a_valid_reference_update,
    "owned_by_backing_app_403": owned_by_backing_app_403,
    "conflict_409": conflict_409,
}


_Outcome = collections.namedtuple("_Outcome", ["body", "error", "delay"])


class GraphClient:
    """Microsoft Graph client on an ``_http.Session``; ``token_provider()`` returns a bearer token."""

    def __init__(self, session, graph_root, token_provider, timeout=30, sleep=time.sleep, clock=time.monotonic, max_wait=300.0,
                 max_attempts=16, backoff_base=1.0, backoff_cap=60.0, trace_size=50, on_token_rejected=None, budget=None):
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

    # ------------------------------------------------------------------ $batch (docs/graph-facts.md, Batching)
    def batch(self, requests_):
        """Send many requests through ``$batch`` (20 per call); return one result per request, in input order.

        Each request is a dict: ``method``, ``url`` (a Graph path such as ``/users/x``, no ``/v1.0``),
        optional ``body``, ``headers``, ``params``, ``id`` and ``dependsOn`` (ids within the same chunk of 20).
        A result is the response body (None when empty) or a ``GraphError``; nothing is raised for the whole
        batch. Inner 429/503 (and 504 for non-POST) are retried honouring the inner ``Retry-After``, with the
        requests that depend on them (424). A sub-request throttled in ``BATCH_ROUNDS_BEFORE_ALONE`` rounds is
        then sent on its own after its ``Retry-After`` (followed by those that depend on it), retried as a plain
        request is. Everything stays within the one ``max_wait`` budget counted from the start of the call.
        """
        items = [self._batch_item(index, request) for index, request in enumerate(requests_)]
        _check_batch_ids(items)
        results = [None] * len(items)
        deadline = self._deadline()
        throttled = [0] * len(items)  # rounds in which each sub-request was throttled
        pending, round_, alone, alone_delay = list(range(len(items))), 0, [], {}
        while pending:
            round_ += 1
            retry, delay_of = self._batch_round(items, pending, results, deadline)
            for index in delay_of:
                throttled[index] += 1
            stuck = set(index for index in delay_of if throttled[index] >= BATCH_ROUNDS_BEFORE_ALONE)
            if stuck:
                stuck |= _dependents(items, stuck, retry)
                alone.extend(sorted(stuck))
                alone_delay.update((index, delay_of.get(index, 0.0)) for index in stuck)
                retry = [index for index in retry if index not in stuck]
            if not retry:
                break
            delays = [delay_of[index] for index in retry if index in delay_of]
            delay = max(delays) if delays else self._backoff(round_)
            if not deadline.allows(delay):
                for index in retry:
                    results[index].message += " Gave up after %d batch rounds: waiting another %.0f s would exceed %s." % (
                        round_, delay, self._limit_text(deadline))
                break
            self._sleep(delay)
            pending = retry
        self._send_alone(items, sorted(alone), alone_delay, results, deadline)
        return results

    def _send_alone(self, items, indexes, delays, results, deadline):
        """Send persistently throttled sub-requests one by one as plain requests (in input order: a dependency first)."""
        failed_ids = set()
        for index in indexes:
            item = items[index]
            if failed_ids.intersection(item.get("dependsOn", ())):
                failed_ids.add(item["id"])
                continue  # its dependency failed: its own 424 (or 429) stays the answer
            delay = delays.get(index, 0.0)
            if not deadline.allows(delay):
                results[index].message += " Gave up: throttled in %d batch rounds, and waiting another %.0f s would exceed %s." % (
                    BATCH_ROUNDS_BEFORE_ALONE, delay, self._limit_text(deadline))
                failed_ids.add(item["id"])
                continue
            if delay:
                self._sleep(delay)
            headers = dict((key, value) for key, value in (item.get("headers") or {}).items() if key.lower() != "content-type")
            try:
                results[index] = self.request(item["method"], item["url"], body=item.get("body"), headers=headers or None, deadline=deadline)
            except GraphError as error:
                results[index] = error
                failed_ids.add(item["id"])

    def _batch_item(self, index, request):
        url = request.get("url") or request.get("path")
        for prefix in (self.base_url, "/" + API_VERSION):
            if url.startswith(prefix + "/"):
                url = url[len(prefix):]
        if not url.startswith("/"):
            url = "/" + url
        url = batch_url(url, request.get("params"))
        item = {"id": str(request.get("id", index + 1)), "method": request.get("method", "GET").upper(), "url": url}
        headers = dict(request.get("headers") or {})
        if request.get("body") is not None:
            item["body"] = request["body"]
            if not any(key.lower() == "content-type" for key in headers):
                headers["Content-Type"] = "application/json"
        if headers:
            item["headers"] = headers
        if request.get("dependsOn"):
            item["dependsOn"] = [str(dependency) for dependency in request["dependsOn"]]
        return item

    def _batch_round(self, items, pending, results, deadline=None):
        """Send ``pending`` (indexes into ``items``) in chunks; fill ``results``; return (indexes to retry, {throttled index: its delay})."""
        retry, delays = [], {}
        for start in range(0, len(pending), BATCH_LIMIT):
            chunk = pending[start:start + BATCH_LIMIT]
            chunk_ids = set(items[index]["id"] for index in chunk)
            payload = []
            for index in chunk:
                item = dict(items[index])
                # in a retry round, a dependency outside the chunk has already succeeded
                item["dependsOn"] = [dep for dep in item.get("dependsOn", ()) if dep in chunk_ids]
                if not item["dependsOn"]:
                    del item["dependsOn"]
                payload.append(item)
            idempotent = all(is_idempotent(item["method"]) for item in payload)
            try:
                answer = self.request("POST", "/$batch", body={"requests": payload}, idempotent=idempotent, deadline=deadline) or {}
            except GraphError as error:
                for index in chunk:
                    results[index] = error
                continue
            responses = dict((str(response.get("id")), response) for response in answer.get("responses", []))
            for index in chunk:
                delay = self._batch_result(items[index], responses.get(items[index]["id"]), results, index)
                if delay is not None:
                    retry.append(index)
                    delays[index] = delay
        # a request that failed only because its dependency is retried is retried with it
        retried_ids = set(items[index]["id"] for index in retry)
        for index in pending:
            result = results[index]
            if index not in retry and isinstance(result, GraphError) and result.status == 424 and retried_ids.intersection(items[index].get("dependsOn", ())):
                retry.append(index)
        return sorted(retry), delays

    def _batch_result(self, item, response, results, index):
        """Store the result of one inner response; return a delay when it should be retried, else None."""
        url = self.base_url + item["url"]
        if response is None:
            results[index] = GraphError("the $batch response has no answer for request %s" % item["id"], method=item["method"], url=url)
            return None
        status = int(response.get("status") or 0)
        body = response.get("body")
        if 200 <= status < 300:
            results[index] = body or None
            return None
        headers = response.get("headers") or {}
        retry_after = parse_retry_after(dict((key.lower(), value) for key, value in headers.items()).get("retry-after"))
        results[index] = GraphError.from_response(status, body, headers, method=item["method"], url=url, retry_after=retry_after)
        return retry_delay(status, 1, retry_after, is_idempotent(item["method"]), self.backoff_base, self.backoff_cap,
                           statuses=BATCH_RETRIED_STATUSES)


def _dependents(items, indexes, candidates):
    """Of ``candidates``, those depending (directly or not) on the requests at ``indexes``."""
    ids = set(items[index]["id"] for index in indexes)
    found, grew = set(), True
    while grew:
        grew = False
        for index in candidates:
            if index not in found and ids.intersection(items[index].get("dependsOn", ())):
                found.add(index)
                ids.add(items[index]["id"])
                grew = True
    return found


def batch_url(path, params=None):
    """A ``$batch`` sub-request url: nothing encodes it on the way, so path and query are percent-encoded here.

    A display name in ``$filter`` may hold spaces, ``&``, ``+`` or ``#``: pass such values in ``params`` (encoded
    whole). A query already written into ``path`` is split at ``&`` and ``=``, and ``%XX`` escapes in it are kept.
    """
    path, _separator, query = path.partition("?")
    parts = ["%s=%s" % (quote(key, safe="$%"), quote(value, safe="$,'()-._~%"))
             for key, _equals, value in (part.partition("=") for part in query.split("&") if part)]
    parts += ["%s=%s" % (quote(str(key), safe="$"), quote(str(value), safe="$,'()-._~")) for key, value in (params or {}).items()]
    return quote(path, safe="/()='$,:@-._~%") + ("?" + "&".join(parts) if parts else "")


def _check_batch_ids(items):
    """Ids must be unique, and ``dependsOn`` may only name requests of the same chunk of 20 (Graph's rule)."""
    ids = [item["id"] for item in items]
    if len(set(ids)) != len(ids):
        raise ValueError("batch request ids must be unique")
    for start in range(0, len(items), BATCH_LIMIT):
        chunk_ids = set(ids[start:start + BATCH_LIMIT])
        for item in items[start:start + BATCH_LIMIT]:
            outside = [dep for dep in item.get("dependsOn", ()) if dep not in chunk_ids]
            if outside:
                raise ValueError("batch request %s depends on %s, outside its chunk of %d" % (item["id"], ", ".join(outside), BATCH_LIMIT))


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
