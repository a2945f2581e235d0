"""Service principals: create from an app, alternate key, upsert, conflicts, PATCH, DELETE, sync from the app."""
from __future__ import annotations

import pytest

from .entra_helpers import Tenant

ROLE = {"id": "5b6c7d8e-9f01-4a2b-8c3d-4e5f6a7b8c9d", "allowedMemberTypes": ["User"], "displayName": "User", "description": "d",
        "value": "SmartTrace.User", "isEnabled": True}


@pytest.fixture(name="tenant")
def fixture_tenant(tmp_path):
    return Tenant(tmp_path)


def test_create_copies_from_the_app(tenant):
    app = tenant.new_app(tags=["smarttrace"], appRoles=[ROLE], web={"redirectUris": ["https://st.example/cb"], "logoutUrl": "https://st.example/out"},
                         identifierUris=["api://smarttrace"])
    response = tenant.call("POST", "/servicePrincipals", {"appId": app["appId"], "appRoleAssignmentRequired": True,
                                                          "tags": ["WindowsAzureActiveDirectoryIntegratedApp"]})
    assert response.status == 201
    sp = response.body
    assert sp["@odata.context"].endswith("#servicePrincipals/$entity")
    assert sp["appId"] == app["appId"] and sp["displayName"] == sp["appDisplayName"] == app["displayName"]
    assert sp["accountEnabled"] is True and sp["appRoleAssignmentRequired"] is True
    assert sp["appRoles"] == [ROLE] and sp["servicePrincipalType"] == "Application"
    # Graph keeps no order here (recorded: [appId, uri] on create, [uri, appId] on read); the sandbox lists the read order
    assert sp["servicePrincipalNames"] == ["api://smarttrace", app["appId"]]
    assert sp["replyUrls"] == ["https://st.example/cb"] and sp["logoutUrl"] == "https://st.example/out"
    assert sp["tags"] == ["WindowsAzureActiveDirectoryIntegratedApp"]
    assert sp["appOwnerOrganizationId"] == tenant.fields["tenant_id"]
    default_tags = tenant.ok("POST", "/servicePrincipals", {"appId": tenant.new_app("Tagged", tags=["a"])["appId"]})
    assert default_tags["tags"] == ["a"] and default_tags["appRoleAssignmentRequired"] is False


def test_create_refusals(tenant):
    assert "appId" in tenant.fails(400, "POST", "/servicePrincipals", {})["message"]
    missing = "00000000-0000-0000-0000-00000000beef"
    error = tenant.fails(400, "POST", "/servicePrincipals", {"appId": missing})
    assert error["message"] == "The appId '%s' of the service principal does not reference a valid application object." % missing
    assert error["details"][0]["code"] == "NoBackingApplicationObject" and error["details"][0]["target"] == "appId"
    assert tenant.fails(400, "POST", "/servicePrincipals", {"appId": "not-a-guid"})["details"][0]["code"] == "NoBackingApplicationObject"
    app = tenant.new_app()
    tenant.fails(400, "POST", "/servicePrincipals", {"appId": app["appId"], "nickname": "x"})
    tenant.fails(400, "POST", "/servicePrincipals", {"appId": app["appId"], "passwordCredentials": []})
    tenant.fails(400, "POST", "/servicePrincipals", {"appId": app["appId"], "preferredSingleSignOnMode": "magic"})


def test_second_service_principal_for_an_app_is_409(tenant):
    app = tenant.new_app_with_sp()[0]
    error = tenant.fails(409, "POST", "/servicePrincipals", {"appId": app["appId"]})
    assert error["code"] == "Request_MultipleObjectsWithSameKeyValue"
    assert error["message"] == ("The service principal cannot be created, updated, or restored because the service principal name %s is already in use."
                                % app["appId"])
    assert error["details"][0]["code"] == "ObjectConflict"
    tenant.fails(409, "POST", "/servicePrincipals", {"appId": "00000003-0000-0000-c000-000000000000"})


def test_get_by_id_app_id_and_filter(tenant):
    app, sp = tenant.new_app_with_sp()
    assert tenant.ok("GET", "/servicePrincipals/%s" % sp["id"])["appId"] == app["appId"]
    assert tenant.ok("GET", "/servicePrincipals(appId='%s')" % app["appId"])["id"] == sp["id"]
    found = tenant.ok("GET", "/servicePrincipals", query={"$filter": "appId eq '%s'" % app["appId"], "$select": "id,appId"})["value"]
    assert found == [{"id": sp["id"], "appId": app["appId"]}]
    assert tenant.ok("GET", "/servicePrincipals", query={"$filter": "appId eq '00000000-0000-0000-0000-000000000001'"})["value"] == []
    tenant.fails(404, "GET", "/servicePrincipals(appId='00000000-0000-0000-0000-000000000001')")
    tagged = tenant.ok("GET", "/servicePrincipals", query={"$filter": "servicePrincipalNames/any(n:n eq '%s')" % app["appId"]})["value"]
    assert [s["id"] for s in tagged] == [sp["id"]]


def test_upsert_by_app_id(tenant):
    app = tenant.new_app()
    path = "/servicePrincipals(appId='%s')" % app["appId"]
    tenant.fails(404, "PATCH", path, {"appRoleAssignmentRequired": True})
    created = tenant.call("PATCH", path, {"appRoleAssignmentRequired": True}, headers={"Prefer": "create-if-missing"})
    assert created.status == 201 and created.body["appRoleAssignmentRequired"] is True and created.body["appId"] == app["appId"]
    again = tenant.call("PATCH", path, {"notes": "hello"}, headers={"Prefer": "create-if-missing"})
    assert again.status == 204
    assert tenant.ok("GET", path)["notes"] == "hello"
    missing = "/servicePrincipals(appId='00000000-0000-0000-0000-00000000beef')"
    assert tenant.fails(400, "PATCH", missing, {}, headers={"Prefer": "create-if-missing"})["details"][0]["code"] == "NoBackingApplicationObject"


def test_patch_and_delete(tenant):
    app, sp = tenant.new_app_with_sp()
    tenant.ok("PATCH", "/servicePrincipals/%s" % sp["id"], {"appRoleAssignmentRequired": True, "tags": ["HideApp"]})
    body = tenant.ok("GET", "/servicePrincipals/%s" % sp["id"], query={"$select": "appRoleAssignmentRequired,tags"})
    assert body["appRoleAssignmentRequired"] is True and body["tags"] == ["HideApp"]
    tenant.fails(400, "PATCH", "/servicePrincipals/%s" % sp["id"], {"appId": app["appId"]})
    tenant.fails(400, "PATCH", "/servicePrincipals/%s" % sp["id"], {"appRoleAssignmentRequired": "yes"})
    tenant.ok("DELETE", "/servicePrincipals(appId='%s')" % app["appId"])
    tenant.fails(404, "GET", "/servicePrincipals/%s" % sp["id"])
    assert tenant.ok("GET", "/applications/%s" % app["id"])["id"] == app["id"]   # deleting the SP leaves the app
    assert tenant.ok("POST", "/servicePrincipals", {"appId": app["appId"]})["id"] != sp["id"]


def test_app_changes_flow_to_the_service_principal(tenant):
    app, sp = tenant.new_app_with_sp()
    tenant.ok("PATCH", "/applications/%s" % app["id"], {"displayName": "Renamed", "appRoles": [ROLE], "web": {"redirectUris": ["https://n.example/"]}})
    body = tenant.ok("GET", "/servicePrincipals/%s" % sp["id"])
    assert body["displayName"] == body["appDisplayName"] == "Renamed"
    assert body["appRoles"] == [ROLE] and body["replyUrls"] == ["https://n.example/"]


def test_owners_of_a_service_principal(tenant):
    sp = tenant.new_app_with_sp()[1]
    assert tenant.ok("GET", "/servicePrincipals/%s/owners" % sp["id"])["value"] == []
    adele = tenant.user("AdeleV")["id"]
    tenant.ok("POST", "/servicePrincipals/%s/owners/$ref" % sp["id"], {"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/%s" % adele},
              status=204)
    owners = tenant.ok("GET", "/servicePrincipals/%s/owners" % sp["id"])["value"]
    assert owners[0]["@odata.type"] == "#microsoft.graph.user" and "accountEnabled" not in owners[0]
