"""The sandbox agrees with Microsoft's description of Graph v1.0.

1. A realistic run of the collection's flows (app registration, service principal, secret rotation, user,
   assignment, consent, $batch) goes through the Graph handlers, is recorded in the request-log format and
   checked by the shared conformance checker: it must report ``0 violations``.
2. The embedded type table (``sandbox/graph_schema.json``) equals what the shared reference subset gives.

Both need the shared reference folder (``<repo>/../shared``); without it they are skipped.
"""
from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import pytest

from sandbox import graph_schema

from .entra_helpers import Tenant, new_user_body

REPO = pathlib.Path(__file__).resolve().parents[3]
SHARED = REPO.parent / "shared"
CHECKER = SHARED / "tools" / "graph_conformance.py"
SPEC = SHARED / "reference" / "graph-v1.0-subset.json"
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
needs_shared = pytest.mark.skipif(not (CHECKER.is_file() and SPEC.is_file()), reason="shared reference folder %s not found" % SHARED)


def _realistic_run(tenant: Tenant) -> None:
    """What entra_app, entra_secret, entra_user and entra_assignment send, in order, with the answers they expect."""
    ok = tenant.ok
    # entra_app: find by uniqueName (upsert) or by name, create, reconcile, ensure the service principal
    ok("GET", "/applications", query={"$filter": "displayName eq 'SmartTrace'", "$select": "id,appId,displayName,uniqueName", "$top": "2"})
    app = tenant.call("PATCH", "/applications(uniqueName='smarttrace-prod')", {
        "displayName": "SmartTrace", "signInAudience": "AzureADMyOrg", "tags": ["smarttrace"],
        "web": {"redirectUris": ["https://smarttrace.example/oidc/callback"], "logoutUrl": "https://smarttrace.example/logout",
                "implicitGrantSettings": {"enableIdTokenIssuance": False, "enableAccessTokenIssuance": False}},
        "requiredResourceAccess": [{"resourceAppId": GRAPH_APP_ID, "resourceAccess": [
            {"id": "37f7f235-527c-4136-accd-4a02d197296e", "type": "Scope"}, {"id": "14dad69e-099b-42c9-810b-d002981feec1", "type": "Scope"},
            {"id": "64a6cdd6-aab1-4aaf-94b8-3cc8405e90d0", "type": "Scope"}, {"id": "e1fe6dd8-ba31-4d61-89e7-88639da4683d", "type": "Scope"}]}],
    }, headers={"Prefer": "create-if-missing"}).body
    ok("GET", "/applications(uniqueName='smarttrace-prod')", query={"$select": "id,appId,displayName,web,requiredResourceAccess,appRoles,tags"})
    ok("PATCH", "/applications/%s" % app["id"], {"appRoles": [{"id": "5b6c7d8e-9f01-4a2b-8c3d-4e5f6a7b8c9d", "allowedMemberTypes": ["User"],
                                                               "displayName": "User", "description": "SmartTrace user", "value": "SmartTrace.User",
                                                               "isEnabled": True}]})
    ok("GET", "/applications", query={"$filter": "appId eq '%s'" % app["appId"], "$select": "id,appId"})
    tenant.fails(404, "GET", "/servicePrincipals(appId='%s')" % app["appId"])
    sp = ok("POST", "/servicePrincipals", {"appId": app["appId"], "appRoleAssignmentRequired": True, "tags": ["WindowsAzureActiveDirectoryIntegratedApp"]})
    ok("PATCH", "/servicePrincipals/%s" % sp["id"], {"appRoleAssignmentRequired": True, "notes": "Managed by Ansible"})
    ok("GET", "/servicePrincipals", query={"$filter": "appId eq '%s'" % app["appId"], "$select": "id,appId,appRoles"})
    # entra_secret: add, list, rotate
    old = ok("POST", "/applications/%s/addPassword" % app["id"], {"passwordCredential": {"displayName": "smarttrace-oidc",
                                                                                         "endDateTime": "2027-01-01T00:00:00Z"}}, status=200)
    ok("GET", "/applications(appId='%s')" % app["appId"], query={"$select": "id,passwordCredentials"})
    ok("POST", "/applications/%s/addPassword" % app["id"], {"passwordCredential": {"displayName": "smarttrace-oidc"}}, status=200)
    ok("POST", "/applications/%s/removePassword" % app["id"], {"keyId": old["keyId"]}, status=204)
    # entra_user
    tenant.fails(404, "GET", "/users/jdoe@contoso.example", query={"$select": "id,accountEnabled,displayName,mailNickname,userPrincipalName"})
    user = ok("POST", "/users", new_user_body(usageLocation="US"))
    ok("PATCH", "/users/%s" % user["id"], {"jobTitle": "Quality engineer", "accountEnabled": True})
    ok("GET", "/users", query={"$filter": "userPrincipalName eq 'jdoe@contoso.example'", "$select": "id,userPrincipalName"})
    ok("GET", "/users", query={"$filter": "endswith(mail,'contoso.onmicrosoft.com')", "$count": "true", "$select": "id"},
       headers={"ConsistencyLevel": "eventual"})
    # entra_assignment
    group = ok("GET", "/groups", query={"$filter": "displayName eq 'SmartTrace Users'", "$select": "id,displayName"})["value"][0]
    ok("GET", "/servicePrincipals(appId='%s')" % app["appId"], query={"$select": "id,appRoles"})
    for principal in (user["id"], group["id"]):
        ok("POST", "/servicePrincipals/%s/appRoleAssignedTo" % sp["id"],
           {"principalId": principal, "resourceId": sp["id"], "appRoleId": "5b6c7d8e-9f01-4a2b-8c3d-4e5f6a7b8c9d"})
    listed = ok("GET", "/servicePrincipals/%s/appRoleAssignedTo" % sp["id"], query={"$top": "100"})["value"]
    ok("GET", "/users/%s/appRoleAssignments" % user["id"], query={"$filter": "resourceId eq %s" % sp["id"]})
    ok("GET", "/groups/%s/appRoleAssignments" % group["id"])
    ok("DELETE", "/servicePrincipals/%s/appRoleAssignedTo/%s" % (sp["id"], listed[0]["id"]))
    # tenant-wide consent to the sign-in scopes, gallery template, lookups
    graph = ok("GET", "/servicePrincipals(appId='%s')" % GRAPH_APP_ID, query={"$select": "id,appRoles,oauth2PermissionScopes"})
    ok("GET", "/oauth2PermissionGrants", query={"$filter": "clientId eq '%s' and resourceId eq '%s'" % (sp["id"], graph["id"])})
    ok("POST", "/oauth2PermissionGrants", {"clientId": sp["id"], "consentType": "AllPrincipals", "resourceId": graph["id"],
                                           "scope": "openid profile email User.Read"})
    ok("GET", "/applicationTemplates", query={"$filter": "displayName eq 'SmartTrace'"})
    ok("GET", "/organization", query={"$select": "id,displayName,verifiedDomains"})
    ok("GET", "/domains")
    ok("GET", "/groups/%s/members" % group["id"], query={"$select": "id,displayName"})
    # the same reads in one batch, then clean-up
    ok("POST", "/$batch", {"requests": [
        {"id": "1", "method": "GET", "url": "/applications/%s?$select=id,passwordCredentials" % app["id"]},
        {"id": "2", "method": "GET", "url": "/servicePrincipals/%s/appRoleAssignedTo" % sp["id"]},
        {"id": "3", "method": "PATCH", "url": "/applications/%s" % app["id"], "headers": {"Content-Type": "application/json"},
         "body": {"notes": "batched"}, "dependsOn": ["1"]},
    ]}, status=200)
    ok("DELETE", "/users/%s" % user["id"])
    ok("DELETE", "/applications/%s" % app["id"])


def _run_checker(log: pathlib.Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(CHECKER), "--spec", str(SPEC), str(log), *extra], capture_output=True, text=True, check=False,
                          timeout=120)


@needs_shared
def test_realistic_run_has_zero_conformance_violations(tmp_path):
    tenant = Tenant(tmp_path)
    _realistic_run(tenant)
    log = tmp_path / "graph-requests.jsonl"
    log.write_text("".join(json.dumps(record) + "\n" for record in tenant.log), encoding="utf-8")
    result = _run_checker(log)
    assert result.returncode == 0, result.stdout + result.stderr
    last = result.stdout.strip().splitlines()[-1]
    assert last.endswith(" 0 violations"), result.stdout
    assert int(last.split()[0]) >= len(tenant.log)


@needs_shared
def test_the_checker_would_catch_a_wrong_request(tmp_path):
    """Guard against a vacuous pass: a body Graph does not describe must be flagged."""
    log = tmp_path / "bad.jsonl"
    log.write_text(json.dumps({"method": "POST", "path": "/v1.0/applications", "body": {"displayName": "x", "redirectUris": []}}) + "\n",
                   encoding="utf-8")
    result = _run_checker(log)
    assert result.returncode == 1 and "1 violations" in result.stdout


@needs_shared
def test_embedded_type_table_matches_the_shared_reference():
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    assert graph_schema.dump(graph_schema.derive_from_subset(spec)) == graph_schema.SCHEMA_FILE.read_text(encoding="utf-8")
