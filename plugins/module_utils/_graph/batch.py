# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Microsoft Graph ``$batch`` (docs/graph-facts.md, "Batching"): 20 requests a call, inner throttling retried, results in order.

``GraphBatch`` is a mix-in of ``GraphClient``: it uses the client's ``request``, ``_deadline``, ``_sleep``,
``_backoff``, ``_limit_text``, ``base_url`` and retry settings. Subpackage: graph.
"""

from ansible_collections.smarttrace.sso.plugins.module_utils._common.errors import GraphError
from ansible_collections.smarttrace.sso.plugins.module_utils._graph.urls import API_VERSION, batch_url
from ansible_collections.smarttrace.sso.plugins.module_utils._common.retry_policy import is_idempotent, parse_retry_after, retry_delay

BATCH_LIMIT = 20
# A $batch sub-request throttled in this many rounds is then sent on its own (with the requests that depend on it).
BATCH_ROUNDS_BEFORE_ALONE = 3
# A $batch sub-request is repeated on 429, 503 and (unless a POST) 504: the others are its own answer.
BATCH_RETRIED_STATUSES = (429, 503, 504)


def found_or_none(answer):
    """One ``$batch`` answer as its caller uses it: the object, None for a 404 (there is no such object); any other
    error is raised."""
    if isinstance(answer, GraphError):
        if answer.status == 404:
            return None
        raise answer
    return answer


class GraphBatch:
    """The ``batch()`` of ``GraphClient``."""

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
