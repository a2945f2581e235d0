#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: entra_user
short_description: Manage cloud users in Microsoft Entra ID, one or thousands per task
version_added: 0.1.0
description:
  - Creates, updates or deletes Microsoft Entra ID users, such as the test user B.Simon of the SmartTrace single sign-on guide.
  - One user with O(user_principal_name), or many with O(users) in one task. Many users are read with one request per 300 users
    and written with one request per 20 users (Microsoft Graph JSON batching).
  - A user is found by its user principal name. Properties whose option is not set are left as they are; those that are set
    are compared with the user's and only differing ones are changed.
  - The password is sent when the user is created, and afterwards only with O(update_password=always). Passwords cannot be
    read back, so O(update_password=always) changes the password (and reports a change) on every run.
  - With O(users), one failing user does not stop the others; the task fails after all were handled, and RV(users) tells
    what happened to each.
  - All input is checked before the first request; Microsoft Entra ID's own rules (verified domain, user principal name held
    by another object, banned passwords) are reported per user with what to do.
extends_documentation_fragment:
  - smarttrace.sso.entra
  - smarttrace.sso.attributes
  - smarttrace.sso.attributes.actiongroup_entra
options:
  user_principal_name:
    description:
      - The user principal name (sign-in name) of one user, such as V(B.Simon@contoso.onmicrosoft.com).
      - Its domain must be a verified domain of the tenant. Matched case-insensitively.
      - Exactly one of O(user_principal_name) and O(users) is required.
    type: str
    aliases: [upn]
  users:
    description:
      - Many users, each with the options of a single user.
      - O(password), O(update_password), O(force_change_password_next_sign_in), O(account_enabled), O(usage_location),
        O(state) and O(created_by) set at the top level apply to every entry that does not set them.
      - Each user principal name may appear only once.
    type: list
    elements: dict
    suboptions:
      user_principal_name:
        description: The user principal name, see O(user_principal_name).
        type: str
        required: true
        aliases: [upn]
      display_name:
        description: See O(display_name).
        type: str
      mail_nickname:
        description: See O(mail_nickname).
        type: str
      password:
        description: See O(password).
        type: str
      update_password:
        description: See O(update_password).
        type: str
        choices: [always, on_create]
      force_change_password_next_sign_in:
        description: See O(force_change_password_next_sign_in).
        type: bool
      account_enabled:
        description: See O(account_enabled).
        type: bool
      given_name:
        description: See O(given_name).
        type: str
      surname:
        description: See O(surname).
        type: str
      usage_location:
        description: See O(usage_location).
        type: str
      state:
        description: See O(state).
        type: str
        choices: [present, absent]
      created_by:
        description: See O(created_by).
        type: str
  display_name:
    description:
      - The name shown for the user.
      - When a user is created without it, the part of the user principal name before the V(@) is used.
    type: str
  mail_nickname:
    description:
      - The mail alias of the user (1 to 64 ASCII characters, no V(@), spaces or brackets).
      - When a user is created without it, the part of the user principal name before the V(@) is used.
    type: str
  password:
    description:
      - The password of the user, 8 to 256 ASCII characters with three of lower-case letters, upper-case letters, digits and
        symbols, and not on Microsoft's banned password list.
      - Required to create a user. Used again only with O(update_password=always).
    type: str
  update_password:
    description:
      - V(on_create) sets the password only when the user is created, so re-runs never change it.
      - V(always) sets it on every run. This needs the Microsoft Graph permission C(User-PasswordProfile.ReadWrite.All)
        (or the User Administrator role) for the automation identity, more than creating users does.
    type: str
    choices: [always, on_create]
    default: on_create
  force_change_password_next_sign_in:
    description:
      - Whether the user must change the password at the next sign-in. Sent together with the password only.
    type: bool
    default: true
  account_enabled:
    description:
      - Whether the user can sign in. New users are enabled unless this is V(false).
    type: bool
  given_name:
    description: The first name of the user.
    type: str
  surname:
    description: The last name of the user.
    type: str
  usage_location:
    description:
      - Two-letter country code (ISO 3166-1 alpha-2) where the user uses services, such as V(US); needed to assign licenses.
    type: str
  state:
    description:
      - V(present) creates or updates the users, V(absent) deletes them.
      - Deleted users stay in Deleted users for 30 days, restorable; Entra ID renames them (their object id is put before
        the user principal name), so a new user may take the name at once.
    type: str
    choices: [present, absent]
    default: present
  created_by:
    description:
      - A mark of who creates the users, such as V(smarttrace-sso:acme), kept in the user's C(employeeType).
      - With O(state=present) it is written only when the task creates a user; an existing user is never marked (so it
        is never taken for one this creator made), and the mark is not compared.
      - With O(state=absent) only users that carry exactly this mark are deleted; the others are kept and reported with
        RV(users[].action=kept) and a reason.
    type: str
notes:
  - "Microsoft Graph permission: C(User.ReadWrite.All); C(Directory.Read.All) (or C(Domain.Read.All)) lets errors list the verified
     domains; C(User-PasswordProfile.ReadWrite.All) only for O(update_password=always)."
  - A user created a moment ago may not be found by the next task at once (Microsoft Entra ID replicates with a delay);
    M(smarttrace.sso.entra_assignment) waits for it.
seealso:
  - module: smarttrace.sso.entra_assignment
author:
  - smarttrace.sso contributors (@smarttrace)
"""

EXAMPLES = r"""
- name: Create the test user of the SmartTrace guide
  smarttrace.sso.entra_user:
    user_principal_name: B.Simon@contoso.onmicrosoft.com
    display_name: B.Simon
    password: "{{ vault_bsimon_password }}"
    force_change_password_next_sign_in: false
  register: bsimon

- name: Create many test users in one task (20 per request)
  smarttrace.sso.entra_user:
    password: "{{ vault_initial_password }}"
    usage_location: US
    users: "{{ testers }}"
  vars:
    testers:
      - user_principal_name: tester1@contoso.onmicrosoft.com
        display_name: Tester One
      - user_principal_name: tester2@contoso.onmicrosoft.com
        display_name: Tester Two
        account_enabled: false

- name: Remove the test user
  smarttrace.sso.entra_user:
    user_principal_name: B.Simon@contoso.onmicrosoft.com
    state: absent

- name: Create test users marked as made for the facility acme, and later remove only those it made
  smarttrace.sso.entra_user:
    users: "{{ testers }}"
    password: "{{ vault_initial_password }}"
    created_by: smarttrace-sso:acme
    state: "{{ 'absent' if offboarding else 'present' }}"
"""

RETURN = r"""
user:
  description: The user of O(user_principal_name) (one entry of RV(users)).
  returned: with O(user_principal_name)
  type: dict
  sample:
    user_principal_name: B.Simon@contoso.onmicrosoft.com
    id: 4ad9a6f1-52b0-4f1e-9a8e-0b6c6a8a2c11
    display_name: B.Simon
    mail_nickname: B.Simon
    given_name: null
    surname: null
    account_enabled: true
    usage_location: null
    action: created
    changed: true
    changes: []
users:
  description: What happened to each user, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    user_principal_name:
      description: The user principal name.
      type: str
    id:
      description: Object ID of the user; V((known after the real run\)) for a user created in check mode; null when there is none.
      type: str
    display_name:
      description: Display name (after the change).
      type: str
    mail_nickname:
      description: Mail alias (after the change).
      type: str
    given_name:
      description: First name (after the change).
      type: str
    surname:
      description: Last name (after the change).
      type: str
    account_enabled:
      description: Whether the user can sign in (after the change).
      type: bool
    usage_location:
      description: Usage location (after the change).
      type: str
    employee_type:
      description: The user's employeeType, where O(created_by) keeps its mark (after the change).
      type: str
    action:
      description:
        - V(created), V(updated), V(unchanged), V(deleted), V(absent) (there was nothing to delete), V(kept) (not deleted,
          as it does not carry the O(created_by) mark) or V(failed).
      type: str
    changed:
      description: Whether the user was (or in check mode would be) changed.
      type: bool
    changes:
      description: The options whose values were changed, V(password) included when it was set again.
      type: list
      elements: str
    error:
      description: Why the user failed, and what to do.
      type: str
      returned: when RV(users[].action=failed)
    reason:
      description: Why the user was kept.
      type: str
      returned: when RV(users[].action=kept)
"""

from ansible_collections.smarttrace.sso.plugins.module_utils._entra.directory_bulk import Waiter, fold
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.module import EntraModule
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.user_rules import validate_user
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.users import UserSync
from ansible_collections.smarttrace.sso.plugins.module_utils._common.errors import SsoError
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.user_properties import KEY_OPTION, USER_OPTIONS

# Options of one user, from the property table (_user_properties): compared with the user (when set): display_name, mail_nickname,
# given_name, surname, account_enabled, usage_location (upper case), exactly. The password is write-only: sent on create, or always.
# created_by goes to employeeType on create only, and limits state=absent to the users carrying it.

# Top-level options that entries of `users` inherit.
SHARED_OPTIONS = ("password", "update_password", "force_change_password_next_sign_in", "account_enabled", "usage_location", "state", "created_by")
PER_USER_ONLY = ("display_name", "mail_nickname", "given_name", "surname")


def argument_spec():
    spec = dict((name, dict(option)) for name, option in USER_OPTIONS.items())
    spec.update(
        user_principal_name=dict(KEY_OPTION),
        users=dict(type="list", elements="dict", options=dict(user_principal_name=dict(KEY_OPTION, required=True), **USER_OPTIONS)),
    )
    spec["update_password"]["default"] = "on_create"
    spec["force_change_password_next_sign_in"]["default"] = True
    spec["state"]["default"] = "present"
    return spec


def entries_of(params):
    """The users to handle, each a dict of every user option (entries of `users` filled from the top level)."""
    if params["users"] is None:
        return [dict((name, params[name]) for name in ("user_principal_name",) + tuple(USER_OPTIONS))]
    entries = []
    for item in params["users"]:
        entry = dict(item)
        for name in SHARED_OPTIONS:
            if entry.get(name) is None:
                entry[name] = params[name]
        entries.append(entry)
    return entries


def input_problems(entries, many):
    problems, seen = [], {}
    for index, entry in enumerate(entries):
        where = "users[%d] (%s): " % (index, entry["user_principal_name"]) if many else ""
        problems.extend(where + problem for problem in validate_user(entry))
        key = fold(entry["user_principal_name"])
        if key in seen:
            problems.append("%suser_principal_name is also given in users[%d]: give each user once" % (where, seen[key]))
        seen.setdefault(key, index)
    return problems


def main():
    module = EntraModule(
        argument_spec=argument_spec(),
        mutually_exclusive=[("user_principal_name", "users")] + [("users", name) for name in PER_USER_ONLY],
        required_one_of=[("user_principal_name", "users")],
    )
    many = module.params["users"] is not None
    entries = entries_of(module.params)
    problems = input_problems(entries, many)
    if problems:
        module.fail_json(msg="Invalid input: " + "; ".join(problems), problems=problems)
    try:
        results, (before, after) = UserSync(module.graph, Waiter(), module.check_mode).run(entries)
    except Exception as exc:  # noqa: BLE001 - reported through fail_from, secret-free
        module.fail_from(exc)
    changed = any(result["changed"] for result in results)
    extra = {} if many else {"user": results[0]}
    failed = [result for result in results if result["action"] == "failed"]
    if failed:
        msg = "%d of %d users failed: %s" % (len(failed), len(results), "; ".join("%s: %s" % (r["user_principal_name"], r["error"]) for r in failed))
        module.fail_from(SsoError(msg), changed=changed, users=results, **extra)  # with the request trace at -vvv
    module.exit_with(changed, before=before, after=after, users=results, **extra)


if __name__ == "__main__":
    main()
