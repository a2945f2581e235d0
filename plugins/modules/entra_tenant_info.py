#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: entra_tenant_info
short_description: Read the tenant, the automation identity's Graph permissions, and whether groups and users exist
version_added: 0.1.0
description:
  - Reads what a preflight check needs before anything is written, in one Microsoft Graph request
    (a C($batch) when O(groups), O(users) or O(app_unique_name) are given).
  - The tenant's id, display name and verified domains (user principal names must use one of them).
  - The Microsoft Graph permissions of the automation identity, read from the claims of its access token
    (no request), that is the application permissions (C(roles)) of an app-only token, or the delegated scopes (C(scp)) of a user's token.
  - Whether each group of O(groups) and each user of O(users) exists, and their object ids.
  - With O(app_unique_name), the app registration with that unique name - its ids, app roles and client secrets
    (key id, description, hint, validity, days left; never a value).
extends_documentation_fragment:
  - smarttrace.sso.entra
  - smarttrace.sso.attributes.info_module
  - smarttrace.sso.attributes.actiongroup_entra
options:
  groups:
    description:
      - Groups to look up, by display name (exact, case-insensitive) or object id.
    type: list
    elements: str
    default: []
  users:
    description:
      - Users to look up, by user principal name or object id.
    type: list
    elements: str
    default: []
  suggest:
    description:
      - For each group of O(groups) (V(groups)) or user of O(users) (V(users)) that is not found, also name the closest
        existing ones (RV(groups[].suggestions), RV(users[].suggestions)), compared with the first 999 of the tenant.
      - One more request per kind, only when a name of that kind is not found.
    type: list
    elements: str
    choices: [groups, users]
    default: []
  app_unique_name:
    description:
      - Also read the app registration with this unique name (a Microsoft Graph alternate key), see RV(app).
    type: str
  app_display_name:
    description:
      - The display name the app of O(app_unique_name) would be created with.
      - When that app does not exist, a second request (a C($batch)) reads the deleted app registrations that hold
        O(app_unique_name) (a deleted app keeps its unique name for 30 days, so creating the app would fail), and the app
        registrations of this display name without a unique name (M(smarttrace.sso.entra_app) would adopt one of them),
        see RV(app.deleted_holders) and RV(app.adoptable).
    type: str
  user_details:
    description:
      - Also read each user's C(employeeType) (the mark M(smarttrace.sso.entra_user) writes with its C(created_by) option)
        and app role assignments, in the same request; when a user has an assignment and O(app_unique_name) names an
        existing app, a second request reads the app's service principal, so that RV(users[].assigned_elsewhere) lists
        the assignments to other applications.
    type: bool
    default: false
notes:
  - Needs C(Directory.Read.All) (or C(Organization.Read.All) with C(Group.Read.All), C(User.Read.All) and C(Application.Read.All));
    without it the module fails naming the permissions the automation identity holds.
seealso:
  - module: smarttrace.sso.entra_app_info
author:
  - smarttrace.sso contributors (@smarttrace)
"""

EXAMPLES = r"""
- name: Check the tenant before configuring single sign-on
  smarttrace.sso.entra_tenant_info:
    groups: [SmartTrace Users]
    users: [B.Simon@contoso.onmicrosoft.com]
  register: tenant

- name: Fail early when the automation identity cannot create apps
  ansible.builtin.assert:
    that: tenant.identity.kind != 'application' or 'Application.ReadWrite.OwnedBy' in tenant.identity.permissions
      or 'Application.ReadWrite.All' in tenant.identity.permissions
    fail_msg: grant the automation identity Application.ReadWrite.OwnedBy
"""

RETURN = r"""
tenant_id:
  description: The directory (tenant) id.
  returned: success
  type: str
  sample: 72f988bf-86f1-41af-91ab-2d7cd011db47
tenant_display_name:
  description: The organization's display name.
  returned: success
  type: str
  sample: Contoso
verified_domains:
  description: Names of the tenant's verified domains.
  returned: success
  type: list
  elements: str
  sample: [contoso.onmicrosoft.com, contoso.com]
default_domain:
  description: The tenant's default domain.
  returned: success
  type: str
  sample: contoso.onmicrosoft.com
identity:
  description: The automation identity, as its access token describes it.
  returned: success
  type: dict
  contains:
    kind:
      description:
        - V(application) for an app-only token (its C(permissions) are application permissions), V(delegated) for a user's token
          (C(permissions) are delegated scopes; the user's directory roles also apply), V(unknown) for an opaque token.
      type: str
      sample: application
    permissions:
      description: The Microsoft Graph permissions in the token, sorted.
      type: list
      elements: str
      sample: [Application.ReadWrite.OwnedBy, AppRoleAssignment.ReadWrite.All, Directory.Read.All, User.ReadWrite.All]
    app_id:
      description: The application (client) id of the automation identity.
      type: str
    object_id:
      description: The object id of its service principal (or of the signed-in user).
      type: str
    display_name:
      description: The display name of the automation identity's app.
      type: str
    tenant_id:
      description: The tenant the token was issued in.
      type: str
groups:
  description: One entry per O(groups) item, in order.
  returned: success
  type: list
  elements: dict
  contains:
    name: {description: The name or id as given., type: str}
    found: {description: Whether exactly one group matches., type: bool}
    id: {description: The group's object id when found., type: str}
    display_name: {description: The group's display name when found., type: str}
    matches: {description: How many groups match (more than one means the name is ambiguous)., type: int}
    ids: {description: The object ids of the groups when the name is ambiguous., type: list, elements: str}
    suggestions:
      description: With O(suggest) V(groups), for a group not found, the closest existing group names (maybe none).
      type: list
      elements: str
      returned: when O(suggest) holds V(groups) and the group is not found
users:
  description: One entry per O(users) item, in order.
  returned: success
  type: list
  elements: dict
  contains:
    name: {description: The user principal name or id as given., type: str}
    found: {description: Whether the user exists., type: bool}
    id: {description: The user's object id when found., type: str}
    user_principal_name: {description: The user principal name when found., type: str}
    account_enabled: {description: Whether the account is enabled., type: bool}
    employee_type: {description: The user's employeeType (with O(user_details))., type: str}
    assignments:
      description: The user's app role assignments (id, resource_id, resource_display_name, app_role_id), with O(user_details).
      type: list
      elements: dict
    assigned_elsewhere:
      description:
        - The assignments of RV(users[].assignments) to a resource other than the service principal of the app of
          O(app_unique_name), with O(user_details) and O(app_unique_name).
      type: list
      elements: dict
    suggestions:
      description: With O(suggest) V(users), for a user not found, the closest existing user principal names (maybe none).
      type: list
      elements: str
      returned: when O(suggest) holds V(users) and the user is not found
app:
  description: The app registration of O(app_unique_name).
  returned: when O(app_unique_name) is given
  type: dict
  contains:
    unique_name: {description: The unique name as given., type: str}
    found: {description: Whether the app exists., type: bool}
    app_id: {description: Application (client) id., type: str}
    object_id: {description: Object id of the app registration., type: str}
    display_name: {description: Display name., type: str}
    app_roles:
      description: App roles (value, display_name, enabled, id, allowed_member_types).
      type: list
      elements: dict
    secrets:
      description: Client secrets (key_id, display_name, hint, start_date, end_date, days_left), soonest to expire first; never a value.
      type: list
      elements: dict
    service_principal_id:
      description: The object id of the app's service principal, when O(user_details) needed it; null otherwise or when it has none.
      type: str
    deleted_holders:
      description:
        - Deleted app registrations that hold O(app_unique_name) (id, app_id, display_name, deleted).
        - Returned when the app does not exist and O(app_display_name) is given.
      type: list
      elements: dict
    adoptable:
      description: App registrations named O(app_display_name) without a unique name (id, app_id, display_name), when the app does not exist.
      type: list
      elements: dict
"""

from ansible_collections.smarttrace.sso.plugins.module_utils._entra.module import EntraModule
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.tenant_reads import read_failure_text, read_tenant


def main():
    module = EntraModule(argument_spec=dict(
        groups=dict(type="list", elements="str", default=[]),
        users=dict(type="list", elements="str", default=[]),
        app_unique_name=dict(type="str"),
        app_display_name=dict(type="str"),
        user_details=dict(type="bool", default=False),
        suggest=dict(type="list", elements="str", choices=["groups", "users"], default=[]),
    ))
    groups = module.params["groups"]
    users = module.params["users"]
    unique_name = module.params["app_unique_name"]
    display_name = module.params["app_display_name"]
    details = module.params["user_details"]
    if unique_name is not None and not unique_name.strip():
        module.fail_json(msg="app_unique_name must not be empty; omit it to read no app")
    if display_name is not None and (not display_name.strip() or not unique_name):
        module.fail_json(msg="app_display_name needs app_unique_name and must not be empty; omit it to read no candidates")
    for option, names in (("groups", groups), ("users", users)):
        if any(not (name or "").strip() for name in names):
            module.fail_json(msg="%s: every item must be a non-empty name or object id; remove the empty item" % option)
    try:
        result = read_tenant(module.graph, module.token_provider, groups, users, unique_name, display_name, details, module.params["suggest"])
    except Exception as exc:  # noqa: BLE001 - reported by fail_from, secret-free
        module.fail_from(exc, msg=read_failure_text(exc, module.token_provider))
    module.exit_with(False, **result)


if __name__ == "__main__":
    main()
