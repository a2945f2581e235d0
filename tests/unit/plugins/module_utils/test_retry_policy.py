# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""_retry_policy: one test per rule, then the rule seen through each client that uses it."""

import pytest

from ansible_collections.smarttrace.sso.plugins.module_utils._common import retry_policy as policy
from ansible_collections.smarttrace.sso.plugins.module_utils._smarttrace import client as st
from ansible_collections.smarttrace.sso.plugins.module_utils._common.errors import GraphError, SmartTraceError
from ansible_collections.smarttrace.sso.plugins.module_utils._graph.client import GraphClient
from ansible_collections.smarttrace.sso.plugins.module_utils._common.http import Session, UnsupportedProxy
from ansible_collections.smarttrace.sso.tests.unit.plugins.module_utils.fakes import GRAPH_ROOT, FakeClock, Reply, mount, scripted


def low():
    """A jitter draw of 0."""
    return 0.0


def high():
    """A jitter draw of 1."""
    return 1.0


# ---------------------------------------------------------------------- which statuses are retried
@pytest.mark.parametrize("status", [429, 503, 504, 408, 424, 500, 502, None])
def test_retried_statuses_and_a_missing_response_are_repeated(status):
    assert policy.retry_delay(status, 1) is not None


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 412, 422, 501])
def test_other_statuses_are_the_answer(status):
    assert policy.retry_delay(status, 1) is None
    assert policy.retry_delay(status, 1, retry_after=5) is None  # Retry-After alone does not make a status retried


def test_a_service_may_retry_fewer_statuses():
    assert policy.retry_delay(424, 1, statuses=(429, 503)) is None
    assert policy.retry_delay(429, 1, retry_after=4, statuses=(429, 503)) == 4


# ---------------------------------------------------------------------- one backoff formula honouring Retry-After
def test_backoff_doubles_with_jitter_of_half_to_whole_and_is_capped():
    assert [policy.backoff_delay(attempt, jitter=high) for attempt in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 8.0]
    assert [policy.backoff_delay(attempt, jitter=low) for attempt in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 4.0]
    assert policy.backoff_delay(30, jitter=high) == policy.REQUEST_BACKOFF[1]
    assert policy.backoff_delay(3, base=2.0, cap=5.0, jitter=high) == 5.0
    for attempt in range(1, 8):
        assert 0.5 * min(60, 2 ** (attempt - 1)) <= policy.backoff_delay(attempt) <= min(60, 2 ** (attempt - 1))


def test_retry_after_wins_over_the_backoff_whenever_given():
    assert policy.retry_delay(429, 5, retry_after=7.0) == 7.0
    assert policy.retry_delay(500, 1, retry_after=0.0) == 0.0
    assert 0.5 <= policy.retry_delay(503, 1) <= 1.0  # no Retry-After: the backoff


def test_retry_after_in_seconds_or_as_an_http_date():
    assert policy.parse_retry_after("12") == 12.0
    assert policy.parse_retry_after("Thu, 01 Jan 2026 00:00:30 GMT", now=1767225600.0) == 30.0
    assert policy.parse_retry_after("Thu, 01 Jan 2026 00:00:00 GMT", now=1767225600.0 + 99) == 0.0  # in the past: at once
    assert policy.parse_retry_after("-3") == 0.0
    assert policy.parse_retry_after(None) is None and policy.parse_retry_after("") is None and policy.parse_retry_after("soon") is None


# ---------------------------------------------------------------------- when a write may be repeated
@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE", "get"])
def test_idempotent_methods(method):
    assert policy.is_idempotent(method)


def test_a_post_is_repeated_only_when_it_was_not_processed():
    assert not policy.is_idempotent("POST")
    for status in (429, 503):
        assert policy.may_repeat(False, status) and policy.retry_delay(status, 1, idempotent=False) is not None
    for status in (None, 408, 500, 502, 504, 424):
        assert not policy.may_repeat(False, status) and policy.retry_delay(status, 1, idempotent=False) is None
        assert policy.may_repeat(True, status)


def test_ambiguous_outcomes_are_a_missing_response_timeouts_and_5xx_but_501_and_503():
    assert [status for status in (None, 400, 404, 408, 429, 500, 501, 502, 503, 504) if policy.is_ambiguous(status)] == [None, 408, 500, 502, 504]


def test_http_layer_resends_only_methods_idempotent_by_http_itself():
    assert "PATCH" not in policy.HTTP_IDEMPOTENT_METHODS and "POST" not in policy.HTTP_IDEMPOTENT_METHODS
    assert set(policy.HTTP_IDEMPOTENT_METHODS) < set(policy.IDEMPOTENT_METHODS)


# ---------------------------------------------------------------------- the time budget
def test_deadline_allows_a_wait_only_if_it_ends_in_time():
    clock = FakeClock()
    deadline = policy.Deadline(60, clock)
    assert deadline.allows(60) and not deadline.allows(60.5) and deadline.remaining() == 60
    clock.sleep(45)
    assert deadline.allows(15) and not deadline.allows(16) and deadline.remaining() == 15 and not deadline.expired()
    clock.sleep(20)
    assert deadline.remaining() == 0 and deadline.expired()
    unlimited = policy.Deadline(None, clock)
    assert unlimited.allows(10 ** 9) and unlimited.remaining() is None and not unlimited.expired()


def test_the_earliest_deadline_bounds():
    clock = FakeClock()
    call, task = policy.Deadline(300, clock), policy.Deadline(90, clock)
    assert policy.Deadline.earliest(call, task) is task
    assert policy.Deadline.earliest(call, None) is call
    assert policy.Deadline.earliest(policy.Deadline(None, clock), None) is None


# ---------------------------------------------------------------------- waiting for replication
def test_wait_until_asks_again_with_backoff_until_the_answer_is_there():
    clock, answers = FakeClock(), iter([None, None, {"id": "x"}])
    assert policy.wait_until(lambda: next(answers), policy.Deadline(60, clock), clock.sleep, delay=lambda attempt: attempt) == {"id": "x"}
    assert clock.sleeps == [1, 2]


def test_wait_until_stops_before_a_wait_that_would_pass_the_deadline():
    clock, calls = FakeClock(), []
    assert policy.wait_until(lambda: calls.append(1), policy.Deadline(10, clock), clock.sleep, delay=lambda attempt: 4) is None
    assert clock.sleeps == [4, 4] and len(calls) == 3
    clock, calls = FakeClock(), []
    policy.wait_until(lambda: calls.append(1), policy.Deadline(0, clock), clock.sleep)
    assert clock.sleeps == [] and len(calls) == 1  # no time: asked once


def test_wait_until_returns_the_last_answer_and_takes_its_own_end_condition():
    clock, answers = FakeClock(), iter([{"ok": False}, {"ok": True}])
    assert policy.wait_until(lambda: next(answers), policy.Deadline(60, clock), clock.sleep, done=lambda answer: answer["ok"]) == {"ok": True}
    assert len(clock.sleeps) == 1 and policy.REPLICATION_BACKOFF[0] / 2 <= clock.sleeps[0] <= policy.REPLICATION_BACKOFF[0]


# ---------------------------------------------------------------------- the clients follow it
def graph_client(handler, **kwargs):
    session, clock = Session(), FakeClock()
    server = mount(session, handler)
    return GraphClient(session, GRAPH_ROOT, lambda: "token", sleep=clock.sleep, clock=clock, **kwargs), server, clock


def test_a_task_budget_bounds_every_graph_call_together():
    client, server, clock = graph_client(scripted(Reply(429, None, {"Retry-After": "20"}), Reply(200, {}),
                                                  Reply(429, None, {"Retry-After": "20"})), max_wait=300)
    client.budget = policy.Deadline(30, clock)
    client.get("/users")  # waited 20 s of the 30
    with pytest.raises(GraphError) as caught:
        client.get("/groups")
    assert clock.sleeps == [20.0] and len(server.requests) == 3
    assert "would exceed the task's time budget (30 s)" in str(caught.value)


def test_an_unusable_proxy_is_not_retried():
    def refuse(request):
        raise UnsupportedProxy("unusable proxy https://proxy:3129 in HTTPS_PROXY: ...")
    client, _server, clock = graph_client(refuse)
    with pytest.raises(GraphError) as caught:
        client.get("/users")
    assert clock.sleeps == [] and client.request_count == 1 and "HTTPS_PROXY" in str(caught.value)
    session, st_clock = Session(), FakeClock()
    mount(session, refuse)
    with pytest.raises(SmartTraceError) as caught:
        st.SmartTraceClient(session, "https://api.smarttrace.test/v1", api_token="t" * 20, clock=st_clock, sleep=st_clock.sleep).get_integration("acme")
    assert st_clock.sleeps == [] and caught.value.code == "InvalidProxyURL" and "HTTPS_PROXY" in str(caught.value)


def test_smarttrace_honours_retry_after_and_its_own_statuses():
    session, clock = Session(), FakeClock()
    server = mount(session, scripted(Reply(429, {}, {"Retry-After": "9"}), Reply(502, {}), Reply(200, {"enabled": False})))
    client = st.SmartTraceClient(session, "https://api.smarttrace.test/v1", api_token="t" * 20, clock=clock, sleep=clock.sleep)
    assert client.get_integration("acme")["enabled"] is False
    assert clock.sleeps[0] == 9.0 and 0.5 <= clock.sleeps[1] <= 2.0 and len(server.requests) == 3


def test_the_login_endpoint_does_not_retry_an_unusable_proxy_either():
    from ansible_collections.smarttrace.sso.tests.unit.plugins.module_utils.test_auth import provider_for
    from ansible_collections.smarttrace.sso.plugins.module_utils._common.errors import AuthenticationError

    def refuse(request):
        raise UnsupportedProxy("unusable proxy https://proxy:3129 in HTTPS_PROXY: give the proxy's http:// address")
    provider, server, clock, _warnings = provider_for(refuse, token_cache=False)
    with pytest.raises(AuthenticationError) as caught:
        provider()
    assert "HTTPS_PROXY" in str(caught.value) and "http:// address" in str(caught.value)
    assert len(server.requests) == 1 and clock.sleeps == []
