"""Unmodified msal against the sandbox over HTTPS: secret, certificate (PEM and PFX), managed identity, errors.

The recipe is the one the contract records for a local authority (section 7.4): authority
``<url>/<tenant>``, ``instance_discovery=False`` and a ``requests.Session`` with ``trust_env=False`` that
verifies the sandbox CA.
"""
from __future__ import annotations

import pathlib

import jwt
import msal
import pytest

GRAPH_SCOPE = ["https://graph.microsoft.com/.default"]


def _app(endpoint: dict, session, credential, tenant: str | None = None, client_id: str | None = None) -> msal.ConfidentialClientApplication:
    return msal.ConfidentialClientApplication(client_id or endpoint["client_id"], client_credential=credential,
                                              authority="%s/%s" % (endpoint["url"], tenant or endpoint["tenant_id"]),
                                              instance_discovery=False, http_client=session)


def _graph_get(endpoint: dict, session, token: str, path: str):
    return session.get(endpoint["url"] + "/v1.0" + path, headers={"Authorization": "Bearer " + token}, timeout=30)


def _pem_parts(endpoint: dict) -> tuple[str, str]:
    """(private key PEM, certificate PEM) from the combined client_cert.pem."""
    text = pathlib.Path(endpoint["client_certificate_path"]).read_text(encoding="utf-8")
    cert_end = text.index("-----END CERTIFICATE-----") + len("-----END CERTIFICATE-----")
    return text[cert_end:].strip() + "\n", text[:cert_end].strip() + "\n"


def test_client_secret_token_works_on_graph_and_is_cached(endpoint, session):
    app = _app(endpoint, session, endpoint["client_secret"])
    result = app.acquire_token_for_client(scopes=GRAPH_SCOPE)
    assert "access_token" in result, result
    assert result["token_type"] == "Bearer" and result["token_source"] == "identity_provider"
    response = _graph_get(endpoint, session, result["access_token"], "/organization?$select=id,displayName")
    assert response.status_code == 200 and response.json()["value"][0]["id"] == endpoint["tenant_id"]
    assert response.headers["request-id"]
    again = app.acquire_token_for_client(scopes=GRAPH_SCOPE)
    assert again["token_source"] == "cache" and again["access_token"] == result["access_token"]


def test_authority_by_verified_domain_name(endpoint, session):
    result = _app(endpoint, session, endpoint["client_secret"], tenant=endpoint["domains"][1]).acquire_token_for_client(scopes=GRAPH_SCOPE)
    assert "access_token" in result, result


def test_certificate_with_sha1_thumbprint(endpoint, session):
    key_pem = _pem_parts(endpoint)[0]
    credential = {"private_key": key_pem, "thumbprint": endpoint["client_certificate_thumbprint"]}
    result = _app(endpoint, session, credential).acquire_token_for_client(scopes=GRAPH_SCOPE)
    assert "access_token" in result, result
    assert jwt.decode(result["access_token"], options={"verify_signature": False})["appidacr"] == "2"


def test_certificate_with_public_certificate_pem(endpoint, session):
    key_pem, cert_pem = _pem_parts(endpoint)
    result = _app(endpoint, session, {"private_key": key_pem, "public_certificate": cert_pem}).acquire_token_for_client(scopes=GRAPH_SCOPE)
    assert "access_token" in result, result
    assert _graph_get(endpoint, session, result["access_token"], "/applications?$top=1").status_code == 200


def test_certificate_from_pfx(endpoint, session):
    credential = {"private_key_pfx_path": endpoint["client_certificate_pfx_path"], "passphrase": endpoint["client_certificate_password"]}
    result = _app(endpoint, session, credential).acquire_token_for_client(scopes=GRAPH_SCOPE)
    assert "access_token" in result, result
    assert _graph_get(endpoint, session, result["access_token"], "/applications?$top=1").status_code == 200


def test_wrong_secret_is_aadsts7000215(endpoint, session):
    result = _app(endpoint, session, "not-the-secret").acquire_token_for_client(scopes=GRAPH_SCOPE)
    assert result["error"] == "invalid_client"
    assert result["error_codes"] == [7000215] and result["error_description"].startswith("AADSTS7000215: Invalid client secret provided.")


def test_unknown_tenant_fails_in_the_constructor(endpoint, session):
    with pytest.raises(ValueError):
        _app(endpoint, session, endpoint["client_secret"], tenant="nowhere.example")


def test_limited_client_gets_403_from_graph(endpoint, session):
    result = _app(endpoint, session, endpoint["limited_client_secret"], client_id=endpoint["limited_client_id"]).acquire_token_for_client(
        scopes=GRAPH_SCOPE)
    response = _graph_get(endpoint, session, result["access_token"], "/users")
    assert response.status_code == 403 and response.json()["error"]["code"] == "Authorization_RequestDenied"


def test_managed_identity_through_msal(endpoint, session, monkeypatch):
    monkeypatch.setenv("IDENTITY_ENDPOINT", endpoint["url"] + endpoint["managed_identity_path"])
    monkeypatch.setenv("IDENTITY_HEADER", endpoint["managed_identity_header"])
    for name in ("IDENTITY_SERVER_THUMBPRINT", "IMDS_ENDPOINT", "MSI_ENDPOINT", "MSI_SECRET"):
        monkeypatch.delenv(name, raising=False)
    client = msal.ManagedIdentityClient(msal.SystemAssignedManagedIdentity(), http_client=session, token_cache=msal.TokenCache())
    result = client.acquire_token_for_client(resource="https://graph.microsoft.com")
    assert "access_token" in result, result
    assert _graph_get(endpoint, session, result["access_token"], "/domains").status_code == 200
