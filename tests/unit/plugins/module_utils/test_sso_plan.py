# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role's plan (_sso_plan_inputs, _sso_plan): each check's message, and each decision, from inputs and what the reads found."""

import copy

import pytest

from ansible_collections.smarttrace.sso.plugins.module_utils._common.identifiers import KNOWN_AFTER_RUN
from ansible_collections.smarttrace.sso.plugins.module_utils._plan.decisions import PlanError, check_findings, decide
from ansible_collections.smarttrace.sso.plugins.module_utils._plan.inputs import derive, input_problems, read_arguments

KEY = "0b9e8f2a-1c3d-4e5f-8a7b-6c5d4e3f2a1b"
OTHER_KEY = "1c9e8f2a-1c3d-4e5f-8a7b-6c5d4e3f2a1b"
APP_ID = "2d9e8f2a-1c3d-4e5f-8a7b-6c5d4e3f2a1b"
TENANT_ID = "3e9e8f2a-1c3d-4e5f-8a7b-6c5d4e3f2a1b"
UPN = "B.Simon@contoso.example"
PASSWORD = "Str0ng-Passw0rd"

DEFAULTS = dict(
    instance="acme", state="present", app_display_name="SmartTrace", app_unique_name="", api_url="https://api.smarttrace.ai/v1",
    redirect_uri="", logout_url="", admin_consent=False, app_roles=[], app_role="", secret_display_name="SmartTrace SSO",
    secret_expires_in_days=180, secret_allow_long_lifetime=False, secret_rotate_before_days=30, rotate_secret=False, test_users=[],
    assign_users=[], assign_groups=[], assign_exclusive=False, owners=[], configure_smarttrace=True, handover_dir="~/.smarttrace-sso",
    handover_key_id="", remove_test_users=True,
)
ALL_PERMISSIONS = ("AppRoleAssignment.ReadWrite.All", "Application.ReadWrite.All", "DelegatedPermissionGrant.ReadWrite.All",
                   "Directory.Read.All", "User.ReadWrite.All")


def inputs(**given):
    values = copy.deepcopy(DEFAULTS)
    values.update(given)
    return values


def secret(key_id=KEY, days_left=150, name="SmartTrace SSO"):
    return {"key_id": key_id, "display_name": name, "days_left": days_left, "end_date": "2027-05-01T00:00:00Z"}


def tenant(app_found=True, secrets=(), users=(), groups=(), permissions=ALL_PERMISSIONS, kind="application", roles=(), **app_extra):
    app = {"unique_name": "smarttrace-sso-acme", "found": app_found, "app_id": APP_ID if app_found else None, "object_id": None,
           "display_name": "SmartTrace" if app_found else None, "app_roles": list(roles), "secrets": list(secrets)}
    app.update(app_extra)
    return {"tenant_id": TENANT_ID, "tenant_display_name": "Contoso", "verified_domains": ["Contoso.example"], "default_domain": "contoso.example",
            "identity": {"kind": kind, "permissions": list(permissions), "app_id": "automation-app", "display_name": "automation"},
            "groups": list(groups), "users": list(users), "app": app}


def integration(key_id=KEY, enabled=True, **extra):
    view = {"enabled": enabled, "application_id": APP_ID, "tenant_id": TENANT_ID, "client_secret_set": bool(key_id), "client_secret_id": key_id,
            "redirect_uri": "https://api.smarttrace.ai/v1/auth/callback/azure/acme",
            "logout_url": "https://api.smarttrace.ai/v1/auth/callback/azure-logout/acme"}
    view.update(extra)
    return view


def problems(**given):
    values = inputs(**given)
    return " ".join(input_problems(values, derive(values)))


def plan(values, found, read=None, verification=None):
    derived = derive(values)
    read = integration() if read is None else read
    check_findings(values, derived, found, read)
    return decide(values, derived, found, read, verification)


def finding(values, found, read=None):
    with pytest.raises(PlanError) as caught:
        plan(values, found, read)
    return str(caught.value)


# ---------------------------------------------------------------------------------------------- derived names
def test_names_are_derived_from_the_instance_and_the_api_url():
    derived = derive(inputs(api_url="https://api.example/v1//"))
    assert derived["unique_name"] == "smarttrace-sso-acme"
    assert derived["redirect_uri"] == "https://api.example/v1/auth/callback/azure/acme"
    assert derived["logout_url"] == "https://api.example/v1/auth/callback/azure-logout/acme"
    assert derived["handover_file"] == "~/.smarttrace-sso/acme.smarttrace-sso.txt"
    assert derived["user_mark"] == "smarttrace-sso:acme"


def test_given_names_win():
    derived = derive(inputs(app_unique_name="mine", redirect_uri="https://a.example/cb", logout_url="https://a.example/out"))
    assert (derived["unique_name"], derived["redirect_uri"], derived["logout_url"]) == ("mine", "https://a.example/cb", "https://a.example/out")


def test_a_rotation_reads_no_user_and_no_group():
    values = inputs(rotate_secret=True, test_users=[{"user_principal_name": UPN}], assign_groups=["G"], assign_users=[UPN])
    derived = derive(values)
    assert not derived["manage_users"] and not derived["assign"]
    assert read_arguments(values, derived)["users"] == [] and read_arguments(values, derived)["groups"] == []


def test_configure_reads_test_users_and_users_to_assign_once():
    values = inputs(test_users=[{"user_principal_name": UPN}], assign_users=[UPN.lower(), "x@contoso.example"], assign_groups=["G"])
    reads = read_arguments(values, derive(values))
    assert reads["users"] == [UPN, "x@contoso.example"] and reads["groups"] == ["G"] and not reads["details"]


def test_offboarding_reads_the_test_users_with_details():
    values = inputs(state="absent", test_users=[{"user_principal_name": UPN}], assign_groups=["G"])
    reads = read_arguments(values, derive(values))
    assert reads == {"groups": [], "users": [UPN], "unique_name": "smarttrace-sso-acme", "display_name": None, "details": True, "suggest": ["groups"]}
    assert read_arguments(dict(values, remove_test_users=False), derive(values))["users"] == []


# ---------------------------------------------------------------------------------------------- input checks (no request)
def test_good_inputs_have_no_problem():
    assert problems(test_users=[{"user_principal_name": UPN, "password": PASSWORD}], assign_users=[UPN], handover_key_id=KEY) == ""


@pytest.mark.parametrize("instance", ["Acme_Plant", "Acme", "acme.smarttrace.ai", "", "../x", "b" * 64])
def test_an_instance_name_must_be_one(instance):
    assert ("smarttrace_sso_instance %s is not an instance name: give the first label of the facility's address (acme for acme.smarttrace.ai), "
            "lower-case letters, digits and hyphens, 1 to 63 characters." % ('"%s"' % instance)) in problems(instance=instance)


def test_the_redirect_uri_follows_entra_app():
    text = problems(redirect_uri="http://acme.example/callback")
    assert text.startswith('smarttrace_sso_redirect_uri "http://acme.example/callback" is not usable by Entra ID: it must be an https URL')
    assert "Fix smarttrace_sso_redirect_uri (or smarttrace_sso_api_url it is derived from)." in text
    assert 'smarttrace_sso_logout_url "https://a.example/x y" is not usable' in problems(logout_url="https://a.example/x y")


def test_a_lifetime_beyond_24_months_needs_allowing():
    assert "smarttrace_sso_secret_expires_in_days gives the secret 3000 days" in problems(secret_expires_in_days=3000)
    assert "set smarttrace_sso_secret_allow_long_lifetime to true" in problems(secret_expires_in_days=3000)
    assert problems(secret_expires_in_days=3000, secret_allow_long_lifetime=True) == ""


@pytest.mark.parametrize("given", [dict(secret_expires_in_days=20), dict(secret_expires_in_days=0), dict(secret_rotate_before_days=-1),
                                   dict(secret_display_name=" ")])
def test_a_lifetime_must_outlast_the_rotation_threshold(given):
    assert "must be 1 to 730 and more than smarttrace_sso_secret_rotate_before_days" in problems(**given)


def test_offboarding_does_not_check_the_lifetime():
    assert problems(state="absent", secret_expires_in_days=20) == ""


def test_the_handover_key_id_must_be_a_guid():
    assert problems(handover_key_id=KNOWN_AFTER_RUN) == ('smarttrace_sso_handover_key_id "%s" is not a key id: give the Secret ID (a GUID) from '
                                                         'the hand-over file, or leave it empty.' % KNOWN_AFTER_RUN)


def test_test_users_need_usable_names_once():
    assert "Not usable: b%simon@contoso.example - the part before @ has characters or dots Entra ID does not accept" in \
        problems(test_users=[{"user_principal_name": "b%simon@contoso.example"}])
    assert "A name is given twice." in problems(test_users=[{"user_principal_name": UPN}, {"user_principal_name": UPN.upper()}])
    assert "Not usable:  - " in problems(test_users=[{"password": PASSWORD}])


def test_a_weak_password_is_named_by_its_user_never_shown():
    text = problems(test_users=[{"user_principal_name": UPN, "password": "password"}])
    assert "smarttrace_sso_test_users: the password of %s does not meet Entra ID's rules" % UPN in text and "password." not in text


def test_assignments_need_names_and_exclusive_needs_one():
    expected = "smarttrace_sso_assign_users and smarttrace_sso_assign_groups must not hold empty names"
    assert expected in problems(assign_users=[" "]) and expected in problems(assign_exclusive=True)


# ---------------------------------------------------------------------------------------------- checks against the reads
def user(name, found=True):
    return {"name": name, "found": found, "user_principal_name": name if found else None}


def test_test_users_need_a_verified_domain():
    values = inputs(test_users=[{"user_principal_name": "x@fabrikam.example", "password": PASSWORD}])
    assert finding(values, tenant(users=[user("x@fabrikam.example", False)])) == \
        "smarttrace_sso_test_users: x@fabrikam.example must use a verified domain of the tenant: Contoso.example."


def test_new_test_users_need_a_password():
    values = inputs(test_users=[{"user_principal_name": UPN}])
    assert finding(values, tenant(users=[user(UPN, False)])) == \
        "smarttrace_sso_test_users: b.simon@contoso.example do not exist yet, so each needs a password (take it from Ansible Vault)."
    assert plan(values, tenant(users=[user(UPN)]))["manage_users"]


def test_users_to_assign_must_exist_or_be_test_users():
    values = inputs(assign_users=["nobody@contoso.example"])
    assert finding(values, tenant(users=[user("nobody@contoso.example", False)])) == \
        "smarttrace_sso_assign_users: no user nobody@contoso.example in the tenant. Fix the name, or add the user to smarttrace_sso_test_users."


def test_groups_must_exist_once():
    values = inputs(assign_groups=["SmartTrace Usrs"])
    missing = {"name": "SmartTrace Usrs", "found": False, "matches": 0, "suggestions": ["SmartTrace Users"]}
    assert finding(values, tenant(groups=[missing])) == \
        'smarttrace_sso_assign_groups: no group is named "SmartTrace Usrs" (did you mean "SmartTrace Users"?).'
    twice = {"name": "G", "found": False, "matches": 2, "ids": ["a", "b"]}
    assert finding(inputs(assign_groups=["G"]), tenant(groups=[twice])) == \
        'smarttrace_sso_assign_groups: 2 groups are named "G" (ids a, b); give the object id of the one to assign.'


def test_the_app_role_must_be_usable():
    values = inputs(app_role="Admin", assign_groups=["G"])
    group = {"name": "G", "found": True, "matches": 1}
    assert finding(values, tenant(groups=[group])).startswith('smarttrace_sso_app_role "Admin" is not an app role of the app; the app defines none.')
    disabled = {"value": "Auditor", "display_name": "Auditor", "enabled": False, "allowed_member_types": ["User"]}
    text = finding(inputs(app_role="Auditor", assign_groups=["G"]), tenant(groups=[group], roles=[disabled]))
    assert text.startswith('smarttrace_sso_app_role "Auditor" is an app role of the app, but disabled or not for users')
    assert text.endswith("or define the role in smarttrace_sso_app_roles (enabled, allowed_member_types with User).")
    viewer = {"value": "Viewer", "display_name": "Viewer", "enabled": True, "allowed_member_types": ["User"]}
    assert "Default Access (smarttrace_sso_app_role empty) is not possible: the app defines app roles; the roles users can be given are: " \
        "Viewer, Viewer." in finding(inputs(assign_groups=["G"]), tenant(groups=[group], roles=[viewer]))
    assert plan(inputs(app_role="Viewer", assign_groups=["G"]), tenant(groups=[group], roles=[viewer]))["assign"]
    assert plan(inputs(app_role="New", assign_groups=["G"], app_roles=[{"value": "New"}]), tenant(groups=[group]))["assign"]


def test_each_part_needs_its_permission():
    values = inputs(owners=[UPN])
    text = finding(values, tenant(permissions=["Directory.Read.All", "Application.ReadWrite.OwnedBy"]))
    assert text == ("The automation identity automation (automation-app) lacks a Microsoft Graph application permission for smarttrace_sso_owners: "
                    "grant Application.ReadWrite.All or Directory.ReadWrite.All with admin consent. It holds Directory.Read.All, "
                    "Application.ReadWrite.OwnedBy.")
    assert "for the app registration and its secrets" in finding(inputs(), tenant(permissions=[]))
    assert "It holds none." in finding(inputs(), tenant(permissions=[]))


def test_delegated_permissions_are_not_checked_but_said():
    found = plan(inputs(), tenant(permissions=[], kind="delegated"))
    assert found["messages"] == ["The automation identity signs in as a user (delegated token): its permissions also depend on its directory roles, "
                                 "so they are not checked before the first write. It needs Cloud Application Administrator and User Administrator."]


def test_a_deleted_app_holding_the_unique_name_stops():
    holder = {"id": "obj", "app_id": "app", "display_name": "Old", "deleted": "2026-12-01T00:00:00Z"}
    text = finding(inputs(), tenant(app_found=False, deleted_holders=[holder], adoptable=[]))
    assert text.startswith('smarttrace_sso_app_unique_name: the unique name "smarttrace-sso-acme" of instance acme\'s app is held by the deleted '
                           'app registration Old (object id obj, application id app, deleted 2026-12-01T00:00:00Z)')
    assert "Restore it" in text and "delete it permanently" in text and text.endswith("or set smarttrace_sso_app_unique_name to another name.")


def test_several_apps_to_take_over_stop_one_is_said():
    orphans = [{"app_id": "one", "display_name": "SmartTrace"}, {"app_id": "two", "display_name": "SmartTrace"}]
    text = finding(inputs(), tenant(app_found=False, deleted_holders=[], adoptable=orphans))
    assert "instance acme's app (unique name smarttrace-sso-acme) does not exist, and 2 app registrations named \"SmartTrace\" have no unique" in text
    found = plan(inputs(), tenant(app_found=False, deleted_holders=[], adoptable=orphans[:1]), read=integration(key_id=None))
    assert "the app registration SmartTrace (application id one) has no unique name and will be taken over" in found["messages"][0]


def test_smarttrace_must_expect_the_apps_uris():
    text = finding(inputs(redirect_uri="https://other.example/cb"), tenant())
    assert text.startswith("SmartTrace expects the Redirect URI https://api.smarttrace.ai/v1/auth/callback/azure/acme and the Front-channel "
                           "logout URL https://api.smarttrace.ai/v1/auth/callback/azure-logout/acme, the app would get https://other.example/cb")
    assert plan(inputs(redirect_uri="https://other.example/cb", configure_smarttrace=False), tenant(), read={})["mint"]


def test_offboarding_checks_nothing_found():
    assert plan(inputs(state="absent"), tenant(permissions=[], app_found=False), read={})["messages"] == []


# ---------------------------------------------------------------------------------------------- decisions
def test_the_secret_smarttrace_holds_stays_when_it_works():
    found = plan(inputs(), tenant(secrets=[secret()]), verification={"ok": True})
    assert found["held_key_id"] == KEY and not found["mint"]


@pytest.mark.parametrize("read, verification, secrets", [
    (integration(), {"ok": False}, [secret()]),  # its test fails
    (integration(), {"ok": True}, [secret(days_left=10)]),  # near expiry
    (integration(enabled=False), {"ok": True}, [secret()]),  # switched off
    (integration(application_id="other"), {"ok": True}, [secret()]),  # another app's
    (integration(tenant_id="other"), {"ok": True}, [secret()]),  # another tenant's
    (integration(key_id=OTHER_KEY), {"ok": True}, [secret()]),  # not ours
    (integration(), {"ok": True}, [secret(name="by hand")]),  # not of our name
    (integration(key_id=None), None, []),  # nothing held
])
def test_a_new_secret_is_minted_otherwise(read, verification, secrets):
    found = plan(inputs(), tenant(secrets=secrets), read=read, verification=verification)
    assert found["held_key_id"] == "" and found["mint"]


def test_a_rotation_always_mints():
    found = plan(inputs(rotate_secret=True), tenant(secrets=[secret()]), verification={"ok": True})
    assert found["mint"] and found["rotating"] and found["held_key_id"] == KEY


def test_without_smarttrace_a_healthy_secret_of_the_app_is_enough():
    assert not plan(inputs(configure_smarttrace=False), tenant(secrets=[secret()]), read={})["mint"]
    assert plan(inputs(configure_smarttrace=False), tenant(secrets=[secret(days_left=30)]), read={})["mint"]


def test_offboarding_never_mints():
    assert not plan(inputs(state="absent"), tenant(), read={})["mint"]


def test_the_plan_names_check_modes_placeholder_for_the_steps_that_predict():
    values = inputs(test_users=[{"user_principal_name": UPN, "password": PASSWORD}], assign_users=[UPN])
    new_app = plan(values, tenant(app_found=False, users=[user(UPN)], deleted_holders=[], adoptable=[]))
    assert new_app["known_after_run"] == KNOWN_AFTER_RUN and not new_app["app_found"] and new_app["mint"]
    assert "predict" not in new_app and "assign_predict" not in new_app  # the modules predict; the role has no stand-ins left


def test_offboarding_deletes_only_its_unshared_test_users_and_says_why_it_keeps_the_others():
    mark = "smarttrace-sso:acme"
    users = [dict(user("ours@contoso.example"), employee_type=mark, assigned_elsewhere=[]),
             dict(user("shared@contoso.example"), employee_type=mark,
                  assigned_elsewhere=[{"resource_display_name": "Payroll", "resource_id": "sp-1"}]),
             dict(user("theirs@contoso.example"), employee_type=None, assigned_elsewhere=[]),
             user("gone@contoso.example", False)]
    found = plan(inputs(state="absent"), tenant(users=users), read=integration())
    assert found["offboard"]["delete_upns"] == ["ours@contoso.example"]
    assert [item["message"] for item in found["offboard"]["kept"]] == [
        "Test user shared@contoso.example is kept: it is also assigned to Payroll (service principal sp-1), another application that may still "
        "need it. Delete it by hand once no one needs it.",
        "Test user theirs@contoso.example is kept: this instance did not create it (its employeeType is empty, not \"smarttrace-sso:acme\"; users "
        "created before the mark existed carry none). Delete it by hand once no one needs it."]
    assert found["remove_integration"]
    assert plan(inputs(state="absent", remove_test_users=False), tenant(users=users), read={})["offboard"] == {"delete_upns": [], "kept": []}
    assert not plan(inputs(state="absent"), tenant(), read=integration(key_id=None, enabled=False, application_id=None))["remove_integration"]
