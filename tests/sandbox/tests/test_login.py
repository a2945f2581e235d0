"""The login surface: discovery, keys, the client-credentials token endpoint and the managed-identity endpoint."""
from __future__ import annotations

import base64
import datetime
import hashlib
import time
import uuid

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from sandbox.tokens import self_signed

from .entra_helpers import BASE, GRAPH_SCOPE, Tenant

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@pytest.fixture(name="tenant")
def fixture_tenant(tmp_path):
    return Tenant(tmp_path)


def assert_aadsts(response, status: int, error: str, code: int, starts: str | None = None) -> str:
    """An Entra error body; returns error_description."""
    assert response.status == status, response.body
    body = response.body
    assert set(body) == {"error", "error_description", "error_codes", "timestamp", "trace_id", "correlation_id", "error_uri"}
    assert body["error"] == error
    assert body["error_codes"] == [code]
    assert body["error_description"].startswith("AADSTS%d: " % code)
    if starts:
        assert body["error_description"].startswith("AADSTS%d: %s" % (code, starts)), body["error_description"]
    assert "Trace ID: %s Correlation ID: %s Timestamp: " % (body["trace_id"], body["correlation_id"]) in body["error_description"]
    assert body["error_uri"] == "%s/error?code=%d" % (BASE, code)
    return body["error_description"]


# ---------------------------------------------------------------------------------------------- discovery and keys

@pytest.mark.parametrize("which", ["tenant_id", "initial_domain", "custom_domain"])
def test_discovery_by_tenant_id_or_verified_domain_names_the_tenant_guid(tenant, which):
    name = {"tenant_id": tenant.fields["tenant_id"], "initial_domain": "contoso.onmicrosoft.com", "custom_domain": "Contoso.Example"}[which]
    response = tenant.login_get("/%s/v2.0/.well-known/openid-configuration" % name)
    assert response.status == 200
    doc = response.body
    tid = tenant.fields["tenant_id"]
    assert doc["issuer"] == "%s/%s/v2.0" % (BASE, tid)
    assert doc["token_endpoint"] == "%s/%s/oauth2/v2.0/token" % (BASE, tid)
    assert doc["authorization_endpoint"] == "%s/%s/oauth2/v2.0/authorize" % (BASE, tid)
    assert doc["jwks_uri"] == "%s/%s/discovery/v2.0/keys" % (BASE, tid)
    assert "private_key_jwt" in doc["token_endpoint_auth_methods_supported"]


@pytest.mark.parametrize("name", ["11111111-2222-3333-4444-555555555555", "fabrikam.example", "nowhere.example"])
def test_discovery_of_an_unknown_or_unverified_tenant_is_aadsts90002(tenant, name):
    response = tenant.login_get("/%s/v2.0/.well-known/openid-configuration" % name, headers={"client-request-id": "abc-123"})
    text = assert_aadsts(response, 400, "invalid_tenant", 90002, "Tenant '%s' not found." % name)
    assert response.body["correlation_id"] == "abc-123"
    assert "Correlation ID: abc-123" in text


def test_keys_publish_the_signing_key_that_verifies_tokens(tenant):
    keys = tenant.login_get("/%s/discovery/v2.0/keys" % tenant.fields["tenant_id"]).body["keys"]
    assert len(keys) == 1 and keys[0]["kty"] == "RSA" and keys[0]["use"] == "sig"
    token = tenant.token()
    assert jwt.get_unverified_header(token)["kid"] == keys[0]["kid"]
    public_key = jwt.algorithms.RSAAlgorithm.from_jwk(keys[0])
    claims = jwt.decode(token, public_key, algorithms=["RS256"], audience="https://graph.microsoft.com", options={"verify_exp": False})
    assert claims["tid"] == tenant.fields["tenant_id"]


def test_unknown_login_route_is_404(tenant):
    assert tenant.login_get("/%s/oauth2/v2.0/nothing" % tenant.fields["tenant_id"]).status == 404


# ---------------------------------------------------------------------------------------------- client secret

def test_client_secret_token_has_graph_claims_and_roles(tenant):
    response = tenant.token_request(tenant.secret_form())
    assert response.status == 200
    body = response.body
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3599 and body["ext_expires_in"] == 3599
    assert response.headers["Cache-Control"] == "no-store, no-cache"
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    tid = tenant.fields["tenant_id"]
    assert claims["aud"] == "https://graph.microsoft.com"
    assert claims["iss"] == "https://sts.windows.net/%s/" % tid
    assert claims["tid"] == tid
    assert claims["appid"] == tenant.fields["client_id"]
    assert claims["oid"] == claims["sub"] == tenant.automation_sp["id"]
    assert claims["appidacr"] == "1" and claims["idtyp"] == "app"
    assert claims["exp"] - claims["iat"] == 3599 and claims["nbf"] == claims["iat"] == int(tenant.clock())
    assert claims["roles"] == sorted(["Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All", "User.ReadWrite.All", "Directory.Read.All",
                                      "DelegatedPermissionGrant.ReadWrite.All"])


def test_limited_client_has_only_application_read_all(tenant):
    claims = jwt.decode(tenant.limited_token(), options={"verify_signature": False})
    assert claims["roles"] == ["Application.Read.All"]


def test_token_by_domain_name_and_http_basic_client_authentication(tenant):
    credentials = base64.b64encode(("%s:%s" % (tenant.fields["client_id"], tenant.fields["client_secret"])).encode()).decode()
    form = {"grant_type": "client_credentials", "scope": GRAPH_SCOPE}
    response = tenant.token_request(form, tenant="contoso.example", headers={"Authorization": "Basic " + credentials})
    assert response.status == 200, response.body


@pytest.mark.parametrize("scope, audience", [
    ("https://graph.microsoft.us/.default", "https://graph.microsoft.us"),
    ("https://dod-graph.microsoft.us/.default", "https://dod-graph.microsoft.us"),
    ("https://microsoftgraph.chinacloudapi.cn/.default", "https://microsoftgraph.chinacloudapi.cn"),
    ("00000003-0000-0000-c000-000000000000/.default", "00000003-0000-0000-c000-000000000000"),
])
def test_graph_default_scopes_of_every_cloud_are_accepted(tenant, scope, audience):
    response = tenant.token_request(tenant.secret_form(scope=scope))
    assert response.status == 200, response.body
    assert jwt.decode(response.body["access_token"], options={"verify_signature": False})["aud"] == audience


def test_wrong_secret_is_401_aadsts7000215(tenant):
    response = tenant.token_request(tenant.secret_form(secret="not-the-secret"), headers={"client-request-id": "cid-1"})
    text = assert_aadsts(response, 401, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is "
                         "the client secret value, not the client secret ID")
    assert tenant.fields["client_id"] in text
    assert response.body["correlation_id"] == "cid-1"


def test_secret_id_instead_of_value_is_aadsts7000215(tenant):
    key_id = tenant.directory.automation_app["passwordCredentials"][0]["keyId"]
    assert_aadsts(tenant.token_request(tenant.secret_form(secret=key_id)), 401, "invalid_client", 7000215)


def test_expired_secret_is_aadsts7000222(tenant):
    app = tenant.directory.automation_app
    key_id = app["passwordCredentials"][0]["keyId"]
    assert tenant.directory.admin("set-credential-end", {"app_id": app["appId"], "key_id": key_id, "end_date_time": "2020-01-01T00:00:00Z"}).status == 200
    text = assert_aadsts(tenant.token_request(tenant.secret_form()), 401, "invalid_client", 7000222)
    assert "The provided client secret keys for app '%s' are expired." % app["appId"] in text


def test_unknown_client_is_400_aadsts700016(tenant):
    client_id = str(uuid.UUID(int=7))
    text = assert_aadsts(tenant.token_request(tenant.secret_form(client_id=client_id)), 400, "unauthorized_client", 700016)
    assert "Application with identifier '%s' was not found in the directory 'Contoso'." % client_id in text


def test_unknown_tenant_at_the_token_endpoint_is_aadsts90002(tenant):
    assert_aadsts(tenant.token_request(tenant.secret_form(), tenant="fabrikam.example"), 400, "invalid_tenant", 90002)


def test_scope_without_default_suffix_is_aadsts1002012(tenant):
    text = assert_aadsts(tenant.token_request(tenant.secret_form(scope="https://graph.microsoft.com/User.Read")), 400, "invalid_scope", 1002012)
    assert "Client credential flows must have a scope value with /.default suffixed" in text


def test_several_scopes_are_aadsts70011(tenant):
    assert_aadsts(tenant.token_request(tenant.secret_form(scope=GRAPH_SCOPE + " openid")), 400, "invalid_scope", 70011)


def test_scope_of_an_unknown_resource_is_aadsts500011(tenant):
    assert_aadsts(tenant.token_request(tenant.secret_form(scope="https://api.unknown.example/.default")), 400, "invalid_resource", 500011)


@pytest.mark.parametrize("missing", ["grant_type", "client_id", "scope"])
def test_missing_parameters_are_aadsts900144(tenant, missing):
    form = tenant.secret_form()
    del form[missing]
    text = assert_aadsts(tenant.token_request(form), 400, "invalid_request", 900144)
    assert "'%s'" % missing in text


def test_missing_credential_is_aadsts7000218(tenant):
    form = tenant.secret_form()
    del form["client_secret"]
    assert_aadsts(tenant.token_request(form), 401, "invalid_client", 7000218)


def test_other_grant_types_and_get_are_refused(tenant):
    assert_aadsts(tenant.token_request(dict(tenant.secret_form(), grant_type="password")), 400, "unsupported_grant_type", 70003)
    assert_aadsts(tenant.token_request(None, method="GET"), 400, "invalid_request", 900561)


def test_client_without_service_principal_is_aadsts7000229(tenant):
    app = tenant.new_app("No SP yet")
    secret = tenant.ok("POST", "/applications/%s/addPassword" % app["id"], {}, status=200)["secretText"]
    assert_aadsts(tenant.token_request(tenant.secret_form(app["appId"], secret)), 400, "invalid_client", 7000229)
    tenant.ok("POST", "/servicePrincipals", {"appId": app["appId"]})
    response = tenant.token_request(tenant.secret_form(app["appId"], secret))
    assert response.status == 200
    assert "roles" not in jwt.decode(response.body["access_token"], options={"verify_signature": False})


def test_disabled_service_principal_is_aadsts7000112(tenant):
    sp_id = tenant.automation_sp["id"]
    tenant.ok("PATCH", "/servicePrincipals/%s" % sp_id, {"accountEnabled": False})
    assert_aadsts(tenant.token_request(tenant.secret_form()), 400, "unauthorized_client", 7000112)


def test_fresh_secret_is_refused_while_it_replicates(tmp_path):
    tenant = Tenant(tmp_path, replication_delay=30)
    app_id, app_object = tenant.fields["client_id"], tenant.directory.automation_app["id"]
    secret = tenant.ok("POST", "/applications/%s/addPassword" % app_object, {"passwordCredential": {"displayName": "new"}}, status=200)["secretText"]
    assert_aadsts(tenant.token_request(tenant.secret_form(app_id, secret)), 401, "invalid_client", 7000215)
    assert tenant.directory.redeem_client_secret(tenant.fields["tenant_id"], app_id, secret)[0] is False
    tenant.clock.advance(31)
    assert tenant.token_request(tenant.secret_form(app_id, secret)).status == 200
    assert tenant.directory.redeem_client_secret(tenant.fields["tenant_id"], app_id, secret) == (True, None)


def test_new_app_is_unknown_to_the_token_endpoint_while_it_replicates(tmp_path):
    tenant = Tenant(tmp_path, replication_delay=30)
    app = tenant.new_app("Young")
    assert_aadsts(tenant.token_request(tenant.secret_form(app["appId"], "whatever")), 400, "unauthorized_client", 700016)


def test_redeem_client_secret_reports_the_token_endpoint_text(tenant):
    fields = tenant.fields
    assert tenant.directory.redeem_client_secret(fields["tenant_id"], fields["client_id"], fields["client_secret"]) == (True, None)
    assert tenant.directory.redeem_client_secret("contoso.example", fields["client_id"], fields["client_secret"]) == (True, None)
    ok, text = tenant.directory.redeem_client_secret(fields["tenant_id"], fields["client_id"], "wrong")
    assert ok is False and text.startswith("AADSTS7000215: Invalid client secret provided.")
    ok, text = tenant.directory.redeem_client_secret("nowhere.example", fields["client_id"], "wrong")
    assert ok is False and text.startswith("AADSTS90002: Tenant 'nowhere.example' not found.")
    ok, text = tenant.directory.redeem_client_secret(fields["tenant_id"], str(uuid.UUID(int=9)), "wrong")
    assert ok is False and text.startswith("AADSTS700016: ")


# ---------------------------------------------------------------------------------------------- certificates

def _key_and_cert(tenant):
    pem = tenant.state_dir.joinpath("client_key.pem").read_bytes()
    key = serialization.load_pem_private_key(pem, None)
    cert = x509.load_pem_x509_certificate(tenant.state_dir.joinpath("client_cert.pem").read_bytes())
    return key, cert.public_bytes(serialization.Encoding.DER)


def _assertion(tenant, *, alg="RS256", header_kind="x5t", aud=None, iss=None, exp_delta=600, key=None, der=None, padded=False) -> str:
    own_key, own_der = _key_and_cert(tenant)
    key, der = key or own_key, der or own_der
    client_id = tenant.fields["client_id"]
    now = int(tenant.clock())
    claims = {"aud": aud or "%s/%s/oauth2/v2.0/token" % (BASE, tenant.fields["tenant_id"]), "iss": iss or client_id, "sub": client_id,
              "jti": str(uuid.uuid4()), "iat": now, "nbf": now, "exp": now + exp_delta}
    digest = hashlib.sha1(der).digest() if header_kind == "x5t" else hashlib.sha256(der).digest()  # noqa: S324
    encoded = base64.urlsafe_b64encode(digest).decode()
    headers = {header_kind: encoded if padded else encoded.rstrip("=")}
    return jwt.encode(claims, key, algorithm=alg, headers=headers)


def _assertion_form(tenant, assertion: str) -> dict:
    return {"grant_type": "client_credentials", "client_id": tenant.fields["client_id"], "scope": GRAPH_SCOPE,
            "client_assertion_type": JWT_BEARER, "client_assertion": assertion}


@pytest.mark.parametrize("alg, header_kind, padded", [("RS256", "x5t", False), ("RS256", "x5t", True), ("PS256", "x5t#S256", False)])
def test_certificate_assertion_gets_a_token(tenant, alg, header_kind, padded):
    """msal sends x5t base64url with '=' padding; both forms name the same thumbprint."""
    response = tenant.token_request(_assertion_form(tenant, _assertion(tenant, alg=alg, header_kind=header_kind, padded=padded)))
    assert response.status == 200, response.body
    assert jwt.decode(response.body["access_token"], options={"verify_signature": False})["appidacr"] == "2"


def test_assertion_signed_by_an_unregistered_certificate_is_aadsts700027(tenant):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = self_signed(key, "stranger", datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc), 3650, 77)
    der = cert.public_bytes(serialization.Encoding.DER)
    text = assert_aadsts(tenant.token_request(_assertion_form(tenant, _assertion(tenant, key=key, der=der))), 401, "invalid_client", 700027,
                         "Client assertion contains an invalid signature.")
    assert "The key was not found." in text and hashlib.sha1(der).hexdigest().upper() in text  # noqa: S324


def test_assertion_with_a_bad_signature_is_aadsts700027(tenant):
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    der = _key_and_cert(tenant)[1]
    text = assert_aadsts(tenant.token_request(_assertion_form(tenant, _assertion(tenant, key=stranger, der=der))), 401, "invalid_client", 700027)
    assert "did not match the expected signature value" in text


def test_assertion_for_another_audience_is_aadsts700021(tenant):
    assertion = _assertion(tenant, aud="https://login.microsoftonline.com/%s/oauth2/v2.0/token" % tenant.fields["tenant_id"])
    assert_aadsts(tenant.token_request(_assertion_form(tenant, assertion)), 401, "invalid_client", 700021)


def test_assertion_audience_may_name_the_tenant_by_domain(tenant):
    assertion = _assertion(tenant, aud="%s/contoso.example/oauth2/v2.0/token" % BASE)
    assert tenant.token_request(_assertion_form(tenant, assertion), tenant="contoso.example").status == 200


def test_assertion_issuer_must_be_the_client(tenant):
    assertion = _assertion(tenant, iss=str(uuid.UUID(int=5)))
    assert_aadsts(tenant.token_request(_assertion_form(tenant, assertion)), 401, "invalid_client", 50027)


def test_expired_assertion_is_aadsts700024(tenant):
    assertion = _assertion(tenant, exp_delta=60)
    tenant.clock.advance(60 + 301)
    assert_aadsts(tenant.token_request(_assertion_form(tenant, assertion)), 401, "invalid_client", 700024,
                  "Client assertion is not within its valid time range.")


def test_malformed_assertion_and_wrong_assertion_type(tenant):
    assert_aadsts(tenant.token_request(_assertion_form(tenant, "not.a.jwt")), 401, "invalid_client", 50027)
    form = dict(_assertion_form(tenant, _assertion(tenant)), client_assertion_type="urn:other")
    assert_aadsts(tenant.token_request(form), 400, "invalid_request", 900144)


def test_certificate_files_are_private_and_the_pfx_opens_with_its_password(tenant):
    for name in ("client_cert.pem", "client_key.pem", "client_cert.pfx"):
        assert tenant.state_dir.joinpath(name).stat().st_mode & 0o777 == 0o600
    pfx = tenant.state_dir.joinpath("client_cert.pfx").read_bytes()
    key, cert, _chain = pkcs12.load_key_and_certificates(pfx, tenant.fields["client_certificate_password"].encode())
    assert key is not None and cert is not None
    pem = tenant.state_dir.joinpath("client_cert.pem").read_text()
    assert "BEGIN CERTIFICATE" in pem and "PRIVATE KEY" in pem
    assert hashlib.sha1(cert.public_bytes(serialization.Encoding.DER)).hexdigest().upper() == tenant.fields["client_certificate_thumbprint"]  # noqa


# ---------------------------------------------------------------------------------------------- managed identity

def test_managed_identity_endpoint_answers_app_service_style(tenant):
    query = {"resource": "https://graph.microsoft.com", "api-version": "2019-08-01"}
    response = tenant.login_get("/msi/token", query, {"X-IDENTITY-HEADER": tenant.fields["managed_identity_header"]})
    assert response.status == 200
    body = response.body
    assert int(body["expires_on"]) == int(tenant.clock()) + 3599
    assert body["resource"] == "https://graph.microsoft.com" and body["token_type"] == "Bearer"
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["appid"] == tenant.fields["client_id"] and "Application.ReadWrite.All" in claims["roles"]
    assert tenant.ok("GET", "/organization", token=body["access_token"])["value"]


@pytest.mark.parametrize("query, header, status", [
    ({"resource": "https://graph.microsoft.com", "api-version": "2019-08-01"}, "wrong", 401),
    ({"resource": "https://graph.microsoft.com", "api-version": "2017-09-01"}, None, 400),
    ({"resource": "https://vault.azure.net", "api-version": "2019-08-01"}, None, 500),
])
def test_managed_identity_endpoint_errors(tenant, query, header, status):
    response = tenant.login_get("/msi/token", query, {"X-IDENTITY-HEADER": header or tenant.fields["managed_identity_header"]})
    assert response.status == status
    assert set(response.body) == {"statusCode", "message"}


def test_token_times_come_from_the_directory_clock(tenant):
    tenant.clock.advance(1000)
    claims = jwt.decode(tenant.token(fresh=True), options={"verify_signature": False})
    assert claims["iat"] == int(tenant.clock()) != int(time.time())
