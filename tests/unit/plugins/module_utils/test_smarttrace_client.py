# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The SmartTrace client: input checks, the idempotency decision, error mapping, retries, login and the test."""

import json
from urllib.parse import urlsplit

import pytest

from ansible_collections.smarttrace.sso.plugins.module_utils._common import http as _http
from ansible_collections.smarttrace.sso.plugins.module_utils._smarttrace import client as st
from ansible_collections.smarttrace.sso.plugins.module_utils._smarttrace import integration as si
from ansible_collections.smarttrace.sso.plugins.module_utils._graph.auth import build_session
from ansible_collections.smarttrace.sso.plugins.module_utils._common.errors import SmartTraceError, to_fail_kwargs
from ansible_collections.smarttrace.sso.plugins.module_utils._common.retry_policy import REQUEST_MAX_ATTEMPTS
from ansible_collections.smarttrace.sso.plugins.module_utils._graph.client import GraphClient
from ansible_collections.smarttrace.sso.tests.unit.plugins.module_utils.fakes import FakeClock, Reply, mount, request_json, scripted

API = "https://st.example.test/v1"
APP = "6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f"
TENANT = "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"
KEY = "aa11bb22-cc33-4d44-8e55-ff6677889900"
OTHER_KEY = "bb11bb22-cc33-4d44-8e55-ff6677889900"
SECRET = "Qx7~abcdefghijklmnopqrstuvwxyz0123456789"
TOKEN = "st_admin_0123456789abcdef"


def view(**values):
    """An integration as GET shows it for instance acme (never configured unless values say otherwise)."""
    body = {"instance": "acme", "enabled": False, "application_id": None, "tenant_id": None, "client_secret_set": False,
            "client_secret_hint": None, "client_secret_id": None, "client_secret_expires_at": None,
            "redirect_uri": "https://api.smarttrace.ai/v1/auth/callback/azure/acme",
            "logout_uri": "https://api.smarttrace.ai/v1/auth/callback/azure-logout/acme", "updated_at": None}
    body.update(values)
    return body


def configured(**values):
    return view(**dict(dict(enabled=True, application_id=APP, tenant_id=TENANT, client_secret_set=True, client_secret_hint=SECRET[:3],
                            client_secret_id=KEY, updated_at="2026-01-01T00:00:00Z"), **values))


def desired(**values):
    params = dict(application_id=APP, tenant_id=TENANT, client_secret=SECRET, client_secret_id=KEY, client_secret_expires_at=None)
    params.update(values)
    return si.desired_integration(params)


def error(status, code, message, field=None, headers=None):
    return Reply(status, {"error": {"code": code, "message": message, "field": field}}, headers)


def client(handler, clock=None, **kwargs):
    session = build_session()
    server = mount(session, handler)
    clock = clock or FakeClock()
    kwargs.setdefault("api_token", TOKEN)
    return st.SmartTraceClient(session, API, clock=clock, sleep=clock.sleep, **kwargs), server, clock


# ---------------------------------------------------------------------- input
@pytest.mark.parametrize("value, expected", [("acme", "acme"), ("Acme", "acme"), (" globex ", "globex"), ("a", "a"), ("a-1", "a-1"),
                                             ("x" * 63, "x" * 63)])
def test_instance_names(value, expected):
    assert st.check_instance(value) == expected


@pytest.mark.parametrize("value, fix", [("acme.smarttrace.ai", "instance=acme for acme.smarttrace.ai"),
                                        ("https://acme.smarttrace.ai/", "instance=acme for https://acme.smarttrace.ai/"),
                                        ("-acme", "first label"), ("acme-", "first label"), ("ac_me", "first label"), ("", "first label"),
                                        ("x" * 64, "1 to 63"), ("acme/../x", "first label")])
def test_instance_names_refused_with_the_fix(value, fix):
    with pytest.raises(st.InputError) as caught:
        st.check_instance(value)
    assert str(caught.value).startswith("instance ") and fix in str(caught.value)


def test_desired_values_are_normalized():
    values = desired(application_id=APP.upper(), tenant_id=" %s " % TENANT, client_secret_id=KEY.upper())
    assert values == {"application_id": APP, "tenant_id": TENANT, "client_secret": SECRET, "client_secret_id": KEY,
                      "client_secret_expires_at": None}


def test_every_input_problem_is_named_at_once_without_echoing_the_secret():
    with pytest.raises(st.InputError) as caught:
        desired(application_id="not-a-guid", tenant_id="contoso.onmicrosoft.com", client_secret_id="k", client_secret="short-one",
                client_secret_expires_at="2027-02-30T00:00:00Z")
    text = str(caught.value)
    for fragment in ("application_id must be the Application (client) ID", "tenant_id must be the Directory (tenant) ID",
                     "does not take a domain name", "client_secret_id must be the Secret ID", "client_secret must be 16 to 256 characters long (it has 9)",
                     "client_secret_expires_at must be an RFC 3339 date-time"):
        assert fragment in text
    assert "short-one" not in text


def test_a_secret_id_given_as_the_secret_is_recognized():
    with pytest.raises(st.InputError, match="client_secret looks like a Secret ID"):
        desired(client_secret=KEY)


@pytest.mark.parametrize("value, ok", [("2027-01-31T12:00:00Z", True), ("2027-01-31t12:00:00.1234567+01:00", True), ("2027-01-31T12:00:00", False),
                                       ("2027-01-31", False), ("2027-13-01T00:00:00Z", False), ("2027-01-31T24:00:00Z", False), (None, False)])
def test_date_times(value, ok):
    assert (si.parse_date_time(value) is not None) is ok


def test_same_instant_across_zones():
    assert si.same_instant("2027-01-31T12:00:00Z", "2027-01-31T13:00:00+01:00")
    assert si.same_instant("2027-01-31T12:00:00.000Z", "2027-01-31T12:00:00Z")
    assert not si.same_instant("2027-01-31T12:00:00Z", "2027-01-31T12:00:01Z")
    assert not si.same_instant("2027-01-31T12:00:00Z", None)


# ---------------------------------------------------------------------- the decision
def test_never_configured_needs_a_put_with_every_value_given():
    plan = si.plan_present(view(), desired(client_secret_expires_at="2027-01-31T12:00:00Z"))
    assert plan.method == "PUT"
    assert plan.body == {"application_id": APP, "tenant_id": TENANT, "client_secret": SECRET, "client_secret_id": KEY,
                         "client_secret_expires_at": "2027-01-31T12:00:00Z"}
    assert plan.after["client_secret_hint"] == "Qx7" and plan.after["enabled"] is True and plan.after["client_secret_set"] is True
    assert plan.after["updated_at"] == si.KNOWN_AFTER_RUN and SECRET not in json.dumps(plan.after)


def test_never_configured_without_a_secret_says_so():
    with pytest.raises(si.NeedsSecretError, match="holds no client secret for instance acme yet: give client_secret"):
        si.plan_present(view(), desired(client_secret=None))


def test_same_values_are_unchanged_without_reading_the_secret():
    plan = si.plan_present(configured(client_secret_expires_at="2027-01-31T12:00:00Z"),
                           desired(application_id=APP.upper(), client_secret_expires_at="2027-01-31T13:00:00+01:00"))
    assert plan.method is None and plan.body is None


def test_without_a_key_id_the_hint_decides():
    assert si.plan_present(configured(client_secret_id=None), desired(client_secret_id=None)).method is None
    assert si.plan_present(configured(), desired(client_secret_id=None)).method is None  # the stored key id is not compared
    assert si.plan_present(configured(), desired(client_secret_id=None, client_secret="Zz9" + SECRET[3:])).method == "PUT"


def test_a_different_secret_is_saved_with_put():
    for changed in (dict(client_secret="Zz9" + SECRET[3:]), dict(client_secret_id=OTHER_KEY)):
        plan = si.plan_present(configured(client_secret_expires_at="2026-06-01T00:00:00Z"), desired(**changed))
        assert plan.method == "PUT" and plan.body["client_secret"] == changed.get("client_secret", SECRET)
        assert "client_secret_expires_at" not in plan.body and plan.after["client_secret_expires_at"] is None  # the old expiry goes


def test_a_key_id_to_record_for_the_held_secret_is_a_put():
    plan = si.plan_present(configured(client_secret_id=None), desired())
    assert plan.method == "PUT" and plan.body["client_secret_id"] == KEY


def test_other_changes_are_a_minimal_patch():
    plan = si.plan_present(configured(enabled=False), desired(tenant_id="1" + TENANT[1:], client_secret_expires_at="2027-01-31T12:00:00Z"))
    assert plan.method == "PATCH"
    assert plan.body == {"tenant_id": "1" + TENANT[1:], "client_secret_expires_at": "2027-01-31T12:00:00Z", "enabled": True}
    assert plan.after["tenant_id"] == "1" + TENANT[1:] and plan.after["application_id"] == APP


def test_ids_change_without_a_secret_is_a_patch():
    plan = si.plan_present(configured(), desired(client_secret=None, client_secret_id=None, application_id="2" + APP[1:]))
    assert plan == si.Plan("PATCH", {"application_id": "2" + APP[1:]}, plan.after)


def test_a_new_key_id_without_its_secret_is_an_error_that_says_so():
    with pytest.raises(si.NeedsSecretError) as caught:
        si.plan_present(configured(), desired(client_secret=None, client_secret_id=OTHER_KEY))
    assert str(caught.value) == ("client_secret_id %s is not the key id of the secret SmartTrace holds for instance acme (%s): "
                                 "give client_secret, the Value of secret %s, to replace it" % (OTHER_KEY, KEY, OTHER_KEY))
    with pytest.raises(si.NeedsSecretError, match="no key id recorded"):
        si.plan_present(configured(client_secret_id=None), desired(client_secret=None))


def test_absent():
    assert si.plan_absent(view()).method is None
    plan = si.plan_absent(configured())
    assert plan.method == "DELETE" and plan.after == view()
    assert si.plan_absent(view(enabled=True)).method == "DELETE"


def test_view_keeps_only_the_documented_fields():
    answer = configured(client_secret=SECRET, password="x")
    del answer["redirect_uri"]
    result = si.integration_view(answer, "acme")
    assert sorted(result) == sorted(si.INTEGRATION_FIELDS + ("logout_url",))
    assert result["logout_url"] == result["logout_uri"] == "https://api.smarttrace.ai/v1/auth/callback/azure-logout/acme"
    assert result["redirect_uri"] == "https://api.smarttrace.ai/v1/auth/callback/azure/acme"
    assert si.callback_uris("globex") == ("https://api.smarttrace.ai/v1/auth/callback/azure/globex",
                                          "https://api.smarttrace.ai/v1/auth/callback/azure-logout/globex")
    assert si.diff_view(result)["client_secret_hint"] == "Qx7" and "client_secret_set" not in si.diff_view(result)


# ---------------------------------------------------------------------- errors
@pytest.mark.parametrize("status, code, field, path, credential, expected", [
    (401, "unauthorized", None, "/auth/login", "user 'a@b.c'", "check username (the SmartTrace administrator's e-mail address"),
    (401, "unauthorized", None, "/instances/acme/integrations/azure-ad", "api_token", "api_token (or SMARTTRACE_API_TOKEN) is not a valid"),
    (403, "forbidden", None, "/instances/acme/integrations/azure-ad", "api_token", "the api_token may read but not change integrations"),
    (403, "forbidden", None, "/instances/acme/integrations/azure-ad", "user 'a@b.c'", "the user 'a@b.c' may read but not change"),
    (404, "instance_not_found", None, "/instances/acme/integrations/azure-ad", "api_token", "instance is the first label of the SmartTrace address"),
    (404, "not_found", None, "/instances/acme/integrations/azure-ad", "api_token", "does not serve the SmartTrace API"),
    (409, "not_configured", None, "/instances/acme/integrations/azure-ad/test", "api_token", "configure the integration first"),
    (422, "validation_failed", "client_secret_expires_at", "/instances/acme/integrations/azure-ad", "api_token", "correct option client_secret_expires_at"),
    (422, "validation_failed", "email", "/auth/login", "user 'a'", "correct option username"),
    (429, "throttled", None, "/instances/acme/integrations/azure-ad", "api_token", "throttling"),
    (503, "internal", None, "/instances/acme/integrations/azure-ad", "api_token", "unavailable"),
])
def test_error_hints(status, code, field, path, credential, expected):
    assert expected in st.error_hint(status, code, field, path, credential, "acme", API)


def test_error_answer_becomes_a_smarttrace_error_with_its_field():
    api, server, _clock = client(scripted(error(422, "validation_failed", "client_secret must be 16 to 256 characters long", "client_secret")))
    with pytest.raises(SmartTraceError) as caught:
        api.apply("acme", si.Plan("PUT", {"client_secret": SECRET}, None))
    exc = caught.value
    assert (exc.status, exc.code, exc.field) == (422, "validation_failed", "client_secret")
    assert (exc.method, exc.path) == ("PUT", "/instances/acme/integrations/azure-ad")
    assert str(exc) == ("SmartTrace PUT /instances/acme/integrations/azure-ad failed (HTTP 422, validation_failed): client_secret must be 16 to 256 "
                        "characters long -> Fix: correct option client_secret.")
    kwargs = to_fail_kwargs(exc)
    assert kwargs["smarttrace_error"]["field"] == "client_secret" and SECRET not in json.dumps(kwargs)
    assert len(server.requests) == 1  # a 422 is not repeated


def test_instance_not_found_names_the_instance():
    api, _server, _clock = client(scripted(error(404, "instance_not_found", "instance 'acmee' does not exist")))
    with pytest.raises(SmartTraceError) as caught:
        api.get_integration("acmee")
    assert "HTTP 404, instance_not_found" in str(caught.value) and "check instance (acmee)" in str(caught.value)


def test_answers_without_an_error_body():
    api, _server, _clock = client(scripted(Reply(400, "<html>bad</html>", {"Content-Type": "text/html"})))
    with pytest.raises(SmartTraceError, match="HTTP 400 without a SmartTrace error message"):
        api.get_integration("acme")
    api, server, _clock = client(scripted(Reply(302, None, {"Location": "https://login.example.test/"})))
    with pytest.raises(SmartTraceError, match="redirected to https://login.example.test/ -> Fix: api_url redirects elsewhere"):
        api.get_integration("acme")
    assert len(server.requests) == 1  # not followed: the token goes nowhere else


# ---------------------------------------------------------------------- retries
def test_throttling_is_retried_after_retry_after():
    api, server, clock = client(scripted(error(429, "throttled", "slow down", headers={"Retry-After": "7"}), Reply(200, configured())))
    assert api.get_integration("acme")["client_secret_set"] is True
    assert clock.sleeps == [7.0] and len(server.requests) == 2 and api.trace[0]["retry_in"] == 7.0


def test_a_fleets_throttling_is_outlasted_like_graphs():
    """One policy: SmartTrace's client makes as many attempts as the Graph client (make bench saw a test refused 6 times in a
    row with Retry-After 1 s under a fleet's throttling, when this client stopped at 6)."""
    throttled = [error(429, "throttled", "slow down", headers={"Retry-After": "1"})] * 8
    api, server, clock = client(scripted(*(throttled + [Reply(200, {"ok": True})])))
    assert api.run_test("acme") == (True, None)
    assert len(server.requests) == 9 and clock.sleeps == [1.0] * 8
    graph = GraphClient(build_session(), "https://graph.example.test/v1.0", lambda: "token")
    assert api.max_attempts == graph.max_attempts == REQUEST_MAX_ATTEMPTS


def test_unavailable_gives_up_after_max_attempts_and_says_so():
    api, server, clock = client(scripted(error(503, "internal", "down", headers={"Retry-After": "1"})), max_attempts=4)
    with pytest.raises(SmartTraceError) as caught:
        api.get_integration("acme")
    assert len(server.requests) == 4 and clock.sleeps == [1.0, 1.0, 1.0]
    assert "(after 4 attempts, 3 s of waiting) -> Fix: SmartTrace is unavailable: run again later." in str(caught.value)


def test_waiting_is_bounded_by_max_wait():
    api, server, _clock = client(scripted(error(429, "throttled", "slow down", headers={"Retry-After": "100"})), max_wait=60)
    with pytest.raises(SmartTraceError, match="HTTP 429"):
        api.get_integration("acme")
    assert len(server.requests) == 1


def test_lost_connections_are_retried_but_not_tls_failures():
    answers = [_http.ConnectionFailed("reset"), Reply(204)]
    api, server, clock = client(lambda request: answers.pop(0))
    api.apply("acme", si.Plan("DELETE", None, view()))
    assert len(server.requests) == 2 and len(clock.sleeps) == 1
    api, server, _clock = client(lambda request: _http.TLSError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"))
    with pytest.raises(SmartTraceError) as caught:
        api.get_integration("acme")
    assert len(server.requests) == 1 and "give the certificate authority of api_url in ca_path" in str(caught.value)
    assert "CERTIFICATE_VERIFY_FAILED" in str(caught.value)


# ---------------------------------------------------------------------- login and requests
def test_api_token_is_sent_and_writes_send_json():
    api, server, _clock = client(scripted(Reply(200, configured())))
    api.apply("acme", si.Plan("PATCH", {"tenant_id": TENANT}, None))
    request = server.requests[0]
    assert request.headers["Authorization"] == "Bearer " + TOKEN and request.headers["Content-Type"] == "application/json"
    assert request.method == "PATCH" and request.url == API + "/instances/acme/integrations/azure-ad" and request_json(request) == {"tenant_id": TENANT}


def test_login_once_and_register_the_token():
    seen = []

    def handler(request):
        if urlsplit(request.url).path.endswith("/auth/login"):
            assert request_json(request) == {"email": "admin@example.com", "password": "pw-0123456789"}
            assert "Authorization" not in request.headers
            return Reply(200, {"access_token": "st_session_abc", "token_type": "Bearer", "expires_in": 3600})
        assert request.headers["Authorization"] == "Bearer st_session_abc"
        return Reply(200, configured())
    api, server, _clock = client(handler, api_token=None, username="admin@example.com", password="pw-0123456789", on_token=seen.append)
    api.get_integration("acme")
    api.get_integration("acme")
    assert server.paths() == ["POST /v1/auth/login", "GET /v1/instances/acme/integrations/azure-ad", "GET /v1/instances/acme/integrations/azure-ad"]
    assert seen == ["st_session_abc"] and api.credential == "user 'admin@example.com'"


@pytest.mark.parametrize("value, expected", [(None, None), ("", None), ("   ", None), ("\t\n", None), (TOKEN, TOKEN), (" %s\n" % TOKEN, TOKEN)])
def test_an_empty_api_token_counts_as_not_set(value, expected):
    assert st.given_api_token(value) == expected


@pytest.mark.parametrize("empty_token", ["", "  "])
def test_an_empty_api_token_logs_in_with_username_and_password(empty_token):
    def handler(request):
        if urlsplit(request.url).path.endswith("/auth/login"):
            return Reply(200, {"access_token": "st_session_abc", "token_type": "Bearer", "expires_in": 3600})
        assert request.headers["Authorization"] == "Bearer st_session_abc"
        return Reply(200, configured())
    api, server, _clock = client(handler, api_token=empty_token, username="admin@example.com", password="pw-0123456789")
    api.get_integration("acme")
    assert server.paths() == ["POST /v1/auth/login", "GET /v1/instances/acme/integrations/azure-ad"]
    assert api.credential == "user 'admin@example.com'"


def test_refused_login_names_username_and_password():
    api, _server, _clock = client(scripted(error(401, "unauthorized", "invalid e-mail or password")), api_token=None, username="a@b.c", password="wrong")
    with pytest.raises(SmartTraceError) as caught:
        api.get_integration("acme")
    assert str(caught.value).startswith("SmartTrace POST /auth/login failed (HTTP 401, unauthorized): invalid e-mail or password -> Fix: check username")
    assert "wrong" not in str(caught.value)


# ---------------------------------------------------------------------- the test
def test_verify_repeats_only_while_a_new_secret_replicates():
    refused = Reply(200, {"ok": False, "error": "AADSTS7000215: Invalid client secret provided. Trace ID: 1"})
    api, server, clock = client(scripted(refused, refused, Reply(200, {"ok": True, "error": None})))
    outcome = api.verify("acme", 60)
    assert outcome["ok"] is True and outcome["attempts"] == 3 and len(clock.sleeps) == 2
    assert server.paths() == ["POST /v1/instances/acme/integrations/azure-ad/test"] * 3


def test_verify_gives_up_after_its_timeout():
    api, server, clock = client(scripted(Reply(200, {"ok": False, "error": "AADSTS7000215: Invalid client secret provided."})))
    outcome = api.verify("acme", 20)
    assert outcome["ok"] is False and outcome["attempts"] == len(server.requests) > 1 and sum(clock.sleeps) <= 20
    api, server, clock = client(scripted(Reply(200, {"ok": False, "error": "AADSTS7000215: Invalid client secret provided."})))
    assert api.verify("acme", 0)["attempts"] == 1 and clock.sleeps == []


def test_verify_fails_at_once_on_other_errors():
    api, server, _clock = client(scripted(Reply(200, {"ok": False, "error": "AADSTS700016: Application with identifier 'x' was not found"})))
    outcome = api.verify("acme", 60)
    assert outcome == {"ok": False, "error": "AADSTS700016: Application with identifier 'x' was not found", "attempts": 1, "waited": 0.0}
    api, server, _clock = client(scripted(error(409, "not_configured", "nothing to test")))
    with pytest.raises(SmartTraceError, match="configure the integration first"):
        api.verify("acme", 60)


@pytest.mark.parametrize("value", ["2027-01-31T12:00:00Z", "2027-01-31t12:00:00.1234567+01:00", "2027-01-31T23:59:59-05:30"])
def test_one_date_time_parser_smarttrace_only_adds_its_format_rule(value):
    from ansible_collections.smarttrace.sso.plugins.module_utils._common.dates import parse_date_time
    assert si.parse_date_time(value) is not None and si.parse_date_time(value) == parse_date_time(value)
    assert si.parse_date_time(value[:10]) is None and parse_date_time(value[:10]) is not None  # a bare date: a secret's, not SmartTrace's
