#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: entra_app
short_description: Manage the SmartTrace app registration and its enterprise application in Microsoft Entra ID
version_added: 0.1.0
description:
  - Creates, updates or deletes an app registration and makes sure its service principal (enterprise application) exists.
  - The app is found by O(app_id), else O(unique_name), else by its display name; several apps with that display name is an error.
extends_documentation_fragment:
  - smarttrace.sso.entra
  - smarttrace.sso.attributes
  - smarttrace.sso.attributes.actiongroup_entra
options:
  display_name:
    description: Display name of the app registration.
    type: str
    required: true
  app_id:
    description: Application (client) ID of an existing app to manage.
    type: str
  unique_name:
    description: Unique name (Graph alternate key) of the app; set when the app is created.
    type: str
  app_roles:
    description: App roles of the application.
    type: list
    elements: dict
    suboptions:
      value:
        description: Value of the role in the C(roles) claim.
        type: str
        required: true
      display_name:
        description: Display name of the role; defaults to O(app_roles[].value).
        type: str
      description:
        description: Description of the role; defaults to the display name.
        type: str
      allowed_member_types:
        description: Who can be given the role.
        type: list
        elements: str
        choices: [User, Application]
        default: [User]
      enabled:
        description: Whether the role is enabled.
        type: bool
        default: true
      id:
        description: Id (GUID) of the role; by default the id of the existing role with the same value, else one derived from the value.
        type: str
  app_role_assignment_required:
    description: Whether users must be assigned to the enterprise application to sign in.
    type: bool
  notes:
    description: Notes on the app registration.
    type: str
  tags:
    description: Tags of the app registration.
    type: list
    elements: str
  state:
    description: Whether the app should exist.
    type: str
    choices: [present, absent]
    default: present
author:
  - SmartTrace SSO contributors (@smarttrace)
"""

EXAMPLES = r"""
- name: Register SmartTrace
  smarttrace.sso.entra_app:
    display_name: SmartTrace
"""

RETURN = r"""
app_id:
  description: Application (client) ID.
  returned: when the app exists (or would)
  type: str
object_id:
  description: Object ID of the app registration.
  returned: when the app exists (or would)
  type: str
service_principal_id:
  description: Object ID of the service principal.
  returned: when the app exists (or would)
  type: str
tenant_id:
  description: Directory (tenant) ID.
  returned: when the app exists (or would)
  type: str
"""

import uuid

from ansible_collections.smarttrace.sso.plugins.module_utils._entra_apps import (
    ENTERPRISE_APP_TAG,
    UNKNOWN,
    create_service_principal,
    find_application,
    get_service_principal,
)
from ansible_collections.smarttrace.sso.plugins.module_utils._entra_module import EntraModule
from ansible_collections.smarttrace.sso.plugins.module_utils._graph_client import not_found


def role_body(role, existing):
    by_value = dict((item.get("value"), item) for item in existing)
    role_id = role.get("id") or (by_value.get(role["value"]) or {}).get("id") or str(uuid.uuid5(uuid.NAMESPACE_URL, "smarttrace.sso/app-role/" + role["value"]))
    display = role.get("display_name") or role["value"]
    return {"allowedMemberTypes": role["allowed_member_types"], "description": role.get("description") or display, "displayName": display,
            "id": role_id, "isEnabled": role["enabled"], "value": role["value"]}


def main():
    module = EntraModule(argument_spec=dict(
        display_name=dict(type="str", required=True),
        app_id=dict(type="str"),
        unique_name=dict(type="str"),
        app_roles=dict(type="list", elements="dict", options=dict(
            value=dict(type="str", required=True), display_name=dict(type="str"), description=dict(type="str"),
            allowed_member_types=dict(type="list", elements="str", choices=["User", "Application"], default=["User"]),
            enabled=dict(type="bool", default=True), id=dict(type="str"))),
        app_role_assignment_required=dict(type="bool"),
        notes=dict(type="str"),
        tags=dict(type="list", elements="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    ))
    params = module.params
    graph = module.graph
    try:
        app = find_application(graph, params["app_id"], params["unique_name"], params["display_name"])
        if params["state"] == "absent":
            if app and not module.check_mode:
                graph.delete("/applications/%s" % app["id"], missing_ok=True)
            module.exit_with(bool(app), app_id=app and app["appId"], object_id=app and app["id"])
        desired = {"displayName": params["display_name"], "notes": params["notes"], "tags": params["tags"]}
        if params["app_roles"] is not None:
            desired["appRoles"] = [role_body(role, (app or {}).get("appRoles") or []) for role in params["app_roles"]]
        changed = created = False
        if app is None:
            if params["app_id"]:
                module.fail_json(msg="app_id %s: no such app registration. Remove app_id to create the app." % params["app_id"])
            changed = created = True
            if module.check_mode:
                module.exit_with(True, app_id=UNKNOWN, object_id=UNKNOWN, service_principal_id=UNKNOWN, tenant_id=module.tenant_id)
            body = dict((key, value) for key, value in desired.items() if value is not None)
            if params["unique_name"]:
                body["uniqueName"] = params["unique_name"]
            app = graph.create("/applications", body, find_existing=lambda: find_application(graph, None, params["unique_name"], params["display_name"]))
        else:
            delta = module.would_change(app, desired)
            if delta:
                changed = True
                if not module.check_mode:
                    graph.patch("/applications/%s" % app["id"], delta, retry_on=(not_found,))
        sp = None if created else get_service_principal(graph, app["appId"])
        sp_desired = {"tags": sorted(set(((sp or {}).get("tags") or []) + [ENTERPRISE_APP_TAG]))}
        if params["app_role_assignment_required"] is not None:
            sp_desired["appRoleAssignmentRequired"] = params["app_role_assignment_required"]
        if sp is None:
            changed = True
            if not module.check_mode:
                sp = create_service_principal(graph, app["appId"], sp_desired)
        else:
            sp_delta = module.would_change(sp, sp_desired)
            if sp_delta:
                changed = True
                if not module.check_mode:
                    graph.patch("/servicePrincipals/%s" % sp["id"], sp_delta, retry_on=(not_found,))
    except Exception as exc:  # noqa: BLE001 - reported through fail_from, secret-free
        module.fail_from(exc)
    module.exit_with(changed, app_id=app["appId"], object_id=app["id"], service_principal_id=(sp or {}).get("id", UNKNOWN),
                     tenant_id=(sp or {}).get("appOwnerOrganizationId") or module.tenant_id)


if __name__ == "__main__":
    main()
