# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The entra_secret module end to end on a fake login and a fake Graph: what it prints, and what it never prints."""

import json
import time
from urllib.parse import urlsplit

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.smarttrace.sso.plugins.module_utils._entra import module as _entra_module
from ansible_collections.smarttrace.sso.plugins.module_utils._common.dates import utc_now
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.secrets import SIGHTINGS
from ansible_collections.smarttrace.sso.plugins.modules import entra_secret
from ansible_collections.smarttrace.sso.tests.unit.plugins.module_utils.fake_apps import FakeApps
from ansible_collections.smarttrace.sso.tests.unit.plugins.module_utils.fakes import (
    CLIENT,
    GRAPH_ROOT,
    LOGIN_ROOT,
    SECRET,
    TENANT,
    FakeLogin,
    graph_error,
    mount,
)

CONNECTION = dict(tenant_id=TENANT, client_id=CLIENT, client_secret=SECRET, authority_url=LOGIN_ROOT, graph_url=GRAPH_ROOT, token_cache=False)


@pytest.fixture
def world(monkeypatch):
    """Every session the module builds reaches a fake login endpoint and a fake Graph holding one application."""
    apps, login = FakeApps(), FakeLogin()
    apps.now = utc_now()

    def handler(request):
        return apps(request) if urlsplit(request.url).netloc == urlsplit(GRAPH_ROOT).netloc else login(request)

    real_build_session = _entra_module.build_session

    def build_session(*args, **kwargs):
        session = real_build_session(*args, **kwargs)
        mount(session, handler)
        return session
    monkeypatch.setattr(_entra_module, "build_session", build_session)
    monkeypatch.setattr(time, "sleep", lambda seconds: None)
    return {"apps": apps, "login": login}


def run(capsys, **args):
    with patch_module_args(dict(CONNECTION, **args)):
        with pytest.raises(SystemExit):
            entra_secret.main()
    out = capsys.readouterr().out
    return json.loads(out), out


def test_a_new_secret_appears_once_in_the_output_in_secret(world, capsys):
    apps = world["apps"]
    old = apps.add("smarttrace", 5)
    result, out = run(capsys, app_id=apps.app["appId"], display_name="smarttrace", _ansible_diff=True, _ansible_verbosity=3)
    value = apps.secrets[0]
    assert result["changed"] is True and result["secret"] == value
    assert out.count(value) == 1 and out.count(value[:10]) == 1
    assert SECRET not in out
    assert [item["key_id"] for item in result["diff"]["after"]["secrets"]] == [old["keyId"], result["key_id"]]
    mine = [warning for warning in result["warnings"] if "Client secret" in json.dumps(warning)]
    assert len(mine) == 1 and old["keyId"] in json.dumps(mine[0])
    assert result["graph_debug"]["request_count"] == 2 + SIGHTINGS


def test_invalid_options_fail_before_any_request(world, capsys):
    result, dummy = run(capsys, app_id=world["apps"].app["appId"], display_name="smarttrace", end_date="2001-01-01")
    assert result["failed"] and result["msg"].startswith("end_date 2001-01-01T00:00:00Z is in the past")
    assert world["apps"].http == 0 and world["login"].token_forms == []
    result, dummy = run(capsys, app_id=world["apps"].app["appId"], display_name="smarttrace", expires_in_days=5, end_date="2030-01-01")
    assert result["failed"] and "mutually exclusive" in result["msg"]
    result, dummy = run(capsys, display_name="smarttrace")
    assert result["failed"] and "app_id, app_object_id" in result["msg"]
    assert world["apps"].http == 0


def test_both_ids_and_current_secrets_add_without_reading_first(world, capsys):
    """What the role gives: the app's two ids and the secrets its plan read, so the first request is the addPassword, on the
    Object ID's path (the only one Graph v1.0 defines), and the proof uses the client ID."""
    apps, login = world["apps"], world["login"]
    result, dummy = run(capsys, app_id=apps.app["appId"], app_object_id=apps.app["id"], display_name="smarttrace", current_secrets=[],
                        verify=True)
    assert result["changed"] is True and result["verification"]["verified"] is True
    assert apps.calls[0][:2] == ("POST", "/applications/%s/addPassword" % apps.app["id"])
    assert [call for call in apps.calls if call[0] == "GET"] == [("GET", "/applications/%s" % apps.app["id"], {"$select": "passwordCredentials"})]
    assert login.token_forms[-1]["client_id"] == apps.app["appId"]


def test_the_object_id_alone_with_verify_reads_the_client_id_before_adding(world, capsys):
    apps, login = world["apps"], world["login"]
    result, dummy = run(capsys, app_object_id=apps.app["id"], display_name="smarttrace", current_secrets=[], verify=True)
    assert result["changed"] is True and result["verification"]["verified"] is True
    assert apps.calls[0] == ("GET", "/applications/%s" % apps.app["id"], {"$select": "id,appId"})
    assert apps.calls[1][:2] == ("POST", "/applications/%s/addPassword" % apps.app["id"])
    assert login.token_forms[-1]["client_id"] == apps.app["appId"]


def test_ids_of_two_apps_fail_before_anything_is_written(world, capsys):
    apps = world["apps"]
    other = "00000000-0000-0000-0000-0000000000bb"
    result, dummy = run(capsys, app_id=apps.app["appId"], app_object_id=other, display_name="smarttrace")
    assert result["failed"] and result["msg"].startswith("app_id %s and app_object_id %s name two different app registrations" % (
        apps.app["appId"], other))
    assert apps.secrets == [] and all(call[0] == "GET" for call in apps.calls)


def test_check_mode_reads_once_and_writes_nothing(world, capsys):
    apps = world["apps"]
    result, dummy = run(capsys, app_object_id=apps.app["id"], display_name="smarttrace", _ansible_check_mode=True)
    assert result["changed"] is True and result["secret"] == "(known after the real run)" and result["key_id"] == "(known after the real run)"
    assert apps.http == 1 and apps.secrets == []


def test_a_policy_refusal_names_the_option(world, capsys):
    apps = world["apps"]
    apps.max_lifetime_days = 90
    result, dummy = run(capsys, app_id=apps.app["appId"], display_name="smarttrace", expires_in_days=120)
    assert result["failed"]
    assert result["msg"].startswith("expires_in_days=120 is longer than the tenant allows")
    assert result["graph_error"]["code"] == "CredentialInvalidLifetimeAsPerAppPolicy"


def test_refused_retirement_removes_nothing(world, capsys):
    apps = world["apps"]
    apps.add("smarttrace", 5)
    result, dummy = run(capsys, app_id=apps.app["appId"], display_name="smarttrace", state="absent",
                        keep_key_id="00000000-0000-0000-0000-0000000000aa")
    assert result["failed"] and "nothing was removed" in result["msg"]
    assert result["app_object_id"] == apps.app["id"]
    assert len(apps.key_ids()) == 1 and apps.http == 1


def test_partial_removal_fails_and_says_what_went(world, capsys):
    apps = world["apps"]
    first, second = apps.add("smarttrace", 5), apps.add("smarttrace", 6)
    original_route = apps.route

    def deny_second(method, rest, query, body):
        if rest == "/removePassword" and body["keyId"] == second["keyId"]:
            return graph_error(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
        return original_route(method, rest, query, body)
    apps.route = deny_second
    result, dummy = run(capsys, app_id=apps.app["appId"], display_name="smarttrace", state="absent")
    assert result["failed"] and result["msg"].startswith("removing the secrets of application 'SmartTrace'")
    assert result["removed_key_ids"] == [first["keyId"]]


@pytest.mark.parametrize("newest_first", [False, True])
def test_the_module_describes_the_same_secret_whatever_order_graph_lists_them_in(world, capsys, newest_first):
    apps = world["apps"]
    apps.newest_first = newest_first
    old = apps.add("smarttrace", 5, started_days_ago=700, key_id="00000001-0000-4000-8000-000000000000")
    new = apps.add("smarttrace", 400, started_days_ago=3, key_id="00000002-0000-4000-8000-000000000000")
    result, dummy = run(capsys, app_id=apps.app["appId"], display_name="smarttrace", _ansible_diff=True)
    assert result["changed"] is False and result["key_id"] == new["keyId"]
    assert [item["key_id"] for item in result["credentials"]] == [old["keyId"], new["keyId"]]
    assert [item["key_id"] for item in result["diff"]["after"]["secrets"]] == [old["keyId"], new["keyId"]]
    result, dummy = run(capsys, app_id=apps.app["appId"], display_name="smarttrace", force=True)
    assert result["changed"] is True and result["key_id"] not in (old["keyId"], new["keyId"])
    assert [item["key_id"] for item in result["credentials"]][:2] == [old["keyId"], new["keyId"]]
