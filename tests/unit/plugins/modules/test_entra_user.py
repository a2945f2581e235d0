# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""entra_user: options, top-level values for many users, input checks before any request, results, no password in the output."""

import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.smarttrace.sso.plugins.module_utils._entra import module as _entra_module
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.module import EntraModule
from ansible_collections.smarttrace.sso.plugins.modules import entra_user
from ansible_collections.smarttrace.sso.tests.unit.plugins.module_utils.fake_directory import FakeDirectory
from ansible_collections.smarttrace.sso.tests.unit.plugins.module_utils.fakes import CLIENT, GRAPH_ROOT, LOGIN_ROOT, SECRET, TENANT

CONNECTION = dict(tenant_id=TENANT, client_id=CLIENT, client_secret=SECRET, authority_url=LOGIN_ROOT, graph_url=GRAPH_ROOT)
PASSWORD = "Kq7#st-sso-it-Lw2!Vz"


@pytest.fixture
def directory(monkeypatch):
    fake = FakeDirectory()
    monkeypatch.setattr(EntraModule, "graph", property(lambda self: fake.graph))
    return fake


@pytest.fixture
def no_network(monkeypatch):
    def forbidden(*_args, **_kwargs):
        raise AssertionError("no request may be made")
    monkeypatch.setattr(_entra_module, "build_session", forbidden)


def run(args, capsys):
    with patch_module_args(dict(CONNECTION, **args)):
        with pytest.raises(SystemExit):
            entra_user.main()
    return json.loads(capsys.readouterr().out)


def test_input_problems_are_all_reported_before_any_request(no_network, capsys):
    result = run(dict(users=[dict(user_principal_name="b simon@contoso.example", password="weakweak"),
                             dict(user_principal_name="x@contoso.example", usage_location="Germany"),
                             dict(user_principal_name="X@CONTOSO.EXAMPLE")]), capsys)
    assert result["failed"] and result["msg"].startswith("Invalid input: ")
    assert len(result["problems"]) == 4
    assert result["problems"][0].startswith("users[0] (b simon@contoso.example): user_principal_name")
    assert "user_principal_name is also given in users[1]" in result["problems"][3]
    assert "weakweak" not in json.dumps(result)


def test_per_user_options_are_not_shared(no_network, capsys):
    result = run(dict(surname="Same", users=[dict(user_principal_name="a@contoso.example")]), capsys)
    assert result["failed"] and "mutually exclusive: users|surname" in result["msg"]


def test_many_users_inherit_the_top_level_and_results_come_per_user(directory, capsys):
    result = run(dict(password=PASSWORD, usage_location="US", account_enabled=False, _ansible_diff=True,
                      users=[dict(user_principal_name="a@contoso.example"), dict(upn="b@contoso.example", account_enabled=True),
                             dict(user_principal_name="c@fabrikam.example")]), capsys)
    assert result["failed"] and result["changed"]
    assert result["msg"].startswith("1 of 3 users failed: c@fabrikam.example: the domain fabrikam.example")
    assert [user["action"] for user in result["users"]] == ["created", "created", "failed"]
    stored = dict((user["userPrincipalName"], user) for user in directory.users.values())
    assert stored["a@contoso.example"]["accountEnabled"] is False and stored["b@contoso.example"]["accountEnabled"] is True
    assert stored["a@contoso.example"]["usageLocation"] == "US"
    assert PASSWORD not in json.dumps(result)
    assert "user" not in result


def test_one_user_returns_user_and_diff(directory, capsys):
    result = run(dict(user_principal_name="B.Simon@contoso.example", display_name="B.Simon", password=PASSWORD, _ansible_diff=True,
                      _ansible_check_mode=True), capsys)
    assert result["changed"] and not result.get("failed")
    assert result["user"]["id"] == "(known after the real run)" and result["users"] == [result["user"]]
    assert result["diff"] == {"before": {}, "after": {"B.Simon@contoso.example": {
        "display_name": "B.Simon", "mail_nickname": "B.Simon", "given_name": None, "surname": None, "account_enabled": True, "usage_location": None}}}
    assert directory.users == {}
    assert PASSWORD not in json.dumps(result)
