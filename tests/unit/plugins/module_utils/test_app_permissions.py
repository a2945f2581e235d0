# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""entra_app_permissions (_entra/app_permissions.py): what is granted, requested and removed, and the requests it takes."""

import copy

import pytest

from ansible_collections.smarttrace.sso.plugins.module_utils._entra.app_permissions import (
    MICROSOFT_GRAPH,
    AppPermissions,
    PermissionsOptionError,
    check_options,
    desired_required_access,
    ensure,
)
from ansible_collections.smarttrace.sso.plugins.module_utils._common.errors import GraphError
from ansible_collections.smarttrace.sso.plugins.module_utils._common.identifiers import KNOWN_AFTER_RUN

APP_ID = "6d316b4a-7f6b-4793-b318-ad4c1db2b452"
GRAPH_SP = "0b2b6a3c-0000-4000-8000-00000000aaaa"
ROLES = {"Directory.Read.All": "7ab1d382-f21e-4acd-a863-ba3e13f7da61", "User.ReadWrite.All": "741f803b-c850-494e-b5df-cde7c675a1ca",
         "Group.ReadWrite.All": "62a82d76-70ea-41e2-9197-370581804d09", "User.Read": "e1fe6dd8-ba31-4d61-89e7-88639da4683d"}
OTHER_API = {"resourceAppId": "00000002-0000-0ff1-ce00-000000000000", "resourceAccess": [{"id": "abc", "type": "Role"}]}


def api_sp():
    roles = [{"id": role_id, "value": name, "allowedMemberTypes": ["User"] if name == "User.Read" else ["Application"], "isEnabled": True}
             for name, role_id in ROLES.items()]
    return {"id": GRAPH_SP, "appId": MICROSOFT_GRAPH, "displayName": "Microsoft Graph", "appRoles": roles}


class FakeGraph:
    """The reads and writes ``AppPermissions`` makes, recorded; 404 for what does not exist."""

    def __init__(self, app=None, sp=None, grants=()):
        self.app, self.sp, self.grants = app, sp, list(grants)
        self.calls = []

    def _answer(self, url):
        if url.startswith("/servicePrincipals(appId='%s')" % MICROSOFT_GRAPH):
            return api_sp()
        found = self.app if url.startswith("/applications") else self.sp
        return copy.deepcopy(found) if found is not None else GraphError("not found", status=404, code="Request_ResourceNotFound")

    def batch(self, requests_):
        self.calls.append(("BATCH", [request["url"] for request in requests_]))
        return [self._answer(request["url"]) for request in requests_]

    def get_or_none(self, path, params=None):
        self.calls.append(("GET", path))
        answer = self._answer(path)
        return None if isinstance(answer, GraphError) else answer

    def list_all(self, path, params=None):
        self.calls.append(("GET", path, params["$filter"]))
        return copy.deepcopy(self.grants)

    def patch(self, path, body, **kwargs):
        self.calls.append(("PATCH", path, body))

    def post(self, path, body, **kwargs):
        self.calls.append(("POST", path, body["appRoleId"]))

    def delete(self, path, missing_ok=False, **kwargs):
        self.calls.append(("DELETE", path))
        return True

    def writes(self):
        return [call for call in self.calls if call[0] in ("PATCH", "POST", "DELETE")]


def params(**kwargs):
    return dict(dict(app_id=APP_ID, api=MICROSOFT_GRAPH, permissions=["Directory.Read.All", "User.ReadWrite.All"], exclusive=True,
                     wait_timeout=0), **kwargs)


def app(*role_names, scopes=()):
    access = [{"id": ROLES[name], "type": "Role"} for name in role_names] + [{"id": ROLES[name], "type": "Scope"} for name in scopes]
    return {"id": "app-object", "appId": APP_ID, "requiredResourceAccess": [OTHER_API, {"resourceAppId": MICROSOFT_GRAPH, "resourceAccess": access}]}


def grant(name, assignment_id=None):
    return {"id": assignment_id or "assignment-" + name, "appRoleId": ROLES[name], "resourceId": GRAPH_SP}


SP = {"id": "sp-object", "appId": APP_ID}


def run(graph, check_mode=False, **kwargs):
    return ensure(AppPermissions(graph, MICROSOFT_GRAPH, kwargs.pop("app_id", APP_ID), wait_timeout=0, sleep=lambda s: None),
                  params(**kwargs), check_mode)


def test_a_new_app_is_granted_and_asks_for_exactly_the_permissions_in_two_reads():
    graph = FakeGraph(app={"id": "app-object", "appId": APP_ID, "requiredResourceAccess": []}, sp=SP)
    changed, before, after, result = run(graph)
    assert changed is True
    assert before == {"granted": [], "requested": []}
    assert after == {"granted": ["Directory.Read.All", "User.ReadWrite.All"], "requested": ["Directory.Read.All", "User.ReadWrite.All"]}
    reads = [call for call in graph.calls if call[0] in ("BATCH", "GET")]
    assert len(reads) == 2 and reads[1][2] == "resourceId eq %s" % GRAPH_SP
    patch = graph.writes()[0]
    assert patch[0] == "PATCH" and patch[2]["requiredResourceAccess"] == [{"resourceAppId": MICROSOFT_GRAPH, "resourceAccess": sorted(
        [{"id": ROLES["Directory.Read.All"], "type": "Role"}, {"id": ROLES["User.ReadWrite.All"], "type": "Role"}], key=lambda a: a["id"])}]
    assert [call[2] for call in graph.writes() if call[0] == "POST"] == [ROLES["Directory.Read.All"], ROLES["User.ReadWrite.All"]]
    assert result["added"] == ["Directory.Read.All", "User.ReadWrite.All"] and result["removed"] == []
    assert result["service_principal_id"] == "sp-object" and result["api_service_principal_id"] == GRAPH_SP


def test_what_holds_already_changes_nothing():
    graph = FakeGraph(app=app("Directory.Read.All", "User.ReadWrite.All"), sp=SP,
                      grants=[grant("Directory.Read.All"), grant("User.ReadWrite.All")])
    changed, before, after, _result = run(graph)
    assert changed is False and before == after and graph.writes() == []


def test_exclusive_removes_an_extra_grant_and_request_but_keeps_delegated_and_other_apis():
    graph = FakeGraph(app=app("Directory.Read.All", "User.ReadWrite.All", "Group.ReadWrite.All", scopes=["User.Read"]), sp=SP,
                      grants=[grant("Directory.Read.All"), grant("User.ReadWrite.All"), grant("Group.ReadWrite.All", "extra")])
    changed, before, after, result = run(graph)
    assert changed is True and result["removed"] == ["Group.ReadWrite.All"] and result["added"] == []
    assert "Group.ReadWrite.All" in before["granted"] and "Group.ReadWrite.All" not in after["granted"]
    writes = graph.writes()
    assert writes[-1] == ("DELETE", "/servicePrincipals/%s/appRoleAssignedTo/extra" % GRAPH_SP)
    required = writes[0][2]["requiredResourceAccess"]
    assert required[0] == OTHER_API
    assert {"id": ROLES["User.Read"], "type": "Scope"} in required[1]["resourceAccess"]
    assert {"id": ROLES["Group.ReadWrite.All"], "type": "Role"} not in required[1]["resourceAccess"]


def test_not_exclusive_keeps_extra_permissions():
    graph = FakeGraph(app=app("Directory.Read.All", "User.ReadWrite.All", "Group.ReadWrite.All"), sp=SP,
                      grants=[grant("Directory.Read.All"), grant("User.ReadWrite.All"), grant("Group.ReadWrite.All")])
    changed, _before, after, _result = run(graph, exclusive=False)
    assert changed is False and "Group.ReadWrite.All" in after["granted"] and graph.writes() == []


def test_check_mode_predicts_and_writes_nothing():
    graph = FakeGraph(app=app("Directory.Read.All"), sp=SP, grants=[grant("Group.ReadWrite.All")])
    changed, _before, after, result = run(graph, check_mode=True)
    assert changed is True and graph.writes() == []
    assert after["granted"] == ["Directory.Read.All", "User.ReadWrite.All"] and result["removed"] == ["Group.ReadWrite.All"]


def test_check_mode_placeholder_app_reads_only_the_api():
    graph = FakeGraph()
    changed, _before, after, result = run(graph, check_mode=True, app_id=KNOWN_AFTER_RUN)
    assert changed is True and graph.calls == [("BATCH", ["/servicePrincipals(appId='%s')" % MICROSOFT_GRAPH])]
    assert result["service_principal_id"] == KNOWN_AFTER_RUN and after["requested"] == ["Directory.Read.All", "User.ReadWrite.All"]


def test_an_unknown_or_delegated_permission_is_an_error_naming_the_option_before_any_write():
    graph = FakeGraph(app=app(), sp=SP)
    with pytest.raises(PermissionsOptionError, match=r"^permissions: Microsoft Graph offers no application permission "
                       r"Directory\.ReadAll \(did you mean Directory\.Read\.All\?\), User\.Read; .*not delegated ones$"):
        run(graph, permissions=["Directory.ReadAll", "User.Read"])
    assert graph.writes() == []


def test_an_app_without_service_principal_is_an_error_naming_entra_app():
    graph = FakeGraph(app=app())
    with pytest.raises(PermissionsOptionError, match="has no service principal .*entra_app creates it"):
        run(graph)
    assert graph.writes() == []


@pytest.mark.parametrize("bad, message", [
    (dict(app_id="my-app"), "^app_id 'my-app' is not an application"),
    (dict(app_id=KNOWN_AFTER_RUN), "^app_id '\\(known after the real run\\)' is not"),
    (dict(api="graph"), "^api 'graph' is not an application"),
    (dict(permissions=["Directory.Read.All", "Directory.Read.All"]), "^permissions names Directory.Read.All more than once"),
    (dict(permissions=[""]), "^permissions holds an empty name"),
])
def test_bad_options_are_refused_without_a_request(bad, message):
    with pytest.raises(PermissionsOptionError, match=message):
        check_options(params(**bad), check_mode=False)


def test_the_placeholder_is_accepted_in_check_mode_only():
    check_options(params(app_id=KNOWN_AFTER_RUN), check_mode=True)


def test_required_access_keeps_other_entries_and_drops_an_empty_api_entry():
    assert desired_required_access({"requiredResourceAccess": [OTHER_API]}, MICROSOFT_GRAPH, [], True) == [OTHER_API]
