"""The ``reject_writes`` fault knob: valid SmartTrace writes answer 422 naming a field, after the checks that come first."""
from __future__ import annotations

APP_ID = "6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f"
TENANT_ID = "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"
SECRET = "Qx7~abcdefghijklmnopqrstuvwxyz0123456789"


def call(session, endpoint, method, token_name="smarttrace_token", **kwargs):
    return session.request(method, endpoint["smarttrace_url"] + "/instances/acme/integrations/azure-ad",
                           headers={"Authorization": "Bearer " + endpoint[token_name]}, timeout=10, **kwargs)


def test_reject_writes_answers_422_naming_the_first_field(fresh_sandbox, session, endpoint):
    body = {"application_id": APP_ID, "tenant_id": TENANT_ID, "client_secret": SECRET}
    assert session.post(fresh_sandbox.url + "/_sandbox/faults", json={"reject_writes": 1}, timeout=10).json()["config"]["reject_writes"] == 1
    response = call(session, endpoint, "PUT", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_failed" and response.json()["error"]["field"] == "application_id"
    assert SECRET not in response.text
    response = call(session, endpoint, "PATCH", json={"tenant_id": TENANT_ID})
    assert response.status_code == 422 and response.json()["error"]["field"] == "tenant_id"
    assert call(session, endpoint, "PUT", token_name="smarttrace_viewer_token", json=body).status_code == 403  # 403 comes first
    assert call(session, endpoint, "PUT", json={"application_id": "x"}).json()["error"]["message"] == "tenant_id is required"  # the schema first
    assert call(session, endpoint, "GET").json()["client_secret_set"] is False  # nothing was stored
    fresh_sandbox.faults.configure({"reject_writes": 0})
    assert call(session, endpoint, "PUT", json=body).status_code == 200
