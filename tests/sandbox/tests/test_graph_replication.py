"""The replication-delay fault: new objects and credentials are invisible for a while, as in Entra (contract 6.4)."""
from __future__ import annotations

import jwt
import pytest

from .entra_helpers import Tenant, new_user_body

DELAY = 5


@pytest.fixture(name="tenant")
def fixture_tenant(tmp_path):
    return Tenant(tmp_path, replication_delay=DELAY)


def test_create_answer_is_immediate_but_reads_404_until_replicated(tenant):
    app = tenant.new_app("Fresh")
    assert app["id"] and app["displayName"] == "Fresh"     # trust the write
    for method, body in (("GET", None), ("PATCH", {"notes": "x"}), ("DELETE", None)):
        tenant.fails(404, method, "/applications/%s" % app["id"], body)
    tenant.fails(404, "GET", "/applications(appId='%s')" % app["appId"])
    tenant.fails(404, "POST", "/applications/%s/addPassword" % app["id"], {})
    assert tenant.ok("GET", "/applications", query={"$filter": "displayName eq 'Fresh'"})["value"] == []
    tenant.clock.advance(DELAY)
    assert tenant.ok("GET", "/applications/%s" % app["id"])["id"] == app["id"]
    assert len(tenant.ok("GET", "/applications", query={"$filter": "displayName eq 'Fresh'"})["value"]) == 1
    tenant.ok("PATCH", "/applications/%s" % app["id"], {"notes": "x"})


def test_service_principal_for_a_young_app_is_400_no_backing_application(tenant):
    app = tenant.new_app()
    error = tenant.fails(400, "POST", "/servicePrincipals", {"appId": app["appId"]})
    assert error["details"][0]["code"] == "NoBackingApplicationObject"
    tenant.clock.advance(DELAY)
    assert tenant.ok("POST", "/servicePrincipals", {"appId": app["appId"]})["appId"] == app["appId"]


def test_with_owned_by_the_same_lag_is_a_403(tenant):
    token = tenant.set_roles(["Application.ReadWrite.OwnedBy"])
    app = tenant.ok("POST", "/applications", {"displayName": "Owned"}, token=token)
    error = tenant.fails(403, "POST", "/servicePrincipals", {"appId": app["appId"]}, token=token)
    assert error["message"] == "When using this permission, the backing application of the service principal being created must in the local tenant"
    tenant.clock.advance(DELAY)
    tenant.ok("POST", "/servicePrincipals", {"appId": app["appId"]}, token=token)


def test_new_key_id_is_missing_from_get_for_a_while(tenant):
    app_id = tenant.directory.automation_app["id"]
    key_id = tenant.ok("POST", "/applications/%s/addPassword" % app_id, {}, status=200)["keyId"]
    shown = tenant.ok("GET", "/applications/%s" % app_id, query={"$select": "passwordCredentials"})["passwordCredentials"]
    assert key_id not in [c["keyId"] for c in shown] and len(shown) == 1
    tenant.clock.advance(DELAY)
    shown = tenant.ok("GET", "/applications/%s" % app_id, query={"$select": "passwordCredentials"})["passwordCredentials"]
    assert key_id in [c["keyId"] for c in shown]


def test_assignment_naming_a_young_principal_is_not_a_valid_reference_update(tenant):
    sp_app = tenant.new_app()
    tenant.clock.advance(DELAY)
    sp = tenant.ok("POST", "/servicePrincipals", {"appId": sp_app["appId"]})
    body = {"principalId": tenant.user("AdeleV")["id"], "resourceId": sp["id"], "appRoleId": "00000000-0000-0000-0000-000000000000"}
    tenant.fails(404, "POST", "/servicePrincipals/%s/appRoleAssignedTo" % sp["id"], body)    # the resource in the URL is young: 404
    tenant.clock.advance(DELAY - 2)
    user = tenant.ok("POST", "/users", new_user_body())
    tenant.fails(404, "GET", "/users/%s" % user["id"])
    tenant.clock.advance(2)                                                                     # the resource is visible, the user is not
    body["principalId"] = user["id"]
    error = tenant.fails(400, "POST", "/servicePrincipals/%s/appRoleAssignedTo" % sp["id"], body)
    assert error["message"] == "Not a valid reference update."
    tenant.clock.advance(DELAY)
    assignment = tenant.ok("POST", "/servicePrincipals/%s/appRoleAssignedTo" % sp["id"], body)
    assert tenant.ok("GET", "/servicePrincipals/%s/appRoleAssignedTo" % sp["id"])["value"] == []   # the assignment replicates too
    tenant.clock.advance(DELAY)
    assert tenant.ok("GET", "/servicePrincipals/%s/appRoleAssignedTo" % sp["id"])["value"][0]["id"] == assignment["id"]


def test_assignment_naming_a_young_resource_from_the_principal_side(tenant):
    app = tenant.new_app()
    tenant.clock.advance(DELAY)
    sp = tenant.ok("POST", "/servicePrincipals", {"appId": app["appId"]})
    adele = tenant.user("AdeleV")["id"]
    body = {"principalId": adele, "resourceId": sp["id"], "appRoleId": "00000000-0000-0000-0000-000000000000"}
    assert tenant.fails(400, "POST", "/users/%s/appRoleAssignments" % adele, body)["message"] == "Not a valid reference update."


def test_a_new_graph_role_reaches_tokens_after_the_delay(tenant):
    graph_id = tenant.graph_sp_id
    owned_by = "18a4783c-866b-4cc7-a460-3d5e5662c884"
    body = {"principalId": tenant.automation_sp["id"], "resourceId": graph_id, "appRoleId": owned_by}
    tenant.ok("POST", "/servicePrincipals/%s/appRoleAssignedTo" % graph_id, body)
    assert "Application.ReadWrite.OwnedBy" not in jwt.decode(tenant.token(fresh=True), options={"verify_signature": False})["roles"]
    tenant.clock.advance(DELAY)
    assert "Application.ReadWrite.OwnedBy" in jwt.decode(tenant.token(fresh=True), options={"verify_signature": False})["roles"]


def test_upsert_with_prefer_reaches_the_young_object(tenant):
    path = "/applications(uniqueName='young')"
    assert tenant.call("PATCH", path, {"displayName": "Young"}, headers={"Prefer": "create-if-missing"}).status == 201
    tenant.fails(404, "GET", path)
    tenant.fails(404, "PATCH", path, {"notes": "no Prefer"})
    assert tenant.call("PATCH", path, {"notes": "with Prefer"}, headers={"Prefer": "create-if-missing"}).status == 204


def test_the_knob_judges_objects_by_their_age(tmp_path):
    tenant = Tenant(tmp_path)
    app = tenant.new_app()
    assert tenant.ok("GET", "/applications/%s" % app["id"])["id"] == app["id"]     # delay 0: no lag at all
    tenant.faults.configure({"replication_delay": 60})
    tenant.fails(404, "GET", "/applications/%s" % app["id"])                        # younger than the new delay
    assert tenant.ok("GET", "/applications/%s" % tenant.directory.automation_app["id"])   # seeded objects are old
    tenant.clock.advance(60)
    assert tenant.ok("GET", "/applications/%s" % app["id"])["id"] == app["id"]
