# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Many directory objects in few requests: ``in``-filter lookups, batched writes, replication waits.

Shared by ``entra_user`` and ``entra_assignment``. Graph behaviour relied on (docs/graph-facts.md, sections
"Replication", "Filters" and "Batching"):

* ``GET /users?$filter=userPrincipalName in ('a','b',..)`` finds up to 15 objects in one request (Graph
  limits ``in`` to 15 values by default); up to 20 such requests go in one ``$batch``, so 300 names cost
  one HTTP request. A single request is sent on its own (same count, simpler log).
* writes go through ``$batch`` (20 per request); the answer of each is its own (no atomicity).
* a just-created object is missing from reads, and writes naming it fail (404, 400 "Not a valid
  reference update."), for a while: ``Waiter`` retries with backoff within a time budget (``_retry_policy``).
"""

import time

from ansible_collections.smarttrace.sso.plugins.module_utils._common.errors import GraphError
from ansible_collections.smarttrace.sso.plugins.module_utils._graph.client import (  # noqa: F401 - odata_string is re-exported
    filter_eq,
    filter_query,
    not_a_valid_reference_update,
    not_found,
    odata_string,
)
from ansible_collections.smarttrace.sso.plugins.module_utils._common.retry_policy import REPLICATION_BACKOFF, Deadline, backoff_delay, wait_until
from ansible_collections.smarttrace.sso.plugins.module_utils._common.retry_policy import is_ambiguous as _ambiguous_status

IN_LIMIT = 15
#: a value only a real run can know (check mode)
#: rounds of re-sending a write whose outcome is unknown (timeout, 5xx) before giving up
TRANSIENT_ROUNDS = 3


def collection_url(collection, filter_text=None, select=None):
    """A relative Graph URL with ``$filter`` and ``$select``, percent-encoded (usable alone and inside ``$batch``)."""
    params = {}
    if filter_text:
        params["$filter"] = filter_text
    if select:
        params["$select"] = ",".join(select)
    return filter_query(collection, params)


def in_filter(prop, values):
    """``prop eq 'a'`` for one value, ``prop in ('a','b')`` for several."""
    if len(values) == 1:
        return filter_eq(prop, values[0])
    return "%s in (%s)" % (prop, ",".join(odata_string(value) for value in values))


def fold(value):
    """The comparison key of a name: directory names are case-insensitive."""
    return value.lower() if isinstance(value, str) else value


def unique(values):
    """``values`` without case-insensitive duplicates, first spelling kept, order kept."""
    seen, result = set(), []
    for value in values:
        if fold(value) not in seen:
            seen.add(fold(value))
            result.append(value)
    return result


class Waiter:
    """Sleeps between retry rounds (``_retry_policy``'s backoff for replication); ``clock``/``sleep`` are injectable for tests."""

    def __init__(self, sleep=time.sleep, clock=time.monotonic, backoff_base=REPLICATION_BACKOFF[0], backoff_cap=REPLICATION_BACKOFF[1], budget=None):
        self.sleep = sleep
        self.clock = clock
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.budget = budget  # the task's time budget (a ``Deadline``): no wait ends after it

    def delay(self, attempt):
        return backoff_delay(attempt, self.backoff_base, self.backoff_cap)

    def deadline(self, seconds):
        """A ``Deadline`` ``seconds`` from now on this waiter's clock, or the task's budget if that ends sooner."""
        own = Deadline(seconds, self.clock)
        return Deadline.earliest(own, self.budget) or own

    def wait_until(self, poll, seconds, done=bool):
        """``_retry_policy.wait_until`` with this waiter's clock, sleep and backoff, for up to ``seconds``."""
        return wait_until(poll, self.deadline(seconds), self.sleep, self.delay, done)


def send_all(graph, requests):
    """Send independent requests: one alone, several through ``$batch``. One result per request: body or ``GraphError``."""
    if not requests:
        return []
    if len(requests) == 1:
        request = requests[0]
        try:
            return [graph.request(request["method"], request["url"], body=request.get("body"))]
        except GraphError as error:
            return [error]
    return graph.batch(requests)


def find_many(graph, queries):
    """Objects by property values, for several ``(collection, prop, values, select)`` queries in one round of requests.

    Returns, per query, ``{fold(value): [objects whose prop is value]}`` with every value a key. Raises the
    first ``GraphError`` of a lookup (a read failing is not a per-object problem).
    """
    return find_many_with(graph, queries)[0]


def find_many_with(graph, queries, extra=()):
    """``find_many``, with ``extra`` independent requests sent in the same round: returns (results, answers to ``extra``)."""
    requests, owners, results = list(extra), [None] * len(extra), []
    for index, (collection, prop, values, select) in enumerate(queries):
        values, select = unique(values), tuple(select) + ((prop,) if prop not in select else ())
        results.append(dict((fold(value), []) for value in values))
        for start in range(0, len(values), IN_LIMIT):
            requests.append({"method": "GET", "url": collection_url(collection, in_filter(prop, values[start:start + IN_LIMIT]), select)})
            owners.append(index)
    answers = send_all(graph, requests)
    for index, answer in zip(owners[len(extra):], answers[len(extra):]):
        if isinstance(answer, GraphError):
            raise answer
        prop, found = queries[index][1], results[index]
        for item in all_items(graph, answer):
            key = fold(item.get(prop))
            if key in found and item not in found[key]:
                found[key].append(item)
    return results, answers[:len(extra)]


def all_items(graph, answer):
    """The items of a collection answer, following its ``@odata.nextLink``."""
    items = list((answer or {}).get("value") or [])
    if (answer or {}).get("@odata.nextLink"):
        items.extend(graph.list_all(answer["@odata.nextLink"]))
    return items


def find_by(graph, collection, prop, values, select):
    """``find_many`` for one query."""
    return find_many(graph, [(collection, prop, values, select)])[0]


def find_many_waiting(graph, queries, timeout, waiter, results=None):
    """``find_many`` (unless its ``results`` are given), asking again for the values not found yet (objects created
    moments ago) until ``timeout`` seconds passed."""
    results = find_many(graph, queries) if results is None else [dict(found) for found in results]
    rounds = []

    def missing():
        """The values not found yet, per query (asked again from the second round on)."""
        if rounds:
            again = [(index, (query[0], query[1], values, query[3])) for index, (query, values) in enumerate(rounds[-1]) if values]
            for (index, _query), found in zip(again, find_many(graph, [query for _index, query in again])):
                results[index].update(found)
        rounds.append([(query, [value for value in unique(query[2]) if not found[fold(value)]]) for query, found in zip(queries, results)])
        return rounds[-1]

    waiter.wait_until(missing, timeout, done=lambda still: not any(values for _query, values in still))
    return results


def write_all(graph, requests, classify, timeout, waiter):
    """Send writes (batched); re-send those ``classify(request, error)`` calls retryable. One result per request.

    ``classify`` answers ``"replication"`` (retried until ``timeout`` seconds passed), ``"transient"``
    (the outcome is unknown and re-sending is harmless: retried up to ``TRANSIENT_ROUNDS`` times) or None.
    """
    results = [None] * len(requests)
    tries = [0] * len(requests)
    pending, deadline, attempt = list(range(len(requests))), waiter.deadline(timeout), 0
    while pending:
        for index, answer in zip(pending, send_all(graph, [requests[index] for index in pending])):
            results[index] = answer
            tries[index] += 1
        attempt += 1
        delay = waiter.delay(attempt)
        in_time = deadline.allows(delay)
        again = []
        for index in pending:
            kind = classify(requests[index], results[index]) if isinstance(results[index], GraphError) else None
            if (kind == "replication" and in_time) or (kind == "transient" and tries[index] < TRANSIENT_ROUNDS):
                again.append(index)
        if again:
            waiter.sleep(delay)
        pending = again
    return results


def is_ambiguous(error):
    """True when a write may or may not have happened (``_retry_policy.is_ambiguous``: no response, 408, 500, 502, 504)."""
    return _ambiguous_status(error.status)


def is_replication_lag(error):
    """404, or 400 "Not a valid reference update.": an object named by the request was created moments ago."""
    return not_found(error) or not_a_valid_reference_update(error)


#: how many names of a collection a "did you mean" hint compares with (one page, one request)
SUGGESTION_POOL = 999
#: difflib's ratio for "close enough": a typo (SmartTrace Usrs) is well above it, a sibling (SmartTrace Admins,
#: st-sso-it-person3 for st-sso-it-nobody) below
CUTOFF = 0.8


def closest_names(graph, collection, prop, names, limit=3):
    """``{fold(name): [closest existing values of prop]}`` for names that were not found, from one request.

    Asked only on the way to an error: the first ``SUGGESTION_POOL`` objects of the collection are compared with
    each name (difflib, case-insensitive). Object ids get no suggestion.
    """
    import difflib  # imported here: only an error needs it
    from ansible_collections.smarttrace.sso.plugins.module_utils._common.identifiers import is_guid

    names = [name for name in names if name and not is_guid(name)]
    if not names:
        return {}
    page = graph.get(collection, params={"$select": prop, "$top": str(SUGGESTION_POOL)}) or {}
    spelling = {}
    for item in page.get("value") or []:
        value = item.get(prop)
        if isinstance(value, str) and value:
            spelling.setdefault(fold(value), value)
    return dict((fold(name), [spelling[match] for match in _close(fold(name), list(spelling), limit, difflib)]) for name in names)


def _close(name, candidates, limit, difflib):
    """The closest candidates; a user principal name is compared by the part before the @ with those of its domain
    (the shared domain would make every name look alike)."""
    if "@" in name:
        local, domain = name.rsplit("@", 1)
        same_domain = dict((candidate.rsplit("@", 1)[0], candidate) for candidate in candidates if candidate.endswith("@" + domain))
        return [same_domain[match] for match in difflib.get_close_matches(local, list(same_domain), n=limit, cutoff=CUTOFF)]
    return difflib.get_close_matches(name, candidates, n=limit, cutoff=CUTOFF)


def did_you_mean(suggestions):
    """``"; did you mean 'A' or 'B'?"`` for a list of names, or an empty string."""
    if not suggestions:
        return ""
    return "; did you mean %s?" % " or ".join("'%s'" % name for name in suggestions)
