"""The SmartTrace surface over HTTPS, route by route, against smarttrace-api.yaml."""
from __future__ import annotations

import json

import pytest

APP_ID = "6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f"
TENANT_ID = "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"
KEY_ID = "aa11bb22-cc33-4d44-8e55-ff6677889900"
SECRET = "Qx7~abcdefghijklmnopqrstuvwxyz0123456789"
PRODUCTION = "https://api.smarttrace.ai/v1/auth/callback"


class Api:
    """Tiny SmartTrace client for the tests: one method per route, token chosen per call."""

    def __init__(self, session, endpoint):
        self.session, self.endpoint = session, endpoint
        self.base = endpoint["smarttrace_url"]

    def call(self, method, route, token="admin", **kwargs):
        headers = kwargs.pop("headers", {})
        if token == "admin":
            token = self.endpoint["smarttrace_token"]
        elif token == "viewer":
            token = self.endpoint["smarttrace_viewer_token"]
        if token:
            headers["Authorization"] = "Bearer " + token
        return self.session.request(method, self.base + route, headers=headers, timeout=10, **kwargs)

    def integration(self, method, instance="acme", **kwargs):
        return self.call(method, "/instances/%s/integrations/azure-ad" % instance, **kwargs)

    def test(self, instance="acme", **kwargs):
        return self.call("POST", "/instances/%s/integrations/azure-ad/test" % instance, **kwargs)

    def login(self, email, password):
        return self.call("POST", "/auth/login", token=None, json={"email": email, "password": password})

    def configure(self, instance="acme", **overrides):
        body = {"application_id": APP_ID, "tenant_id": TENANT_ID, "client_secret": SECRET}
        body.update(overrides)
        response = self.integration("PUT", instance, json=body)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture()
def api(session, endpoint):
    return Api(session, endpoint)


def assert_error(response, status, code, field=None):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"error": {"code": code, "message": response.json()["error"]["message"], "field": field}}
    assert response.json()["error"]["message"]


def test_seeded_admin_credentials(endpoint):
    assert "@" in endpoint["smarttrace_username"]
    assert endpoint["smarttrace_password"] and endpoint["smarttrace_token"] != endpoint["smarttrace_viewer_token"]
    assert {"acme", "globex", "initech"} <= set(endpoint["instances"])


# ---------------------------------------------------------------------------- login and tokens


def test_login_issues_bearer_token_valid_for_an_hour(api, endpoint, fresh_sandbox):
    response = api.login(endpoint["smarttrace_username"].upper(), endpoint["smarttrace_password"])
    assert response.status_code == 200, response.text
    issued = response.json()
    assert issued["token_type"] == "Bearer" and issued["expires_in"] == 3600
    assert issued["access_token"] not in (endpoint["smarttrace_token"], endpoint["smarttrace_viewer_token"])
    assert api.integration("GET", token=issued["access_token"]).status_code == 200
    assert api.integration("PUT", token=issued["access_token"], json={
        "application_id": APP_ID, "tenant_id": TENANT_ID, "client_secret": SECRET}).status_code == 200


def test_login_token_expires(api, endpoint, fresh_sandbox, monkeypatch):
    token = api.login(endpoint["smarttrace_username"], endpoint["smarttrace_password"]).json()["access_token"]
    surface = fresh_sandbox.smarttrace
    start = surface.clock()
    monkeypatch.setattr(surface, "clock", lambda: start + 3599)
    assert api.integration("GET", token=token).status_code == 200
    monkeypatch.setattr(surface, "clock", lambda: start + 3601)
    assert_error(api.integration("GET", token=token), 401, "unauthorized")
    assert api.integration("GET").status_code == 200  # API tokens do not expire


@pytest.mark.parametrize("body", [
    {"email": "wrong@sandbox.smarttrace.test", "password": "x"},
    {"email": "SAME", "password": "wrong"},
    {"email": "SAME"},
    {"password": "x"},
    ["not", "an", "object"],
    {"email": 1, "password": 2},
])
def test_login_refused(api, endpoint, body):
    if isinstance(body, dict) and body.get("email") == "SAME":
        body["email"] = endpoint["smarttrace_username"]
    response = api.call("POST", "/auth/login", token=None, json=body)
    assert_error(response, 401, "unauthorized")
    assert "access_token" not in response.text


def test_login_wrong_method(api):
    response = api.call("GET", "/auth/login", token=None)
    assert_error(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == "POST"


@pytest.mark.parametrize("authorization", [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer not-a-token"])
def test_bearer_token_required(api, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    for method in ("GET", "PUT", "PATCH", "DELETE"):
        response = api.integration(method, token=None, headers=dict(headers), json={"enabled": True})
        assert_error(response, 401, "unauthorized")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert_error(api.test(token=None, headers=dict(headers)), 401, "unauthorized")


def test_bearer_scheme_is_case_insensitive(api, endpoint):
    response = api.integration("GET", token=None, headers={"Authorization": "bearer " + endpoint["smarttrace_token"]})
    assert response.status_code == 200


# ---------------------------------------------------------------------------- routes and instances


def test_get_never_configured(api, endpoint):
    for instance in endpoint["instances"]:
        response = api.integration("GET", instance)
        assert response.status_code == 200, response.text
        assert response.json() == {
            "instance": instance,
            "enabled": False,
            "application_id": None,
            "tenant_id": None,
            "client_secret_set": False,
            "client_secret_hint": None,
            "client_secret_id": None,
            "client_secret_expires_at": None,
            "redirect_uri": "%s/azure/%s" % (PRODUCTION, instance),
            "logout_uri": "%s/azure-logout/%s" % (PRODUCTION, instance),
            "updated_at": None,
        }


@pytest.mark.parametrize("instance", ["umbrella", "a" * 63, "Acme", "ACME", "-acme", "acme-", "ac_me", "a" * 64, "acme.corp", "%20acme"])
def test_unknown_or_invalid_instance(api, instance):
    for method in ("GET", "PUT", "PATCH", "DELETE"):
        assert_error(api.integration(method, instance, json={"enabled": True}), 404, "instance_not_found")
    assert_error(api.test(instance), 404, "instance_not_found")


@pytest.mark.parametrize("route", ["", "/", "/instances", "/instances/acme", "/instances/acme/integrations",
                                   "/instances/acme/integrations/azure-ad/", "/instances/acme/integrations/okta",
                                   "/instances//integrations/azure-ad", "/auth/logout"])
def test_unknown_route(api, route):
    assert_error(api.call("GET", route), 404, "not_found")


def test_wrong_methods(api):
    response = api.integration("POST")
    assert_error(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == "GET, PUT, PATCH, DELETE"
    response = api.call("GET", "/instances/acme/integrations/azure-ad/test")
    assert_error(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == "POST"


# ---------------------------------------------------------------------------- PUT


def test_put_configures_and_enables(api, fresh_sandbox):
    saved = api.configure(client_secret_id=KEY_ID.upper(), client_secret_expires_at="2027-11-28T17:25:00.1234567Z", application_id=APP_ID.upper())
    assert saved == dict(api.integration("GET").json())
    assert saved["enabled"] is True and saved["client_secret_set"] is True
    assert saved["application_id"] == APP_ID and saved["tenant_id"] == TENANT_ID  # uuids stored lower-case
    assert saved["client_secret_hint"] == SECRET[:3]
    assert saved["client_secret_id"] == KEY_ID
    assert saved["client_secret_expires_at"] == "2027-11-28T17:25:00.1234567Z"
    assert saved["updated_at"].endswith("Z")
    assert SECRET not in json.dumps(saved)
    assert api.integration("GET", "globex").json()["enabled"] is False  # other instances untouched


def test_put_replaces_all_values(api):
    api.configure(client_secret_id=KEY_ID, client_secret_expires_at="2027-01-01T00:00:00+01:00")
    saved = api.configure(client_secret="Zz9" + "y" * 13)
    assert saved["client_secret_hint"] == "Zz9"
    assert saved["client_secret_id"] is None and saved["client_secret_expires_at"] is None


@pytest.mark.parametrize("length", [16, 256])
def test_put_secret_length_bounds(api, length):
    assert api.configure(client_secret="s" * length)["client_secret_hint"] == "sss"


@pytest.mark.parametrize("change, field", [
    ({"application_id": None}, "application_id"),
    ({"tenant_id": None}, "tenant_id"),
    ({"client_secret": None}, "client_secret"),
    ({"application_id": "not-a-uuid"}, "application_id"),
    ({"application_id": APP_ID + "0"}, "application_id"),
    ({"tenant_id": 42}, "tenant_id"),
    ({"client_secret": "s" * 15}, "client_secret"),
    ({"client_secret": "s" * 257}, "client_secret"),
    ({"client_secret": 1234567890123456789}, "client_secret"),
    ({"client_secret_id": "123"}, "client_secret_id"),
    ({"client_secret_expires_at": "2027-11-28"}, "client_secret_expires_at"),
    ({"client_secret_expires_at": "2027-11-28T17:25:00"}, "client_secret_expires_at"),
    ({"client_secret_expires_at": "2027-02-30T17:25:00Z"}, "client_secret_expires_at"),
    ({"client_secret_expires_at": 1800000000}, "client_secret_expires_at"),
    ({"enabled": True}, "enabled"),
    ({"redirect_uri": "https://example.com"}, "redirect_uri"),
])
def test_put_validation(api, change, field):
    body = {"application_id": APP_ID, "tenant_id": TENANT_ID, "client_secret": SECRET}
    for name, value in change.items():
        if value is None:
            del body[name]
        else:
            body[name] = value
    response = api.integration("PUT", json=body)
    assert_error(response, 422, "validation_failed", field)
    assert SECRET not in response.text
    assert api.integration("GET").json()["client_secret_set"] is False


@pytest.mark.parametrize("kwargs", [{"json": ["a"]}, {"json": "text"}, {}, {"data": b"{not json", "headers": {"Content-Type": "application/json"}}])
def test_put_body_must_be_a_json_object(api, kwargs):
    assert_error(api.integration("PUT", **kwargs), 422, "validation_failed")


# ---------------------------------------------------------------------------- PATCH


def test_patch_never_configured_conflicts(api):
    assert_error(api.integration("PATCH", json={"enabled": True}), 409, "not_configured")
    assert_error(api.integration("PATCH", json={"application_id": APP_ID, "tenant_id": TENANT_ID}), 409, "not_configured")


def test_patch_validates_before_state(api):
    assert_error(api.integration("PATCH", json={}), 422, "validation_failed")
    assert_error(api.integration("PATCH", json={"enabled": "yes"}), 422, "validation_failed", "enabled")


def test_patch_changes_only_what_is_given(api):
    api.configure(client_secret_id=KEY_ID, client_secret_expires_at="2027-01-01T00:00:00Z")
    patched = api.integration("PATCH", json={"enabled": False}).json()
    assert patched["enabled"] is False
    assert patched["application_id"] == APP_ID and patched["client_secret_id"] == KEY_ID
    other_app = "11111111-2222-4333-8444-555555555555"
    patched = api.integration("PATCH", json={"application_id": other_app, "enabled": True}).json()
    assert patched["application_id"] == other_app and patched["enabled"] is True and patched["tenant_id"] == TENANT_ID
    assert api.integration("GET").json() == patched


def test_patch_secret_without_id_clears_the_id(api):
    api.configure(client_secret_id=KEY_ID, client_secret_expires_at="2027-01-01T00:00:00Z")
    patched = api.integration("PATCH", json={"client_secret": "New" + "n" * 20}).json()
    assert patched["client_secret_hint"] == "New" and patched["client_secret_id"] is None
    assert patched["client_secret_expires_at"] == "2027-01-01T00:00:00Z"
    other_key = "bb11bb22-cc33-4d44-8e55-ff6677889900"
    patched = api.integration("PATCH", json={"client_secret": "Two" + "n" * 20, "client_secret_id": other_key}).json()
    assert patched["client_secret_hint"] == "Two" and patched["client_secret_id"] == other_key
    patched = api.integration("PATCH", json={"client_secret_id": KEY_ID}).json()
    assert patched["client_secret_hint"] == "Two" and patched["client_secret_id"] == KEY_ID


@pytest.mark.parametrize("body, field", [
    ({"client_secret": "short"}, "client_secret"),
    ({"tenant_id": "x"}, "tenant_id"),
    ({"client_secret_expires_at": "tomorrow"}, "client_secret_expires_at"),
    ({"instance": "globex"}, "instance"),
    ({"client_secret_set": False}, "client_secret_set"),
])
def test_patch_validation(api, body, field):
    api.configure()
    assert_error(api.integration("PATCH", json=body), 422, "validation_failed", field)


# ---------------------------------------------------------------------------- DELETE


def test_delete_when_not_configured(api):
    response = api.integration("DELETE")
    assert response.status_code == 204 and response.content == b""


def test_delete_forgets_everything(api):
    api.configure(client_secret_id=KEY_ID)
    assert api.integration("DELETE").status_code == 204
    current = api.integration("GET").json()
    assert current["enabled"] is False and current["client_secret_set"] is False and current["application_id"] is None
    assert current["client_secret_hint"] is None and current["updated_at"] is None
    assert_error(api.integration("PATCH", json={"enabled": True}), 409, "not_configured")
    assert_error(api.test(), 409, "not_configured")


# ---------------------------------------------------------------------------- test


def test_test_not_configured(api):
    assert_error(api.test(), 409, "not_configured")


def test_test_with_valid_credentials(api, endpoint):
    api.configure(application_id=endpoint["client_id"], tenant_id=endpoint["tenant_id"], client_secret=endpoint["client_secret"])
    response = api.test()
    assert response.status_code == 200, response.text
    assert response.json() == {"ok": True, "error": None}


@pytest.mark.parametrize("wrong", ["client_secret", "application_id", "tenant_id"])
def test_test_with_wrong_credentials(api, endpoint, wrong):
    values = {"application_id": endpoint["client_id"], "tenant_id": endpoint["tenant_id"], "client_secret": endpoint["client_secret"]}
    values[wrong] = {"client_secret": "Wrong-secret-0123456789", "application_id": APP_ID, "tenant_id": TENANT_ID}[wrong]
    api.configure(**values)
    response = api.test()
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["ok"] is False and isinstance(result["error"], str) and result["error"]
    assert "Wrong-secret-0123456789" not in response.text


def test_test_calls_the_directory_in_process(api, fresh_sandbox, monkeypatch):
    calls = []
    monkeypatch.setattr(fresh_sandbox.directory, "redeem_client_secret", lambda *args: calls.append(args) or (False, None), raising=False)
    api.configure()
    logged = len(fresh_sandbox.log.read())
    assert api.test().json() == {"ok": False, "error": "the identity provider refused the credentials"}
    assert calls == [(TENANT_ID, APP_ID, SECRET)]
    assert [line["surface"] for line in fresh_sandbox.log.read()[logged:]] == ["smarttrace"]  # no HTTP call to the login surface


# ---------------------------------------------------------------------------- roles, faults, internal errors


def test_viewer_reads_but_cannot_write(api):
    api.configure()
    assert api.integration("GET", token="viewer").status_code == 200
    for method, body in (("PUT", {"application_id": APP_ID, "tenant_id": TENANT_ID, "client_secret": SECRET}),
                         ("PATCH", {"enabled": False}), ("DELETE", None)):
        assert_error(api.integration(method, token="viewer", json=body), 403, "forbidden")
    assert_error(api.test(token="viewer"), 403, "forbidden")
    assert api.integration("GET").json()["enabled"] is True


def test_throttled_and_unavailable(api, fresh_sandbox):
    fresh_sandbox.faults.configure({"throttle_every": 1, "retry_after": 4})
    response = api.integration("GET")
    assert_error(response, 429, "throttled")
    assert response.headers["Retry-After"] == "4"
    assert_error(api.login("a@b.c", "x"), 429, "throttled")
    fresh_sandbox.faults.configure({"throttle_every": 0, "unavailable_every": 1})
    response = api.integration("GET")
    assert_error(response, 503, "internal")
    assert response.headers["Retry-After"] == "4"


def test_internal_error_hides_secrets(api, fresh_sandbox, monkeypatch, capsys):
    def explode(*_args):
        raise RuntimeError("redeem failed for " + SECRET)

    monkeypatch.setattr(fresh_sandbox.directory, "redeem_client_secret", explode, raising=False)
    api.configure()
    response = api.test()
    assert_error(response, 500, "internal")
    assert response.headers["request-id"] in response.json()["error"]["message"]
    err = capsys.readouterr().err
    assert "RuntimeError" in err and "Traceback" in err
    assert SECRET not in err and SECRET not in response.text


def test_secrets_stay_out_of_state_and_log(api, fresh_sandbox, session):
    api.configure(client_secret_id=KEY_ID)
    api.integration("PATCH", json={"client_secret": SECRET[::-1]})
    state = session.get(fresh_sandbox.url + "/_sandbox/state", timeout=10).json()["smarttrace"]
    acme = state["instances"]["acme"]
    assert acme["client_secret_hint"] == SECRET[::-1][:3] and acme["client_secret_set"] is True
    for text in (json.dumps(state), fresh_sandbox.log_path.read_text()):
        assert SECRET not in text and SECRET[::-1] not in text
    for name in fresh_sandbox.state_dir.iterdir():
        if name.is_file():
            assert SECRET not in name.read_text(errors="replace")


def test_reset_forgets_integrations_and_login_tokens(api, endpoint, fresh_sandbox):
    token = api.login(endpoint["smarttrace_username"], endpoint["smarttrace_password"]).json()["access_token"]
    api.configure()
    fresh_sandbox.reset()
    assert api.integration("GET").json()["client_secret_set"] is False
    assert_error(api.integration("GET", token=token), 401, "unauthorized")
