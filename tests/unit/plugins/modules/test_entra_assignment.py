# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""entra_assignment: input checks before any request, check mode, exclusive, absent with unknown principals, results and diff."""

import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.smarttrace.sso.plugins.module_utils._entra import module as _entra_module
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.directory_bulk import Waiter
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.module import EntraModule
from ansible_collections.smarttrace.sso.plugins.modules import entra_assignment
from ansible_collections.smarttrace.sso.tests.unit.plugins.module_utils.fake_directory import FakeDirectory
from ansible_collections.smarttrace.sso.tests.unit.plugins.module_utils.fakes import CLIENT, GRAPH_ROOT, LOGIN_ROOT, SECRET, TENANT

CONNECTION = dict(tenant_id=TENANT, client_id=CLIENT, client_secret=SECRET, authority_url=LOGIN_ROOT, graph_url=GRAPH_ROOT)
ROLE = {"id": "11111111-0000-0000-0000-000000000001", "value": "SmartTrace.User", "displayName": "SmartTrace user", "isEnabled": True,
        "allowedMemberTypes": ["User"]}


@pytest.fixture
def directory(monkeypatch):
    fake = FakeDirectory()
    monkeypatch.setattr(EntraModule, "graph", property(lambda self: fake.graph))
    return fake


@pytest.fixture
def fake_clock_waiter(monkeypatch, directory):
    monkeypatch.setattr(entra_assignment, "Waiter", lambda: Waiter(sleep=directory.clock.sleep, clock=directory.clock))
    return directory


@pytest.fixture
def no_network(monkeypatch):
    def forbidden(*_args, **_kwargs):
        raise AssertionError("no request may be made")
    monkeypatch.setattr(_entra_module, "build_session", forbidden)


def run(args, capsys):
    with patch_module_args(dict(CONNECTION, **args)):
        with pytest.raises(SystemExit):
            entra_assignment.main()
    return json.loads(capsys.readouterr().out)


def test_input_problems_before_any_request(no_network, capsys):
    result = run(dict(app_id="nope", users=["", "B.Simon"], groups=[" "], role=" ", state="absent", exclusive=True, replication_timeout=-1), capsys)
    assert result["failed"] and "replication_timeout must be 0 or more and at most 3600 seconds, got -1" in result["msg"]  # bounds: _int_options
    result = run(dict(app_id="nope", users=["", "B.Simon"], groups=[" "], role=" ", state="absent", exclusive=True), capsys)
    assert result["failed"]
    assert result["problems"] == [
        "app_id 'nope' must be a GUID such as 00000000-0000-0000-0000-000000000000",
        "users[0] is empty",
        "users[1] 'B.Simon': give a user principal name (name@domain) or an object id",
        "groups[0] is empty",
        "exclusive applies to state=present only",
        "role is empty: leave it unset for Default Access"]
    nothing = run(dict(service_principal_id="00000000-0000-0000-0000-000000000001"), capsys)
    assert "give users or groups" in nothing["msg"]


def test_check_mode_then_real_then_exclusive(fake_clock_waiter, capsys):
    directory = fake_clock_waiter
    sp = directory.add_sp([ROLE])
    adele, alex = directory.add_user("adele@contoso.example", displayName="Adele"), directory.add_user("alex@contoso.example", displayName="Alex")
    group = directory.add_group("SmartTrace Users")
    args = dict(app_id=sp["appId"], role="SmartTrace.User", users=["adele@contoso.example", alex["id"]], groups=["SmartTrace Users"], _ansible_diff=True)
    predicted = run(dict(args, _ansible_check_mode=True), capsys)
    assert predicted["changed"] and directory.assignments == {}
    assert [item["assignment_id"] for item in predicted["added"]] == ["(known after the real run)"] * 3
    done = run(args, capsys)
    assert done["changed"] and done["diff"] == predicted["diff"]
    assert [item["principal_id"] for item in done["added"]] == [adele["id"], alex["id"], group["id"]]
    assert done["role"] == "SmartTrace.User (SmartTrace user)" and done["app_role_id"] == ROLE["id"]
    assert len(directory.assignments) == 3
    again = run(args, capsys)
    assert not again["changed"] and len(again["unchanged"]) == 3
    exclusive = run(dict(args, users=[], groups=["SmartTrace Users"], exclusive=True), capsys)
    assert exclusive["changed"] and sorted(item["principal_id"] for item in exclusive["removed"]) == sorted([adele["id"], alex["id"]])
    assert [item["principalId"] for item in directory.assignments.values()] == [group["id"]]


def test_absent_with_an_unknown_user_warns(fake_clock_waiter, capsys):
    directory = fake_clock_waiter
    sp = directory.add_sp()
    adele = directory.add_user("adele@contoso.example")
    directory.assign(adele, sp, "00000000-0000-0000-0000-000000000000")
    result = run(dict(service_principal_id=sp["id"], users=["adele@contoso.example", "gone@contoso.example"], state="absent"), capsys)
    assert result["changed"] and result["removed"][0]["principal_id"] == adele["id"]
    assert "users: 'gone@contoso.example' was not found; it has no assignment to remove" in json.dumps(result["warnings"])
    assert directory.assignments == {}
    assert directory.clock.sleeps == []


def test_unknown_user_fails_and_changes_nothing(fake_clock_waiter, capsys):
    directory = fake_clock_waiter
    sp = directory.add_sp()
    directory.add_user("adele@contoso.example")
    result = run(dict(service_principal_id=sp["id"], users=["adele@contoso.example", "ghost@contoso.example"], replication_timeout=20), capsys)
    assert result["failed"] and not result.get("changed")
    assert result["problems"] == ["users: 'ghost@contoso.example' was not found (waited 20 s for it to replicate)"]
    assert directory.assignments == {}
    assert 0 < sum(directory.clock.sleeps) <= 20


def test_assignments_lists_what_exists_after_the_task_without_an_extra_request(fake_clock_waiter, capsys):
    # An earlier run assigned the group (and someone assigned a service principal with another role); this run lists only Adele.
    directory = fake_clock_waiter
    other_role = dict(ROLE, id="11111111-0000-0000-0000-000000000002", value="SmartTrace.Admin", displayName="SmartTrace admin")
    sp = directory.add_sp([ROLE, other_role])
    adele, alex = directory.add_user("adele@contoso.example", displayName="Adele"), directory.add_user("alex@contoso.example", displayName="Alex")
    group = directory.add_group("SmartTrace Users")
    earlier = directory.assign(group, sp, ROLE["id"], kind="Group")
    directory.assign(alex, sp, other_role["id"])
    robot = directory.assign({"id": "99999999-0000-0000-0000-000000000009", "displayName": "Robot"}, sp, ROLE["id"], kind="ServicePrincipal")

    def shown(result):
        return [(item["principal_type"], item["name"], item["app_role_id"]) for item in result["assignments"]]

    args = dict(service_principal_id=sp["id"], role="SmartTrace.User", users=["adele@contoso.example"])
    predicted = run(dict(args, _ansible_check_mode=True), capsys)
    http_before = directory.http
    done = run(args, capsys)
    expected = [("Group", "SmartTrace Users", ROLE["id"]), ("ServicePrincipal", "Robot", ROLE["id"]), ("User", "adele@contoso.example", ROLE["id"]),
                ("User", "Alex", other_role["id"])]
    assert shown(predicted) == shown(done) == expected
    assert [item["assignment_id"] for item in predicted["assignments"]][2] == "(known after the real run)"
    assert done["assignments"][0]["assignment_id"] == earlier["id"] and done["assignments"][0]["principal_id"] == group["id"]
    assert done["assignments"][1]["assignment_id"] == robot["id"]
    assert done["assignments"][2]["principal_id"] == adele["id"] and done["assignments"][2]["assignment_id"] in directory.assignments
    assert directory.http - http_before == 2  # one read ($batch), one write ($batch or POST): nothing more for the new return value
    again = run(args, capsys)
    assert not again["changed"] and shown(again) == expected
    # exclusive removes only users and groups of the role: the group goes, the service principal and Alex (another role) stay
    exclusive = run(dict(args, exclusive=True), capsys)
    assert shown(exclusive) == [("ServicePrincipal", "Robot", ROLE["id"]), ("User", "adele@contoso.example", ROLE["id"]), ("User", "Alex", other_role["id"])]
    absent = run(dict(args, state="absent"), capsys)
    assert shown(absent) == [("ServicePrincipal", "Robot", ROLE["id"]), ("User", "Alex", other_role["id"])]
    assert sorted(item["id"] for item in directory.assignments.values()) == sorted(item["assignment_id"] for item in absent["assignments"])


PLACEHOLDER = "(known after the real run)"


def test_check_mode_takes_the_placeholder_and_predicts_every_principal_added(fake_clock_waiter, capsys):
    directory = fake_clock_waiter
    adele = directory.add_user("adele@contoso.example", displayName="Adele")
    args = dict(service_principal_id=PLACEHOLDER, users=["adele@contoso.example", "new@contoso.example"], new_principals=["new@contoso.example"],
                _ansible_diff=True, _ansible_check_mode=True)
    predicted = run(args, capsys)
    assert predicted["changed"] is True and directory.assignments == {} and predicted["service_principal_id"] == PLACEHOLDER
    expected = [("adele@contoso.example", adele["id"]), ("new@contoso.example", PLACEHOLDER)]
    assert [(item["name"], item["principal_id"]) for item in predicted["added"]] == expected
    assert predicted["diff"]["before"]["assigned"] == [] and len(predicted["diff"]["after"]["assigned"]) == 2
    assert [call[1] for call in directory.calls] == ["/users"]  # the principals only: the service principal cannot be read
    failed = run(dict(args, _ansible_check_mode=False), capsys)
    assert failed["failed"] and failed["problems"] == [
        "service_principal_id is '(known after the real run)', check mode's placeholder for an app or service principal that does not exist yet: "
        "outside check mode give the real id (entra_app's result after a real run)"]
