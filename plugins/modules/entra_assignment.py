#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: entra_assignment
short_description: Assign users and groups to an enterprise application in Microsoft Entra ID (who may sign in)
version_added: 0.1.0
description:
  - Makes sure users and groups are assigned (or not) to an enterprise application, with an app role when the app defines
    roles, else with Default Access. With C(appRoleAssignmentRequired) set on the enterprise application, only assigned users
    and members of assigned groups can sign in.
  - Scales to thousands of principals in one task, in a handful of requests (Microsoft Graph JSON batching). The enterprise
    application, its assignments (read once, paged) and the principals (300 per request) are read in one round of requests
    when O(service_principal_id) is given, in two with O(app_id); assignments are written 20 per request.
  - An assignment that already exists counts as present. A principal created moments before (for example by
    M(smarttrace.sso.entra_user) in the previous task) may not be visible yet; it is waited for up to O(replication_timeout)
    when it may be new (see O(new_principals)).
  - All principals are resolved before anything is changed; an unknown or ambiguous name fails the task and names it, with
    the closest existing names ("did you mean ...?", compared with the first 999 users or groups of the tenant).
extends_documentation_fragment:
  - smarttrace.sso.entra
  - smarttrace.sso.attributes
  - smarttrace.sso.attributes.actiongroup_entra
options:
  app_id:
    description:
      - The application (client) ID of the app; its service principal (enterprise application) holds the assignments.
      - Exactly one of O(app_id) and O(service_principal_id) is required.
    type: str
  service_principal_id:
    description:
      - The object ID of the service principal (enterprise application).
      - In check mode, O(app_id) and O(service_principal_id) may also be V((known after the real run\)), what M(smarttrace.sso.entra_app)
        returns for an app or service principal it would create. Nothing is read about it then, and every principal counts as
        added; a named O(role)'s id is V((known after the real run\)) too. Outside check mode that placeholder is an error naming the option.
    type: str
  users:
    description:
      - Users to assign (or unassign), by user principal name (such as V(B.Simon@contoso.onmicrosoft.com)) or object ID.
    type: list
    elements: str
    default: []
  groups:
    description:
      - Groups to assign (or unassign), by display name or object ID. A display name shared by several groups is an error;
        use the object ID then.
      - Assigning a group covers its direct members. Group assignment needs Microsoft Entra ID P1 or P2.
    type: list
    elements: str
    default: []
  role:
    description:
      - The app role to assign, by its value (as in the C(roles) claim, such as V(SmartTrace.User)) or its display name.
      - Leave it unset for Default Access, which exists only when the app defines no app roles; when it defines roles,
        leaving it unset is an error that lists them.
    type: str
  state:
    description:
      - V(present) assigns the principals, V(absent) removes their assignment with O(role).
      - With V(absent), principals that do not exist are reported in a warning (they have no assignment).
    type: str
    choices: [present, absent]
    default: present
  exclusive:
    description:
      - With O(state=present), also remove the assignments of users and groups to O(role) that are not listed.
        Assignments with other roles, and of service principals, are left alone.
    type: bool
    default: false
  replication_timeout:
    description:
      - Seconds to keep retrying when the service principal or a principal is not found, or an assignment is refused,
        because the object was created moments before (Microsoft Entra ID replicates with a delay).
      - Only names that may be new (O(new_principals)) are waited for; any other unknown name fails at once. V(0) never waits.
    type: int
    default: 60
  service_principal_new:
    description:
      - The service principal of O(service_principal_id) was created moments before, in this run (M(smarttrace.sso.entra_app)
        created the app), so nothing can be assigned to it yet and its assignments are not read.
      - Set it only for a service principal created in this run. For any other, O(exclusive) would miss the assignments to remove,
        and a principal already assigned would cost a write that Microsoft Graph refuses as existing (reported as unchanged).
    type: bool
    default: false
  new_principals:
    description:
      - The users and groups of O(users) and O(groups) that were created moments before this task (for example the
        RV(smarttrace.sso.entra_user#module:users[].user_principal_name) of the users it created). Only these are waited
        for when not visible yet; any other name that is not found fails at once, naming the closest existing names.
      - When not set, every user of O(users) that is not found is waited for (it may have been created by the previous
        task), and groups are not (this collection never creates groups).
      - V([]) waits for no principal.
      - In check mode these principals are not waited for - the task that creates them ran in check mode too. One that is not
        found is predicted as added, with the principal ID V((known after the real run\)); so is a principal given as that placeholder.
    type: list
    elements: str
notes:
  - "Microsoft Graph permissions: C(AppRoleAssignment.ReadWrite.All) and C(Application.Read.All) (or C(Directory.Read.All)),
     plus C(User.Read.All) and C(Group.Read.All) (or C(Directory.Read.All)) to resolve principals."
  - The assignment IDs are opaque strings, not GUIDs.
seealso:
  - module: smarttrace.sso.entra_user
  - module: smarttrace.sso.entra_app
author:
  - smarttrace.sso contributors (@smarttrace)
"""

EXAMPLES = r"""
- name: Let B.Simon and the SmartTrace Users group sign in, as SmartTrace users
  smarttrace.sso.entra_assignment:
    app_id: "{{ smarttrace_app.app_id }}"
    role: SmartTrace.User
    users:
      - B.Simon@contoso.onmicrosoft.com
    groups:
      - SmartTrace Users

- name: Exactly these people have the admin role (others lose it)
  smarttrace.sso.entra_assignment:
    app_id: "{{ smarttrace_app.app_id }}"
    role: SmartTrace.Admin
    users: "{{ admins }}"
    exclusive: true

- name: An app without app roles gets Default Access
  smarttrace.sso.entra_assignment:
    service_principal_id: "{{ other_app.service_principal_id }}"
    users: "{{ created_users.users | map(attribute='id') | list }}"

- name: Remove a user's assignment
  smarttrace.sso.entra_assignment:
    app_id: "{{ smarttrace_app.app_id }}"
    role: SmartTrace.User
    users: [B.Simon@contoso.onmicrosoft.com]
    state: absent
"""

RETURN = r"""
service_principal_id:
  description: Object ID of the service principal (enterprise application).
  returned: success
  type: str
app_role_id:
  description: ID of the app role assigned; V(00000000-0000-0000-0000-000000000000) for Default Access.
  returned: success
  type: str
role:
  description: The app role as C(value (display name)), or V(Default Access).
  returned: success
  type: str
  sample: SmartTrace.User (SmartTrace user)
added:
  description: Assignments created (or, in check mode, that would be).
  returned: success
  type: list
  elements: dict
  contains:
    principal_type:
      description: V(User) or V(Group).
      type: str
    principal_id:
      description: Object ID of the user or group.
      type: str
    name:
      description: The name as given in O(users) or O(groups) (for assignments removed by O(exclusive), the display name).
      type: str
    principal_display_name:
      description: Display name of the user or group.
      type: str
    app_role_id:
      description: ID of the app role.
      type: str
    assignment_id:
      description: ID of the assignment; V((known after the real run\)) in check mode; null when Graph did not return it.
      type: str
removed:
  description: Assignments deleted (or that would be), same fields as RV(added).
  returned: success
  type: list
  elements: dict
failed_principals:
  description: The changes that failed (same fields as RV(added)); the task fails and its message says why for each.
  returned: when some changes failed
  type: list
  elements: dict
assignments:
  description:
    - Every assignment of the enterprise application after the task (in check mode, as it would be), whatever its app role and
      principal type (users, groups and service principals), including those this task was not asked about.
    - Taken from the assignments the task reads anyway and the changes it made; it costs no extra request.
  returned: success
  type: list
  elements: dict
  contains:
    principal_type:
      description: V(User), V(Group) or V(ServicePrincipal).
      type: str
    principal_id:
      description: Object ID of the principal.
      type: str
    name:
      description: The name as given in O(users) or O(groups) for the principals listed there, else the display name.
      type: str
    principal_display_name:
      description: Display name of the principal.
      type: str
    app_role_id:
      description: ID of the app role; V(00000000-0000-0000-0000-000000000000) for Default Access.
      type: str
    assignment_id:
      description: ID of the assignment; V((known after the real run\)) for one created in check mode; null when Graph did not return it.
      type: str
  sample:
    - principal_type: Group
      principal_id: 5c1e8a77-3a4b-4f6e-9d2c-1b0a9e8f7d6c
      name: SmartTrace Users
      principal_display_name: SmartTrace Users
      app_role_id: 00000000-0000-0000-0000-000000000000
      assignment_id: d4qp8w5OIUWmuDSLyqw0ZWc1zmm6bj5Dj7Sg7vzORhg
unchanged:
  description:
    - Listed principals left as they were, same fields as RV(added). With O(state=present) they were already assigned
      (with their assignment IDs); with O(state=absent) they had no assignment.
  returned: success
  type: list
  elements: dict
"""

from ansible_collections.smarttrace.sso.plugins.module_utils._entra.directory_bulk import Waiter, fold
from ansible_collections.smarttrace.sso.plugins.module_utils._common.identifiers import KNOWN_AFTER_RUN, is_guid, is_known_after_run
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.assignments import (
    AssignmentError,
    apply_changes,
    assignments_after,
    new_principal_test,
    pick_role,
    plan_changes,
    principal_problems,
    read_state,
    resolve_principals,
    result_entry,
    suggest_principals,
    wait_for_principals,
)
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.module import EntraModule
from ansible_collections.smarttrace.sso.plugins.module_utils._common.errors import SsoError

# An assignment is (principal, app role) on the service principal; nothing else about it is compared.
# Principals are matched by object ID after resolving names: users by userPrincipalName, groups by displayName.


def input_problems(params, check_mode=False):
    problems = []
    for option in ("app_id", "service_principal_id"):
        if is_known_after_run(params[option]):
            if not check_mode:
                problems.append("%s is %r, check mode's placeholder for an app or service principal that does not exist yet: outside check "
                                "mode give the real id (entra_app's result after a real run)" % (option, params[option]))
        elif params[option] is not None and not is_guid(params[option]):
            problems.append("%s %r must be a GUID such as 00000000-0000-0000-0000-000000000000" % (option, params[option]))
    for option in ("users", "groups"):
        problems.extend("%s[%d] is %r, check mode's placeholder: outside check mode give the principal's real name or object id" % (option, index, name)
                        for index, name in enumerate(params[option]) if is_known_after_run(name) and not check_mode)
    for index, name in enumerate(params["users"]):
        if is_known_after_run(name):
            continue
        if not name or not name.strip():
            problems.append("users[%d] is empty" % index)
        elif not is_guid(name) and name.count("@") != 1:
            problems.append("users[%d] %r: give a user principal name (name@domain) or an object id" % (index, name))
    problems.extend("groups[%d] is empty" % index for index, name in enumerate(params["groups"]) if not name or not name.strip())
    if params["exclusive"] and params["state"] == "absent":
        problems.append("exclusive applies to state=present only")
    if not params["users"] and not params["groups"] and not params["exclusive"]:
        problems.append("give users or groups (or exclusive=true with none to remove every assignment of the role)")
    if params["role"] is not None and not params["role"].strip():
        problems.append("role is empty: leave it unset for Default Access")
    if params["service_principal_new"] and not params["service_principal_id"]:
        problems.append("service_principal_new is used only with service_principal_id (the id entra_app returned when it created it)")
    if params["replication_timeout"] < 0:
        problems.append("replication_timeout must be 0 or more seconds")
    return problems


def assigned_labels(assignments, role_id):
    return sorted("%s %s [%s]" % (item.get("principalType"), item.get("principalDisplayName"), fold(item.get("principalId")))
                  for item in assignments if fold(item.get("appRoleId")) == fold(role_id))


def item_label(item):
    return "%s %s [%s]" % (item["principal_type"], item.get("principal_display_name"), item["principal_id"])


def main():
    module = EntraModule(
        argument_spec=dict(
            app_id=dict(type="str"),
            service_principal_id=dict(type="str"),
            users=dict(type="list", elements="str", default=[]),
            groups=dict(type="list", elements="str", default=[]),
            role=dict(type="str"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            exclusive=dict(type="bool", default=False),
            replication_timeout=dict(type="int", default=60),
            new_principals=dict(type="list", elements="str"),
            service_principal_new=dict(type="bool", default=False),
        ),
        mutually_exclusive=[("app_id", "service_principal_id")],
        required_one_of=[("app_id", "service_principal_id")],
    )
    params = module.params
    problems = input_problems(params, module.check_mode)
    if problems:
        module.fail_json(msg="Invalid input: " + "; ".join(problems), problems=problems)
    graph, waiter, present = module.graph, Waiter(), params["state"] == "present"
    waiter.budget = getattr(module, "deadline", None)  # the task's time budget, when the base class has one: waits end by it
    wait = params["replication_timeout"]
    try:
        sp, assignments, lookups = read_state(graph, params["app_id"], params["service_principal_id"], params["users"], params["groups"],
                                              wait, waiter, new_sp=params["service_principal_new"])
        role_id, role = pick_role(sp, params["role"])
        may_be_new = new_principal_test(params["new_principals"])
        # check mode: a principal that may be new was not created (the task creating it ran in check mode too): predicted, not waited for
        predicted = may_be_new if module.check_mode and present else (lambda kind, name: False)
        if present and wait and not module.check_mode:
            lookups = wait_for_principals(graph, lookups, wait, waiter, may_be_new)
        principals, unknown, ambiguous = resolve_principals(params["users"], params["groups"], lookups, predicted)
        waited = (lambda kind, name: wait if may_be_new(kind, name) else 0) if present else 0
        suggestions = suggest_principals(graph, unknown) if unknown and present else {}
        problems = principal_problems(unknown, ambiguous, waited, suggestions)
        if ambiguous or (unknown and present):
            raise AssignmentError("Nothing was changed: " + "; ".join(problems), problems)
        for problem in problems:
            module.warn(problem + "; it has no assignment to remove")
        add, remove, keep = plan_changes(principals, assignments, role_id, params["state"], params["exclusive"])
        failures = []
        if module.check_mode:
            add = [dict(item, assignment_id=KNOWN_AFTER_RUN) for item in add]
        elif add or remove:
            add, remove, kept, failures = apply_changes(graph, sp["id"], role_id, add, remove, wait, waiter)
            keep += kept
    except Exception as exc:  # noqa: BLE001 - reported through fail_from, secret-free
        module.fail_from(exc)
    before = assigned_labels(assignments, role_id)
    removed_ids = set(item["principal_id"] for item in remove)
    after = sorted([label for label in before if label.rsplit("[", 1)[1].rstrip("]") not in removed_ids] + [item_label(item) for item in add])
    names = dict((item["principal_id"], item["name"]) for item in principals)
    result = dict(service_principal_id=sp["id"], app_role_id=role_id, role=role, added=[result_entry(item, role_id) for item in add],
                  removed=[result_entry(item, role_id) for item in remove], unchanged=[result_entry(item, role_id) for item in keep],
                  assignments=assignments_after(assignments, add + keep if present else [], remove, role_id, names))
    changed = bool(add or remove)
    if failures:
        msg = "%d of %d assignment changes failed: %s" % (len(failures), len(failures) + len(add) + len(remove), "; ".join(text for _item, text in failures))
        module.fail_from(SsoError(msg), changed=changed, failed_principals=[result_entry(item, role_id) for item, _text in failures], **result)
    module.exit_with(changed, before={"role": role, "assigned": before}, after={"role": role, "assigned": after}, **result)


if __name__ == "__main__":
    main()
