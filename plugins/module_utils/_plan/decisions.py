# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role ``entra_sso``'s plan from what the reads found: the checks that need the tenant or SmartTrace, and the decisions
(mint a secret? which one SmartTrace holds, users, assignments, check-mode predictions, what offboarding deletes and keeps).

``inputs``: the role's variables without the ``smarttrace_sso_`` prefix; ``derived``: ``_sso_plan_inputs.derive``;
``tenant``: what ``_tenant_reads.read_tenant`` returned; ``integration``/``verification``: SmartTrace's integration and
its test ({} and None when not read). Pure functions: no request is made here.
"""

from ansible_collections.smarttrace.sso.plugins.module_utils._common.identifiers import KNOWN_AFTER_RUN
from ansible_collections.smarttrace.sso.plugins.module_utils._graph.permissions import PERMISSIONS
from ansible_collections.smarttrace.sso.plugins.module_utils._plan.inputs import PlanError, quoted

# what each part of the run needs of the one permission table (_permissions.PERMISSIONS): (permission, purpose)
NEEDS = (
    ("Application.ReadWrite.OwnedBy", "the app registration and its secrets"),
    ("User.ReadWrite.All", "smarttrace_sso_test_users"),
    ("AppRoleAssignment.ReadWrite.All", "assignments"),
    ("DelegatedPermissionGrant.ReadWrite.All", "smarttrace_sso_admin_consent"),
    ("Application.ReadWrite.All", "smarttrace_sso_owners"),
)


def any_of(permission):
    """The permission and the ones that also do (more privilege), from the table."""
    return [permission] + [list(row[2]) for row in PERMISSIONS if row[0] == permission][0]


def needed(inputs, derived):
    """Which NEEDS this run has."""
    return {
        "the app registration and its secrets": True,
        "smarttrace_sso_test_users": derived["manage_users"],
        "assignments": derived["assign"],
        "smarttrace_sso_admin_consent": bool(inputs["admin_consent"]),
        "smarttrace_sso_owners": bool(inputs["owners"]),
    }


def usable_roles(inputs, app):
    """Values and display names of the app roles users can be given: smarttrace_sso_app_roles (they replace the app's roles of the
    same value) that are enabled and allow users, and the app's other roles that are enabled and allow users."""
    wanted = inputs["app_roles"]
    wanted_values = [role.get("value") for role in wanted]
    roles = [role for role in wanted if role.get("enabled", True) and "User" in role.get("allowed_member_types", ["User"])]
    roles += [role for role in app["app_roles"] if role.get("enabled") and "User" in (role.get("allowed_member_types") or [])
              and role.get("value") not in wanted_values]
    return [role.get("value") for role in roles] + [role.get("display_name") for role in roles if role.get("display_name")]


def role_problem(inputs, app):
    all_roles = app["app_roles"] + inputs["app_roles"]
    known = [role.get("value") for role in all_roles] + [role.get("display_name") for role in all_roles if role.get("display_name")]
    usable = usable_roles(inputs, app)
    role, principals = inputs["app_role"], inputs["assign_users"] + inputs["assign_groups"]
    if (role and role in usable) or (not role and (not all_roles or not principals)):
        return None
    if role and role in known:
        why = ("smarttrace_sso_app_role %s is an app role of the app, but disabled or not for users (allowedMemberTypes without User), so "
               "assigning it would fail after the first writes; " % quoted(role))
    elif role:
        why = "smarttrace_sso_app_role %s is not an app role of the app; " % quoted(role)
    else:
        why = "Default Access (smarttrace_sso_app_role empty) is not possible: the app defines app roles; "
    roles = ("the roles users can be given are: " + (", ".join(usable) or "none")) if all_roles else "the app defines none"
    return (why + roles + ". Set smarttrace_sso_app_role to one of them, or define the role in smarttrace_sso_app_roles (enabled, "
            "allowed_member_types with User).")


def group_problems(groups):
    problems = []
    for group in groups:
        if group["found"]:
            continue
        if not group.get("matches"):
            suggestions = group.get("suggestions") or []
            hint = (" (did you mean %s?)" % " or ".join(quoted(name) for name in suggestions)) if suggestions else ""
            text = "no group is named %s%s" % (quoted(group["name"]), hint)
        else:
            text = "%s groups are named %s (ids %s); give the object id of the one to assign" % (
                group["matches"], quoted(group["name"]), ", ".join(group.get("ids") or []))
        problems.append("smarttrace_sso_assign_groups: %s." % text)
    return problems


def permission_problems(inputs, derived, identity):
    held = identity["permissions"]
    problems = []
    wanted = needed(inputs, derived)
    for permission, purpose in NEEDS:
        alternatives = any_of(permission)
        if wanted[purpose] and not set(held) & set(alternatives):
            problems.append("The automation identity %s (%s) lacks a Microsoft Graph application permission for %s: grant %s with admin consent. "
                            "It holds %s." % (identity.get("display_name") or "", identity.get("app_id"), purpose, " or ".join(alternatives),
                                              ", ".join(held) or "none"))
    return problems


def configure_problems(inputs, derived, tenant, app):
    """The checks of a configure run (not a rotation) against the tenant, in the role's order: the first one that fails."""
    upns, test_users = derived["test_upns"], inputs["test_users"]
    verified = [domain.lower() for domain in tenant["verified_domains"]]
    outside = [upn for upn in upns if upn.rsplit("@", 1)[-1].lower() not in verified]
    if outside:
        return ["smarttrace_sso_test_users: %s must use a verified domain of the tenant: %s." % (", ".join(outside), ", ".join(tenant["verified_domains"]))]
    found = [(user["name"] or "").lower() for user in tenant["users"] if user["found"]]
    with_password = [str(user.get("user_principal_name")).lower() for user in test_users if user.get("password")]
    missing = [upn.lower() for upn in upns if upn.lower() not in found and upn.lower() not in with_password]
    if missing:
        return ["smarttrace_sso_test_users: %s do not exist yet, so each needs a password (take it from Ansible Vault)." % ", ".join(missing)]
    folded = [upn.lower() for upn in upns]
    nobody = [user["name"] for user in tenant["users"] if not user["found"] and user["name"].lower() not in folded]
    if nobody:
        return ["smarttrace_sso_assign_users: no user %s in the tenant. Fix the name, or add the user to smarttrace_sso_test_users." % ", ".join(nobody)]
    problems = group_problems(tenant["groups"])
    if problems:
        return problems
    problem = role_problem(inputs, app)
    return [problem] if problem else []


def app_problems(inputs, derived, app):
    """A deleted app holding the unique name, or several apps that could be taken over (configure runs)."""
    if app["found"]:
        return []
    holders = app.get("deleted_holders") or []
    if holders:
        return ["smarttrace_sso_app_unique_name: the unique name %s of instance %s's app is held by the deleted app registration %s (object id %s, "
                "application id %s, deleted %s): a deleted app keeps its unique name for 30 days, so the app could not be created. Restore it "
                "(Entra admin center > App registrations > Deleted applications > Restore app registration, or POST /directory/deletedItems/{id}/restore; "
                "restore its enterprise application too) to onboard the instance again with it, or delete it permanently (Delete permanently there, "
                "or DELETE /directory/deletedItems/{id}), or set smarttrace_sso_app_unique_name to another name."
                % (quoted(derived["unique_name"]), derived["instance"], holders[0].get("display_name") or "",
                   ", ".join(str(item.get("id")) for item in holders), ", ".join(str(item.get("app_id")) for item in holders),
                   ", ".join(str(item.get("deleted")) for item in holders))]
    adoptable = app.get("adoptable") or []
    if len(adoptable) > 1:
        return ["smarttrace_sso_app_display_name: instance %s's app (unique name %s) does not exist, and %d app registrations named %s have no "
                "unique name (application ids %s), so the role cannot tell which one is this instance's. Delete or rename the ones that are not "
                "(Entra admin center > App registrations), or set smarttrace_sso_app_display_name to another name to create a new app."
                % (derived["instance"], derived["unique_name"], len(adoptable), quoted(inputs["app_display_name"]),
                   ", ".join(str(item.get("app_id")) for item in adoptable))]
    return []


def smarttrace_problems(derived, integration):
    if integration.get("redirect_uri") == derived["redirect_uri"] and integration.get("logout_url") == derived["logout_url"]:
        return []
    return ["SmartTrace expects the Redirect URI %s and the Front-channel logout URL %s, the app would get %s and %s. Fix smarttrace_sso_redirect_uri "
            "/ smarttrace_sso_logout_url (or smarttrace_sso_api_url), or leave them empty."
            % (integration.get("redirect_uri"), integration.get("logout_url"), derived["redirect_uri"], derived["logout_url"])]


def notes(inputs, derived, tenant, app):
    """What a configure run says before the first write: delegated permissions not checked, an app to be taken over."""
    said = []
    identity = tenant["identity"]
    if identity["kind"] != "application":
        said.append("The automation identity signs in as a user (%s token): its permissions also depend on its directory roles, so they are not "
                    "checked before the first write. It needs Cloud Application Administrator and User Administrator." % identity["kind"])
    adoptable = app.get("adoptable") or []
    if not app["found"] and len(adoptable) == 1:
        said.append("Instance %s's app (unique name %s) does not exist; the app registration %s (application id %s) has no unique name and will be "
                    "taken over as its app (it gets the unique name). If it belongs to another facility, stop and rename it, or set "
                    "smarttrace_sso_app_display_name to another name." % (derived["instance"], derived["unique_name"], adoptable[0].get("display_name"),
                                                                          adoptable[0].get("app_id")))
    return said


def check_findings(inputs, derived, tenant, integration):
    """Raise ``PlanError`` with the first finding that stops a configure run (nothing for offboarding)."""
    if inputs["state"] != "present":
        return
    app = tenant["app"]
    checks = []
    if not derived["rotating"]:
        checks.append(lambda: configure_problems(inputs, derived, tenant, app))
    if tenant["identity"]["kind"] == "application":
        checks.append(lambda: permission_problems(inputs, derived, tenant["identity"]))
    checks.append(lambda: app_problems(inputs, derived, app))
    if inputs["configure_smarttrace"]:
        checks.append(lambda: smarttrace_problems(derived, integration))
    for check in checks:
        problems = check()
        if problems:
            raise PlanError(" ".join(problems))


def held_key_id(inputs, tenant, integration, verification, healthy):
    """The key id of the secret SmartTrace holds, if it is one of ours that stays valid long enough, for the app's ids, and works; ''."""
    held = (integration.get("client_secret_id") or "").lower()
    usable = (held in [(secret.get("key_id") or "").lower() for secret in healthy]
              and integration.get("enabled")
              and (integration.get("application_id") or "").lower() == (tenant["app"].get("app_id") or "").lower()
              and (integration.get("tenant_id") or "").lower() == (tenant["tenant_id"] or "").lower()
              and (verification or {}).get("ok"))
    return held if held and usable else ""


def offboarding(inputs, derived, tenant):
    """What offboarding deletes: a test user only when this instance created it (it carries the mark) and it is assigned to no
    other application; each user kept comes with the reason."""
    mark = derived["user_mark"]
    found = [user for user in tenant["users"] if user["found"]] if inputs["remove_test_users"] else []
    delete = [user["user_principal_name"] for user in found if user.get("employee_type") == mark and not user.get("assigned_elsewhere")]
    kept = []
    for user in found:
        if user["user_principal_name"] in delete:
            continue
        reasons = []
        elsewhere = user.get("assigned_elsewhere") or []
        if elsewhere:
            names = unique([item.get("resource_display_name") or "an app" for item in elsewhere])
            reasons.append("it is also assigned to %s (service principal %s), another application that may still need it"
                           % (", ".join(names), ", ".join(unique([item.get("resource_id") for item in elsewhere]))))
        if user.get("employee_type") != mark:
            reasons.append("this instance did not create it (its employeeType is %s, not %s; users created before the mark existed carry none)"
                           % (quoted(user["employee_type"]) if user.get("employee_type") else "empty", quoted(mark)))
        kept.append({"user_principal_name": user["user_principal_name"],
                     "message": "Test user %s is kept: %s. Delete it by hand once no one needs it." % (user["user_principal_name"], "; and ".join(reasons))})
    return {"delete_upns": delete, "kept": kept}


def unique(items):
    result = []
    for item in items:
        if item not in result:
            result.append(item)
    return result


def decide(inputs, derived, tenant, integration, verification):
    """The plan (after ``check_findings``): the derived names, what the reads found and the decisions."""
    present = inputs["state"] == "present"
    app = tenant["app"]
    ours = [secret for secret in app["secrets"] if secret.get("display_name") == inputs["secret_display_name"]]
    healthy = [secret for secret in ours if secret.get("days_left") is not None and secret["days_left"] > inputs["secret_rotate_before_days"]]
    held = held_key_id(inputs, tenant, integration, verification, healthy)
    if inputs["configure_smarttrace"]:
        mint = present and (bool(inputs["rotate_secret"]) or not held)
    else:
        mint = present and (bool(inputs["rotate_secret"]) or not healthy)
    plan = dict(derived)
    plan.update({
        "tenant": tenant,
        "app": app,
        "app_found": app["found"],
        "integration": integration,
        "verification": verification,
        "our_secrets": ours,
        "healthy_secrets": healthy,
        "held_key_id": held,
        "mint": mint,
        "remove_integration": bool(not present and inputs["configure_smarttrace"]
                                   and (integration.get("enabled") or integration.get("client_secret_set") or integration.get("application_id") is not None)),
        "offboard": offboarding(inputs, derived, tenant) if not present else {"delete_upns": [], "kept": []},
        "messages": notes(inputs, derived, tenant, app) if present else [],
        "known_after_run": KNOWN_AFTER_RUN,  # what check mode shows for ids only a real run can know
    })
    return plan
