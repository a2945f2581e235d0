# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""_entra_assignments: the role, the principals, the plan (exclusive, absent), and batched writes with Graph's answers."""

import pytest

from ansible_collections.smarttrace.sso.plugins.module_utils._entra.directory_bulk import Waiter
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.assignments import (
    DEFAULT_ACCESS,
    AssignmentError,
    apply_changes,
    pick_role,
    plan_changes,
    principal_problems,
    read_resource,
    new_principal_test,
    read_state,
    resolve_principals,
    suggest_principals,
    wait_for_principals,
)
from ansible_collections.smarttrace.sso.tests.unit.plugins.module_utils.fake_directory import FakeDirectory
from ansible_collections.smarttrace.sso.tests.unit.plugins.module_utils.fakes import graph_error

USER_ROLE = {"id": "11111111-0000-0000-0000-000000000001", "value": "SmartTrace.User", "displayName": "SmartTrace user", "isEnabled": True,
             "allowedMemberTypes": ["User"]}
ADMIN_ROLE = {"id": "11111111-0000-0000-0000-000000000002", "value": "SmartTrace.Admin", "displayName": "SmartTrace.Admin", "isEnabled": True,
              "allowedMemberTypes": ["User", "Application"]}
APP_ONLY_ROLE = {"id": "11111111-0000-0000-0000-000000000003", "value": "Sync", "displayName": "Sync", "isEnabled": True,
                 "allowedMemberTypes": ["Application"]}
OLD_ROLE = {"id": "11111111-0000-0000-0000-000000000004", "value": "Old", "displayName": "Old", "isEnabled": False, "allowedMemberTypes": ["User"]}


@pytest.fixture
def directory():
    return FakeDirectory()


def waiter(directory):
    return Waiter(sleep=directory.clock.sleep, clock=directory.clock)


# ---------------------------------------------------------------------------------------------- role
def test_role_by_value_case_insensitive_value_or_display_name():
    sp = {"displayName": "SmartTrace", "appRoles": [USER_ROLE, ADMIN_ROLE, APP_ONLY_ROLE, OLD_ROLE]}
    assert pick_role(sp, "SmartTrace.User") == (USER_ROLE["id"], "SmartTrace.User (SmartTrace user)")
    assert pick_role(sp, "smarttrace.admin") == (ADMIN_ROLE["id"], "SmartTrace.Admin")
    assert pick_role(sp, "SmartTrace user")[0] == USER_ROLE["id"]


@pytest.mark.parametrize("role, text", [
    (None, "role is required: SmartTrace defines app roles, so Default Access cannot be assigned; set role to one of: "
           "SmartTrace.User (SmartTrace user), SmartTrace.Admin"),
    ("Owner", "role 'Owner' is not an app role of SmartTrace: use one of: SmartTrace.User (SmartTrace user), SmartTrace.Admin"),
    ("Sync", "role 'Sync' of SmartTrace is not for users and groups (allowedMemberTypes ['Application'])"),
    ("Old", "role 'Old' of SmartTrace is disabled"),
])
def test_role_errors_list_the_usable_roles(role, text):
    sp = {"displayName": "SmartTrace", "appRoles": [USER_ROLE, ADMIN_ROLE, APP_ONLY_ROLE, OLD_ROLE]}
    with pytest.raises(AssignmentError) as caught:
        pick_role(sp, role)
    assert text in str(caught.value)


def test_default_access_only_without_roles():
    assert pick_role({"displayName": "Plain", "appRoles": []}, None) == (DEFAULT_ACCESS, "Default Access")
    with pytest.raises(AssignmentError, match="Plain defines no app roles, so only Default Access can be assigned: remove role"):
        pick_role({"displayName": "Plain", "appRoles": []}, "SmartTrace.User")


def test_ambiguous_role_display_name():
    twins = [dict(USER_ROLE, value="A", displayName="Twin"), dict(USER_ROLE, id="x", value="B", displayName="Twin")]
    with pytest.raises(AssignmentError, match="matches 2 app roles"):
        pick_role({"displayName": "S", "appRoles": twins}, "twin")


# ---------------------------------------------------------------------------------------------- reading
def test_with_the_service_principal_id_everything_is_read_in_one_request(directory):
    sp = directory.add_sp([USER_ROLE])
    adele = directory.add_user("adele@contoso.example", displayName="Adele")
    lee = directory.add_user("lee@contoso.example", displayName="Lee")
    group = directory.add_group("SmartTrace Users")
    directory.assign(adele, sp, USER_ROLE["id"])
    found_sp, assignments, lookups = read_state(directory.graph, None, sp["id"], ["ADELE@contoso.example", lee["id"].upper()], ["smarttrace users"],
                                                60, waiter(directory))
    assert found_sp == {"id": sp["id"], "appId": sp["appId"], "displayName": "SmartTrace", "appRoles": [USER_ROLE]}
    assert [item["principalId"] for item in assignments] == [adele["id"]]
    assert directory.http == 1
    expected = ["/groups", "/servicePrincipals/%s" % sp["id"], "/servicePrincipals/%s/appRoleAssignedTo" % sp["id"], "/users", "/users"]
    assert sorted(call[1] for call in directory.calls) == expected
    principals, unknown, ambiguous = resolve_principals(["ADELE@contoso.example", lee["id"].upper()], ["smarttrace users"], lookups)
    assert unknown == [] and ambiguous == []
    assert [(p["principal_type"], p["principal_id"], p["principal_display_name"]) for p in principals] == [
        ("User", adele["id"], "Adele"), ("User", lee["id"], "Lee"), ("Group", group["id"], "SmartTrace Users")]


def test_with_the_app_id_the_assignments_take_a_second_request(directory):
    sp = directory.add_sp()
    directory.add_user("adele@contoso.example")
    found_sp, assignments, _lookups = read_state(directory.graph, sp["appId"], None, ["adele@contoso.example"], [], 60, waiter(directory))
    assert found_sp["id"] == sp["id"] and assignments == []
    assert directory.http == 2
    assert directory.calls[-1] == ("GET", "/servicePrincipals/%s/appRoleAssignedTo" % sp["id"],
                                   {"$select": "id,appRoleId,principalId,principalType,principalDisplayName", "$top": "999"})
    assert ("GET", "/servicePrincipals(appId='%s')" % sp["appId"], {"$select": "id,appId,displayName,appRoles"}) in directory.calls


def test_a_new_service_principal_is_waited_for_without_an_immediate_second_read(directory):
    sp = directory.add_sp([USER_ROLE])
    directory.young.add(sp["id"])
    wait = waiter(directory)
    original = wait.sleep

    def sleep(seconds):
        original(seconds)
        directory.young.clear()
    wait.sleep = sleep
    found_sp, _assignments, _lookups = read_state(directory.graph, None, sp["id"], [], ["G"], 60, wait)
    assert found_sp["id"] == sp["id"]
    sp_reads = [call for call in directory.calls if call[1] == "/servicePrincipals/%s" % sp["id"]]
    assert len(sp_reads) == 2 and len(directory.clock.sleeps) == 1


def test_missing_resource_is_an_error_after_the_timeout(directory):
    with pytest.raises(AssignmentError, match="No enterprise application .* for service_principal_id 0000.* after 5 s"):
        read_resource(directory.graph, None, "00000000-0000-0000-0000-00000000000a", 5, waiter(directory))
    assert 0 < sum(directory.clock.sleeps) <= 5


def test_assignments_are_read_with_paging(directory):
    sp = directory.add_sp()
    for index in range(5):
        directory.assign(directory.add_user("u%d@contoso.example" % index), sp, DEFAULT_ACCESS)
    original = directory.listing
    directory.listing = lambda items, query, path: original(items, dict(query, **{"$top": "2"}), path)
    _sp, assignments, _lookups = read_state(directory.graph, None, sp["id"], [], ["G"], 0, waiter(directory))
    assert len(assignments) == 5
    assert [call[1] for call in directory.calls].count("/servicePrincipals/%s/appRoleAssignedTo" % sp["id"]) == 3


# ---------------------------------------------------------------------------------------------- principals
def test_unknown_and_ambiguous_principals_are_named(directory):
    sp = directory.add_sp()
    first, second = directory.add_group("Twins"), directory.add_group("twins")
    _sp, _assignments, lookups = read_state(directory.graph, None, sp["id"], ["ghost@contoso.example", "00000000-1111-2222-3333-444444444444"],
                                            ["Twins", "Nobody"], 0, waiter(directory))
    principals, unknown, ambiguous = resolve_principals(["ghost@contoso.example", "00000000-1111-2222-3333-444444444444"], ["Twins", "Nobody"],
                                                        lookups)
    assert principals == []
    assert unknown == [("User", "ghost@contoso.example"), ("User", "00000000-1111-2222-3333-444444444444"), ("Group", "Nobody")]
    assert ambiguous == [("Group", "Twins", [first["id"], second["id"]])]
    problems = principal_problems(unknown, ambiguous, 30)
    assert problems[0] == "users: 'ghost@contoso.example' was not found (waited 30 s for it to replicate)"
    assert problems[3] == "groups: 'Twins' matches 2 groups (ids %s, %s): give the object id of the one to use" % (first["id"], second["id"])


def test_a_just_created_user_is_waited_for_and_only_it_is_asked_again(directory):
    sp = directory.add_sp()
    old = directory.add_user("old@contoso.example")
    fresh = directory.add_user("fresh@contoso.example")
    directory.young.add(fresh["id"])
    wait = waiter(directory)
    original = wait.sleep

    def sleep(seconds):
        original(seconds)
        directory.young.clear()
    wait.sleep = sleep
    _sp, _assignments, lookups = read_state(directory.graph, None, sp["id"], ["old@contoso.example", "fresh@contoso.example"], [], 60, wait)
    lookups = wait_for_principals(directory.graph, lookups, 60, wait, new_principal_test(None))
    principals, unknown, _ambiguous = resolve_principals(["old@contoso.example", "fresh@contoso.example"], [], lookups)
    assert unknown == [] and [p["principal_id"] for p in principals] == [old["id"], fresh["id"]]
    assert directory.calls[-1] == ("GET", "/users", {"$filter": "userPrincipalName eq 'fresh@contoso.example'",
                                                     "$select": "id,userPrincipalName,displayName"})


def lookups_for(directory, users, groups, wait=60):
    sp = directory.add_sp()
    return read_state(directory.graph, None, sp["id"], users, groups, wait, waiter(directory))[2]


def test_an_unknown_group_fails_at_once_with_the_closest_names(directory):
    directory.add_group("SmartTrace Users")
    directory.add_group("SmartTrace Admins")
    directory.add_group("Finance")
    lookups = lookups_for(directory, [], ["SmartTrace Usrs"])
    before, slept = len(directory.calls), directory.clock()
    lookups = wait_for_principals(directory.graph, lookups, 60, waiter(directory), new_principal_test(None))
    assert len(directory.calls) == before and directory.clock() == slept  # no request, no wait: groups are never new by default
    _principals, unknown, _ambiguous = resolve_principals([], ["SmartTrace Usrs"], lookups)
    suggestions = suggest_principals(directory.graph, unknown)
    assert len(directory.calls) == before + 1  # one request for the suggestions
    problems = principal_problems(unknown, [], lambda kind, name: 0, suggestions)
    assert problems == ["groups: 'SmartTrace Usrs' was not found; did you mean 'SmartTrace Users'?"]


def test_only_the_names_created_in_this_run_are_waited_for(directory):
    directory.add_user("b.simon@contoso.example")
    lookups = lookups_for(directory, ["B.Simn@contoso.example", "new@contoso.example"], [])
    wait = waiter(directory)
    start = directory.clock()
    lookups = wait_for_principals(directory.graph, lookups, 60, wait, new_principal_test(["NEW@contoso.example"]))
    assert directory.clock() - start >= 40  # the new user was waited for (it never appears here), within the 60 s
    asked_again = [call for call in directory.calls if call[0] == "GET" and call[1] == "/users"][1:]
    assert asked_again and all("new@contoso.example" in call[2]["$filter"] and "Simn" not in call[2]["$filter"] for call in asked_again)
    _principals, unknown, _ambiguous = resolve_principals(["B.Simn@contoso.example", "new@contoso.example"], [], lookups)
    problems = principal_problems(unknown, [], lambda kind, name: 60 if name == "new@contoso.example" else 0,
                                  suggest_principals(directory.graph, unknown))
    assert problems == ["users: 'B.Simn@contoso.example' was not found; did you mean 'b.simon@contoso.example'?",
                        "users: 'new@contoso.example' was not found (waited 60 s for it to replicate)"]


def test_no_new_principals_waits_for_none(directory):
    lookups = lookups_for(directory, ["ghost@contoso.example"], [])
    before = len(directory.calls)
    wait_for_principals(directory.graph, lookups, 60, waiter(directory), new_principal_test([]))
    assert len(directory.calls) == before


# ---------------------------------------------------------------------------------------------- plan
def principal(principal_id, kind="User"):
    return {"name": principal_id, "principal_type": kind, "principal_id": principal_id, "principal_display_name": principal_id}


def assignment(assignment_id, principal_id, role_id, kind="User"):
    return {"id": assignment_id, "principalId": principal_id, "appRoleId": role_id, "principalType": kind, "principalDisplayName": principal_id}


def test_plan_present_exclusive_absent():
    current = [assignment("a1", "p1", "r"), assignment("a2", "p2", "r"), assignment("a3", "p3", "other"),
               assignment("a4", "sp", "r", "ServicePrincipal"), assignment("a5", "g1", "r", "Group")]
    add, remove, keep = plan_changes([principal("p1"), principal("p4"), principal("p4")], current, "r", "present", False)
    assert [item["principal_id"] for item in add] == ["p4"] and remove == []
    assert [(item["principal_id"], item["assignment_id"]) for item in keep] == [("p1", "a1")]
    add, remove, keep = plan_changes([principal("p1")], current, "r", "present", True)
    assert add == [] and sorted(item["assignment_id"] for item in remove) == ["a2", "a5"]      # not the other role, not the service principal
    add, remove, keep = plan_changes([principal("p1"), principal("p3")], current, "r", "absent", False)
    assert add == [] and [item["assignment_id"] for item in remove] == ["a1"]
    assert [(item["principal_id"], item["assignment_id"]) for item in keep] == [("p3", None)]


# ---------------------------------------------------------------------------------------------- writes
def test_writes_are_batched_and_graph_answers_are_interpreted(directory):
    sp = directory.add_sp([USER_ROLE])
    users = [directory.add_user("u%02d@contoso.example" % index) for index in range(25)]
    existing = directory.assign(users[0], sp, USER_ROLE["id"])          # present already: Graph answers "already exists"
    stale = directory.assign(users[1], sp, USER_ROLE["id"])
    del directory.assignments[stale["id"]]                            # gone already: 404
    add = [dict(principal(user["id"])) for user in users[:1] + users[2:]]
    remove = [dict(principal(users[1]["id"]), assignment_id=stale["id"])]
    added, removed, kept, failures = apply_changes(directory.graph, sp["id"], USER_ROLE["id"], add, remove, 0, waiter(directory))
    assert failures == []
    assert [item["principal_id"] for item in kept] == [users[0]["id"]]
    assert len(added) == 23 and all(item["assignment_id"].startswith("asg-") for item in added)
    assert [item["principal_id"] for item in removed] == [users[1]["id"]]
    assert directory.http == 2
    assert existing["id"] in directory.assignments


def test_replication_lag_is_retried_and_a_lost_answer_counts_as_added(directory):
    sp = directory.add_sp()
    fresh = directory.add_user("fresh@contoso.example")
    other = directory.add_user("other@contoso.example")
    directory.young.add(fresh["id"])
    directory.lose_answer.add("POST")
    wait = waiter(directory)
    original = wait.sleep

    def sleep(seconds):
        original(seconds)
        directory.young.clear()
    wait.sleep = sleep
    added, _removed, kept, failures = apply_changes(directory.graph, sp["id"], DEFAULT_ACCESS, [principal(fresh["id"]), principal(other["id"])], [],
                                                    60, wait)
    assert failures == [] and kept == []
    assert sorted(item["principal_id"] for item in added) == sorted([fresh["id"], other["id"]])
    assert len(directory.assignments) == 2


def test_failures_are_reported_per_principal(directory):
    sp = directory.add_sp()
    user = directory.add_user("u@contoso.example")
    directory.fail_next[("POST", "/servicePrincipals")] = [graph_error(400, "Request_BadRequest", "Permission being assigned was not found on application.")]
    added, _removed, _kept, failures = apply_changes(directory.graph, sp["id"], "r", [dict(principal(user["id"]), name="u@contoso.example")], [],
                                                     0, waiter(directory))
    assert added == []
    assert failures[0][1].startswith("assigning user u@contoso.example (%s) failed: the app role is not on the service principal" % user["id"])


# ---------------------------------------------------------------------------------------------- check mode's placeholder, a new service principal
PLACEHOLDER = "(known after the real run)"


def test_a_service_principal_created_in_this_run_has_its_assignments_not_read(directory):
    sp = directory.add_sp([USER_ROLE])
    directory.add_user("adele@contoso.example")
    found_sp, assignments, dummy = read_state(directory.graph, None, sp["id"], ["adele@contoso.example"], [], 60, waiter(directory), new_sp=True)
    assert found_sp["id"] == sp["id"] and assignments == [] and directory.http == 1
    assert sorted(call[1] for call in directory.calls) == ["/servicePrincipals/%s" % sp["id"], "/users"]


def test_a_predicted_service_principal_is_not_read_and_new_principals_are_predicted(directory):
    adele = directory.add_user("adele@contoso.example")
    found_sp, assignments, lookups = read_state(directory.graph, None, PLACEHOLDER, ["adele@contoso.example", "new@contoso.example", PLACEHOLDER],
                                                [], 60, waiter(directory))
    assert found_sp["id"] == PLACEHOLDER and assignments == [] and [call[1] for call in directory.calls] == ["/users"]
    assert pick_role(found_sp, None) == (DEFAULT_ACCESS, "Default Access") and pick_role(found_sp, "SmartTrace.User") == (PLACEHOLDER, "SmartTrace.User")
    may_be_new = new_principal_test(["new@contoso.example"])
    principals, unknown, ambiguous = resolve_principals(["adele@contoso.example", "new@contoso.example", PLACEHOLDER], [], lookups, may_be_new)
    assert unknown == [] and ambiguous == []
    expected = [("adele@contoso.example", adele["id"]), ("new@contoso.example", PLACEHOLDER), (PLACEHOLDER, PLACEHOLDER)]
    assert [(p["name"], p["principal_id"]) for p in principals] == expected
    add, remove, keep = plan_changes(principals, assignments, DEFAULT_ACCESS, "present", True)
    assert [item["name"] for item in add] == ["adele@contoso.example", "new@contoso.example", PLACEHOLDER] and remove == [] and keep == []
    # without the prediction, a name not found stays unknown
    lookups = read_state(directory.graph, None, PLACEHOLDER, ["nobody@contoso.example"], [], 0, waiter(directory))[2]
    assert resolve_principals(["nobody@contoso.example"], [], lookups)[1] == [("User", "nobody@contoso.example")]
