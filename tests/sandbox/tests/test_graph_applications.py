"""Applications: create, read by every key, list and filter, PATCH semantics and validation, upsert, delete, secrets, templates."""
from __future__ import annotations

import base64
import datetime
import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from sandbox.graph_schema import parse_date_time

from .entra_helpers import BASE, Tenant

ROLE_ID = "5b6c7d8e-9f01-4a2b-8c3d-4e5f6a7b8c9d"


@pytest.fixture(name="tenant")
def fixture_tenant(tmp_path):
    return Tenant(tmp_path)


def _role(role_id: str = ROLE_ID, enabled: bool = True, value: str = "SmartTrace.User", members=("User",)) -> dict:
    return {"id": role_id, "allowedMemberTypes": list(members), "displayName": "User", "description": "A SmartTrace user", "value": value,
            "isEnabled": enabled}


# ---------------------------------------------------------------------------------------------- create

def test_create_answers_201_with_every_default(tenant):
    response = tenant.call("POST", "/applications", {"displayName": "SmartTrace SSO"})
    assert response.status == 201
    app = response.body
    assert app["@odata.context"] == BASE + "/v1.0/$metadata#applications/$entity"
    assert response.headers["Location"].endswith("/directoryObjects/%s/Microsoft.DirectoryServices.Application" % app["id"])
    assert app["id"] != app["appId"]
    # real Graph (recorded): without signInAudience an app signs in work, school and personal accounts, with v2 access tokens
    assert app["signInAudience"] == "AzureADandPersonalMicrosoftAccount" and app["publisherDomain"] == "contoso.onmicrosoft.com"
    assert app["api"]["requestedAccessTokenVersion"] == 2
    assert app["identifierUris"] == [] and app["appRoles"] == [] and app["keyCredentials"] == [] and app["passwordCredentials"] == []
    assert app["requiredResourceAccess"] == [] and app["tags"] == [] and app["uniqueName"] is None
    assert app["web"] == {"homePageUrl": None, "logoutUrl": None, "redirectUris": [], "redirectUriSettings": [],
                          "implicitGrantSettings": {"enableAccessTokenIssuance": False, "enableIdTokenIssuance": False}}
    assert app["publicClient"] == {"redirectUris": []} and app["spa"] == {"redirectUris": []}
    assert app["api"]["oauth2PermissionScopes"] == [] and app["createdDateTime"] == "2026-05-28T20:26:40Z"
    assert tenant.directory.snapshot()["servicePrincipals"][-1]["appId"] != app["appId"]   # Graph-created apps get no SP


def test_create_with_the_full_oidc_body(tenant):
    body = {"displayName": "SmartTrace", "signInAudience": "AzureADMyOrg", "tags": ["smarttrace"],
            "web": {"redirectUris": ["https://smarttrace.example/oidc/callback", "http://localhost:8080/cb"], "logoutUrl": "https://smarttrace.example/logout",
                    "implicitGrantSettings": {"enableIdTokenIssuance": False, "enableAccessTokenIssuance": False}},
            "requiredResourceAccess": [{"resourceAppId": "00000003-0000-0000-c000-000000000000", "resourceAccess": [
                {"id": "37f7f235-527c-4136-accd-4a02d197296e", "type": "Scope"}, {"id": "e1fe6dd8-ba31-4d61-89e7-88639da4683d", "type": "Scope"}]}],
            "appRoles": [_role()]}
    app = tenant.ok("POST", "/applications", body)
    assert app["web"]["redirectUris"] == body["web"]["redirectUris"] and app["web"]["homePageUrl"] is None
    assert app["appRoles"] == [body["appRoles"][0]]


@pytest.mark.parametrize("body, code, fragment", [
    ({}, "Request_BadRequest", "Invalid value specified for property 'displayName' of resource 'Application'."),
    ({"displayName": "x", "redirectUris": ["https://a"]}, "Request_BadRequest", "Invalid property 'redirectUris'."),
    ({"displayName": "x", "web": {"redirectUri": []}}, "BadRequest", "The property 'redirectUri' does not exist on type 'microsoft.graph.webApplication'"),
    ({"displayName": "x", "tags": None}, "BadRequest", "A null value was found for the property named 'tags'"),
    ({"displayName": "x", "signInAudience": 3}, "BadRequest", "Cannot convert the literal '3' to the expected type 'Edm.String'."),
    ({"displayName": "x", "web": {"implicitGrantSettings": {"enableIdTokenIssuance": "yes"}}}, "BadRequest",
     "Cannot convert the literal 'yes' to the expected type 'Edm.Boolean'."),
    ({"displayName": "x", "tags": "one"}, "BadRequest", "A 'StartArray' node was expected."),
    ({"displayName": "x", "nativeAuthenticationApisEnabled": "sometimes"}, "BadRequest", "microsoft.graph.nativeAuthenticationApisEnabled"),
    ({"displayName": "x", "tokenEncryptionKeyId": "not-a-guid"}, "BadRequest", "'Edm.Guid'"),
    ({"displayName": "x", "passwordCredentials": [{"displayName": "s"}]}, "Request_BadRequest", "passwordCredentials"),
    ({"displayName": "x", "appId": "00000000-0000-0000-0000-000000000001"}, "Request_BadRequest", "Property 'appId' is read-only"),
    ({"displayName": "x", "signInAudience": "Everyone"}, "Request_BadRequest", "'signInAudience'"),
    ({"displayName": "x", "signInAudience": "AzureADandPersonalMicrosoftAccount", "api": {"requestedAccessTokenVersion": 1}}, "Request_BadRequest",
     "api.requestedAccessTokenVersion"),
    ({"displayName": "x", "identifierUris": ["https://evil.example/api"]}, "Request_BadRequest", "must use a verified domain"),
    ({"displayName": "x", "appRoles": [_role(), _role(value="Other")]}, "Request_BadRequest", "'appRoles'"),
    ({"displayName": "x", "appRoles": [_role(members=("Robot",))]}, "Request_BadRequest", "'appRoles'"),
    ({"displayName": "x", "requiredResourceAccess": [{"resourceAppId": "00000003-0000-0000-c000-000000000000",
                                                      "resourceAccess": [{"id": "37f7f235-527c-4136-accd-4a02d197296e", "type": "Delegated"}]}]},
     "Request_BadRequest", "'requiredResourceAccess'"),
])
def test_create_refuses_what_graph_refuses(tenant, body, code, fragment):
    error = tenant.fails(400, "POST", "/applications", body)
    assert error["code"] == code
    assert fragment in error["message"] + str(error.get("details")), error


def test_create_without_body_and_with_a_list_body(tenant):
    assert tenant.fails(400, "POST", "/applications")["message"] == "Empty Payload. JSON content expected."
    assert tenant.fails(400, "POST", "/applications", [{"displayName": "x"}])["code"] == "BadRequest"


@pytest.mark.parametrize("uri, ok", [
    ("https://smarttrace.example/cb", True),
    ("http://localhost/cb", True),
    ("http://127.0.0.1:8400/cb", True),
    ("https://smarttrace.example/cb?tenant=1", True),
    ("http://smarttrace.example/cb", False),
    ("ftp://smarttrace.example/cb", False),
    ("smarttrace.example/cb", False),
    ("https://smarttrace.example/c(b)", False),
    ("https://smarttrace.example/a,b", False),
    ("https://smarttrace.example/a;b", False),
    ("https://smarttrace.example/a b", False),
    ("https://smarttrace.example/" + "a" * 229, True),     # 256 characters
    ("https://smarttrace.example/" + "a" * 230, False),
])
def test_redirect_uri_rules(tenant, uri, ok):
    body = {"displayName": "x", "signInAudience": "AzureADMyOrg", "web": {"redirectUris": [uri]}}
    if ok:
        tenant.ok("POST", "/applications", body)
    else:
        error = tenant.fails(400, "POST", "/applications", body)
        assert error["message"] == "Invalid value specified for property 'redirectUris' of resource 'Application'."
        assert error["details"][0]["target"] == "web.redirectUris"


def test_duplicate_redirect_uris_and_too_many(tenant):
    tenant.fails(400, "POST", "/applications", {"displayName": "x", "web": {"redirectUris": ["https://a.example/", "https://a.example/"]}})
    many = ["https://a.example/%d" % i for i in range(257)]
    one_org = {"displayName": "x", "signInAudience": "AzureADMyOrg"}
    tenant.fails(400, "POST", "/applications", dict(one_org, web={"redirectUris": many}))
    tenant.ok("POST", "/applications", dict(one_org, web={"redirectUris": many[:256]}))
    tenant.fails(400, "POST", "/applications", {"displayName": "x", "web": {"redirectUris": many[:101]}})   # default audience: personal accounts too
    tenant.ok("POST", "/applications", {"displayName": "x", "web": {"redirectUris": many[:100]}})


def test_token_version_follows_the_audience_unless_given(tenant):
    assert tenant.ok("POST", "/applications", {"displayName": "a", "signInAudience": "AzureADMyOrg"})["api"]["requestedAccessTokenVersion"] is None
    assert tenant.ok("POST", "/applications", {"displayName": "b", "signInAudience": "AzureADMultipleOrgs"})["api"]["requestedAccessTokenVersion"] is None
    assert tenant.ok("POST", "/applications", {"displayName": "c", "signInAudience": "PersonalMicrosoftAccount"})["api"]["requestedAccessTokenVersion"] == 2
    given = tenant.ok("POST", "/applications", {"displayName": "d", "signInAudience": "AzureADMyOrg", "api": {"requestedAccessTokenVersion": 2}})
    assert given["api"]["requestedAccessTokenVersion"] == 2
    app = tenant.ok("POST", "/applications", {"displayName": "e"})
    sp = tenant.ok("POST", "/servicePrincipals", {"appId": app["appId"]})
    assert sp["signInAudience"] == "AzureADandPersonalMicrosoftAccount" and sp["createdDateTime"] == "2026-05-28T20:26:40Z"
    tenant.fails(400, "POST", "/applications", {"displayName": "x", "spa": {"redirectUris": ["http://spa.example/"]}})
    tenant.ok("POST", "/applications", {"displayName": "x", "publicClient": {"redirectUris": ["msal1234://auth"]}})
    tenant.fails(400, "POST", "/applications", {"displayName": "x", "web": {"logoutUrl": "http://smarttrace.example/logout"}})


def test_identifier_uris_on_verified_domains_and_unique(tenant):
    tenant.ok("POST", "/applications", {"displayName": "a", "identifierUris": ["api://smarttrace", "https://api.contoso.example/st"]})
    error = tenant.fails(400, "POST", "/applications", {"displayName": "b", "identifierUris": ["api://smarttrace"]})
    assert error["details"][0]["code"] == "ObjectConflict"
    tenant.fails(400, "POST", "/applications", {"displayName": "c", "identifierUris": ["https://fabrikam.example/api"]})


# ---------------------------------------------------------------------------------------------- read

def test_get_by_object_id_app_id_and_unique_name(tenant):
    app = tenant.new_app(uniqueName="smarttrace-sso")
    for path in ("/applications/%s" % app["id"], "/applications(appId='%s')" % app["appId"], "/applications(uniqueName='smarttrace-sso')",
                 "/applications('%s')" % app["id"]):
        body = tenant.ok("GET", path)
        assert body["id"] == app["id"] and body["@odata.context"] == BASE + "/v1.0/$metadata#applications/$entity"


def test_get_errors(tenant):
    assert tenant.fails(400, "GET", "/applications/not-a-guid")["message"] == "Invalid object identifier 'not-a-guid'."
    missing = "00000000-0000-0000-0000-000000000042"
    for path in ("/applications/%s" % missing, "/applications(appId='%s')" % missing, "/applications(uniqueName='nope')"):
        assert tenant.fails(404, "GET", path)["code"] == "Request_ResourceNotFound"


def test_select_shapes_the_answer_and_refuses_unknown_properties(tenant):
    app = tenant.new_app()
    body = tenant.ok("GET", "/applications/%s" % app["id"], query={"$select": "id,appId,web"})
    assert list(body) == ["@odata.context", "id", "appId", "web"]
    assert body["@odata.context"].endswith("#applications(id,appId,web)/$entity")
    error = tenant.fails(400, "GET", "/applications/%s" % app["id"], query={"$select": "id,redirectUris"})
    assert error["message"] == ("Parsing OData Select and Expand failed: Could not find a property named 'redirectUris' on type "
                                "'microsoft.graph.application'.")
    tenant.fails(400, "GET", "/applications/%s" % app["id"], query={"$top": "1"})
    tenant.fails(400, "GET", "/applications", query={"select": "id"})


# ---------------------------------------------------------------------------------------------- list and $filter

@pytest.mark.parametrize("flt, names", [
    ("displayName eq 'Beta'", ["Beta"]),
    ("displayName eq 'beta'", ["Beta"]),
    ("startswith(displayName,'Al')", ["Alpha", "Alpine"]),
    ("startsWith(displayName, 'al')", ["Alpha", "Alpine"]),
    ("displayName in ('Alpha','Beta')", ["Alpha", "Beta"]),
    ("displayName eq 'O''Brien'", ["O'Brien"]),
    ("displayName eq 'Alpha' or displayName eq 'Beta'", ["Alpha", "Beta"]),
    ("tags/any(t:t eq 'sso')", ["Alpha"]),
    ("uniqueName eq 'beta-app'", ["Beta"]),
    ("displayName ge 'B' and displayName le 'C'", ["Beta"]),
])
def test_filters_graph_supports_by_default(tenant, flt, names):
    tenant.new_app("Alpha", tags=["sso"])
    tenant.new_app("Alpine")
    tenant.new_app("Beta", uniqueName="beta-app")
    tenant.new_app("O'Brien")
    found = tenant.ok("GET", "/applications", query={"$filter": flt})["value"]
    assert sorted(a["displayName"] for a in found) == names


def test_filter_by_app_id_and_empty_result(tenant):
    app = tenant.new_app()
    assert [a["id"] for a in tenant.ok("GET", "/applications", query={"$filter": "appId eq '%s'" % app["appId"]})["value"]] == [app["id"]]
    assert tenant.ok("GET", "/applications", query={"$filter": "displayName eq 'none'"})["value"] == []


@pytest.mark.parametrize("flt, code, message", [
    ("description eq 'x'", "Request_UnsupportedQuery", "Unsupported or invalid query filter clause specified for property 'description' of resource "
                                                       "'Application'."),
    ("displayName ne 'x'", "Request_UnsupportedQuery", "Operator 'ne' is not supported because the required parameters might be missing."),
    ("endswith(displayName,'x')", "Request_UnsupportedQuery", "Operator 'endsWith' is not supported because the required parameters might be missing."),
    ("not(startswith(displayName,'x'))", "Request_UnsupportedQuery", "Operator 'not' is not supported"),
    ("nosuch eq 'x'", "BadRequest", "Could not find a property named 'nosuch' on type 'microsoft.graph.application'."),
    ("appId eq 00000003-0000-0000-c000-000000000000", "BadRequest",
     "A binary operator with incompatible types was detected. Found operand types 'Edm.String' and 'Edm.Guid' for operator kind 'Equal'."),
    ("displayName eq", "BadRequest", "Syntax error at position 14 in 'displayName eq'."),
    ("displayName eq 'x", "BadRequest", "There is an unterminated string literal at position 15"),
    ("contains(displayName,'x')", "Request_UnsupportedQuery", "Unsupported or invalid query filter clause"),
    ("displayName", "BadRequest", "The $filter expression must evaluate to a single boolean value."),
    ("tags eq 'x'", "BadRequest", "The parent value for a property access of a property 'tags' is not a single value."),
])
def test_filters_graph_refuses(tenant, flt, code, message):
    error = tenant.fails(400, "GET", "/applications", query={"$filter": flt})
    assert error["code"] == code and error["message"].startswith(message), error


def test_advanced_queries_need_consistency_level_and_count(tenant):
    tenant.new_app("Alpha")
    tenant.new_app("Beta")
    query = {"$filter": "displayName ne 'Alpha'", "$count": "true"}
    tenant.fails(400, "GET", "/applications", query=query)
    body = tenant.ok("GET", "/applications", query=query, headers={"ConsistencyLevel": "eventual"})
    assert "Beta" in [a["displayName"] for a in body["value"]] and "Alpha" not in [a["displayName"] for a in body["value"]]
    assert body["@odata.count"] == len(body["value"])
    body = tenant.ok("GET", "/applications", query={"$filter": "endswith(displayName,'ta')", "$count": "true"}, headers={"ConsistencyLevel": "eventual"})
    assert [a["displayName"] for a in body["value"]] == ["Beta"]


def test_count_without_the_header_is_ignored_and_dollar_count_needs_it(tenant):
    assert "@odata.count" not in tenant.ok("GET", "/applications", query={"$count": "true"})
    assert tenant.fails(400, "GET", "/applications/$count")["message"] == "$count is not currently supported."
    response = tenant.call("GET", "/applications/$count", headers={"ConsistencyLevel": "eventual"})
    assert response.status == 200 and response.body == b"2" and response.headers["Content-Type"] == "text/plain"


def test_search_needs_the_header(tenant):
    tenant.new_app("SmartTrace Production")
    error = tenant.fails(400, "GET", "/applications", query={"$search": '"displayName:prod"'})
    assert error["code"] == "Request_UnsupportedQuery" and "ConsistencyLevel: eventual" in error["message"]
    found = tenant.ok("GET", "/applications", query={"$search": '"displayName:prod"'}, headers={"ConsistencyLevel": "eventual"})["value"]
    assert [a["displayName"] for a in found] == ["SmartTrace Production"]


def test_orderby_display_name_is_an_advanced_query_on_applications(tenant):
    tenant.new_app("Zulu")
    tenant.new_app("Alpha")
    assert tenant.fails(400, "GET", "/applications", query={"$orderby": "displayName"})["message"] == "Sorting not supported for current query."
    body = tenant.ok("GET", "/applications", query={"$orderby": "displayName desc", "$count": "true"}, headers={"ConsistencyLevel": "eventual"})
    names = [a["displayName"] for a in body["value"]]
    assert names == sorted(names, key=str.lower, reverse=True)


def test_paging_with_absolute_next_links(tmp_path):
    tenant = Tenant(tmp_path, page_size=3)
    for i in range(7):
        tenant.new_app("App %d" % i)
    seen, query, pages = [], {"$select": "id,displayName"}, 0
    while True:
        body = tenant.ok("GET", "/applications", query=query)
        pages += 1
        seen += [a["displayName"] for a in body["value"]]
        link = body.get("@odata.nextLink")
        if not link:
            break
        assert link.startswith(BASE + "/v1.0/applications?") and "$skiptoken=" in link and "$select=id,displayName" in link
        query = dict(part.split("=", 1) for part in link.split("?", 1)[1].split("&"))
    assert pages == 3 and len(seen) == 9 and len(set(seen)) == 9
    body = tenant.ok("GET", "/applications", query={"$top": "5"})
    assert len(body["value"]) == 5 and "$top=5" in body["@odata.nextLink"]
    assert tenant.fails(400, "GET", "/applications", query={"$top": "1000"})["message"].startswith("Invalid page size specified: '1000'.")
    assert tenant.fails(400, "GET", "/applications", query={"$skip": "2"})["message"] == "'$skip' is not supported by the service."
    assert tenant.fails(400, "GET", "/applications", query={"$skiptoken": "bogus"})["code"] == "Directory_ExpiredPageToken"


def test_next_link_survives_a_deletion_between_pages(tmp_path):
    tenant = Tenant(tmp_path, page_size=2)
    apps = [tenant.new_app("App %d" % i) for i in range(4)]
    first = tenant.ok("GET", "/applications", query={"$filter": "startswith(displayName,'App')"})
    tenant.ok("DELETE", "/applications/%s" % apps[0]["id"])
    token = first["@odata.nextLink"].split("$skiptoken=")[1]
    second = tenant.ok("GET", "/applications", query={"$filter": "startswith(displayName,'App')", "$skiptoken": token})
    assert [a["displayName"] for a in first["value"] + second["value"]] == ["App 0", "App 1", "App 2", "App 3"]


# ---------------------------------------------------------------------------------------------- PATCH

def test_patch_merges_web_and_replaces_collections(tenant):
    app = tenant.new_app(web={"redirectUris": ["https://a.example/cb"], "logoutUrl": "https://a.example/logout"}, tags=["one", "two"])
    tenant.ok("PATCH", "/applications/%s" % app["id"], {"web": {"implicitGrantSettings": {"enableIdTokenIssuance": True}}, "tags": ["three"]})
    body = tenant.ok("GET", "/applications/%s" % app["id"])
    assert body["web"]["redirectUris"] == ["https://a.example/cb"] and body["web"]["logoutUrl"] == "https://a.example/logout"
    assert body["web"]["implicitGrantSettings"] == {"enableIdTokenIssuance": True, "enableAccessTokenIssuance": False}
    assert body["tags"] == ["three"]
    tenant.ok("PATCH", "/applications(appId='%s')" % app["appId"], {"web": {"redirectUris": []}})
    assert tenant.ok("GET", "/applications/%s" % app["id"])["web"]["redirectUris"] == []


def test_patch_answers_204_without_body_and_validates(tenant):
    app = tenant.new_app()
    response = tenant.call("PATCH", "/applications/%s" % app["id"], {"displayName": "Renamed"})
    assert response.status == 204 and response.body is None
    tenant.ok("PATCH", "/applications/%s" % app["id"], {})
    tenant.fails(400, "PATCH", "/applications/%s" % app["id"], {"passwordCredentials": []})
    tenant.fails(400, "PATCH", "/applications/%s" % app["id"], {"web": {"redirectUris": ["http://insecure.example/"]}})
    tenant.fails(400, "PATCH", "/applications/%s" % app["id"], {"displayName": ""})
    tenant.fails(400, "PATCH", "/applications/%s" % app["id"], {"publisherDomain": "contoso.example"})
    tenant.fails(404, "PATCH", "/applications/00000000-0000-0000-0000-000000000009", {"displayName": "x"})
    assert tenant.ok("GET", "/applications/%s" % app["id"])["displayName"] == "Renamed"


def test_enabled_app_role_must_be_disabled_before_removal(tenant):
    app = tenant.new_app(appRoles=[_role()])
    error = tenant.fails(400, "PATCH", "/applications/%s" % app["id"], {"appRoles": []})
    assert error["message"] == "Permission (scope or role) cannot be deleted or updated unless disabled first."
    tenant.ok("PATCH", "/applications/%s" % app["id"], {"appRoles": [_role(enabled=False)]})
    tenant.ok("PATCH", "/applications/%s" % app["id"], {"appRoles": []})
    assert tenant.ok("GET", "/applications/%s" % app["id"])["appRoles"] == []


def test_unique_name_is_immutable_and_unique(tenant):
    app = tenant.new_app(uniqueName="one")
    tenant.fails(400, "PATCH", "/applications/%s" % app["id"], {"uniqueName": "two"})
    tenant.ok("PATCH", "/applications/%s" % app["id"], {"uniqueName": "one"})
    assert tenant.fails(400, "POST", "/applications", {"displayName": "x", "uniqueName": "ONE"})["details"][0]["code"] == "ObjectConflict"
    other = tenant.new_app()
    tenant.ok("PATCH", "/applications/%s" % other["id"], {"uniqueName": "two"})


def test_upsert_by_unique_name(tenant):
    path = "/applications(uniqueName='smarttrace-prod')"
    assert tenant.fails(404, "PATCH", path, {"displayName": "SmartTrace"})["code"] == "Request_ResourceNotFound"
    created = tenant.call("PATCH", path, {"displayName": "SmartTrace"}, headers={"Prefer": "create-if-missing"})
    assert created.status == 201 and created.body["uniqueName"] == "smarttrace-prod" and created.body["displayName"] == "SmartTrace"
    updated = tenant.call("PATCH", path, {"displayName": "SmartTrace 2"}, headers={"Prefer": "create-if-missing"})
    assert updated.status == 204 and updated.body is None
    tenant.ok("PATCH", path, {"notes": "no Prefer needed to update"})
    body = tenant.ok("GET", path)
    assert body["displayName"] == "SmartTrace 2" and body["notes"] == "no Prefer needed to update"
    tenant.fails(400, "PATCH", "/applications(uniqueName='other')", {}, headers={"Prefer": "create-if-missing"})


def test_certificate_credentials_can_be_patched(tenant):
    der = tenant.directory.client_cert_der
    app = tenant.new_app()
    certificate = {"type": "AsymmetricX509Cert", "usage": "Verify", "key": base64.b64encode(der).decode()}
    tenant.ok("PATCH", "/applications/%s" % app["id"], {"keyCredentials": [certificate]})
    credential = tenant.ok("GET", "/applications/%s" % app["id"])["keyCredentials"][0]
    assert credential["key"] is None and credential["displayName"] == "CN=SmartTrace Automation" and credential["keyId"]
    tenant.fails(400, "PATCH", "/applications/%s" % app["id"], {"keyCredentials": [{"type": "Symmetric", "usage": "Verify", "key": "AAAA"}]})
    kept = {"keyId": credential["keyId"], "type": "AsymmetricX509Cert", "usage": "Verify"}
    tenant.ok("PATCH", "/applications/%s" % app["id"], {"keyCredentials": [kept]})
    assert tenant.ok("GET", "/applications/%s" % app["id"])["keyCredentials"][0]["keyId"] == credential["keyId"]


def test_certificate_credentials_show_the_thumbprint_and_the_subject_as_entra_does(tenant):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "AU"), x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "Some-State"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Internet Widgits Pty Ltd")])
    now = datetime.datetime(2026, 5, 1, tzinfo=datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key()).serial_number(7)
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=365)).sign(key, hashes.SHA256()))
    der = cert.public_bytes(serialization.Encoding.DER)
    app = tenant.new_app()
    certificate = {"type": "AsymmetricX509Cert", "usage": "Verify", "key": base64.b64encode(der).decode()}
    tenant.ok("PATCH", "/applications/%s" % app["id"], {"keyCredentials": [certificate]})
    credential = tenant.ok("GET", "/applications/%s" % app["id"])["keyCredentials"][0]
    assert credential["customKeyIdentifier"] == hashlib.sha1(der).hexdigest().upper()  # noqa: S324 - a thumbprint
    assert credential["displayName"] == "O=Internet Widgits Pty Ltd, S=Some-State, C=AU"


def test_every_credential_list_is_newest_first(tenant):
    # real Graph (recorded): after addPassword key1 then key2 an app lists [key2, key1]
    app = tenant.new_app()
    path = "/applications/%s" % app["id"]
    added = []
    for name in ("key1", "key2", "key3"):
        added.append(tenant.ok("POST", path + "/addPassword", {"passwordCredential": {"displayName": name}}, status=200)["keyId"])
    assert [c["keyId"] for c in tenant.ok("GET", path)["passwordCredentials"]] == added[::-1]
    tenant.ok("POST", path + "/removePassword", {"keyId": added[1]}, status=204)
    assert [c["keyId"] for c in tenant.ok("GET", path, query={"$select": "passwordCredentials"})["passwordCredentials"]] == [added[2], added[0]]
    der = tenant.directory.client_cert_der
    tenant.ok("PATCH", path, {"keyCredentials": [{"type": "AsymmetricX509Cert", "usage": "Verify", "key": base64.b64encode(der).decode()}]})
    first = tenant.ok("GET", path)["keyCredentials"][0]["keyId"]
    kept = {"keyId": first, "type": "AsymmetricX509Cert", "usage": "Verify"}
    tenant.ok("PATCH", path, {"keyCredentials": [kept, {"type": "AsymmetricX509Cert", "usage": "Verify", "key": base64.b64encode(der).decode()}]})
    keys = [c["keyId"] for c in tenant.ok("GET", path)["keyCredentials"]]
    assert len(keys) == 2 and keys[1] == first


# ---------------------------------------------------------------------------------------------- delete and deleted items

def test_delete_soft_deletes_the_app_and_its_service_principal(tenant):
    app, sp = tenant.new_app_with_sp()
    tenant.ok("DELETE", "/applications/%s" % app["id"])
    tenant.fails(404, "GET", "/applications/%s" % app["id"])
    tenant.fails(404, "GET", "/servicePrincipals/%s" % sp["id"])
    deleted = tenant.ok("GET", "/directory/deletedItems/microsoft.graph.application")["value"]
    assert [a["id"] for a in deleted] == [app["id"]] and deleted[0]["deletedDateTime"]
    assert [s["id"] for s in tenant.ok("GET", "/directory/deletedItems/microsoft.graph.servicePrincipal")["value"]] == [sp["id"]]
    restored = tenant.ok("POST", "/directory/deletedItems/%s/restore" % app["id"], status=200)
    assert restored["@odata.type"] == "#microsoft.graph.application" and restored["deletedDateTime"] is None
    tenant.fails(404, "GET", "/servicePrincipals/%s" % sp["id"])   # restoring the app does not restore its SP
    tenant.ok("DELETE", "/directory/deletedItems/%s" % sp["id"])
    tenant.fails(404, "GET", "/directory/deletedItems/%s" % sp["id"])
    tenant.fails(404, "DELETE", "/applications/00000000-0000-0000-0000-000000000009")


# ---------------------------------------------------------------------------------------------- secrets

def test_add_password_returns_the_secret_once(tenant):
    app = tenant.new_app()
    response = tenant.call("POST", "/applications/%s/addPassword" % app["id"], {"passwordCredential": {"displayName": "smarttrace"}})
    assert response.status == 200
    credential = response.body
    assert credential["@odata.context"] == BASE + "/v1.0/$metadata#microsoft.graph.passwordCredential"
    assert len(credential["secretText"]) == 40 and credential["hint"] == credential["secretText"][:3]
    assert credential["displayName"] == "smarttrace" and credential["customKeyIdentifier"] is None
    start, end = parse_date_time(credential["startDateTime"]), parse_date_time(credential["endDateTime"])
    assert start.timestamp() == tenant.clock() and (end - start).days == 730
    listed = tenant.ok("GET", "/applications/%s" % app["id"], query={"$select": "passwordCredentials"})["passwordCredentials"]
    expected = {k: v for k, v in credential.items() if k != "@odata.context"}
    assert listed == [dict(expected, secretText=None)]
    assert credential["secretText"] not in str(tenant.ok("GET", "/applications/%s" % app["id"]))


def test_add_password_stamps_the_start_with_graphs_clock_to_the_100_ns(tenant):
    # Graph's default startDateTime is its own "now" with a fraction (2026-06-01T12:00:00.1234567Z), a moment after any
    # client's whole-second "now": clients must not take a secret they just added for one that has not started.
    app = tenant.new_app()
    tenant.clock.advance(0.25)
    credential = tenant.ok("POST", "/applications/%s/addPassword" % app["id"], {"passwordCredential": {"displayName": "s"}}, status=200)
    assert credential["startDateTime"].endswith(".2500000Z") and len(credential["startDateTime"]) == len("2026-06-01T12:00:00.1234567Z")
    assert parse_date_time(credential["startDateTime"]).timestamp() == tenant.clock()
    listed = tenant.ok("GET", "/applications/%s" % app["id"], query={"$select": "passwordCredentials"})["passwordCredentials"]
    assert listed[0]["startDateTime"] == credential["startDateTime"]


def test_add_password_with_dates_without_body_and_by_app_id(tenant):
    app = tenant.new_app()
    body = {"passwordCredential": {"displayName": "rotating", "startDateTime": "2026-06-01T00:00:00Z", "endDateTime": "2027-01-01T00:00:00Z"}}
    credential = tenant.ok("POST", "/applications/%s/addPassword" % app["id"], body, status=200)
    assert (credential["startDateTime"], credential["endDateTime"]) == ("2026-06-01T00:00:00Z", "2027-01-01T00:00:00Z")
    assert tenant.ok("POST", "/applications/%s/addPassword" % app["id"], status=200)["secretText"]
    assert tenant.ok("POST", "/applications(appId='%s')/addPassword" % app["appId"], {}, status=200)["secretText"]
    assert len(tenant.ok("GET", "/applications/%s" % app["id"])["passwordCredentials"]) == 3


@pytest.mark.parametrize("body, message", [
    ({"passwordCredential": {"endDateTime": "2020-01-01T00:00:00Z"}}, "Invalid value specified for property 'endDateTime'"),
    ({"passwordCredential": {"endDateTime": "2030-01-01"}}, "Cannot convert the literal '2030-01-01' to the expected type 'Edm.DateTimeOffset'."),
    ({"passwordCredential": {"secretText": "my-own-secret"}}, "Property 'secretText' is read-only and cannot be set."),
    ({"displayName": "top-level"}, "The parameter 'displayName' in the request payload is not a valid parameter for the operation 'addPassword'."),
    ({"passwordCredential": {"name": "x"}}, "The property 'name' does not exist on type 'microsoft.graph.passwordCredential'."),
])
def test_add_password_refusals(tenant, body, message):
    app = tenant.new_app()
    assert tenant.fails(400, "POST", "/applications/%s/addPassword" % app["id"], body)["message"].startswith(message)


def test_remove_password(tenant):
    app = tenant.new_app()
    key_id = tenant.ok("POST", "/applications/%s/addPassword" % app["id"], {}, status=200)["keyId"]
    tenant.ok("POST", "/applications/%s/removePassword" % app["id"], {"keyId": key_id}, status=204)
    assert tenant.ok("GET", "/applications/%s" % app["id"])["passwordCredentials"] == []
    error = tenant.fails(404, "POST", "/applications/%s/removePassword" % app["id"], {"keyId": key_id})
    assert error["message"] == "No password credential found with keyId '%s'." % key_id
    tenant.fails(400, "POST", "/applications/%s/removePassword" % app["id"], {"keyId": "nope"})
    tenant.fails(400, "POST", "/applications/%s/removePassword" % app["id"], {})
    tenant.fails(400, "POST", "/applications/%s/removePassword" % app["id"])
    tenant.fails(405, "GET", "/applications/%s/removePassword" % app["id"])


# ---------------------------------------------------------------------------------------------- templates

def test_application_template_lookup_and_instantiate(tenant):
    found = tenant.ok("GET", "/applicationTemplates", query={"$filter": "displayName eq 'SmartTrace'"})["value"]
    assert len(found) == 1
    template = found[0]
    assert template["supportedSingleSignOnModes"] == ["oidc"] and template["categories"] and template["publisher"]
    assert tenant.ok("GET", "/applicationTemplates/%s" % template["id"])["displayName"] == "SmartTrace"
    response = tenant.call("POST", "/applicationTemplates/%s/instantiate" % template["id"], {"displayName": "SmartTrace (Contoso)"})
    assert response.status == 201
    body = response.body
    assert body["@odata.context"].endswith("#microsoft.graph.applicationServicePrincipal")
    app, sp = body["application"], body["servicePrincipal"]
    assert app["applicationTemplateId"] == template["id"] == sp["applicationTemplateId"]
    assert app["displayName"] == sp["displayName"] == "SmartTrace (Contoso)" and sp["appId"] == app["appId"]
    assert "WindowsAzureActiveDirectoryIntegratedApp" in sp["tags"]
    filtered = tenant.ok("GET", "/applications", query={"$filter": "applicationTemplateId eq '%s'" % template["id"]})["value"]
    assert [a["id"] for a in filtered] == [app["id"]]
    tenant.fails(400, "POST", "/applicationTemplates/%s/instantiate" % template["id"], {})
    tenant.fails(400, "POST", "/applicationTemplates/%s/instantiate" % template["id"], {"displayName": "x", "web": {}})
    tenant.fails(404, "POST", "/applicationTemplates/00000000-0000-0000-0000-000000000001/instantiate", {"displayName": "x"})
    tenant.fails(403, "POST", "/applicationTemplates/%s/instantiate" % template["id"], {"displayName": "x"}, token=tenant.limited_token())
