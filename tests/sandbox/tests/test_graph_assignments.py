"""App role assignments (resource and principal side) and delegated permission grants."""
from __future__ import annotations

import re

import jwt
import pytest

from .entra_helpers import BASE, Tenant

ZERO = "00000000-0000-0000-0000-000000000000"
USER_ROLE = {"id": "5b6c7d8e-9f01-4a2b-8c3d-4e5f6a7b8c9d", "allowedMemberTypes": ["User"], "displayName": "User", "description": "d",
             "value": "SmartTrace.User", "isEnabled": True}
APP_ROLE = {"id": "6c7d8e9f-0a12-4b3c-9d4e-5f6a7b8c9d0e", "allowedMemberTypes": ["Application"], "displayName": "Sync", "description": "d",
            "value": "SmartTrace.Sync", "isEnabled": True}


@pytest.fixture(name="tenant")
def fixture_tenant(tmp_path):
    return Tenant(tmp_path)


def _assign(tenant, sp: dict, principal_id: str, role_id: str = ZERO) -> dict:
    return {"principalId": principal_id, "resourceId": sp["id"], "appRoleId": role_id}


def test_assign_a_user_to_an_app_without_roles(tenant):
    sp = tenant.new_app_with_sp()[1]
    adele = tenant.user("AdeleV")
    response = tenant.call("POST", "/servicePrincipals/%s/appRoleAssignedTo" % sp["id"], _assign(tenant, sp, adele["id"]))
    assert response.status == 201
    assignment = response.body
    assert assignment["@odata.context"] == "%s/v1.0/$metadata#servicePrincipals('%s')/appRoleAssignedTo/$entity" % (BASE, sp["id"])
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", assignment["id"])
    assert assignment["principalType"] == "User" and assignment["principalDisplayName"] == "Adele Vance"
    assert assignment["resourceDisplayName"] == sp["displayName"] and assignment["appRoleId"] == ZERO
    listed = tenant.ok("GET", "/servicePrincipals/%s/appRoleAssignedTo" % sp["id"])["value"]
    assert [a["id"] for a in listed] == [assignment["id"]]
    one = tenant.ok("GET", "/servicePrincipals/%s/appRoleAssignedTo/%s" % (sp["id"], assignment["id"]))
    assert one["principalId"] == adele["id"]


def test_duplicate_assignment_is_400_already_exists(tenant):
    sp = tenant.new_app_with_sp()[1]
    body = _assign(tenant, sp, tenant.user("AdeleV")["id"])
    tenant.ok("POST", "/servicePrincipals/%s/appRoleAssignedTo" % sp["id"], body)
    error = tenant.fails(400, "POST", "/servicePrincipals/%s/appRoleAssignedTo" % sp["id"], body)
    assert (error["code"], error["message"]) == ("Request_BadRequest", "Permission being assigned already exists on the object.")


def test_role_must_exist_and_fit_the_principal(tenant):
    sp = tenant.new_app_with_sp(appRoles=[USER_ROLE, APP_ROLE])[1]
    path = "/servicePrincipals/%s/appRoleAssignedTo" % sp["id"]
    adele, group = tenant.user("AdeleV")["id"], tenant.group("SmartTrace Users")["id"]
    not_found = "Permission being assigned was not found on application."
    assert tenant.fails(400, "POST", path, _assign(tenant, sp, adele))["message"] == not_found                     # default access, roles exist
    assert tenant.fails(400, "POST", path, _assign(tenant, sp, adele, APP_ROLE["id"]))["message"] == not_found     # Application-only role
    assert tenant.fails(400, "POST", path, _assign(tenant, sp, adele, "11111111-1111-4111-8111-111111111111"))["message"] == not_found
    assert tenant.ok("POST", path, _assign(tenant, sp, adele, USER_ROLE["id"]))["appRoleId"] == USER_ROLE["id"]
    assert tenant.ok("POST", path, _assign(tenant, sp, group, USER_ROLE["id"]))["principalType"] == "Group"
    automation = tenant.automation_sp["id"]
    assert tenant.ok("POST", path, _assign(tenant, sp, automation, APP_ROLE["id"]))["principalType"] == "ServicePrincipal"
    assert tenant.fails(400, "POST", path, _assign(tenant, sp, automation, USER_ROLE["id"]))["message"] == not_found


def test_disabled_role_cannot_be_assigned(tenant):
    sp = tenant.new_app_with_sp(appRoles=[dict(USER_ROLE, isEnabled=False)])[1]
    error = tenant.fails(400, "POST", "/servicePrincipals/%s/appRoleAssignedTo" % sp["id"], _assign(tenant, sp, tenant.user("AdeleV")["id"],
                                                                                                    USER_ROLE["id"]))
    assert error["message"] == "Permission being assigned was not found on application."


def test_assignment_body_rules(tenant):
    sp = tenant.new_app_with_sp()[1]
    other_app, other_sp = tenant.new_app_with_sp("Other")
    path = "/servicePrincipals/%s/appRoleAssignedTo" % sp["id"]
    adele = tenant.user("AdeleV")["id"]
    assert "resourceId" in tenant.fails(400, "POST", path, _assign(tenant, other_sp, adele))["message"]
    assert "appRoleId" in tenant.fails(400, "POST", path, {"principalId": adele, "resourceId": sp["id"]})["message"]
    assert "Edm.Guid" in tenant.fails(400, "POST", path, {"principalId": "adele", "resourceId": sp["id"], "appRoleId": ZERO})["message"]
    missing = "00000000-0000-0000-0000-00000000dead"
    tenant.fails(404, "POST", path, _assign(tenant, sp, missing))
    tenant.fails(404, "POST", path, _assign(tenant, sp, other_app["id"]))     # an application object is not a principal
    tenant.fails(400, "POST", path, dict(_assign(tenant, sp, adele), principalType="User"))
    tenant.fails(404, "POST", "/servicePrincipals/%s/appRoleAssignedTo" % missing, _assign(tenant, sp, adele))


def test_list_is_paged_and_delete(tmp_path):
    tenant = Tenant(tmp_path, page_size=2)
    sp = tenant.new_app_with_sp()[1]
    path = "/servicePrincipals/%s/appRoleAssignedTo" % sp["id"]
    for nickname in ("AdeleV", "AlexW", "MeganB"):
        tenant.ok("POST", path, _assign(tenant, sp, tenant.user(nickname)["id"]))
    first = tenant.ok("GET", path)
    assert len(first["value"]) == 2 and first["@odata.nextLink"].startswith(BASE + "/v1.0" + path + "?$skiptoken=")
    token = first["@odata.nextLink"].split("$skiptoken=")[1]
    second = tenant.ok("GET", path, query={"$skiptoken": token})
    assert len(second["value"]) == 1 and "@odata.nextLink" not in second
    assignment_id = second["value"][0]["id"]
    tenant.ok("DELETE", "%s/%s" % (path, assignment_id))
    tenant.fails(404, "DELETE", "%s/%s" % (path, assignment_id))
    tenant.fails(404, "GET", "%s/%s" % (path, assignment_id))
    tenant.fails(405, "PATCH", "%s/%s" % (path, first["value"][0]["id"]), {"appRoleId": ZERO})


def test_assignment_filters(tenant):
    sp = tenant.new_app_with_sp()[1]
    adele = tenant.user("AdeleV")["id"]
    tenant.ok("POST", "/servicePrincipals/%s/appRoleAssignedTo" % sp["id"], _assign(tenant, sp, adele))
    mine = tenant.ok("GET", "/users/%s/appRoleAssignments" % adele, query={"$filter": "resourceId eq %s" % sp["id"]})["value"]
    assert [a["resourceId"] for a in mine] == [sp["id"]]
    assert tenant.ok("GET", "/users/%s/appRoleAssignments" % adele, query={"$filter": "resourceId eq %s" % tenant.graph_sp_id})["value"] == []
    error = tenant.fails(400, "GET", "/users/%s/appRoleAssignments" % adele, query={"$filter": "resourceId eq '%s'" % sp["id"]})
    assert "incompatible types" in error["message"]
    error = tenant.fails(400, "GET", "/servicePrincipals/%s/appRoleAssignedTo" % sp["id"], query={"$filter": "principalId eq %s" % adele})
    assert error["code"] == "Request_UnsupportedQuery"
    found = tenant.ok("GET", "/servicePrincipals/%s/appRoleAssignedTo" % sp["id"], query={"$filter": "startswith(principalDisplayName,'Ad')"})
    assert len(found["value"]) == 1
    assert tenant.ok("GET", "/users/AdeleV@contoso.onmicrosoft.com/appRoleAssignments")["@odata.context"].endswith(
        "#users('%s')/appRoleAssignments" % adele)


def test_assign_from_the_principal_side(tenant):
    sp = tenant.new_app_with_sp()[1]
    group = tenant.group("Contractors")["id"]
    assignment = tenant.ok("POST", "/groups/%s/appRoleAssignments" % group, _assign(tenant, sp, group))
    assert tenant.ok("GET", "/groups/%s/appRoleAssignments" % group)["value"][0]["id"] == assignment["id"]
    adele = tenant.user("AdeleV")["id"]
    tenant.fails(400, "POST", "/groups/%s/appRoleAssignments" % group, _assign(tenant, sp, adele))
    user_assignment = tenant.ok("POST", "/users/%s/appRoleAssignments" % adele, _assign(tenant, sp, adele))
    tenant.ok("DELETE", "/users/%s/appRoleAssignments/%s" % (adele, user_assignment["id"]))
    tenant.fails(404, "DELETE", "/users/%s/appRoleAssignments/%s" % (adele, assignment["id"]))


def test_granting_a_graph_role_shows_in_the_next_token(tenant):
    graph = tenant.ok("GET", "/servicePrincipals(appId='00000003-0000-0000-c000-000000000000')", query={"$select": "id,appRoles"})
    owned_by = next(r["id"] for r in graph["appRoles"] if r["value"] == "Application.ReadWrite.OwnedBy")
    body = {"principalId": tenant.automation_sp["id"], "resourceId": graph["id"], "appRoleId": owned_by}
    tenant.ok("POST", "/servicePrincipals/%s/appRoleAssignedTo" % graph["id"], body)
    claims = jwt.decode(tenant.token(fresh=True), options={"verify_signature": False})
    assert "Application.ReadWrite.OwnedBy" in claims["roles"]


def test_deleting_a_principal_removes_its_assignments(tenant):
    sp = tenant.new_app_with_sp()[1]
    alex = tenant.user("AlexW")["id"]
    tenant.ok("POST", "/servicePrincipals/%s/appRoleAssignedTo" % sp["id"], _assign(tenant, sp, alex))
    tenant.ok("DELETE", "/users/%s" % alex)
    assert tenant.ok("GET", "/servicePrincipals/%s/appRoleAssignedTo" % sp["id"])["value"] == []


# ---------------------------------------------------------------------------------------------- oauth2PermissionGrants

def _grant(tenant, sp: dict, scope: str = "openid profile email User.Read", **extra) -> dict:
    return dict({"clientId": sp["id"], "consentType": "AllPrincipals", "resourceId": tenant.graph_sp_id, "scope": scope}, **extra)


def test_tenant_wide_consent_grant_lifecycle(tenant):
    sp = tenant.new_app_with_sp()[1]
    response = tenant.call("POST", "/oauth2PermissionGrants", _grant(tenant, sp))
    assert response.status == 201
    grant = response.body
    assert grant["@odata.context"].endswith("#oauth2PermissionGrants/$entity") and grant["principalId"] is None
    query = {"$filter": "clientId eq '%s' and resourceId eq '%s'" % (sp["id"], tenant.graph_sp_id)}
    assert [g["id"] for g in tenant.ok("GET", "/oauth2PermissionGrants", query=query)["value"]] == [grant["id"]]
    tenant.ok("PATCH", "/oauth2PermissionGrants/%s" % grant["id"], {"scope": "openid profile"})
    assert tenant.ok("GET", "/oauth2PermissionGrants/%s" % grant["id"])["scope"] == "openid profile"
    assert tenant.ok("GET", "/servicePrincipals/%s/oauth2PermissionGrants" % sp["id"])["value"][0]["id"] == grant["id"]
    tenant.fails(400, "PATCH", "/oauth2PermissionGrants/%s" % grant["id"], {"clientId": tenant.graph_sp_id})
    tenant.ok("DELETE", "/oauth2PermissionGrants/%s" % grant["id"])
    tenant.fails(404, "GET", "/oauth2PermissionGrants/%s" % grant["id"])


def test_grant_rules(tenant):
    sp = tenant.new_app_with_sp()[1]
    tenant.ok("POST", "/oauth2PermissionGrants", _grant(tenant, sp))
    error = tenant.fails(409, "POST", "/oauth2PermissionGrants", _grant(tenant, sp, scope="openid"))
    assert (error["code"], error["message"]) == ("Request_MultipleObjectsWithSameKeyValue", "Permission entry already exists.")
    assert "scope" in tenant.fails(400, "POST", "/oauth2PermissionGrants", _grant(tenant, sp, scope="openid Mail.Send"))["message"]
    assert "principalId" in tenant.fails(400, "POST", "/oauth2PermissionGrants", _grant(tenant, sp, consentType="Principal"))["message"]
    adele = tenant.user("AdeleV")["id"]
    tenant.fails(400, "POST", "/oauth2PermissionGrants", _grant(tenant, sp, principalId=adele))
    tenant.ok("POST", "/oauth2PermissionGrants", _grant(tenant, sp, consentType="Principal", principalId=adele))
    tenant.fails(400, "POST", "/oauth2PermissionGrants", _grant(tenant, sp, consentType="Everyone"))
    tenant.fails(404, "POST", "/oauth2PermissionGrants", _grant(tenant, sp, clientId="00000000-0000-0000-0000-00000000dead"))
    tenant.fails(400, "GET", "/oauth2PermissionGrants", query={"$filter": "scope eq 'openid'"})
    tenant.fails(400, "GET", "/oauth2PermissionGrants", query={"$filter": "clientId eq %s" % sp["id"]})
    tenant.fails(403, "POST", "/oauth2PermissionGrants", _grant(tenant, sp), token=tenant.limited_token())
