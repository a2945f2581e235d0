#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: entra_sso_audit_info
short_description: Read what the audit of a SmartTrace instance needs from Microsoft Entra ID
version_added: 0.1.0
description:
  - Reads the app registration of one SmartTrace instance by O(unique_name), its enterprise application, its owners and who is
    assigned to it, in three Microsoft Graph requests (the app; one C($batch) of the service principal and the owners; the
    assignments).
  - Client secrets are described by key ID, display name, hint, validity and days left; secret values are never returned.
  - Reads only; safe in check mode. The playbook C(smarttrace.sso.audit) turns this and
    M(smarttrace.sso.smarttrace_integration_info) into findings and reports.
extends_documentation_fragment:
  - smarttrace.sso.entra
  - smarttrace.sso.attributes.info_module
  - smarttrace.sso.attributes.actiongroup_entra
options:
  unique_name:
    description: Unique name (Graph alternate key) of the instance's app, as the role C(smarttrace.sso.entra_sso) sets it.
    type: str
    required: true
seealso:
  - module: smarttrace.sso.entra_app_info
  - module: smarttrace.sso.smarttrace_integration_info
author:
  - SmartTrace SSO contributors (@smarttrace)
"""

EXAMPLES = r"""
- name: Read instance acme's app for the audit
  smarttrace.sso.entra_sso_audit_info:
    unique_name: smarttrace-sso-acme
  register: acme_entra
"""

RETURN = r"""
found:
  description: Whether the app exists.
  returned: success
  type: bool
  sample: true
app:
  description:
    - The app (display_name, unique_name, app_id, object_id, service_principal_id, tenant_id, redirect_uris, logout_url,
      id_token_issuance, access_token_issuance, app_role_assignment_required, gallery_template_id, created), and its
      credentials as M(smarttrace.sso.entra_app_info) returns them; null when the app does not exist.
  returned: success
  type: dict
owners:
  description: Owners of the app registration (id, type, display_name, user_principal_name), by display name.
  returned: success
  type: list
  elements: dict
assigned:
  description: Who is assigned to the enterprise application (principal_id, principal_type, display_name, app_role).
  returned: success
  type: list
  elements: dict
"""

from ansible_collections.smarttrace.sso.plugins.module_utils._audit.reads import read_audit
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.module import EntraModule


def main():
    module = EntraModule(argument_spec=dict(unique_name=dict(type="str", required=True)))
    if not module.params["unique_name"].strip():
        module.fail_json(msg="unique_name must not be empty: give the app's unique name, such as smarttrace-sso-<instance>")
    try:
        result = read_audit(module.graph, module.params["unique_name"])
    except Exception as exc:  # noqa: BLE001 - reported through fail_from, secret-free
        module.fail_from(exc)
    module.exit_with(False, **result)


if __name__ == "__main__":
    main()
