# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""_tenant: token claims, batch lookups of groups and users, organization parsing."""

import base64
import datetime
import json

import pytest

from ansible_collections.smarttrace.sso.plugins.module_utils._common.errors import GraphError
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.tenant import (
    adoptable_apps_result,
    app_request,
    app_result,
    assignments_result,
    candidate_apps_request,
    deleted_app_request,
    deleted_apps_result,
    mark_other_assignments,
    service_principal_id_result,
    service_principal_request,
    user_assignments_request,
    group_request,
    group_result,
    identity_from_claims,
    organization_result,
    token_claims,
    user_request,
    user_result,
)

GROUP_ID = "5419eefc-d5e7-4e3f-a736-17d94d7bd307"


def jwt(claims):
    def part(data):
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
    return "%s.%s.signature" % (part({"alg": "RS256"}), part(claims))


def test_application_token_lists_roles_sorted():
    claims = token_claims(jwt({"roles": ["User.ReadWrite.All", "Application.ReadWrite.OwnedBy"], "appid": "a", "oid": "o", "idtyp": "app"}))
    identity = identity_from_claims(claims)
    assert identity["kind"] == "application"
    assert identity["permissions"] == ["Application.ReadWrite.OwnedBy", "User.ReadWrite.All"]
    assert (identity["app_id"], identity["object_id"]) == ("a", "o")


def test_delegated_token_lists_scopes():
    identity = identity_from_claims(token_claims(jwt({"scp": "User.Read Application.ReadWrite.All", "oid": "u"})))
    assert identity["kind"] == "delegated"
    assert identity["permissions"] == ["Application.ReadWrite.All", "User.Read"]


def test_app_token_without_roles_has_no_permissions():
    assert identity_from_claims(token_claims(jwt({"idtyp": "app", "oid": "o"})))["permissions"] == []


@pytest.mark.parametrize("token", ["opaque", "a.b.c", "a.%s.c" % base64.urlsafe_b64encode(b"[1]").decode(), "", None])
def test_opaque_or_broken_tokens_are_unknown(token):
    assert identity_from_claims(token_claims(token))["kind"] == "unknown"


def test_group_by_name_is_an_escaped_filter_and_by_id_a_direct_read():
    assert group_request(0, "O'Brien Team")["url"] == "/groups?$filter=displayName%20eq%20'O''Brien%20Team'&$select=id,displayName"
    assert group_request(1, GROUP_ID.upper())["url"] == "/groups/%s?$select=id,displayName" % GROUP_ID
    assert user_request(2, "B.Simon@contoso.com")["url"].startswith("/users/B.Simon@contoso.com?$select=")


def test_group_results():
    assert group_result("G", {"value": [{"id": GROUP_ID, "displayName": "G"}]})["id"] == GROUP_ID
    missing = group_result("G", {"value": []})
    assert (missing["found"], missing["matches"]) == (False, 0)
    ambiguous = group_result("G", {"value": [{"id": "1"}, {"id": "2"}]})
    assert (ambiguous["found"], ambiguous["ids"]) == (False, ["1", "2"])
    assert group_result(GROUP_ID, {"id": GROUP_ID, "displayName": "G"})["found"]
    assert not group_result(GROUP_ID, GraphError("gone", status=404))["found"]
    with pytest.raises(GraphError):
        group_result("G", GraphError("denied", status=403))


def test_user_results():
    assert user_result("u", {"id": "1", "userPrincipalName": "u@x", "accountEnabled": True})["found"]
    assert not user_result("u", GraphError("Resource 'u' does not exist", status=404))["found"]
    with pytest.raises(GraphError):
        user_result("u", GraphError("throttled", status=429))


def test_organization_result_takes_default_domain():
    body = {"value": [{"id": "t", "displayName": "Contoso", "verifiedDomains": [
        {"name": "contoso.onmicrosoft.com", "isDefault": False}, {"name": "contoso.com", "isDefault": True}]}]}
    assert organization_result(body) == ("t", "Contoso", ["contoso.onmicrosoft.com", "contoso.com"], "contoso.com")
    with pytest.raises(GraphError):
        organization_result(GraphError("denied", status=403))


def test_app_by_unique_name_is_one_escaped_read():
    assert app_request("smarttrace-sso-o'neil")["url"].startswith("/applications(uniqueName='smarttrace-sso-o''neil')?$select=id,appId,")


def test_app_result_describes_roles_and_secrets_without_values():
    now = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    body = {"id": "obj", "appId": "app", "displayName": "SmartTrace", "appRoles": [{"value": "User", "displayName": "User", "isEnabled": True, "id": "r",
                                                                                   "allowedMemberTypes": ["User"]}],
            "passwordCredentials": [
                {"keyId": "k2", "displayName": "SmartTrace SSO", "hint": "abc", "endDateTime": "2026-03-02T00:00:00Z", "secretText": None},
                {"keyId": "k1", "displayName": "other", "hint": "xyz", "endDateTime": "2026-01-11T00:00:00Z"}]}
    app = app_result("u", body, now)
    assert (app["found"], app["app_id"], app["object_id"]) == (True, "app", "obj")
    assert app["app_roles"] == [{"value": "User", "display_name": "User", "enabled": True, "id": "r", "allowed_member_types": ["User"]}]
    assert [(secret["key_id"], secret["days_left"]) for secret in app["secrets"]] == [("k1", 10), ("k2", 60)]
    assert all("secretText" not in secret and "secret" not in secret for secret in app["secrets"])
    assert not app_result("u", GraphError("missing", status=404), now)["found"]
    with pytest.raises(GraphError):
        app_result("u", GraphError("denied", status=403), now)


def test_user_details_read_the_mark_and_assignments_by_name():
    assert user_request(0, "B.Simon@contoso.example", details=True)["url"] == (
        "/users/B.Simon@contoso.example?$select=id,userPrincipalName,displayName,accountEnabled,employeeType")
    assert user_assignments_request(2, "B.Simon@contoso.example") == {
        "id": "user-assignments-2", "method": "GET",
        "url": "/users/B.Simon@contoso.example/appRoleAssignments?$select=id,resourceId,resourceDisplayName,appRoleId"}
    found = user_result("b.simon@contoso.example", {"id": "u1", "userPrincipalName": "B.Simon@contoso.example", "employeeType": "smarttrace-sso:acme"},
                        details=True)
    assert (found["employee_type"], found["assignments"]) == ("smarttrace-sso:acme", [])
    missing = user_result("x@contoso.example", GraphError("not found", status=404), details=True)
    assert (missing["found"], missing["employee_type"], missing["assignments"]) == (False, None, [])


def test_assignments_follow_next_links_and_a_missing_user_has_none():
    pages = []
    answer = {"value": [{"id": "a1", "resourceId": "SP-1", "resourceDisplayName": "SmartTrace", "appRoleId": "r"}],
              "@odata.nextLink": "https://graph.example/v1.0/next"}
    items = assignments_result(answer, lambda url: pages.append(url) or [{"id": "a2", "resourceId": "sp-2", "resourceDisplayName": "Other"}])
    assert pages == ["https://graph.example/v1.0/next"]
    assert [(item["id"], item["resource_id"], item["resource_display_name"]) for item in items] == [
        ("a1", "sp-1", "SmartTrace"), ("a2", "sp-2", "Other")]
    assert assignments_result(GraphError("not found", status=404), None) == []
    with pytest.raises(GraphError):
        assignments_result(GraphError("denied", status=403), None)


def test_assignments_elsewhere_are_those_to_other_resources():
    users = [{"assignments": [{"resource_id": "sp-own"}, {"resource_id": "sp-other"}]}, {"assignments": [{"resource_id": "sp-own"}]}]
    mark_other_assignments(users, "SP-OWN")
    assert [user["assigned_elsewhere"] for user in users] == [[{"resource_id": "sp-other"}], []]
    mark_other_assignments(users, None)   # the app has no service principal: every assignment is to another app
    assert [len(user["assigned_elsewhere"]) for user in users] == [2, 1]


def test_service_principal_and_conflict_reads():
    assert service_principal_request("ABC")["url"] == "/servicePrincipals(appId='abc')?$select=id,appId"
    assert service_principal_id_result({"id": "sp1"}) == "sp1"
    assert service_principal_id_result(GraphError("not found", status=404)) is None
    assert deleted_app_request()["url"] == (
        "/directory/deletedItems/microsoft.graph.application?$select=id,appId,displayName,uniqueName,deletedDateTime&$top=999")
    assert candidate_apps_request("SmartTrace")["url"] == (
        "/applications?$filter=displayName%20eq%20'SmartTrace'&$select=id,appId,displayName,uniqueName")
    deleted = {"value": [{"id": "d1", "appId": "a1", "displayName": "SmartTrace", "uniqueName": "SmartTrace-SSO-acme",
                          "deletedDateTime": "2026-01-01T00:00:00Z"},
                         {"id": "d2", "appId": "a2", "displayName": "SmartTrace", "uniqueName": "smarttrace-sso-globex"}],
               "@odata.nextLink": "https://graph.example/v1.0/next"}
    later = [{"id": "d3", "appId": "a3", "displayName": "renamed", "uniqueName": "smarttrace-sso-acme", "deletedDateTime": "2026-02-01T00:00:00Z"}]
    assert deleted_apps_result(deleted, "smarttrace-sso-acme", lambda url: later) == [
        {"id": "d1", "app_id": "a1", "display_name": "SmartTrace", "deleted": "2026-01-01T00:00:00Z"},
        {"id": "d3", "app_id": "a3", "display_name": "renamed", "deleted": "2026-02-01T00:00:00Z"}]
    assert adoptable_apps_result({"value": [{"id": "1", "appId": "a1", "displayName": "SmartTrace", "uniqueName": "smarttrace-sso-globex"},
                                            {"id": "2", "appId": "a2", "displayName": "SmartTrace", "uniqueName": None}]}) == [
        {"id": "2", "app_id": "a2", "display_name": "SmartTrace"}]


class _Graph:
    """Records the second round's requests: one alone (get), several in one $batch."""

    def __init__(self, answers):
        self.answers, self.rounds = answers, []

    def get(self, url):
        self.rounds.append([url])
        return self.answers[url.split("?")[0]]

    def batch(self, requests):
        self.rounds.append([request["url"] for request in requests])
        return [self.answers[request["url"].split("?")[0]] for request in requests]

    def list_all(self, url):
        self.rounds.append([url])
        return []


class _Module:
    def __init__(self, answers):
        self.graph = _Graph(answers)


def _app(found):
    return {"found": found, "app_id": "A1" if found else None}


def test_second_round_reads_the_service_principal_only_when_a_user_has_assignments():
    from ansible_collections.smarttrace.sso.plugins.module_utils._entra.tenant_reads import second_round
    module = _Module({"/servicePrincipals(appId='a1')": {"id": "sp-own"}})
    users = [{"assignments": [{"resource_id": "sp-own"}, {"resource_id": "sp-other"}]}, {"assignments": []}]
    app = _app(True)
    second_round(module.graph, "u", None, app, users)
    assert module.graph.rounds == [["/servicePrincipals(appId='a1')?$select=id,appId"]]
    assert app["service_principal_id"] == "sp-own"
    assert [user["assigned_elsewhere"] for user in users] == [[{"resource_id": "sp-other"}], []]

    idle = _Module({})
    quiet_users = [{"assignments": []}]
    second_round(idle.graph, "u", "SmartTrace", _app(True), quiet_users)   # the app exists: no conflict reads either
    assert idle.graph.rounds == [] and quiet_users[0]["assigned_elsewhere"] == []


def test_second_round_reads_conflicts_only_for_a_missing_app_in_one_batch():
    from ansible_collections.smarttrace.sso.plugins.module_utils._entra.tenant_reads import second_round
    deleted = [{"id": "d1", "appId": "a9", "displayName": "SmartTrace", "uniqueName": "smarttrace-sso-acme"},
               {"id": "d2", "appId": "a8", "displayName": "SmartTrace", "uniqueName": "smarttrace-sso-globex"}]
    module = _Module({"/directory/deletedItems/microsoft.graph.application": {"value": deleted},
                      "/applications": {"value": [{"id": "x", "appId": "a2", "displayName": "SmartTrace", "uniqueName": None}]}})
    app = _app(False)
    second_round(module.graph, "smarttrace-sso-acme", "SmartTrace", app, [])
    assert len(module.graph.rounds) == 1 and len(module.graph.rounds[0]) == 2
    assert [holder["id"] for holder in app["deleted_holders"]] == ["d1"]
    assert [candidate["app_id"] for candidate in app["adoptable"]] == ["a2"]

    offboarding = _Module({})
    second_round(offboarding.graph, "smarttrace-sso-acme", None, _app(False), [])   # no display name given: nothing to check
    assert offboarding.graph.rounds == []
