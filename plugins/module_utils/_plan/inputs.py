# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role ``entra_sso``'s inputs: the names it derives from them and the checks that need no request.

Every rule comes from the module that applies it (redirect URI: ``_app_registration``; user principal name and password:
``_entra_users``; secret lifetime: ``_secret_expiry``; instance name: ``_smarttrace_client``; GUID: ``_identifiers``); here
they are only worded for the role's variables (``smarttrace_sso_<input>``), each message naming the variable and the fix.
``inputs`` is a dict of the role's variables without the ``smarttrace_sso_`` prefix.
"""

import json
import re

from ansible_collections.smarttrace.sso.plugins.module_utils._entra.app_validate import uri_problem
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.user_rules import password_problem, upn_problem
from ansible_collections.smarttrace.sso.plugins.module_utils._common.identifiers import is_guid
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.secret_expiry import RECOMMENDED_MAX_DAYS, lifetime_problem
from ansible_collections.smarttrace.sso.plugins.module_utils._smarttrace.client import InputError, check_instance

PREFIX = "smarttrace_sso_"
UNIQUE_NAME_PREFIX = "smarttrace-sso-"
USER_MARK_PREFIX = "smarttrace-sso:"  # employeeType of the test users the role creates for an instance
HANDOVER_SUFFIX = ".smarttrace-sso.txt"


class PlanError(ValueError):
    """An input or a finding that stops the run before the first write; the message names the variable and the fix."""


def quoted(value):
    """A value as the role's messages show it (JSON, as Jinja's to_json)."""
    return json.dumps(value)


def unique_folded(names):
    """``names`` without repeats, compared case-insensitively, in their order (as Ansible's unique filter)."""
    seen, result = set(), []
    for name in names:
        if name.lower() not in seen:
            seen.add(name.lower())
            result.append(name)
    return result


def derive(inputs):
    """The names the role derives from its inputs, and the path the run takes (no request)."""
    instance = inputs["instance"]
    api_url = re.sub(r"/+$", "", inputs["api_url"] or "")
    present = inputs["state"] == "present"
    rotating = present and bool(inputs["rotate_secret"])
    test_upns = [str(user.get("user_principal_name") or "") for user in inputs["test_users"]]
    return {
        "instance": instance,
        "unique_name": inputs["app_unique_name"] or UNIQUE_NAME_PREFIX + instance,
        "redirect_uri": inputs["redirect_uri"] or "%s/auth/callback/azure/%s" % (api_url, instance),
        "logout_url": inputs["logout_url"] or "%s/auth/callback/azure-logout/%s" % (api_url, instance),
        "handover_file": "%s/%s%s" % (inputs["handover_dir"], instance, HANDOVER_SUFFIX),
        "user_mark": USER_MARK_PREFIX + instance,
        "test_upns": test_upns,
        "rotating": rotating,
        # a rotation touches only the secret and SmartTrace: test users and assignments are neither read nor written
        "assign": bool(inputs["assign_users"] + inputs["assign_groups"]) and not rotating,
        "manage_users": bool(inputs["test_users"]) and present and not rotating,
    }


def read_arguments(inputs, derived):
    """What to read of the tenant (entra_tenant_info's options). Configure: the groups and users to check. Rotate: none.
    Offboard: the test users, with their mark and assignments."""
    present = inputs["state"] == "present"
    if derived["rotating"]:
        users = []
    elif present:
        users = unique_folded(derived["test_upns"] + inputs["assign_users"])
    else:
        users = derived["test_upns"] if inputs["remove_test_users"] else []
    return {
        "groups": inputs["assign_groups"] if present and not derived["rotating"] else [],
        "users": users,
        "unique_name": derived["unique_name"],
        "display_name": inputs["app_display_name"] if present else None,
        "details": not present,
        "suggest": ["groups"],  # a group not found is an error here: it comes with the closest names (one more request then)
    }


def instance_problem(inputs):
    instance = inputs["instance"]
    try:
        usable = check_instance(instance) == instance  # the form SmartTrace's API takes, exactly as given
    except InputError:
        usable = False
    if not usable:
        return ("smarttrace_sso_instance %s is not an instance name: give the first label of the facility's address (acme for "
                "acme.smarttrace.ai), lower-case letters, digits and hyphens, 1 to 63 characters." % quoted(instance))
    return None


def uri_problems(derived):
    problems = []
    for variable, value in (("smarttrace_sso_redirect_uri", derived["redirect_uri"]), ("smarttrace_sso_logout_url", derived["logout_url"])):
        why = uri_problem(value)
        if why:
            problems.append("%s %s is not usable by Entra ID: it must be an https URL without spaces, at most 256 characters (it %s). "
                            "Fix %s (or smarttrace_sso_api_url it is derived from)." % (variable, quoted(value), why, variable))
    return problems


def lifetime_problems(inputs):
    if inputs["state"] != "present":
        return []
    days, before = inputs["secret_expires_in_days"], inputs["secret_rotate_before_days"]
    too_long = lifetime_problem(days, inputs["secret_allow_long_lifetime"], PREFIX + "secret_expires_in_days", PREFIX + "secret_allow_long_lifetime")
    if too_long:
        return [too_long]
    if days < 1 or before < 0 or before >= days or not inputs["secret_display_name"].strip():
        return ["smarttrace_sso_secret_expires_in_days (%s) must be 1 to %d and more than smarttrace_sso_secret_rotate_before_days (%s, at "
                "least 0), and smarttrace_sso_secret_display_name must not be empty, or every run would mint a new secret."
                % (days, RECOMMENDED_MAX_DAYS, before)]
    return []


def handover_key_problems(inputs):
    key_id = inputs["handover_key_id"]
    if key_id and not is_guid(key_id):
        return ["smarttrace_sso_handover_key_id %s is not a key id: give the Secret ID (a GUID) from the hand-over file, or leave it empty."
                % quoted(key_id)]
    return []


def test_user_problems(inputs, derived):
    problems = []
    upns = derived["test_upns"]
    unusable = ["%s - %s" % (upn, upn_problem(upn)) for upn in upns if upn_problem(upn)]
    if unusable or len(set(upn.lower() for upn in upns)) != len(upns):
        problems.append("smarttrace_sso_test_users: every user needs user_principal_name (name@verified.domain), each at most once. %s"
                        % (("Not usable: %s." % "; ".join(unusable)) if unusable else "A name is given twice."))
    # the message names users, never a password
    weak = [str(user.get("user_principal_name") or "") for user in inputs["test_users"] if user.get("password") and password_problem(str(user["password"]))]
    if weak:
        problems.append("smarttrace_sso_test_users: the password of %s does not meet Entra ID's rules: 8 to 256 ASCII characters with three of "
                        "lower-case letters, upper-case letters, digits and symbols." % ", ".join(weak))
    return problems


def assignment_problems(inputs):
    principals = inputs["assign_users"] + inputs["assign_groups"]
    if any(not name.strip() for name in principals) or (inputs["assign_exclusive"] and not principals):
        return ["smarttrace_sso_assign_users and smarttrace_sso_assign_groups must not hold empty names, and smarttrace_sso_assign_exclusive "
                "needs at least one of them (it would remove every assignment)."]
    return []


def input_problems(inputs, derived):
    """Every problem of the inputs that needs no request, in the order the role's guide meets them; [] when none."""
    problems = [instance_problem(inputs)] if instance_problem(inputs) else []
    return (problems + uri_problems(derived) + lifetime_problems(inputs) + handover_key_problems(inputs)
            + test_user_problems(inputs, derived) + assignment_problems(inputs))
