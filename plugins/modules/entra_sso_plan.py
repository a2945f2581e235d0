#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: entra_sso_plan
short_description: Check the inputs of single sign-on for one SmartTrace instance and plan the run, reading only
version_added: 0.1.0
description:
  - The preflight of the role C(smarttrace.sso.entra_sso) as one task. Never writes anything, also outside check mode.
  - Checks every input with the rules of the modules that later use it (instance name, Redirect URI and Front-channel
    logout URL, secret lifetime, key id, test users' names and passwords, assignments), before any request.
  - Reads the tenant, the automation identity's permissions, the groups and users to assign and the instance's app in one
    Microsoft Graph C($batch) (as M(smarttrace.sso.entra_tenant_info)), and SmartTrace's integration and its test (as
    M(smarttrace.sso.smarttrace_integration_info)).
  - Checks the inputs against what it read (verified domains, passwords of new test users, users and groups to assign,
    the app role, the identity's Microsoft Graph permissions, deleted or ambiguous apps, SmartTrace's URIs), and fails with
    the first problem, naming the role variable and the fix.
  - Returns the plan (RV(plan)) - the derived names, what the reads found and the decisions the role's steps follow.
author:
  - smarttrace.sso contributors (@smarttrace)
options:
  inputs:
    description:
      - The role's variables without their prefix C(smarttrace_sso_) (O(inputs.instance) is C(smarttrace_sso_instance));
        C(ansible-doc -t role smarttrace.sso.entra_sso) describes each.
      - One dict rather than options because some names (C(api_url), C(state)) would clash with the connection options.
    type: dict
    required: true
    suboptions:
      instance: {description: [The SmartTrace instance.], type: str, required: true}
      state: {description: [Configure (V(present)) or offboard (V(absent)).], type: str, choices: [present, absent], default: present}
      app_display_name: {description: [Display name of the app registration.], type: str, default: SmartTrace}
      app_unique_name: {description: ["Unique name of the app; empty means C(smarttrace-sso-<instance>)."], type: str, default: ""}
      api_url: {description: [Public SmartTrace API URL the callback URLs are derived from.], type: str, default: "https://api.smarttrace.ai/v1"}
      redirect_uri: {description: [The Redirect URI; empty means derived.], type: str, default: ""}
      logout_url: {description: [The Front-channel logout URL; empty means derived.], type: str, default: ""}
      admin_consent: {description: [Whether admin consent is granted (needs its permission).], type: bool, default: false}
      app_roles: {description: [App roles the app is given.], type: list, elements: dict, default: []}
      app_role: {description: [The app role assigned; empty means Default Access.], type: str, default: ""}
      secret_display_name: {description: [Description of the client secrets.], type: str, default: SmartTrace SSO}
      secret_expires_in_days: {description: [Lifetime of a new client secret.], type: int, default: 180}
      secret_allow_long_lifetime: {description: [Allow more than 730 days.], type: bool, default: false}
      secret_rotate_before_days: {description: [A secret with fewer days left is replaced.], type: int, default: 30}
      rotate_secret: {description: [Mint a new secret now (a rotation touches only the secret and SmartTrace).], type: bool, default: false}
      test_users:
        description: ["Test users, as M(smarttrace.sso.entra_user) takes them in O(smarttrace.sso.entra_user#module:users); passwords are never returned."]
        type: list
        elements: dict
        default: []
        suboptions:
          user_principal_name: {description: [The user principal name.], type: str, aliases: [upn]}
          display_name: {description: [Display name.], type: str}
          mail_nickname: {description: [Mail nickname.], type: str}
          password: {description: [Password (checked against the rule of Entra ID; never returned).], type: str}
          update_password: {description: [As in M(smarttrace.sso.entra_user).], type: str}
          force_change_password_next_sign_in: {description: [As in M(smarttrace.sso.entra_user).], type: bool}
          account_enabled: {description: [As in M(smarttrace.sso.entra_user).], type: bool}
          given_name: {description: [Given name.], type: str}
          surname: {description: [Surname.], type: str}
          usage_location: {description: [Usage location.], type: str}
          state: {description: [As in M(smarttrace.sso.entra_user).], type: str}
          created_by: {description: [As in M(smarttrace.sso.entra_user).], type: str}
      assign_users: {description: [Users to assign.], type: list, elements: str, default: []}
      assign_groups: {description: [Groups to assign.], type: list, elements: str, default: []}
      assign_exclusive: {description: [Remove other assignments.], type: bool, default: false}
      owners: {description: [Owners of the app.], type: list, elements: str, default: []}
      configure_smarttrace: {description: [Configure SmartTrace through its API (else a hand-over file).], type: bool, default: true}
      handover_dir: {description: [Folder of the hand-over file.], type: str, default: "~/.smarttrace-sso"}
      handover_key_id: {description: [Key id of the secret the SmartTrace administrator pasted.], type: str, default: ""}
      remove_test_users: {description: [Offboarding removes the test users this instance created.], type: bool, default: true}
  validate_certs:
    description:
      - Whether to verify the TLS certificates of Microsoft Entra ID, Microsoft Graph and the SmartTrace API.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file of the certificate authorities to trust, for Entra ID and SmartTrace alike.
      - If not set, E(ENTRA_CA_PATH) (Entra ID) and E(SMARTTRACE_CA_PATH) (SmartTrace) are used, else E(REQUESTS_CA_BUNDLE).
    type: path
  timeout:
    description:
      - Timeout in seconds of each HTTP request.
    type: int
    default: 30
extends_documentation_fragment:
  - smarttrace.sso.entra
  - smarttrace.sso.smarttrace
  - smarttrace.sso.attributes.info_module
  - smarttrace.sso.attributes.actiongroup_entra
notes:
  - "Requests: one Graph C($batch) (a second one for the app's service principal or deleted and adoptable apps, one more for the
    closest names of a group not found); with O(inputs.configure_smarttrace), one SmartTrace read and, when configuring an
    integration that holds a secret, its test."
  - "In both action groups: C(module_defaults) of C(group/smarttrace.sso.entra) and C(group/smarttrace.sso.smarttrace) apply;
    O(validate_certs), O(ca_path) and O(timeout) serve both services."
seealso:
  - module: smarttrace.sso.entra_tenant_info
  - module: smarttrace.sso.smarttrace_integration_info
"""

EXAMPLES = r"""
- name: Plan single sign-on for acme.smarttrace.ai
  smarttrace.sso.entra_sso_plan:
    inputs:
      instance: acme
      test_users:
        - user_principal_name: B.Simon@contoso.onmicrosoft.com
          password: "{{ vault_bsimon_password }}"
      assign_users: [B.Simon@contoso.onmicrosoft.com]
  register: sso_plan

- name: Say whether a new client secret would be minted
  ansible.builtin.debug:
    msg: "{{ 'a new secret' if sso_plan.plan.mint else 'the secret SmartTrace holds (' ~ sso_plan.plan.held_key_id ~ ') stays' }}"
"""

RETURN = r"""
plan:
  description: The plan of the run.
  returned: success
  type: dict
  contains:
    unique_name: {description: The app's unique name., type: str, returned: always}
    redirect_uri: {description: The Redirect URI the app gets., type: str, returned: always}
    logout_url: {description: The Front-channel logout URL the app gets., type: str, returned: always}
    handover_file: {description: The hand-over file (without SmartTrace API access)., type: str, returned: always}
    user_mark: {description: The employeeType of the test users the role creates for the instance., type: str, returned: always}
    test_upns: {description: User principal names of the test users., type: list, elements: str, returned: always}
    rotating: {description: Whether this run is a rotation., type: bool, returned: always}
    manage_users: {description: Whether test users are created or updated., type: bool, returned: always}
    assign: {description: Whether users and groups are assigned., type: bool, returned: always}
    tenant: {description: What M(smarttrace.sso.entra_tenant_info) returns for the reads., type: dict, returned: always}
    app: {description: The instance's app registration as read (found false when it does not exist)., type: dict, returned: always}
    app_found: {description: Whether the instance's app exists., type: bool, returned: always}
    integration: {description: "SmartTrace's integration ({} when not read).", type: dict, returned: always}
    verification: {description: SmartTrace's test of it (null when not run)., type: dict, returned: always}
    our_secrets: {description: "The app's client secrets of the role's name (no values).", type: list, elements: dict, returned: always}
    healthy_secrets: {description: Those that stay valid longer than the rotation threshold., type: list, elements: dict, returned: always}
    held_key_id: {description: "The key id of the secret SmartTrace holds and that works; '' when none.", type: str, returned: always}
    mint: {description: Whether a new client secret is minted., type: bool, returned: always}
    remove_integration: {description: Whether offboarding removes SmartTrace's integration., type: bool, returned: always}
    offboard:
      description: What offboarding deletes (delete_upns) and the test users it keeps, each with a message saying why (kept).
      type: dict
      returned: always
    messages: {description: "What the run says before the first write (an app taken over, permissions not checkable).", type: list, elements: str,
               returned: always}
"""

import os

from ansible_collections.smarttrace.sso.plugins.module_utils._entra.module import EntraModule
from ansible_collections.smarttrace.sso.plugins.module_utils._common.http import session_for
from ansible_collections.smarttrace.sso.plugins.module_utils._smarttrace.client import SmartTraceClient
from ansible_collections.smarttrace.sso.plugins.module_utils._smarttrace.module import connection_problems, smarttrace_argument_spec
from ansible_collections.smarttrace.sso.plugins.module_utils._plan.decisions import PlanError, check_findings, decide
from ansible_collections.smarttrace.sso.plugins.module_utils._plan.inputs import derive, input_problems, read_arguments
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.tenant_reads import read_failure_text, read_tenant

INPUTS = dict(
    instance=dict(type="str", required=True),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    app_display_name=dict(type="str", default="SmartTrace"),
    app_unique_name=dict(type="str", default=""),
    api_url=dict(type="str", default="https://api.smarttrace.ai/v1"),
    redirect_uri=dict(type="str", default=""),
    logout_url=dict(type="str", default=""),
    admin_consent=dict(type="bool", default=False),
    app_roles=dict(type="list", elements="dict", default=[]),
    app_role=dict(type="str", default=""),
    secret_display_name=dict(type="str", default="SmartTrace SSO"),
    secret_expires_in_days=dict(type="int", default=180, no_log=False),
    secret_allow_long_lifetime=dict(type="bool", default=False),
    secret_rotate_before_days=dict(type="int", default=30, no_log=False),
    rotate_secret=dict(type="bool", default=False),
    # entra_user's entries (the role hands them to it as they are); the password is no_log here too
    test_users=dict(type="list", elements="dict", default=[], options=dict(
        user_principal_name=dict(type="str", aliases=["upn"]), display_name=dict(type="str"), mail_nickname=dict(type="str"),
        password=dict(type="str", no_log=True), update_password=dict(type="str", no_log=False),
        force_change_password_next_sign_in=dict(type="bool", no_log=False),
        account_enabled=dict(type="bool"), given_name=dict(type="str"), surname=dict(type="str"), usage_location=dict(type="str"),
        state=dict(type="str"), created_by=dict(type="str"))),
    assign_users=dict(type="list", elements="str", default=[]),
    assign_groups=dict(type="list", elements="str", default=[]),
    assign_exclusive=dict(type="bool", default=False),
    owners=dict(type="list", elements="str", default=[]),
    configure_smarttrace=dict(type="bool", default=True),
    handover_dir=dict(type="str", default="~/.smarttrace-sso"),
    handover_key_id=dict(type="str", default=""),
    remove_test_users=dict(type="bool", default=True),
)
SMARTTRACE_OPTIONS = ("api_url", "api_token", "username", "password")


def argument_spec():
    spec = dict((name, option) for name, option in smarttrace_argument_spec().items() if name in SMARTTRACE_OPTIONS)
    spec.update(inputs=dict(type="dict", required=True, options=INPUTS),
                ca_path=dict(type="path"))  # no fallback here: each service has its own environment variable (below)
    return spec


def ca_path(module, service_variable):
    return module.params["ca_path"] or os.environ.get(service_variable) or os.environ.get("REQUESTS_CA_BUNDLE")


def smarttrace_client(module):
    """The SmartTrace client, after checking its connection options (before any request)."""
    params = dict(module.params, ca_path=ca_path(module, "SMARTTRACE_CA_PATH"))
    problems = connection_problems(params)
    if problems:
        module.fail_json(msg="Invalid options: %s." % "; ".join(problems))
    session = session_for(params["validate_certs"], params["ca_path"], params["timeout"], warn=module.warn, service="the SmartTrace API")
    return SmartTraceClient(session, params["api_url"], api_token=params.get("api_token"), username=params.get("username"),
                            password=params.get("password"), on_token=module.no_log_values.add, timeout=params["timeout"])


def main():
    module = EntraModule(argument_spec=argument_spec())
    inputs = module.params["inputs"]
    derived = derive(inputs)
    problems = input_problems(inputs, derived)
    if problems:
        module.fail_json(msg=" ".join(problems))
    client = smarttrace_client(module) if inputs["configure_smarttrace"] else None
    module.params["ca_path"] = ca_path(module, "ENTRA_CA_PATH")
    reads = read_arguments(inputs, derived)
    try:
        tenant = read_tenant(module.graph, module.token_provider, reads["groups"], reads["users"], reads["unique_name"], reads["display_name"],
                             reads["details"], reads["suggest"])
    except Exception as exc:  # noqa: BLE001 - reported by fail_from, secret-free
        module.fail_from(exc, msg=read_failure_text(exc, module.token_provider))
    integration, verification = {}, None
    if client is not None:
        try:
            integration = client.get_integration(derived["instance"])
            if inputs["state"] == "present" and integration["client_secret_set"]:
                verification = client.verify(derived["instance"], 0)
        except Exception as exc:  # noqa: BLE001 - reported by fail_from, secret-free
            module.fail_from(exc)
    try:
        check_findings(inputs, derived, tenant, integration)
    except PlanError as exc:
        module.fail_json(msg=str(exc))
    module.exit_with(False, plan=decide(inputs, derived, tenant, integration, verification))


if __name__ == "__main__":
    main()
