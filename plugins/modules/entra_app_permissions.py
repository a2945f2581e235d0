#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: entra_app_permissions
short_description: Application permissions of an API requested by an app registration and granted with admin consent
version_added: 0.1.0
description:
  - Makes an app registration ask for application permissions (app roles) of an API, Microsoft Graph by default, in its
    C(requiredResourceAccess), and grants them with admin consent to its service principal (app role assignments), as the
    portal's API permissions page does with C(Grant admin consent).
  - With O(exclusive=true) (the default) the app holds exactly O(permissions) of that API, for least privilege - application
    permissions of the API that were granted or requested beyond them are removed. Delegated permissions of the API and
    permissions of other APIs are never touched.
  - Permission names are resolved to app role ids from the API's service principal in the tenant; an unknown name is an
    error naming it, before any change.
  - The app registration and its service principal must exist (M(smarttrace.sso.entra_app) creates both). One created moments
    before is waited for, at most O(wait_timeout) seconds.
author:
  - smarttrace.sso contributors (@smarttrace)
options:
  app_id:
    description:
      - Application (client) ID of the app registration that gets the permissions.
      - In check mode, V((known after the real run\)) (what M(smarttrace.sso.entra_app) returns for an app it would create) is
        accepted; every permission is then reported as to be granted.
    type: str
    required: true
  api:
    description:
      - Application (client) ID of the API whose application permissions are meant. The default is Microsoft Graph.
    type: str
    default: 00000003-0000-0000-c000-000000000000
  permissions:
    description:
      - Names of the API's application permissions (app role values, exact case), such as V(Directory.Read.All).
      - An empty list with O(exclusive=true) removes every application permission of the API from the app.
    type: list
    elements: str
    required: true
  exclusive:
    description:
      - V(true) removes application permissions of this API that are granted to the app or requested by it but not in O(permissions).
      - V(false) only adds what is missing.
    type: bool
    default: true
  wait_timeout:
    description:
      - How many seconds to wait, at most, for an app registration or service principal created moments before to become visible.
    type: int
    default: 120
notes:
  - Granting and removing application permissions needs C(AppRoleAssignment.ReadWrite.All); changing the app registration needs
    C(Application.ReadWrite.OwnedBy) on an app the identity owns, else C(Application.ReadWrite.All). Administrators granting Microsoft
    Graph permissions need the Privileged Role Administrator role or higher.
  - Check mode reads only; the diff shows the permissions granted and requested, by name, before and after.
extends_documentation_fragment:
  - smarttrace.sso.entra
  - smarttrace.sso.attributes
  - smarttrace.sso.attributes.actiongroup_entra
seealso:
  - module: smarttrace.sso.entra_app
  - module: smarttrace.sso.entra_app_credential
"""

EXAMPLES = r"""
- name: Let the automation app read the directory and assign users, nothing more (admin consent)
  smarttrace.sso.entra_app_permissions:
    app_id: "{{ automation_app.app_id }}"
    permissions:
      - Application.ReadWrite.OwnedBy
      - AppRoleAssignment.ReadWrite.All
      - Directory.Read.All
  register: automation_permissions

- name: Add one Microsoft Graph application permission, keeping the others
  smarttrace.sso.entra_app_permissions:
    app_id: "{{ automation_app.app_id }}"
    permissions: [User.ReadWrite.All]
    exclusive: false
"""

RETURN = r"""
app_id:
  description: Application (client) ID of the app registration.
  returned: success
  type: str
  sample: 6d316b4a-7f6b-4793-b318-ad4c1db2b452
service_principal_id:
  description: Object ID of the app's service principal, which holds the grants. V((known after the real run\)) for a placeholder O(app_id).
  returned: success
  type: str
api_app_id:
  description: Application (client) ID of the API.
  returned: success
  type: str
  sample: 00000003-0000-0000-c000-000000000000
api_service_principal_id:
  description: Object ID of the API's service principal in this tenant.
  returned: success
  type: str
app_role_ids:
  description: The app role id of each name in O(permissions).
  returned: success
  type: dict
  sample: {"Directory.Read.All": "7ab1d382-f21e-4acd-a863-ba3e13f7da61"}
granted:
  description: Application permissions of the API granted to the app after the task (predicted in check mode), by name.
  returned: success
  type: list
  elements: str
  sample: [Directory.Read.All]
requested:
  description: Application permissions of the API the app registration asks for after the task, by name.
  returned: success
  type: list
  elements: str
  sample: [Directory.Read.All]
added:
  description: Permissions granted by this task (or that would be, in check mode).
  returned: success
  type: list
  elements: str
  sample: [Directory.Read.All]
removed:
  description: Permissions whose grant this task removed (or would remove) because of O(exclusive).
  returned: success
  type: list
  elements: str
  sample: [Group.ReadWrite.All]
"""

from ansible_collections.smarttrace.sso.plugins.module_utils._entra.app_permissions import (
    MICROSOFT_GRAPH,
    AppPermissions,
    PermissionsOptionError,
    check_options,
    ensure,
)
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.module import EntraModule

ARGUMENT_SPEC = dict(
    app_id=dict(type="str", required=True),
    api=dict(type="str", default=MICROSOFT_GRAPH),
    permissions=dict(type="list", elements="str", required=True),
    exclusive=dict(type="bool", default=True),
    wait_timeout=dict(type="int", default=120),
)


def main():
    module = EntraModule(argument_spec=ARGUMENT_SPEC)
    params = module.params
    try:
        check_options(params, module.check_mode)
    except PermissionsOptionError as exc:
        module.fail_json(msg=str(exc))
    store = AppPermissions(module.graph, params["api"], params["app_id"], wait_timeout=params["wait_timeout"])
    try:
        changed, before, after, result = ensure(store, params, module.check_mode)
    except PermissionsOptionError as exc:
        module.fail_json(msg=str(exc), app_id=params["app_id"])
    except Exception as exc:  # noqa: BLE001 - reported through fail_from, secret-free
        module.fail_from(exc)
    module.exit_with(changed, before=before, after=after, **result)


if __name__ == "__main__":
    main()
