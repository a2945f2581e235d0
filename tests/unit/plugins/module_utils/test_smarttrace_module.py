# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SmartTraceModule and the two modules on a fake SmartTrace: input checked first, check mode, diff, no secret in any output."""

import json
from urllib.parse import urlsplit

import pytest
import yaml
from ansible.module_utils.testing import patch_module_args

from ansible_collections.smarttrace.sso.plugins.doc_fragments.smarttrace import ModuleDocFragment as SmartTraceFragment
from ansible_collections.smarttrace.sso.plugins.module_utils._smarttrace import module as _smarttrace_module
from ansible_collections.smarttrace.sso.plugins.module_utils._smarttrace.module import connection_problems, smarttrace_argument_spec
from ansible_collections.smarttrace.sso.plugins.modules import smarttrace_integration, smarttrace_integration_info
from ansible_collections.smarttrace.sso.tests.unit.plugins.module_utils.fakes import Reply, mount, request_json
from ansible_collections.smarttrace.sso.tests.unit.plugins.module_utils.test_smarttrace_client import (
    APP,
    KEY,
    SECRET,
    TENANT,
    TOKEN,
    configured,
    view,
)

API = "https://st.example.test/v1"
CONNECTION = dict(api_url=API, api_token=TOKEN)
PRESENT = dict(CONNECTION, instance="acme", application_id=APP, tenant_id=TENANT, client_secret=SECRET, client_secret_id=KEY)


class FakeSmartTrace:
    """A scripted SmartTrace: holds one integration, answers the routes the modules use, records requests."""

    def __init__(self, integration=None, test_answers=None):
        self.integration = integration or view()
        self.test_answers = list(test_answers or [{"ok": True, "error": None}])
        self.servers = []

    def __call__(self, request):
        path = urlsplit(request.url).path
        if path.endswith("/auth/login"):
            return Reply(200, {"access_token": "st_session_from_login", "token_type": "Bearer", "expires_in": 3600})
        if path.endswith("/test"):
            return Reply(200, self.test_answers.pop(0) if len(self.test_answers) > 1 else self.test_answers[0])
        if request.method == "GET":
            return Reply(200, self.integration)
        if request.method == "DELETE":
            self.integration = view()
            return Reply(204)
        body = request_json(request)
        secret = body.pop("client_secret", None)
        if secret is not None:
            body.update(client_secret_set=True, client_secret_hint=secret[:3])
        self.integration = dict(self.integration, enabled=True, updated_at="2026-05-04T10:00:00Z", **body)
        return Reply(200, self.integration)

    @property
    def requests(self):
        return ["%s %s" % (request.method, urlsplit(request.url).path[len("/v1"):]) for server in self.servers for request in server.requests]


@pytest.fixture
def smarttrace(monkeypatch):
    fake = FakeSmartTrace()
    real_build_session = _smarttrace_module.session_for

    def build_session(*args, **kwargs):
        session = real_build_session(*args, **kwargs)
        fake.servers.append(mount(session, fake))
        return session
    monkeypatch.setattr(_smarttrace_module, "session_for", build_session)
    return fake


def run(module, args, capsys):
    """Run a module's main() with ``args``; return its parsed result (stdout) and raw output."""
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            module.main()
    out = capsys.readouterr().out
    return json.loads(out), out


def test_fragment_documents_exactly_the_shared_options():
    documented = yaml.safe_load(SmartTraceFragment.DOCUMENTATION)["options"]
    spec = smarttrace_argument_spec()
    assert sorted(documented) == sorted(spec)
    for name, option in spec.items():
        assert documented[name]["type"] == option["type"], name
        assert documented[name].get("default") == option.get("default"), name
        for variable in (option.get("fallback") or (None, []))[1]:
            assert variable in " ".join(documented[name]["description"]), (name, variable)


@pytest.mark.parametrize("params, expected", [
    (dict(CONNECTION), []),
    (dict(api_url=API, username="a@b.c", password="pw"), []),
    (dict(api_url="http://st.example.test/v1", api_token=TOKEN), ["api_url must be an https:// URL"]),
    (dict(api_url=API), ["no SmartTrace credentials: give api_token (or SMARTTRACE_API_TOKEN), or username and password"]),
    (dict(api_url=API, api_token=TOKEN, username="a@b.c", password="pw"), ["give either api_token or username and password, not both"]),
    (dict(api_url=API, username="a@b.c"), ["password is required with username"]),
    (dict(api_url=API, api_token="", username="a@b.c", password="pw"), []),
    (dict(api_url=API, api_token=" \t\n", username="a@b.c", password="pw"), []),
    (dict(api_url=API, api_token=""), ["no SmartTrace credentials: give api_token (or SMARTTRACE_API_TOKEN), or username and password"]),
    (dict(api_url=API, api_token="  ", username="a@b.c"), ["password is required with username"]),
    (dict(api_url=API, password="pw"), ["username is required with password"]),
    (dict(CONNECTION, timeout=0), ["timeout must be 1 or more and at most 3600 seconds, got 0"]),
    (dict(CONNECTION, ca_path="/nonexistent/ca.pem"), ["ca_path /nonexistent/ca.pem is not a file"]),
])
def test_connection_problems(params, expected):
    problems = connection_problems(params)
    assert len(problems) == len(expected) and all(problem.startswith(text) for problem, text in zip(problems, expected))


def test_environment_fallbacks(monkeypatch, smarttrace, capsys):
    monkeypatch.setenv("SMARTTRACE_API_URL", API)
    monkeypatch.setenv("SMARTTRACE_USERNAME", "admin@example.com")
    monkeypatch.setenv("SMARTTRACE_PASSWORD", "pw-from-env-0123")
    smarttrace.integration = configured()
    with patch_module_args({"instance": "acme"}):
        module = _smarttrace_module.SmartTraceModule(argument_spec=smarttrace_integration_info.ARGUMENT_SPEC)
    assert module.params["api_url"] == API and module.params["username"] == "admin@example.com"
    assert "pw-from-env-0123" in module.no_log_values


def test_every_input_problem_fails_before_any_request(smarttrace, capsys):
    result, out = run(smarttrace_integration, dict(PRESENT, instance="acme.smarttrace.ai", tenant_id="contoso.com", client_secret="too-short",
                                                   api_url="http://x"), capsys)
    assert result["failed"] and smarttrace.servers == []
    assert result["msg"].startswith("Invalid options: api_url must be an https:// URL")
    assert "instance=acme for acme.smarttrace.ai" in result["msg"] and "tenant_id must be the Directory (tenant) ID" in result["msg"]
    assert "too-short" not in out


def test_check_mode_predicts_and_writes_nothing(smarttrace, capsys):
    result, out = run(smarttrace_integration, dict(PRESENT, _ansible_check_mode=True, _ansible_diff=True), capsys)
    assert result["changed"] is True and smarttrace.requests == ["GET /instances/acme/integrations/azure-ad"]
    assert result["integration"]["client_secret_hint"] == SECRET[:3] and result["integration"]["updated_at"] == "(known after the real run)"
    assert result["diff"]["before"]["client_secret_hint"] is None and result["diff"]["after"]["client_secret_id"] == KEY
    assert result["verification"] is None and SECRET not in out and TOKEN not in out


def test_configure_then_unchanged(smarttrace, capsys):
    result, out = run(smarttrace_integration, dict(PRESENT, _ansible_diff=True), capsys)
    assert result["changed"] is True and result["verification"] == {"ok": True, "error": None, "attempts": 1, "waited": 0.0}
    assert smarttrace.requests == ["GET /instances/acme/integrations/azure-ad", "PUT /instances/acme/integrations/azure-ad",
                                   "POST /instances/acme/integrations/azure-ad/test"]
    assert result["redirect_uri"] == "https://api.smarttrace.ai/v1/auth/callback/azure/acme"
    assert result["diff"]["after"]["updated_at"] == "2026-05-04T10:00:00Z" and SECRET not in out
    smarttrace.servers.clear()
    result, _out = run(smarttrace_integration, dict(PRESENT, _ansible_diff=True), capsys)
    assert result["changed"] is False and result["diff"]["before"] == result["diff"]["after"]
    assert smarttrace.requests == ["GET /instances/acme/integrations/azure-ad"]


def test_a_failed_test_fails_the_task_with_smarttraces_message(smarttrace, capsys):
    smarttrace.test_answers = [{"ok": False, "error": "AADSTS700016: Application with identifier '%s' was not found in the directory." % APP}]
    result, out = run(smarttrace_integration, PRESENT, capsys)
    assert result["failed"] and result["changed"] is True and result["verification"]["ok"] is False
    assert result["msg"] == ("SmartTrace saved the integration of instance acme, but its test of the stored values failed: AADSTS700016: Application "
                             "with identifier '%s' was not found in the directory. -> Fix: application_id is not an app registration of tenant_id: "
                             "check both." % APP)
    assert SECRET not in out


def test_an_update_that_needs_the_secret_fails_and_writes_nothing(smarttrace, capsys):
    smarttrace.integration = configured(client_secret_id="bb11bb22-cc33-4d44-8e55-ff6677889900")
    args = dict(PRESENT)
    del args["client_secret"]
    result, _out = run(smarttrace_integration, args, capsys)
    assert result["failed"] and "give client_secret, the Value of secret %s" % KEY in result["msg"]
    assert smarttrace.requests == ["GET /instances/acme/integrations/azure-ad"] and result["integration"]["client_secret_set"] is True


def test_absent_and_absent_again(smarttrace, capsys):
    smarttrace.integration = configured()
    result, _out = run(smarttrace_integration, dict(CONNECTION, instance="acme", state="absent", _ansible_diff=True), capsys)
    assert result["changed"] is True and result["integration"] == dict(view(), logout_url=view()["logout_uri"])
    assert result["diff"]["after"]["application_id"] is None and result["logout_url"] == result["logout_uri"]
    assert smarttrace.requests == ["GET /instances/acme/integrations/azure-ad", "DELETE /instances/acme/integrations/azure-ad"]
    result, _out = run(smarttrace_integration, dict(CONNECTION, instance="acme", state="absent"), capsys)
    assert result["changed"] is False and smarttrace.requests[-1] == "GET /instances/acme/integrations/azure-ad"


def test_info_reads_and_tests_on_request(smarttrace, capsys):
    result, _out = run(smarttrace_integration_info, dict(CONNECTION, instance="acme", verify=True), capsys)
    assert result["configured"] is False and result["verification"] is None and smarttrace.requests == ["GET /instances/acme/integrations/azure-ad"]
    smarttrace.integration = configured()
    smarttrace.test_answers = [{"ok": False, "error": "AADSTS7000215: Invalid client secret provided."}]
    result, _out = run(smarttrace_integration_info, dict(CONNECTION, instance="acme", verify=True), capsys)
    assert result["changed"] is False and result["configured"] is True and "failed" not in result
    assert result["verification"] == {"ok": False, "error": "AADSTS7000215: Invalid client secret provided.", "attempts": 1, "waited": 0.0}


def test_debug_trace_at_vvv_has_no_secrets(smarttrace, capsys):
    result, out = run(smarttrace_integration, dict(PRESENT, _ansible_verbosity=3), capsys)
    assert result["smarttrace_debug"]["request_count"] == 3
    assert [entry["method"] for entry in result["smarttrace_debug"]["trace"]] == ["GET", "PUT", "POST"]
    assert SECRET not in out and TOKEN not in out


def test_validate_certs_false_warns_about_smarttrace(smarttrace, capsys):
    smarttrace.integration = configured()
    result, _out = run(smarttrace_integration_info, dict(CONNECTION, instance="acme", validate_certs=False), capsys)
    assert "TLS certificates of the SmartTrace API are not verified" in json.dumps(result["warnings"])


@pytest.mark.parametrize("empty_token", ["", "   "])
def test_an_empty_api_token_in_the_environment_logs_in_with_username_and_password(monkeypatch, smarttrace, capsys, empty_token):
    # AWX: a credential whose token field is set but empty exports SMARTTRACE_API_TOKEN="" beside username and password.
    monkeypatch.setenv("SMARTTRACE_API_TOKEN", empty_token)
    smarttrace.integration = configured()
    result, out = run(smarttrace_integration_info, dict(api_url=API, instance="acme", username="admin@example.com", password="pw-0123456789"),
                      capsys)
    assert "failed" not in result and result["configured"] is True
    assert smarttrace.requests == ["POST /auth/login", "GET /instances/acme/integrations/azure-ad"]
    sent = [request.headers.get("Authorization") for server in smarttrace.servers for request in server.requests]
    assert sent == [None, "Bearer st_session_from_login"]
    assert "pw-0123456789" not in out and "st_session_from_login" not in out


# ---------------------------------------------------------------------- check mode's placeholder, the caller's read
PLACEHOLDER = "(known after the real run)"
PREDICTED = dict(CONNECTION, instance="acme", application_id=PLACEHOLDER, tenant_id=TENANT, client_secret=PLACEHOLDER,
                 client_secret_id=PLACEHOLDER, client_secret_expires_at=PLACEHOLDER)


def test_check_mode_takes_the_placeholder_and_predicts_a_new_secret(smarttrace, capsys):
    smarttrace.integration = configured()
    result, out = run(smarttrace_integration, dict(PREDICTED, _ansible_check_mode=True, _ansible_diff=True), capsys)
    assert result["changed"] is True and smarttrace.requests == ["GET /instances/acme/integrations/azure-ad"]
    after = result["diff"]["after"]
    assert after["application_id"] == PLACEHOLDER and after["client_secret_hint"] == PLACEHOLDER and after["client_secret_id"] == PLACEHOLDER
    assert after["client_secret_expires_at"] == PLACEHOLDER and after["tenant_id"] == TENANT and after["enabled"] is True
    assert result["diff"]["before"]["application_id"] == APP


def test_the_placeholder_outside_check_mode_names_each_option(smarttrace, capsys):
    result, out = run(smarttrace_integration, PREDICTED, capsys)
    assert result["failed"] and smarttrace.servers == []
    for option in ("application_id", "client_secret", "client_secret_id", "client_secret_expires_at"):
        assert "%s is '(known after the real run)', check mode's placeholder" % option in result["msg"]


def test_a_given_integration_is_not_read_again(smarttrace, capsys):
    smarttrace.integration = configured()
    given = dict(configured(), logout_url=configured().get("logout_uri"))
    new = dict(PRESENT, client_secret="New" + SECRET[3:], client_secret_id="0d5c7a3e-2f1b-4c6d-8e9f-a0b1c2d3e4f5")
    result, out = run(smarttrace_integration, dict(new, current_integration=given, _ansible_diff=True), capsys)
    assert result["changed"] is True and smarttrace.requests == ["PUT /instances/acme/integrations/azure-ad", "POST /instances/acme/integrations/azure-ad/test"]
    assert result["diff"]["before"]["client_secret_id"] == given["client_secret_id"]
    assert "New" + SECRET[3:] not in out


def test_a_given_integration_of_another_instance_fails_before_any_request(smarttrace, capsys):
    result, out = run(smarttrace_integration, dict(PRESENT, current_integration=dict(configured(), instance="other")), capsys)
    assert result["failed"] and smarttrace.servers == []
    assert "current_integration must be the integration of instance acme" in result["msg"] and "it is of instance other" in result["msg"]
