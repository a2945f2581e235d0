# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""entra_app's owners without HTTP: validation, resolution, planning per list mode, the automation identity kept, the writes."""

import pytest

from ansible_collections.smarttrace.sso.plugins.module_utils._entra import app_owners as owners
from ansible_collections.smarttrace.sso.plugins.module_utils._entra import app_registration as reg
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.app_view import settings
from ansible_collections.smarttrace.sso.plugins.module_utils._common.errors import GraphError

ALICE = {"id": "a11ce000-0000-0000-0000-000000000001", "kind": "user", "name": "alice@contoso.com"}
BOB = {"id": "b0b00000-0000-0000-0000-000000000002", "kind": "user", "name": "bob@contoso.com"}
CI = {"id": "c1c10000-0000-0000-0000-000000000003", "kind": "servicePrincipal", "name": "0c1c1c1c-0000-0000-0000-0000000000aa"}
AUTOMATION = {"id": "a0a00000-0000-0000-0000-000000000004", "kind": "servicePrincipal", "name": "0a0a0a0a-0000-0000-0000-0000000000bb"}


@pytest.mark.parametrize("value, fragment", [
    ("alice", "neither a user principal name nor a GUID"),
    ("al ice@contoso.com", "not a user principal name"),
    ("alice@@contoso.com", "exactly one @"),
])
def test_bad_owner_names_the_option_and_the_value(value, fragment):
    base = dict(display_name="SmartTrace", app_id=None, state="present", sign_in_audience="AzureADMyOrg", owners=["bob@contoso.com", value])
    with pytest.raises(reg.OptionError) as error:
        reg.validate(base)
    assert str(error.value).startswith("owners: ") and fragment in str(error.value) and repr(value) in str(error.value)


def test_good_owner_names():
    assert owners.owner_problem("alice@contoso.com") is None
    assert owners.owner_problem(ALICE["id"].upper()) is None


def test_resolution_is_one_filter_per_kind_and_15_values():
    upns = ["user%d@contoso.com" % number for number in range(16)]
    requests = owners.resolution_requests(upns + [CI["name"], "Alice@Contoso.com"])
    paths = [(path, query["$filter"].split(" in ")[0]) for path, query in requests]
    assert paths == [("/users", "userPrincipalName"), ("/users", "userPrincipalName"), ("/users", "id"), ("/servicePrincipals", "appId")]
    assert requests[0][1]["$filter"].count(",") == 14 and "'alice@contoso.com'" in requests[0][1]["$filter"]
    assert owners.resolution_requests([]) == []


def test_resolve_maps_upns_ids_and_app_ids_and_lists_unknown_values():
    answers = [{"value": [{"id": ALICE["id"].upper(), "userPrincipalName": "Alice@contoso.com"}]},
               {"value": [{"id": BOB["id"], "userPrincipalName": "bob@contoso.com"}]},
               {"value": [{"id": CI["id"], "appId": CI["name"], "displayName": "CI"}]}]
    found, unknown = owners.resolve(["ALICE@contoso.com", BOB["id"], CI["name"], "carol@contoso.com", "alice@contoso.com"], answers)
    assert [item["id"] for item in found] == [ALICE["id"], BOB["id"], CI["id"]]
    assert [item["kind"] for item in found] == ["user", "user", "servicePrincipal"]
    assert unknown == ["carol@contoso.com"]


@pytest.mark.parametrize("mode, add, remove", [
    ("exact", [BOB], [CI]),          # the automation identity stays
    ("append", [BOB], []),
    ("remove", [], [ALICE]),
])
def test_plan_per_list_mode(mode, add, remove):
    wanted = [ALICE, BOB]
    current = [ALICE, CI, AUTOMATION]
    assert owners.plan_owners(mode, wanted, current, frozenset([AUTOMATION["id"]])) == (add, remove)


def test_nothing_to_do_when_the_owners_are_there():
    assert owners.plan_owners("exact", [ALICE, AUTOMATION], [AUTOMATION, ALICE], frozenset()) == ([], [])


def current_with(app_owners, sp_owners, wanted, keep=()):
    current = reg.Current(app={"id": "app-object", "appId": "app"}, sp={"id": "sp-object", "appId": "app"})
    current.owners, current.sp_owners, current.wanted_owners, current.keep_owner_ids = app_owners, sp_owners, wanted, frozenset(keep)
    return current


def test_plan_covers_the_app_and_its_service_principal_and_the_view_shows_both():
    params = dict(list_mode="exact")
    result = reg.Plan()
    current = current_with([ALICE, AUTOMATION], [], [ALICE, CI], keep=[AUTOMATION["id"]])
    reg.plan_owners(params, result, current)
    assert result.owners_add == [CI] and result.owners_remove == []
    assert result.sp_owners_add == [ALICE, CI] and result.changes
    view = settings(current.app, current.sp, owners=result.owners, sp_owners=result.sp_owners)
    assert view["owners"] == [AUTOMATION["name"], CI["name"], "alice@contoso.com"]
    assert view["service_principal_owners"] == [CI["name"], "alice@contoso.com"]
    assert "owners" not in settings(current.app, current.sp)


def test_new_objects_have_no_owners_yet():
    result = reg.Plan()
    current = current_with([], [], [ALICE])
    current.app = current.sp = None
    reg.plan_owners(dict(list_mode="exact"), result, current)
    assert result.owners_add == [ALICE] and result.sp_owners_add == [ALICE]


def test_an_expanded_list_of_20_is_read_again_whole():
    class Graph:
        calls = []

        def list_all(self, path, params=None):
            self.calls.append(path)
            return [{"@odata.type": owners.USER_TYPE, "id": "u%d" % number, "userPrincipalName": "u%d@contoso.com" % number} for number in range(25)]

    graph = Graph()
    few = {"id": "x", "owners": [{"@odata.type": owners.SP_TYPE, "id": CI["id"], "appId": CI["name"]}]}
    assert owners.expanded_owners(graph, "/applications", few) == [CI] and graph.calls == []
    many = {"id": "x", "owners": [{"@odata.type": owners.USER_TYPE, "id": "u%d" % number} for number in range(20)]}
    assert len(owners.expanded_owners(graph, "/applications", many)) == 25 and graph.calls == ["/applications/x/owners"]


class RefGraph:
    graph_root = "https://graph.microsoft.com/v1.0"

    def __init__(self, refs):
        self.refs = refs

    def list_all(self, path, params=None):
        return [{"@odata.id": "%s/directoryObjects/%s" % (self.graph_root, ref)} for ref in self.refs]


def test_writes_and_their_fallbacks_decide_on_state_not_on_message():
    graph = RefGraph([ALICE["id"]])
    writes = owners.owner_writes(graph, "/applications/app-object", [ALICE], [BOB])
    (add, add_fallback), (remove, remove_fallback) = writes
    assert add == {"method": "POST", "url": "/applications/app-object/owners/$ref",
                   "body": {"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/%s" % ALICE["id"]}}
    assert remove == {"method": "DELETE", "url": "/applications/app-object/owners/%s/$ref" % BOB["id"]}
    add_fallback(GraphError("x", status=400, code="Request_BadRequest"))       # Alice is an owner already: fine
    remove_fallback(GraphError("x", status=404, code="Request_ResourceNotFound"))  # Bob is gone already: fine
    graph.refs = []
    with pytest.raises(GraphError):
        add_fallback(GraphError("x", status=400, code="Request_BadRequest"))
    with pytest.raises(GraphError):
        remove_fallback(GraphError("x", status=403, code="Authorization_RequestDenied"))
