#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: entra_app_info
short_description: Read app registrations, their enterprise applications and credentials from Microsoft Entra ID
version_added: 0.1.0
description:
  - Finds app registrations by O(app_id), O(unique_name) or O(display_name) and returns, for each, its settings (as
    M(smarttrace.sso.entra_app) returns them), its service principal, its credentials and how many users, groups and
    applications are assigned to it.
  - Credentials are described by key ID, display name, hint (first characters of a secret, as the portal shows), validity
    and days left. Secret values are never returned (Microsoft Graph does not return them either).
  - Reads only; safe in check mode.
  - Warns when a client secret that is in use (the newest of its display name) expires within O(rotate_before_days),
    and when an older one does while a newer one exists (its consumer may still hold the old value).
extends_documentation_fragment:
  - smarttrace.sso.entra
  - smarttrace.sso.attributes.info_module
  - smarttrace.sso.attributes.actiongroup_entra
options:
  app_id:
    description: Application (client) ID of the app.
    type: str
  unique_name:
    description: Unique name (Graph alternate key) of the app.
    type: str
  display_name:
    description:
      - Display name of the apps to return (display names are not unique; all matches are returned, oldest first).
      - With O(app_id) or O(unique_name), an app with another display name is not returned.
    type: str
  rotate_before_days:
    description:
      - Warn about client secrets that expire within this many days (as M(smarttrace.sso.entra_secret) rotates them).
      - V(0) turns the warnings off.
    type: int
    default: 30
seealso:
  - module: smarttrace.sso.entra_app
author:
  - SmartTrace SSO contributors (@smarttrace)
"""

EXAMPLES = r"""
- name: Read the SmartTrace app
  smarttrace.sso.entra_app_info:
    display_name: SmartTrace
  register: smarttrace_apps

- name: Warn about client secrets that expire within 30 days
  ansible.builtin.debug:
    msg: "Secret {{ item.display_name }} ({{ item.key_id }}) expires in {{ item.days_left }} days"
  loop: "{{ smarttrace_apps.apps | map(attribute='credentials.secrets') | flatten | selectattr('days_left', 'lt', 30) }}"
  loop_control:
    label: "{{ item.key_id }}"
"""

RETURN = r"""
apps:
  description: The apps found (empty when none), oldest first.
  returned: always
  type: list
  elements: dict
  contains:
    display_name:
      description: Display name.
      type: str
      returned: always
    app_id:
      description: Application (client) ID.
      type: str
      returned: always
    object_id:
      description: Object ID of the app registration.
      type: str
      returned: always
    unique_name:
      description: Unique name (alternate key) or null.
      type: str
      returned: always
    tenant_id:
      description: Directory (tenant) ID that owns the app (null without a service principal).
      type: str
      returned: always
    created:
      description: When the app was created (ISO 8601).
      type: str
      returned: always
    gallery_template_id:
      description: Id of the gallery template the app was created from, or null.
      type: str
      returned: always
    sign_in_audience:
      description: Who can sign in.
      type: str
      returned: always
    redirect_uris:
      description: Web redirect URIs (sorted).
      type: list
      elements: str
      returned: always
    logout_url:
      description: Front-channel logout URL.
      type: str
      returned: always
    home_page_url:
      description: Home page URL.
      type: str
      returned: always
    id_token_issuance:
      description: Whether the authorization endpoint may issue ID tokens.
      type: bool
      returned: always
    access_token_issuance:
      description: Whether the authorization endpoint may issue access tokens.
      type: bool
      returned: always
    graph_permissions:
      description: Delegated Microsoft Graph permissions requested.
      type: list
      elements: str
      returned: always
    app_roles:
      description: App roles, each with value, display_name, description, allowed_member_types, enabled and id.
      type: list
      elements: dict
      returned: always
    notes:
      description: Notes.
      type: str
      returned: always
    tags:
      description: Tags of the app registration.
      type: list
      elements: str
      returned: always
    owners:
      description: Owners of the app registration (users by user principal name, service principals by application id), sorted.
      type: list
      elements: str
      returned: always
    service_principal_owners:
      description: Owners of the enterprise application, as RV(apps[].owners); absent when the app has no service principal.
      type: list
      elements: str
      returned: when the app has a service principal
    service_principal_id:
      description: Object ID of the service principal, or null.
      type: str
      returned: always
    app_role_assignment_required:
      description: Whether users must be assigned to sign in (null without a service principal).
      type: bool
      returned: always
    service_principal:
      description: The enterprise application (id, display_name, account_enabled, app_role_assignment_required, tags,
        preferred_single_sign_on_mode), or null when the app has none.
      type: dict
      returned: always
    credentials:
      description: The app's credentials, soonest to expire first; never a secret value.
      type: dict
      returned: always
      contains:
        secrets:
          description: Client secrets (key_id, display_name, hint, start, end, days_left, expired).
          type: list
          elements: dict
          returned: always
        certificates:
          description: Certificates (key_id, display_name, type, usage, start, end, days_left, expired).
          type: list
          elements: dict
          returned: always
    assignments_count:
      description: Number of users, groups and applications assigned to the enterprise application (null without one).
      type: int
      returned: always
"""

from ansible_collections.smarttrace.sso.plugins.module_utils._entra.app_view import read_app_infos
from ansible_collections.smarttrace.sso.plugins.module_utils._common.identifiers import GUID_RE
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.module import EntraModule
from ansible_collections.smarttrace.sso.plugins.module_utils._common.dates import utc_now
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.secret_expiry import expiry_warnings


def main():
    module = EntraModule(argument_spec=dict(app_id=dict(type="str"), unique_name=dict(type="str"), display_name=dict(type="str"),
                                            rotate_before_days=dict(type="int", default=30)),
                         required_one_of=[("app_id", "unique_name", "display_name")])
    params = module.params
    if params["app_id"] and not GUID_RE.match(params["app_id"]):
        module.fail_json(msg="app_id %r is not a GUID: give the Application (client) ID shown on the app's Overview page" % params["app_id"])
    for option in ("unique_name", "display_name"):
        if params[option] is not None and not params[option].strip():
            module.fail_json(msg="%s must not be empty" % option)
    if params["rotate_before_days"] < 0:
        module.fail_json(msg="rotate_before_days must be 0 or more days (0 turns the expiry warnings off)")
    try:
        apps = read_app_infos(module.graph, params["app_id"], params["unique_name"], params["display_name"])
    except Exception as exc:  # noqa: BLE001 - reported through fail_from, secret-free
        module.fail_from(exc)
    if params["rotate_before_days"]:
        now = utc_now()
        for app in apps:
            label = "application '%s' (app_id %s)" % (app.get("display_name"), app.get("app_id"))
            for warning in expiry_warnings(app["credentials"]["secrets"], params["rotate_before_days"], now, label):
                module.warn(warning)
    module.exit_with(False, apps=apps)


if __name__ == "__main__":
    main()
