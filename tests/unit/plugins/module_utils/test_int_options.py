# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bounds of integer options: one shared check, naming the option and the range, before any request."""

import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.smarttrace.sso.plugins.module_utils._entra import module as _entra_module
from ansible_collections.smarttrace.sso.plugins.module_utils._common.int_options import INT_OPTION_BOUNDS, int_option_problems
from ansible_collections.smarttrace.sso.plugins.module_utils._smarttrace.module import connection_problems
from ansible_collections.smarttrace.sso.plugins.modules import entra_app_info, entra_assignment, entra_secret
from ansible_collections.smarttrace.sso.tests.unit.plugins.module_utils.fakes import CLIENT, GRAPH_ROOT, LOGIN_ROOT, SECRET, TENANT

CONNECTION = dict(tenant_id=TENANT, client_id=CLIENT, client_secret=SECRET, authority_url=LOGIN_ROOT, graph_url=GRAPH_ROOT, token_cache=False)
APP_ID = "00000000-aaaa-bbbb-cccc-00000000000a"
HUGE = 10 ** 40


def test_values_inside_the_bounds_pass():
    assert int_option_problems({"timeout": 30, "expires_in_days": 3650, "rotate_before_days": 0, "wait_timeout": None}) == []
    assert int_option_problems({"unrelated": -5, "name": "x"}) == []


@pytest.mark.parametrize("name", sorted(INT_OPTION_BOUNDS))
def test_each_bound_names_the_option_and_the_range(name):
    lowest, highest, unit = INT_OPTION_BOUNDS[name]
    for value in (lowest - 1, highest + 1, HUGE, -HUGE):
        (problem,) = int_option_problems({name: value})
        assert problem.startswith("%s must be %d or more and at most %d %s, got " % (name, lowest, highest, unit))
    assert int_option_problems({name: lowest}) == [] and int_option_problems({name: highest}) == []


def test_a_huge_value_is_described_not_printed():
    (problem,) = int_option_problems({"expires_in_days": 10 ** 5000})
    assert problem.startswith("expires_in_days must be 1 or more and at most 3650 days, got a number of about ")
    assert int(problem.split("about ")[1].split(" ")[0]) in (4999, 5000) and problem.endswith(" digits")
    assert len(problem) < 200


def test_smarttrace_connection_problems_use_the_shared_bounds():
    problems = connection_problems({"api_url": "https://st.example.test/v1", "api_token": "t" * 20, "timeout": HUGE, "verify_timeout": 99999})
    assert [problem.split(" must")[0] for problem in problems] == ["timeout", "verify_timeout"]


@pytest.fixture
def no_network(monkeypatch):
    def build_session(*args, **kwargs):
        raise AssertionError("a request was about to be made")
    monkeypatch.setattr(_entra_module, "build_session", build_session)


@pytest.mark.parametrize("module, args, expected", [
    (entra_secret, dict(app_id=APP_ID, display_name="x", expires_in_days=HUGE), "expires_in_days must be 1 or more and at most 3650 days"),
    (entra_secret, dict(app_id=APP_ID, display_name="x", rotate_before_days=HUGE), "rotate_before_days must be 0 or more and at most 3650 days"),
    (entra_secret, dict(app_id=APP_ID, display_name="x", wait_timeout=86400 * 365), "wait_timeout must be 0 or more and at most 3600 seconds"),
    (entra_app_info, dict(app_id=APP_ID, rotate_before_days=-1), "rotate_before_days must be 0 or more and at most 3650 days, got -1"),
    (entra_assignment, dict(app_id=APP_ID, users=["a@b.example"], replication_timeout=HUGE), "replication_timeout must be 0 or more and at most 3600 seconds"),
    (entra_app_info, dict(app_id=APP_ID, timeout=0), "timeout must be 1 or more and at most 3600 seconds, got 0"),
])
def test_modules_fail_before_any_request_naming_the_option(module, args, expected, no_network, capsys):
    with patch_module_args(dict(CONNECTION, **args)):
        with pytest.raises(SystemExit):
            module.main()
    result = json.loads(capsys.readouterr().out)
    assert result["failed"] and expected in result["msg"] and result["msg"].startswith("Invalid options: ")
    assert "C int" not in result["msg"] and SECRET not in json.dumps(result)
