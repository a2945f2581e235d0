# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""time_budget: one option per module whose Deadline bounds every retry and wait of the task, and names itself when it ends one."""

import pytest
import yaml
from ansible.module_utils.testing import patch_module_args

from ansible_collections.smarttrace.sso.plugins.doc_fragments.entra import ModuleDocFragment as EntraFragment
from ansible_collections.smarttrace.sso.plugins.doc_fragments.smarttrace import ModuleDocFragment as SmartTraceFragment
from ansible_collections.smarttrace.sso.plugins.module_utils._smarttrace import client as st
from ansible_collections.smarttrace.sso.plugins.module_utils._common import time_budget as _time_budget
from ansible_collections.smarttrace.sso.plugins.module_utils._graph.auth import AuthConfig, TokenProvider, build_session
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.module import EntraModule
from ansible_collections.smarttrace.sso.plugins.module_utils._common.errors import AuthenticationError, GraphError, SmartTraceError
from ansible_collections.smarttrace.sso.plugins.module_utils._graph.client import GraphClient
from ansible_collections.smarttrace.sso.plugins.module_utils._common.http import Session
from ansible_collections.smarttrace.sso.plugins.module_utils._common.int_options import int_option_problems
from ansible_collections.smarttrace.sso.plugins.module_utils._common.retry_policy import Deadline
from ansible_collections.smarttrace.sso.plugins.module_utils._smarttrace.module import SmartTraceModule
from ansible_collections.smarttrace.sso.tests.unit.plugins.module_utils.fakes import GRAPH_ROOT, FakeClock, FakeLogin, Reply, mount, scripted
from ansible_collections.smarttrace.sso.tests.unit.plugins.module_utils.test_auth import params as auth_params
# fake_network is a fixture (used by name as an argument)
from ansible_collections.smarttrace.sso.tests.unit.plugins.module_utils.test_entra_module import (  # noqa: F401  # pylint: disable=unused-import
    CONNECTION,
    SPEC,
    fake_network,
    output,
    run,
)

API = "https://api.smarttrace.test/v1"


def budget(seconds, clock):
    return _time_budget.task_deadline({"time_budget": seconds}, clock)


# ---------------------------------------------------------------------- the option
def test_the_option_is_documented_with_its_default_in_both_fragments():
    for fragment in (EntraFragment, SmartTraceFragment):
        option = yaml.safe_load(fragment.DOCUMENTATION)["options"]["time_budget"]
        assert option["type"] == "int" and option["default"] == _time_budget.DEFAULT_SECONDS == 900
        assert "names this option" in " ".join(option["description"])


@pytest.mark.parametrize("value, problem", [
    (900, None), (1, None), (86400, None),
    (0, "time_budget must be 1 or more and at most 86400 seconds, got 0"),
    (86401, "time_budget must be 1 or more and at most 86400 seconds, got 86401"),
])
def test_bounds_name_the_option(value, problem):
    assert int_option_problems({"time_budget": value}) == ([problem] if problem else [])


@pytest.mark.parametrize("value", [None, 0, -5, 10 ** 400, True])
def test_a_missing_or_refused_value_still_makes_a_usable_deadline(value):
    deadline = _time_budget.task_deadline({"time_budget": value}, FakeClock())
    assert deadline.seconds == 900 and deadline.option == "time_budget"


def test_a_deadline_names_its_option_and_remembers_running_out():
    clock = FakeClock()
    deadline = budget(30, clock)
    assert deadline.describe() == "the task's time budget (30 s) of option time_budget"
    assert deadline.allows(30) and not deadline.ran_out and _time_budget.ran_out_text(deadline) == ""
    assert deadline.cap(60) == 30 and deadline.cap(10) == 10
    clock.now += 29.5
    assert deadline.cap(10) == 1.0  # never below a second
    assert not deadline.allows(1) and deadline.ran_out
    assert "raise time_budget (default 900 s)" in _time_budget.ran_out_text(deadline)
    assert Deadline(None).cap(30) == 30 and Deadline(5).describe() == "the task's time budget (5 s)"


# ---------------------------------------------------------------------- each client ends by it
def graph(handler, seconds, **kwargs):
    session, clock = Session(), FakeClock()
    server = mount(session, handler)
    return GraphClient(session, GRAPH_ROOT, lambda: "token", sleep=clock.sleep, clock=clock, budget=budget(seconds, clock), **kwargs), server, clock


def test_graph_client_stops_a_wait_the_budget_cannot_hold_and_names_the_option():
    client, server, clock = graph(scripted(Reply(429, None, {"Retry-After": "20"}), Reply(200, {})), 10, max_wait=300)
    with pytest.raises(GraphError) as caught:
        client.get("/users")
    assert clock.sleeps == [] and len(server.requests) == 1
    assert "waiting another 20 s would exceed the task's time budget (10 s) of option time_budget" in str(caught.value)


def test_graph_client_sends_nothing_after_the_budget_and_gives_the_last_request_only_the_time_left():
    client, server, clock = graph(scripted(Reply(200, {})), 45, timeout=30)
    client.get("/users")
    clock.now += 40
    client.get("/groups")
    assert [options["timeout"] for options in server.send_options] == [30, 5]
    clock.now += 5
    with pytest.raises(GraphError) as caught:
        client.get("/applications")
    assert len(server.requests) == 2 and caught.value.code == "TimeBudgetExceeded"
    assert "GET %s/v1.0/applications was not sent: the task's time budget (45 s) of option time_budget has run out" % GRAPH_ROOT in str(caught.value)


def test_graph_batch_rounds_end_by_the_budget():
    throttled = {"responses": [{"id": "1", "status": 429, "headers": {"Retry-After": "8"}, "body": {}}]}
    client, server, clock = graph(scripted(Reply(200, throttled)), 10)
    result = client.batch([{"method": "GET", "url": "/users/a"}])[0]
    assert isinstance(result, GraphError) and "of option time_budget" in str(result)
    assert clock.sleeps == [8.0] and len(server.requests) == 2


def test_smarttrace_client_retries_and_verify_end_by_the_budget():
    session, clock = build_session(), FakeClock()
    server = mount(session, scripted(Reply(503, {}, {"Retry-After": "20"}), Reply(200, {"enabled": False})))
    client = st.SmartTraceClient(session, API, api_token="t" * 20, clock=clock, sleep=clock.sleep, budget=budget(10, clock))
    with pytest.raises(SmartTraceError):
        client.get_integration("acme")
    assert clock.sleeps == [] and len(server.requests) == 1 and client.budget.ran_out

    session, clock = build_session(), FakeClock()
    refused = {"ok": False, "error": "AADSTS7000215: Invalid client secret provided."}
    server = mount(session, scripted(Reply(200, refused)))
    client = st.SmartTraceClient(session, API, api_token="t" * 20, clock=clock, sleep=clock.sleep, budget=budget(5, clock))
    outcome = client.verify("acme", 120)  # verify_timeout 120 s, but only 5 s of budget
    assert outcome["ok"] is False and sum(clock.sleeps) <= 5 and client.budget.ran_out


def test_token_acquisition_ends_by_the_budget_and_names_the_option():
    login = FakeLogin(token_replies=[Reply(503, "down", {"Retry-After": "25"})] * 3)
    session, clock = build_session(), FakeClock()
    mount(session, login)
    provider = TokenProvider(AuthConfig(auth_params(token_cache=False)), session, sleep=clock.sleep, which=lambda name: None,
                             budget=budget(20, clock))
    with pytest.raises(AuthenticationError) as caught:
        provider()
    assert clock.sleeps == [] and len(login.token_forms) == 1
    assert "waiting another 25 s would exceed the task's time budget (20 s) of option time_budget" in str(caught.value)
    assert "raise time_budget" in str(caught.value)


# ---------------------------------------------------------------------- the base classes make it and hand it on
def test_entra_module_makes_one_deadline_and_gives_it_to_graph_and_the_token(fake_network, capsys):
    def body(module):
        assert module.deadline.seconds == 42 and module.deadline.option == "time_budget"
        assert module.graph.budget is module.deadline and module.token_provider.budget is module.deadline
        module.exit_with(False)
    _module, code = run(dict(CONNECTION, display_name="x", time_budget=42), body)
    assert code == 0 and output(capsys)["changed"] is False


def test_a_failure_after_the_budget_ended_a_wait_says_so(fake_network, capsys):
    def body(module):
        module.deadline.allows(10 ** 6)  # a wait of a module's own (e.g. replication) that the budget refused
        module.fail_from(ValueError("the new user did not appear"))
    _module, code = run(dict(CONNECTION, display_name="x"), body)
    message = output(capsys)["msg"]
    assert code == 1 and message.startswith("ValueError: the new user did not appear. The task stopped waiting because the task's time budget ")
    assert "(900 s) of option time_budget ran out: raise time_budget (default 900 s)" in message


def test_a_failure_the_budget_did_not_cause_does_not_mention_it(fake_network, capsys):
    def body(module):
        module.fail_from(ValueError("plain failure"))
    run(dict(CONNECTION, display_name="x"), body)
    assert "time_budget" not in output(capsys)["msg"]


def test_smarttrace_module_makes_one_deadline_and_gives_it_to_its_client():
    with patch_module_args(dict(api_url=API, api_token="t" * 20, time_budget=7)):
        module = SmartTraceModule(argument_spec={})
    assert module.deadline.seconds == 7 and module.client.budget is module.deadline


def test_entra_module_refuses_a_budget_out_of_bounds_before_any_request(fake_network, capsys):
    with patch_module_args(dict(CONNECTION, display_name="x", time_budget=0)):
        with pytest.raises(SystemExit):
            EntraModule(argument_spec=SPEC)
    assert "time_budget must be 1 or more and at most 86400 seconds, got 0" in output(capsys)["msg"]
    assert fake_network["servers"] == []


def test_the_azure_cli_gets_at_most_what_is_left_of_the_budget():
    timeouts = []

    def run(command, timeout):
        timeouts.append(timeout)
        return 0, '{"accessToken": "az-token", "expires_on": 4102444800}', ""
    clock = FakeClock()
    config = AuthConfig(auth_params(auth_method="azure_cli", client_secret=None, authority_url=None))
    provider = TokenProvider(config, build_session(), which=lambda name: "/usr/bin/az", run_command=run, budget=budget(20, clock))
    assert provider() == "az-token" and timeouts == [20]  # not the 60 s the CLI gets without a budget
