"""Owners as entra_app reads and writes them: expanded with the app and its service principal (also on a filtered collection),
owners resolved with in-filters, a reference added twice or removed when absent answered as Entra ID does."""
from __future__ import annotations

import pytest

from .entra_helpers import Tenant

REF = "https://graph.microsoft.com/v1.0/directoryObjects/%s"


@pytest.fixture(name="tenant")
def fixture_tenant(tmp_path):
    return Tenant(tmp_path)


def test_owners_come_expanded_with_a_filtered_app_and_its_service_principal(tenant):
    app, sp = tenant.new_app_with_sp("Owned app")
    adele = tenant.user("AdeleV")
    tenant.ok("POST", "/applications/%s/owners/$ref" % app["id"], {"@odata.id": REF % adele["id"]}, status=204)
    tenant.ok("POST", "/servicePrincipals/%s/owners/$ref" % sp["id"], {"@odata.id": REF % tenant.automation_sp["id"]}, status=204)
    apps = tenant.ok("GET", "/applications", query={"$filter": "displayName eq 'Owned app'", "$select": "id,appId", "$expand": "owners"})["value"]
    assert [(owner["@odata.type"], owner["userPrincipalName"]) for owner in apps[0]["owners"]] == [("#microsoft.graph.user", adele["userPrincipalName"])]
    sps = tenant.ok("GET", "/servicePrincipals(appId='%s')" % app["appId"], query={"$select": "id", "$expand": "owners"})
    assert [(owner["@odata.type"], owner["appId"]) for owner in sps["owners"]] == [("#microsoft.graph.servicePrincipal", tenant.automation_sp["appId"])]


def test_owners_to_resolve_are_found_with_in_filters(tenant):
    adele, alex = tenant.user("AdeleV"), tenant.user("AlexW")
    upns = "'%s','%s'" % (adele["userPrincipalName"].upper(), "nobody@contoso.example")
    found = tenant.ok("GET", "/users", query={"$filter": "userPrincipalName in (%s)" % upns, "$select": "id,userPrincipalName"})["value"]
    assert [user["id"] for user in found] == [adele["id"]]
    found = tenant.ok("GET", "/users", query={"$filter": "id in ('%s')" % alex["id"], "$select": "id,userPrincipalName"})["value"]
    assert [user["id"] for user in found] == [alex["id"]]
    automation = tenant.automation_sp["appId"]
    found = tenant.ok("GET", "/servicePrincipals", query={"$filter": "appId in ('%s')" % automation, "$select": "id,appId,displayName"})["value"]
    assert [sp["id"] for sp in found] == [tenant.automation_sp["id"]]


def test_an_owner_added_twice_or_removed_when_absent(tenant):
    sp = tenant.new_app_with_sp()[1]
    adele = tenant.user("AdeleV")["id"]
    tenant.ok("POST", "/servicePrincipals/%s/owners/$ref" % sp["id"], {"@odata.id": REF % adele}, status=204)
    error = tenant.fails(400, "POST", "/servicePrincipals/%s/owners/$ref" % sp["id"], {"@odata.id": REF % adele})
    assert error["code"] == "Request_BadRequest"
    assert error["message"] == "One or more added object references already exist for the following modified properties: 'owners'."
    tenant.ok("DELETE", "/servicePrincipals/%s/owners/%s/$ref" % (sp["id"], adele))
    error = tenant.fails(404, "DELETE", "/servicePrincipals/%s/owners/%s/$ref" % (sp["id"], adele))
    assert error["code"] == "Request_ResourceNotFound"
