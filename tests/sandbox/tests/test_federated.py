"""Workload identity federation in the sandbox: federated identity credentials (Graph v1.0 shape), the test OIDC issuer and
the token endpoint's AADSTS answers, with unmodified msal over HTTPS (client_assertion); a fresh secret's replication delay."""
from __future__ import annotations

import msal
import pytest

GRAPH_SCOPE = ["https://graph.microsoft.com/.default"]
SUBJECT = "repo:acme/sso:environment:prod"


def _admin_token(endpoint: dict, session) -> str:
    app = msal.ConfidentialClientApplication(endpoint["client_id"], client_credential=endpoint["client_secret"],
                                             authority="%s/%s" % (endpoint["url"], endpoint["tenant_id"]), instance_discovery=False,
                                             http_client=session)
    return app.acquire_token_for_client(scopes=GRAPH_SCOPE)["access_token"]


def _graph(endpoint: dict, session, method: str, path: str, body=None):
    headers = {"Authorization": "Bearer " + _admin_token(endpoint, session)}
    return session.request(method, endpoint["url"] + "/v1.0" + path, json=body, headers=headers, timeout=30)


def _mint(endpoint: dict, session, **body) -> str:
    body.setdefault("subject", SUBJECT)
    response = session.post(endpoint["url"] + "/_sandbox/oidc/token", json=body, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["token"]


def _add_credential(endpoint: dict, session, issuer: str = "ci", subject: str = SUBJECT, audience: str = "api://AzureADTokenExchange"):
    app_id = endpoint["client_id"]
    body = {"name": "ci-prod", "issuer": "%s/oidc/%s" % (endpoint["url"], issuer), "subject": subject, "audiences": [audience],
            "description": "CI job"}
    response = _graph(endpoint, session, "POST", "/applications(appId='%s')/federatedIdentityCredentials" % app_id, body)
    assert response.status_code == 201, response.text
    return response.json()


def _login(endpoint: dict, session, token: str) -> dict:
    app = msal.ConfidentialClientApplication(endpoint["client_id"], client_credential={"client_assertion": lambda: token},
                                             authority="%s/%s" % (endpoint["url"], endpoint["tenant_id"]), instance_discovery=False,
                                             http_client=session)
    return app.acquire_token_for_client(scopes=GRAPH_SCOPE)


def test_credential_crud_in_graph_shape(endpoint, session):
    created = _add_credential(endpoint, session)
    assert set(created) == {"@odata.context", "id", "name", "issuer", "subject", "description", "audiences"}
    assert created["@odata.context"].endswith("/federatedIdentityCredentials/$entity")
    path = "/applications(appId='%s')/federatedIdentityCredentials" % endpoint["client_id"]
    listed = _graph(endpoint, session, "GET", path).json()
    assert [c["name"] for c in listed["value"]] == ["ci-prod"]
    by_name = _graph(endpoint, session, "GET", path + "(name='ci-prod')")
    assert by_name.status_code == 200 and by_name.json()["id"] == created["id"]
    duplicate = _graph(endpoint, session, "POST", path, {"name": "ci-prod", "issuer": "https://x.example", "subject": "s", "audiences": ["a"]})
    assert duplicate.status_code == 400
    two_audiences = _graph(endpoint, session, "POST", path, {"name": "other", "issuer": "https://x.example", "subject": "s", "audiences": ["a", "b"]})
    assert two_audiences.status_code == 400 and "audiences" in two_audiences.text
    assert _graph(endpoint, session, "PATCH", path + "/" + created["id"], {"subject": "repo:acme/sso:ref:refs/heads/main"}).status_code == 204
    assert _graph(endpoint, session, "PATCH", path + "/" + created["id"], {"name": "renamed"}).status_code == 400
    assert _graph(endpoint, session, "DELETE", path + "/" + created["id"]).status_code == 204
    assert _graph(endpoint, session, "GET", path).json()["value"] == []


def test_issuer_serves_discovery_and_jwks(endpoint, session):
    config = session.get(endpoint["url"] + "/oidc/ci/.well-known/openid-configuration", timeout=30).json()
    assert config["issuer"] == endpoint["url"] + "/oidc/ci"
    keys = session.get(config["jwks_uri"], timeout=30).json()["keys"]
    assert keys and keys[0]["kty"] == "RSA"


def test_federated_login_works_and_token_reaches_graph(endpoint, session):
    _add_credential(endpoint, session)
    result = _login(endpoint, session, _mint(endpoint, session))
    assert "access_token" in result, result
    response = session.get(endpoint["url"] + "/v1.0/organization?$select=id", headers={"Authorization": "Bearer " + result["access_token"]},
                           timeout=30)
    assert response.status_code == 200


@pytest.mark.parametrize("mint, code", [
    ({}, 70021),  # no credential at all (added below only for the other cases)
    ({"issuer": "other"}, 700211),
    ({"subject": "repo:acme/other:ref:refs/heads/main"}, 700213),
    ({"audience": "api://somethingelse"}, 700212),
    ({"lifetime": -3600}, 700024),
    ({"foreign_key": True}, 700027),
])
def test_federated_login_refusals(endpoint, session, mint, code):
    if code != 70021:
        _add_credential(endpoint, session)
    result = _login(endpoint, session, _mint(endpoint, session, **mint))
    assert "access_token" not in result
    assert result["error_codes"] == [code], result
    assert result["error_description"].startswith("AADSTS%d:" % code)


def test_new_credential_replicates_before_login(fresh_sandbox, endpoint, session):
    fresh_sandbox.faults.configure({"replication_delay": 30})
    _add_credential(endpoint, session)
    assert _login(endpoint, session, _mint(endpoint, session))["error_codes"] == [70021]


def test_reset_drops_credentials(fresh_sandbox, endpoint, session):
    _add_credential(endpoint, session)
    fresh_sandbox.reset()
    assert _login(endpoint, session, _mint(endpoint, session))["error_codes"] == [70021]
