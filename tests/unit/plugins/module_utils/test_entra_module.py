# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""EntraModule: argument spec merge, env fallbacks, lazy Graph client, fail/exit helpers, diff, no secret in output."""

import json
from urllib.parse import urlsplit

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.smarttrace.sso.plugins.module_utils._entra import module as _entra_module
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.module import EntraModule
from ansible_collections.smarttrace.sso.plugins.module_utils._common.errors import AuthenticationError, GraphError
from ansible_collections.smarttrace.sso.tests.unit.plugins.module_utils.fakes import (
    CLIENT,
    GRAPH_ROOT,
    LOGIN_ROOT,
    SECRET,
    TENANT,
    FakeLogin,
    Reply,
    graph_error,
    mount,
)

CONNECTION = dict(tenant_id=TENANT, client_id=CLIENT, client_secret=SECRET, authority_url=LOGIN_ROOT, graph_url=GRAPH_ROOT)
SPEC = dict(display_name=dict(type="str", required=True))


@pytest.fixture
def fake_network(monkeypatch):
    """Every session the module builds talks to a fake login endpoint and a scripted fake Graph."""
    login = FakeLogin()
    graph_replies = []
    servers = []

    def handler(request):
        if urlsplit(request.url).netloc == urlsplit(GRAPH_ROOT).netloc:
            return graph_replies.pop(0)
        return login(request)

    real_build_session = _entra_module.build_session

    def build_session(*args, **kwargs):
        session = real_build_session(*args, **kwargs)
        servers.append(mount(session, handler))
        return session
    monkeypatch.setattr(_entra_module, "build_session", build_session)
    return {"login": login, "graph": graph_replies, "servers": servers}


def run(args, body):
    """Create the module with ``args``, run ``body(module)`` (which must exit), return the parsed result."""
    with patch_module_args(args):
        module = EntraModule(argument_spec=SPEC)
        with pytest.raises(SystemExit) as caught:
            body(module)
    return module, caught.value.code


def output(capsys):
    return json.loads(capsys.readouterr().out)


def test_shared_options_merged_and_check_mode_supported():
    with patch_module_args(dict(CONNECTION, display_name="SmartTrace", _ansible_check_mode=True)):
        module = EntraModule(argument_spec=SPEC)
    assert module.params["display_name"] == "SmartTrace"
    assert module.params["auth_method"] == "auto" and module.params["cloud"] == "public" and module.params["token_cache"] is True
    assert module.check_mode is True and module.supports_check_mode is True
    assert module.tenant_id == TENANT
    assert SECRET in module.no_log_values


def test_environment_fallbacks(monkeypatch):
    monkeypatch.setenv("AZURE_TENANT_ID", TENANT)
    monkeypatch.setenv("AZURE_CLIENT_ID", CLIENT)
    monkeypatch.setenv("AZURE_CLIENT_SECRET", SECRET)
    monkeypatch.setenv("AZURE_CLIENT_CERTIFICATE_PATH", "/certs/automation.pem")
    monkeypatch.setenv("AZURE_CLIENT_CERTIFICATE_PASSWORD", "cert-pass")
    monkeypatch.setenv("AZURE_AUTHORITY_HOST", "login.microsoftonline.us")
    monkeypatch.setenv("ENTRA_GRAPH_URL", "https://127.0.0.1:8443")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/ca/sandbox.pem")
    with patch_module_args(dict(display_name="x")):
        module = EntraModule(argument_spec=SPEC)
    params = module.params
    assert (params["tenant_id"], params["client_id"], params["client_secret"]) == (TENANT, CLIENT, SECRET)
    assert params["client_certificate_path"] == "/certs/automation.pem" and params["client_certificate_password"] == "cert-pass"
    assert params["authority_url"] == "login.microsoftonline.us" and params["graph_url"] == "https://127.0.0.1:8443"
    assert params["ca_path"] == "/ca/sandbox.pem"
    assert {SECRET, "cert-pass"} <= module.no_log_values


def test_explicit_options_win_over_environment(monkeypatch):
    monkeypatch.setenv("AZURE_CLIENT_ID", "from-env")
    with patch_module_args(dict(CONNECTION, display_name="x")):
        assert EntraModule(argument_spec=SPEC).params["client_id"] == CLIENT


def test_graph_is_lazy_and_token_becomes_a_no_log_value(fake_network, capsys):
    fake_network["graph"].append(Reply(200, {"value": [{"id": "a1", "displayName": "SmartTrace"}]}))

    def body(module):
        assert fake_network["servers"] == []  # nothing built before first use
        apps = module.graph.list_all("/applications", params={"$filter": "displayName eq 'SmartTrace'"})
        module.exit_with(False, apps=apps)
    module, code = run(dict(CONNECTION, display_name="SmartTrace"), body)
    result = output(capsys)
    assert code == 0 and result["apps"] == [{"id": "a1", "displayName": "SmartTrace"}] and result["changed"] is False
    token = fake_network["servers"][0].requests[-1].headers["Authorization"].split()[1]
    assert token in module.no_log_values
    assert "diff" not in result and "graph_debug" not in result


def test_exit_with_diff_masks_secrets(fake_network, capsys):
    def body(module):
        module.exit_with(True, before={"displayName": "old"}, after={"displayName": "new", "note": SECRET}, app_id="x")
    run(dict(CONNECTION, display_name="new", _ansible_diff=True), body)
    result = output(capsys)
    assert result["changed"] is True and result["app_id"] == "x"
    assert result["diff"]["before"] == {"displayName": "old"} and result["diff"]["after"]["displayName"] == "new"
    assert SECRET not in json.dumps(result)


def test_would_change_gives_the_minimal_patch():
    with patch_module_args(dict(CONNECTION, display_name="x")):
        module = EntraModule(argument_spec=SPEC)
    assert module.would_change({"tags": ["a", "b"], "displayName": "x"}, {"tags": ["b", "a"], "displayName": "y"}) == {"displayName": "y"}


def test_fail_from_graph_error(fake_network, capsys):
    fake_network["graph"].append(graph_error(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.", "rid-403"))

    def body(module):
        try:
            module.graph.get("/applications")
        except GraphError as exc:
            module.fail_from(exc, msg="Could not list applications")
    _module, code = run(dict(CONNECTION, display_name="x"), body)
    result = output(capsys)
    assert code == 1 and result["failed"] is True
    assert result["msg"].startswith("Could not list applications: Microsoft Graph GET")
    assert result["graph_error"]["status"] == 403 and result["graph_error"]["request_id"] == "rid-403"
    assert result["graph_error"]["code"] == "Authorization_RequestDenied"
    assert "eyJ" not in json.dumps(result) and SECRET not in json.dumps(result)


def test_fail_from_authentication_error(fake_network, capsys):
    fake_network["login"].token_replies.append(Reply(401, {"error": "invalid_client", "error_codes": [7000215],
                                                           "error_description": "AADSTS7000215: Invalid client secret provided."}))

    def body(module):
        try:
            module.graph.get("/applications")
        except (GraphError, AuthenticationError) as exc:
            module.fail_from(exc)
    run(dict(CONNECTION, display_name="x"), body)
    result = output(capsys)
    assert result["auth_error"]["aadsts"] == "7000215" and "Value, not its ID" in result["msg"]
    assert SECRET not in json.dumps(result)


def test_fail_from_unexpected_error_keeps_a_masked_traceback(monkeypatch):
    with patch_module_args(dict(CONNECTION, display_name="x")):
        module = EntraModule(argument_spec=SPEC)
    failures = []
    monkeypatch.setattr(module, "fail_json", lambda **kwargs: failures.append(kwargs))
    try:
        raise RuntimeError("boom with Bearer eyJabc.eyJdef.sig")
    except RuntimeError as exc:
        module.fail_from(exc)
    (kwargs,) = failures
    assert kwargs["msg"] == "RuntimeError: boom with Bearer ********"
    assert "Traceback" in kwargs["exception"] and "eyJabc" not in kwargs["exception"]


def test_bad_configuration_fails_cleanly(capsys):
    def body(module):
        module.graph
    run(dict(display_name="x", auth_method="client_secret"), body)
    result = output(capsys)
    assert "auth_method client_secret needs tenant_id" in result["msg"] and "auth_error" in result


def test_missing_msal_is_reported_with_missing_required_lib(monkeypatch, capsys):
    monkeypatch.setattr(_entra_module, "HAS_MSAL", False)

    def body(module):
        module.graph
    run(dict(CONNECTION, display_name="x"), body)
    assert "Failed to import the required Python library (msal)" in output(capsys)["msg"]


def test_validate_certs_false_warns(fake_network, capsys):
    fake_network["graph"].append(Reply(200, {"id": "a"}))

    def body(module):
        module.exit_with(False, app=module.graph.get("/applications/a"))
    run(dict(CONNECTION, display_name="x", validate_certs=False), body)
    assert "validate_certs is false" in json.dumps(output(capsys)["warnings"])


def test_debug_trace_at_vvv(fake_network, capsys):
    fake_network["graph"].append(Reply(200, {"id": "a"}, {"request-id": "r-1"}))

    def body(module):
        module.graph.get("/applications/a")
        module.exit_with(False)
    run(dict(CONNECTION, display_name="x", _ansible_verbosity=3), body)
    result = output(capsys)
    assert result["graph_debug"]["request_count"] == 1 and result["graph_debug"]["trace"][0]["request_id"] == "r-1"
    assert result["auth_debug"] == {"method": "client_secret", "source": "identity_provider", "login_requests": 2}
