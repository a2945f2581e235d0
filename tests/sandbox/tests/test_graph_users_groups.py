"""Users (create rules, default properties, UPN lookups, soft delete), groups and members, domains and organization."""
from __future__ import annotations

import pytest

from .entra_helpers import Tenant, new_user_body

DEFAULT_PROPERTIES = ["@odata.context", "businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone", "officeLocation",
                      "preferredLanguage", "surname", "userPrincipalName", "id"]


@pytest.fixture(name="tenant")
def fixture_tenant(tmp_path):
    return Tenant(tmp_path)


def test_create_user_answers_201_with_the_default_properties(tenant):
    response = tenant.call("POST", "/users", new_user_body(givenName="Jane", usageLocation="US"))
    assert response.status == 201
    user = response.body
    assert list(user) == DEFAULT_PROPERTIES
    assert user["userPrincipalName"] == "jdoe@contoso.example" and user["givenName"] == "Jane"
    full = tenant.ok("GET", "/users/%s" % user["id"], query={"$select": "accountEnabled,mailNickname,usageLocation,passwordProfile"})
    assert (full["accountEnabled"], full["mailNickname"], full["usageLocation"], full["passwordProfile"]) == (True, "jdoe", "US", None)


@pytest.mark.parametrize("missing", ["accountEnabled", "displayName", "mailNickname", "userPrincipalName"])
def test_the_required_fields(tenant, missing):
    body = new_user_body()
    del body[missing]
    error = tenant.fails(400, "POST", "/users", body)
    assert error["message"] == "Invalid value specified for property '%s' of resource 'User'." % missing


def test_password_is_required(tenant):
    body = new_user_body()
    del body["passwordProfile"]
    assert tenant.fails(400, "POST", "/users", body)["message"] == "A password must be specified to create a new user."


def test_upn_domain_must_be_verified(tenant):
    error = tenant.fails(400, "POST", "/users", new_user_body("jdoe@fabrikam.example"))
    assert error["message"] == ("The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names "
                                "in your organization.")
    tenant.ok("POST", "/users", new_user_body("jdoe@CONTOSO.onmicrosoft.com"))


@pytest.mark.parametrize("upn", ["jdöe@contoso.example", "j doe@contoso.example", "jdoe", "j@doe@contoso.example", ".jdoe@contoso.example",
                                 "j..doe@contoso.example", "@contoso.example", "j(doe)@contoso.example", "j%doe@contoso.example",
                                 "j&doe@contoso.example", "j*doe@contoso.example", "j+doe@contoso.example", "j/doe@contoso.example",
                                 "j=doe@contoso.example", "j?doe@contoso.example", "j{doe}@contoso.example", "j|doe@contoso.example"])
def test_upn_characters(tenant, upn):
    assert tenant.fails(400, "POST", "/users", new_user_body(upn, mailNickname="jdoe"))["message"] == "Property userPrincipalName is invalid."


def test_upn_allowed_symbols(tenant):
    tenant.ok("POST", "/users", new_user_body("o'neil.j-d_e!#^~@contoso.example", mailNickname="oneil"))
    # real Graph (recorded): a local part that starts with $ and holds # is accepted, and the user is addressed by that UPN
    user = tenant.ok("POST", "/users", new_user_body("$azure-cli-test-user#000001@contoso.example", mailNickname="cliuser"))
    assert tenant.ok("GET", "/users('$azure-cli-test-user#000001@contoso.example')")["id"] == user["id"]


@pytest.mark.parametrize("password, ok", [
    ("Xw7!kq2Lp", True),
    ("abcdefG1", True),          # lower, upper, digit
    ("abcdef1!", True),          # lower, digit, symbol
    ("abcdefgh", False),         # one class
    ("abcdefg1", False),         # two classes
    ("Ab1!", False),             # too short
    ("Ab1!" * 65, False),        # 260 characters
    ("Äbcdefg1!", False),        # not ASCII
])
def test_password_complexity(tenant, password, ok):
    body = new_user_body(passwordProfile={"password": password, "forceChangePasswordNextSignIn": False})
    if ok:
        tenant.ok("POST", "/users", body)
    else:
        error = tenant.fails(400, "POST", "/users", body)
        assert error["message"] == ("The specified password does not comply with password complexity requirements. Please provide a different "
                                    "password.")


def test_disable_strong_password_policy_relaxes_the_classes(tenant):
    tenant.ok("POST", "/users", new_user_body(passwordPolicies="DisableStrongPassword",
                                              passwordProfile={"password": "abcdefgh", "forceChangePasswordNextSignIn": False}))
    tenant.fails(400, "POST", "/users", new_user_body("other@contoso.example", passwordPolicies="Whatever"))


def test_upn_conflict_with_a_user_but_not_with_a_soft_deleted_one(tenant):
    user = tenant.ok("POST", "/users", new_user_body())
    error = tenant.fails(400, "POST", "/users", new_user_body("JDOE@contoso.example"))
    assert error["code"] == "Request_BadRequest"
    assert error["message"] == "Another object with the same value for property userPrincipalName already exists."
    assert error["details"][0]["code"] == "ObjectConflict" and error["details"][0]["target"] == "userPrincipalName"
    tenant.ok("DELETE", "/users/%s" % user["id"])
    tenant.fails(404, "GET", "/users/jdoe@contoso.example")
    # Entra ID renames a deleted user to <object id without hyphens><UPN>: the name is free for a new user at once
    deleted = tenant.ok("GET", "/directory/deletedItems/microsoft.graph.user")["value"]
    assert [(u["id"], u["userPrincipalName"]) for u in deleted] == [(user["id"], user["id"].replace("-", "") + "jdoe@contoso.example")]
    assert tenant.ok("GET", "/directory/deletedItems/microsoft.graph.user", query={"$filter": "userPrincipalName eq 'jdoe@contoso.example'"})["value"] == []
    again = tenant.ok("POST", "/users", new_user_body())
    assert again["id"] != user["id"] and again["userPrincipalName"] == "jdoe@contoso.example"
    # restoring the old user needs its name: taken now
    assert tenant.fails(400, "POST", "/directory/deletedItems/%s/restore" % user["id"])["details"][0]["code"] == "ObjectConflict"
    tenant.ok("DELETE", "/users/%s" % again["id"])
    restored = tenant.ok("POST", "/directory/deletedItems/%s/restore" % user["id"], status=200)
    assert restored["userPrincipalName"] == "jdoe@contoso.example"
    assert tenant.ok("GET", "/users/jdoe@contoso.example")["id"] == user["id"]


def test_other_field_rules(tenant):
    tenant.fails(400, "POST", "/users", new_user_body(mailNickname="j doe"))
    tenant.fails(400, "POST", "/users", new_user_body(usageLocation="USA"))
    tenant.fails(400, "POST", "/users", new_user_body(accountEnabled="true"))
    tenant.fails(400, "POST", "/users", new_user_body(id="00000000-0000-0000-0000-000000000001"))
    tenant.fails(400, "POST", "/users", new_user_body(favouriteColour="blue"))


def test_get_by_id_upn_and_alternate_key(tenant):
    adele = tenant.user("AdeleV")
    for path in ("/users/%s" % adele["id"], "/users/AdeleV@contoso.onmicrosoft.com", "/users/adelev@CONTOSO.onmicrosoft.com",
                 "/users(userPrincipalName='AdeleV@contoso.onmicrosoft.com')", "/users('AdeleV@contoso.onmicrosoft.com')"):
        body = tenant.ok("GET", path)
        assert list(body) == DEFAULT_PROPERTIES and body["id"] == adele["id"]
    tenant.fails(404, "GET", "/users/nobody@contoso.example")
    tenant.fails(404, "GET", "/users/00000000-0000-0000-0000-000000000001")


def test_list_filters(tenant):
    found = tenant.ok("GET", "/users", query={"$filter": "userPrincipalName eq 'AlexW@contoso.onmicrosoft.com'"})["value"]
    assert [u["displayName"] for u in found] == ["Alex Wilber"]
    assert tenant.ok("GET", "/users", query={"$filter": "accountEnabled eq true", "$select": "id"})["value"]
    found = tenant.ok("GET", "/users", query={"$filter": "startswith(displayName,'a')", "$orderby": "displayName"})["value"]
    assert [u["displayName"] for u in found] == ["Adele Vance", "Alex Wilber"]
    tenant.fails(400, "GET", "/users", query={"$filter": "accountEnabled eq 'true'"})
    tenant.fails(400, "GET", "/users", query={"$filter": "endswith(mail,'contoso.onmicrosoft.com')"})
    found = tenant.ok("GET", "/users", query={"$filter": "endswith(mail,'contoso.onmicrosoft.com')", "$count": "true"},
                      headers={"ConsistencyLevel": "eventual"})
    assert found["@odata.count"] == 4
    assert tenant.fails(400, "GET", "/users/$count")["message"] == "$count is not currently supported."
    assert tenant.call("GET", "/users/$count", headers={"ConsistencyLevel": "eventual"}).body == b"4"
    found = tenant.ok("GET", "/users", query={"$search": '"displayName:meg"'}, headers={"ConsistencyLevel": "eventual"})["value"]
    assert [u["displayName"] for u in found] == ["Megan Bowen"]


def test_in_filters_take_at_most_fifteen_values(tenant):
    names = ["u%d@contoso.example" % i for i in range(15)] + ["AdeleV@contoso.onmicrosoft.com"]
    in_filter = "userPrincipalName in (%s)" % ",".join("'%s'" % n for n in names[-15:])
    assert [u["displayName"] for u in tenant.ok("GET", "/users", query={"$filter": in_filter})["value"]] == ["Adele Vance"]
    error = tenant.fails(400, "GET", "/users", query={"$filter": "userPrincipalName in (%s)" % ",".join("'%s'" % n for n in names)})
    assert error["code"] == "Request_UnsupportedQuery"
    assert error["message"] == "Too many child clauses specified in search filter expression containing 'OR' operators: 16. Max allowed: 15."
    or_filter = " or ".join("userPrincipalName eq '%s'" % n for n in names)
    assert "16" in tenant.fails(400, "GET", "/users", query={"$filter": or_filter})["message"]


def test_patch_and_delete_user(tenant):
    user = tenant.ok("POST", "/users", new_user_body())
    tenant.ok("PATCH", "/users/%s" % user["id"], {"displayName": "Jane Q. Doe", "accountEnabled": False, "jobTitle": "Engineer"})
    body = tenant.ok("GET", "/users/jdoe@contoso.example", query={"$select": "displayName,accountEnabled,jobTitle"})
    assert body == dict(body, displayName="Jane Q. Doe", accountEnabled=False, jobTitle="Engineer")
    tenant.ok("PATCH", "/users/jdoe@contoso.example", {"userPrincipalName": "jane@contoso.example"})
    tenant.ok("GET", "/users/jane@contoso.example")
    tenant.fails(400, "PATCH", "/users/%s" % user["id"], {"userPrincipalName": "AdeleV@contoso.onmicrosoft.com"})
    tenant.fails(400, "PATCH", "/users/%s" % user["id"], {"userPrincipalName": "jane@fabrikam.example"})
    tenant.fails(400, "PATCH", "/users/%s" % user["id"], {"createdDateTime": "2020-01-01T00:00:00Z"})
    tenant.ok("DELETE", "/users/jane@contoso.example")
    tenant.fails(404, "DELETE", "/users/jane@contoso.example")


def test_member_of(tenant):
    groups = tenant.ok("GET", "/users/%s/memberOf" % tenant.user("LeeG")["id"])["value"]
    assert [(g["@odata.type"], g["displayName"]) for g in groups] == [("#microsoft.graph.group", "Contractors")]


# ---------------------------------------------------------------------------------------------- groups

def test_groups_lookup_members_and_refs(tenant):
    group = tenant.ok("GET", "/groups", query={"$filter": "displayName eq 'SmartTrace Users'"})["value"][0]
    members = tenant.ok("GET", "/groups/%s/members" % group["id"], query={"$select": "id,displayName"})["value"]
    assert [m["displayName"] for m in members] == ["Adele Vance", "Alex Wilber", "Megan Bowen"]
    lee = tenant.user("LeeG")["id"]
    ref = {"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/%s" % lee}
    tenant.fails(403, "POST", "/groups/%s/members/$ref" % group["id"], ref)
    token = tenant.set_roles(["Group.ReadWrite.All"])
    tenant.ok("POST", "/groups/%s/members/$ref" % group["id"], ref, token=token, status=204)
    error = tenant.fails(400, "POST", "/groups/%s/members/$ref" % group["id"], ref, token=token)
    assert error["message"] == "One or more added object references already exist for the following modified properties: 'members'."
    assert len(tenant.ok("GET", "/groups/%s/members/$ref" % group["id"], token=token)["value"]) == 4
    tenant.ok("DELETE", "/groups/%s/members/%s/$ref" % (group["id"], lee), token=token)
    tenant.fails(404, "DELETE", "/groups/%s/members/%s/$ref" % (group["id"], lee), token=token)


def test_create_update_delete_group(tenant):
    body = {"displayName": "SmartTrace Admins", "mailEnabled": False, "mailNickname": "smarttraceadmins", "securityEnabled": True}
    tenant.fails(403, "POST", "/groups", body)
    token = tenant.set_roles(["Group.ReadWrite.All"])
    group = tenant.ok("POST", "/groups", body, token=token)
    assert group["securityEnabled"] is True and group["groupTypes"] == []
    tenant.fails(400, "POST", "/groups", dict(body, mailEnabled=True), token=token)
    tenant.fails(400, "POST", "/groups", {"displayName": "x"}, token=token)
    tenant.ok("PATCH", "/groups/%s" % group["id"], {"description": "Admins"}, token=token)
    assert tenant.ok("GET", "/groups/%s" % group["id"], token=token)["description"] == "Admins"
    tenant.ok("DELETE", "/groups/%s" % group["id"], token=token)
    tenant.fails(404, "GET", "/groups/%s" % group["id"], token=token)


def test_domains_and_organization(tenant):
    assert tenant.ok("GET", "/domains/contoso.example")["isVerified"] is True
    assert tenant.ok("GET", "/domains/fabrikam.example")["isVerified"] is False
    tenant.fails(404, "GET", "/domains/nowhere.example")
    org = tenant.ok("GET", "/organization/%s" % tenant.fields["tenant_id"], query={"$select": "id,displayName,verifiedDomains"})
    assert org["displayName"] == "Contoso" and len(org["verifiedDomains"]) == 2
    tenant.fails(404, "GET", "/organization/00000000-0000-0000-0000-000000000001")
    tenant.fails(501, "POST", "/domains", {"id": "new.example"})
