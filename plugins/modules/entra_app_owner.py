#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: entra_app_owner
short_description: Make a service principal an owner of existing app registrations, keeping their other owners
version_added: 0.1.0
description:
  - Adds the service principal of O(owner_app_id) to the owners of each app registration in O(app_ids), where it is missing.
  - An automation identity with C(Application.ReadWrite.OwnedBy) may change only the apps it owns; this hands it existing
    SmartTrace apps. It owns the apps it creates itself without this.
  - Owners are only added, never removed. Every app and the owner must exist; one that does not is an error naming the option,
    before any change.
author:
  - smarttrace.sso contributors (@smarttrace)
options:
  owner_app_id:
    description:
      - Application (client) ID of the service principal to make an owner, such as the automation identity's client id.
      - In check mode, V((known after the real run\)) is accepted; it is then reported as missing from every app.
    type: str
    required: true
  app_ids:
    description:
      - Application (client) IDs of the app registrations it should own.
      - In check mode, V((known after the real run\)) stands for an app that would be created; the owner is then reported as missing from it.
    type: list
    elements: str
    required: true
notes:
  - Adding an owner needs C(Application.ReadWrite.All) (C(Application.ReadWrite.OwnedBy) cannot name other owners).
extends_documentation_fragment:
  - smarttrace.sso.entra
  - smarttrace.sso.attributes
  - smarttrace.sso.attributes.actiongroup_entra
seealso:
  - module: smarttrace.sso.entra_app
"""

EXAMPLES = r"""
- name: Hand the existing SmartTrace app to the automation identity
  smarttrace.sso.entra_app_owner:
    owner_app_id: "{{ automation_app.app_id }}"
    app_ids:
      - "{{ smarttrace_app.app_id }}"
"""

RETURN = r"""
owner_id:
  description: Object ID of the owner's service principal. V((known after the real run\)) for a placeholder O(owner_app_id).
  returned: success
  type: str
app_ids:
  description: The application (client) IDs of O(app_ids), lower case, each once.
  returned: success
  type: list
  elements: str
added:
  description: Application (client) IDs of the apps the owner was added to (or would be, in check mode).
  returned: success
  type: list
  elements: str
"""

from ansible_collections.smarttrace.sso.plugins.module_utils._entra.module import EntraModule
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.owned_apps import OwnerOptionError, check_options, ensure

ARGUMENT_SPEC = dict(
    owner_app_id=dict(type="str", required=True),
    app_ids=dict(type="list", elements="str", required=True),
)


def main():
    module = EntraModule(argument_spec=ARGUMENT_SPEC)
    params = module.params
    try:
        check_options(params, module.check_mode)
    except OwnerOptionError as exc:
        module.fail_json(msg=str(exc))
    try:
        changed, before, after, result = ensure(module.graph, params["owner_app_id"], params["app_ids"], module.check_mode)
    except OwnerOptionError as exc:
        module.fail_json(msg=str(exc))
    except Exception as exc:  # noqa: BLE001 - reported through fail_from, secret-free
        module.fail_from(exc)
    module.exit_with(changed, before=before, after=after, **result)


if __name__ == "__main__":
    main()
