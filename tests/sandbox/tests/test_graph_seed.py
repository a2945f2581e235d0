"""The seeded tenant, what the core reads from it (endpoint fields, state snapshot) and the test-control operations."""
from __future__ import annotations

import json

import pytest

from sandbox.directory import GRAPH_ROLES, GRAPH_SCOPES

from .entra_helpers import Tenant, new_user_body


@pytest.fixture(name="tenant")
def fixture_tenant(tmp_path):
    return Tenant(tmp_path)


def test_same_seed_same_ids_and_secrets_other_seed_others(tmp_path):
    first, second, third = Tenant(tmp_path / "a"), Tenant(tmp_path / "b"), Tenant(tmp_path / "c", seed=7)
    for name in ("tenant_id", "client_id", "client_secret", "limited_client_id", "limited_client_secret", "client_certificate_password"):
        assert first.fields[name] == second.fields[name]
        assert first.fields[name] != third.fields[name]
    assert first.directory.snapshot() == second.directory.snapshot()


def test_endpoint_fields(tenant):
    fields = tenant.fields
    assert fields["domains"] == ["contoso.onmicrosoft.com", "contoso.example"]
    assert fields["client_id"] != fields["limited_client_id"]
    assert len(fields["client_secret"]) == 40 and fields["client_secret"][4:6] == "Q~"
    for name in ("client_certificate_path", "client_key_path", "client_certificate_pfx_path"):
        assert tenant.state_dir.joinpath(fields[name].rsplit("/", 1)[1]).is_file()
    assert fields["managed_identity_path"] == "/msi/token" and fields["managed_identity_header"]


def test_graph_service_principal_has_the_real_scope_and_role_ids(tenant):
    sp = tenant.ok("GET", "/servicePrincipals(appId='00000003-0000-0000-c000-000000000000')")
    scopes = {s["value"]: s["id"] for s in sp["oauth2PermissionScopes"]}
    assert scopes == {"openid": "37f7f235-527c-4136-accd-4a02d197296e", "profile": "14dad69e-099b-42c9-810b-d002981feec1",
                      "email": "64a6cdd6-aab1-4aaf-94b8-3cc8405e90d0", "offline_access": "7427e0e9-2fba-42fe-b0c0-848c9e6a8182",
                      "User.Read": "e1fe6dd8-ba31-4d61-89e7-88639da4683d"}
    roles = {r["value"]: r["id"] for r in sp["appRoles"]}
    assert roles["Application.ReadWrite.OwnedBy"] == "18a4783c-866b-4cc7-a460-3d5e5662c884"
    assert roles["Application.ReadWrite.All"] == "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9"
    assert roles["Application.Read.All"] == "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30"
    assert roles["AppRoleAssignment.ReadWrite.All"] == "06b708a9-e830-4db3-a914-8e69da51d44f"
    assert roles["User.ReadWrite.All"] == "741f803b-c850-494e-b5df-cde7c675a1ca"
    assert roles["Directory.Read.All"] == "7ab1d382-f21e-4acd-a863-ba3e13f7da61"
    assert roles["DelegatedPermissionGrant.ReadWrite.All"] == "8e8e4742-1d95-4f68-9d56-6ee75648c72a"
    assert all(r["allowedMemberTypes"] == ["Application"] and r["isEnabled"] for r in sp["appRoles"])
    assert len(GRAPH_ROLES) == len(roles) and len(GRAPH_SCOPES) == len(scopes)


def test_automation_service_principal_holds_its_graph_role_assignments(tenant):
    assignments = tenant.ok("GET", "/servicePrincipals/%s/appRoleAssignments" % tenant.automation_sp["id"])["value"]
    assert {a["resourceId"] for a in assignments} == {tenant.graph_sp_id}
    assert len(assignments) == 5
    app = tenant.directory.automation_app
    assert app["keyCredentials"][0]["type"] == "AsymmetricX509Cert" and app["keyCredentials"][0]["key"] is None


def test_seeded_users_groups_domains_and_templates(tenant):
    users = tenant.ok("GET", "/users", query={"$select": "displayName,userPrincipalName"})["value"]
    assert {"Adele Vance", "Alex Wilber"} <= {u["displayName"] for u in users}
    assert all(u["userPrincipalName"].endswith("@contoso.onmicrosoft.com") for u in users)
    group = tenant.group("SmartTrace Users")
    members = tenant.ok("GET", "/groups/%s/members" % group["id"])["value"]
    assert len(members) == 3 and all(m["@odata.type"] == "#microsoft.graph.user" for m in members)
    assert tenant.group("Contractors")
    domains = {d["id"]: d for d in tenant.ok("GET", "/domains")["value"]}
    assert domains["contoso.onmicrosoft.com"]["isInitial"] and domains["contoso.onmicrosoft.com"]["isVerified"]
    assert domains["contoso.example"]["isVerified"] and domains["contoso.example"]["isDefault"]
    assert domains["fabrikam.example"]["isVerified"] is False
    org = tenant.ok("GET", "/organization")["value"][0]
    assert org["id"] == tenant.fields["tenant_id"]
    assert [d["name"] for d in org["verifiedDomains"]] == ["contoso.onmicrosoft.com", "contoso.example"]


def test_snapshot_has_everything_but_never_a_secret_or_password(tenant):
    app = tenant.new_app()
    secret = tenant.ok("POST", "/applications/%s/addPassword" % app["id"], {}, status=200)["secretText"]
    tenant.ok("POST", "/users", new_user_body())
    snapshot = tenant.directory.snapshot()
    text = json.dumps(snapshot)
    for value in [secret, tenant.fields["client_secret"], tenant.fields["limited_client_secret"], "Xw7!kq2Lp#9z"] + \
            list(tenant.directory.user_passwords.values()):
        assert value not in text
    assert {"applications", "servicePrincipals", "users", "groups", "appRoleAssignments", "oauth2PermissionGrants", "deletedItems"} <= set(snapshot)
    created = next(a for a in snapshot["applications"] if a["id"] == app["id"])
    credential = created["passwordCredentials"][0]
    assert credential["hint"] == secret[:3] and credential["secretText"] is None and credential["keyId"]
    assert created["owners"] == []


def test_reset_goes_back_to_the_seed(tenant):
    before = tenant.directory.snapshot()
    tenant.new_app()
    tenant.ok("DELETE", "/users/%s" % tenant.user("LeeG")["id"])
    tenant.directory.reset()
    assert tenant.directory.snapshot() == before
    assert tenant.directory.endpoint_fields() == tenant.fields


def test_admin_set_credential_end(tenant):
    app = tenant.directory.automation_app
    key_id = app["passwordCredentials"][0]["keyId"]
    response = tenant.directory.admin("set-credential-end", {"app_id": app["id"], "key_id": key_id, "end_date_time": "2021-02-03T04:05:06Z"})
    assert response.status == 200 and response.body["endDateTime"] == "2021-02-03T04:05:06Z"
    assert tenant.directory.admin("set-credential-end", {"app_id": app["appId"], "key_id": "nope", "end_date_time": "2021-02-03T04:05:06Z"}).status == 404
    assert tenant.directory.admin("set-credential-end", {"app_id": app["appId"], "key_id": key_id, "end_date_time": "yesterday"}).status == 400
    assert tenant.directory.admin("set-credential-end", {"app_id": "missing"}).status == 404


def test_admin_add_delete_and_purge_users(tenant):
    response = tenant.directory.admin("add-user", {"userPrincipalName": "temp@contoso.example", "displayName": "Temp"})
    assert response.status == 201
    user_id = response.body["id"]
    assert tenant.ok("GET", "/users/temp@contoso.example")["id"] == user_id
    assert tenant.directory.admin("add-user", {"userPrincipalName": "temp@contoso.example"}).status == 400
    assert tenant.directory.admin("add-user", {}).status == 400
    assert tenant.directory.admin("delete-user", {"userPrincipalName": "temp@contoso.example"}).status == 200
    assert tenant.directory.admin("purge-deleted", {"id": user_id}).status == 200
    assert tenant.ok("POST", "/users", new_user_body("temp@contoso.example"))  # a deleted user does not hold its name either
    assert tenant.directory.admin("delete-user", {"id": "nobody"}).status == 404
    assert tenant.directory.admin("purge-deleted", {"id": user_id}).status == 404


def test_admin_settle_ends_the_replication_lag(tmp_path):
    tenant = Tenant(tmp_path, replication_delay=600)
    app = tenant.new_app()
    tenant.fails(404, "GET", "/applications/%s" % app["id"])
    assert tenant.directory.admin("settle", {}).body["settled"] >= 1
    assert tenant.ok("GET", "/applications/%s" % app["id"])["id"] == app["id"]


def test_admin_set_graph_roles_changes_what_new_tokens_carry(tenant):
    token = tenant.set_roles(["Application.ReadWrite.OwnedBy"])
    tenant.fails(403, "GET", "/users", token=token)
    assert tenant.directory.admin("set-graph-roles", {"client_id": tenant.fields["client_id"], "roles": ["Nope.All"]}).status == 400
    assert tenant.directory.admin("set-graph-roles", {"client_id": "missing", "roles": []}).status == 404


def test_admin_unknown_operation_and_bad_body(tenant):
    assert tenant.directory.admin("explode", {}).status == 404
    assert tenant.directory.admin("settle", [1, 2]).status == 400
    assert tenant.directory.admin("settle", None).status == 200
