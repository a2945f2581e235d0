#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: smarttrace_integration
short_description: Configure the Azure Active Directory (Entra ID) single sign-on integration of a SmartTrace instance
version_added: 0.1.0
description:
  - Does what Integrations > Azure Active Directory > Save does in SmartTrace for one instance (it stores the APPLICATION ID,
    TENANT ID and APPLICATION (CLIENT) SECRET of the app registration and turns single sign-on on), or removes them.
  - SmartTrace never returns the secret. The module decides whether it changed from the secret's hint (its first 3 characters,
    as Entra ID shows it) and the key id SmartTrace keeps with it (O(client_secret_id)), so a re-run with the same secret changes nothing.
  - After a change it runs SmartTrace's test of the stored values (O(verify)) and fails with SmartTrace's message when Entra ID
    refuses them.
  - Returns the redirect and logout URIs SmartTrace expects, to check them against the app registration.
author:
  - smarttrace.sso contributors (@smarttrace)
options:
  instance:
    description:
      - The SmartTrace instance, the first label of its address C(<instance>.smarttrace.ai), for example V(acme) for C(https://acme.smarttrace.ai).
    type: str
    required: true
  state:
    description:
      - V(present) stores the values and enables single sign-on; V(absent) removes the integration (single sign-on off, values forgotten).
    type: str
    choices: [present, absent]
    default: present
  application_id:
    description:
      - The Application (client) ID of the app registration, a GUID (not its Object ID).
      - Required with O(state=present).
      - In check mode also V((known after the real run\)), what M(smarttrace.sso.entra_app) returns for an app it would create; the same
        goes for O(tenant_id), O(client_secret), O(client_secret_id) and O(client_secret_expires_at) (what M(smarttrace.sso.entra_secret)
        returns for a secret it would add). The task then predicts the real run - a new secret is always a change. Outside check mode
        the placeholder is an error naming the option.
    type: str
  tenant_id:
    description:
      - The Directory (tenant) ID, a GUID. SmartTrace does not take a domain name.
      - Required with O(state=present).
    type: str
  client_secret:
    description:
      - The B(Value) of a client secret of the app registration (not its Secret ID).
      - Needed to configure the integration the first time and to replace the secret. Without it, only O(application_id),
        O(tenant_id) and O(client_secret_expires_at) are compared and updated, and a change that needs a secret fails saying so.
      - The secret counts as unchanged when SmartTrace holds a secret with the same first 3 characters and, if O(client_secret_id)
        is given, the same key id. Give O(client_secret_id) so that a new secret starting with the same 3 characters is recognized.
    type: str
  client_secret_id:
    description:
      - The Secret ID (C(keyId)) of O(client_secret) in the app registration, kept by SmartTrace to tell which Entra ID secret it holds.
      - Without O(client_secret), a value different from the one SmartTrace holds is an error (replacing the secret needs its value).
      - When the secret is replaced and this is not given, SmartTrace forgets the old key id.
    type: str
  client_secret_expires_at:
    description:
      - When O(client_secret) expires (its C(endDateTime) in Entra ID), an RFC 3339 date-time with a time zone such as V(2027-01-31T12:00:00Z).
      - Compared as a moment in time. When the secret is replaced and this is not given, SmartTrace forgets the old expiry.
    type: str
  verify:
    description:
      - After a change, run SmartTrace's test of the stored values (it redeems them at Entra ID) and fail with its message
        when they do not work. The values stay saved.
      - Not run when nothing changed, nor in check mode. Use M(smarttrace.sso.smarttrace_integration_info) with O(verify=true)
        to test at any time, for example after a run that failed here.
    type: bool
    default: true
  current_integration:
    description:
      - The integration as M(smarttrace.sso.smarttrace_integration_info) returned it (its C(integration))
        moments before in the same play, so the module does not read it again. An empty dict counts as not given.
      - The plan and the diff's before state are taken from it. A new secret is saved with C(PUT), which replaces every value, so
        what SmartTrace holds afterwards does not depend on it; give it only when nothing else changes the integration in between.
      - It must be of O(instance); otherwise the task fails before any request.
    type: dict
  verify_timeout:
    description:
      - How long, in seconds, to repeat the test while Entra ID refuses a just-created secret (C(AADSTS7000215)) because it has not replicated yet.
      - Any other failure of the test fails at once; a wrong secret fails after this time.
    type: int
    default: 60
extends_documentation_fragment:
  - smarttrace.sso.smarttrace
  - smarttrace.sso.attributes
  - smarttrace.sso.attributes.actiongroup_smarttrace
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The secret is shown only as its hint, its first 3 characters.
notes:
  - "Requests, at most: a read of the integration (none with O(current_integration)), one write (C(PUT) for a new secret, C(PATCH) for
    other changes, C(DELETE)), and the test; plus one login with O(username) and O(password). A run that changes nothing makes only the read."
seealso:
  - module: smarttrace.sso.smarttrace_integration_info
"""

EXAMPLES = r"""
- name: Configure single sign-on with Entra ID for acme.smarttrace.ai
  smarttrace.sso.smarttrace_integration:
    instance: acme
    application_id: "{{ app.app_id }}"
    tenant_id: "{{ entra_tenant_id }}"
    client_secret: "{{ secret.secret | default(omit) }}"  # the value exists only in the run that created it
    client_secret_id: "{{ secret.key_id }}"
    client_secret_expires_at: "{{ secret.end_date }}"
    api_token: "{{ vault_smarttrace_api_token }}"
  register: integration

- name: Check the redirect URI of the app registration
  ansible.builtin.assert:
    that: integration.redirect_uri in app.app.redirect_uris

- name: Update the ids only (the secret SmartTrace holds stays)
  smarttrace.sso.smarttrace_integration:
    instance: acme
    application_id: 6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f
    tenant_id: 0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9
    username: admin@example.com
    password: "{{ vault_smarttrace_password }}"

- name: Turn single sign-on off and forget the values
  smarttrace.sso.smarttrace_integration:
    instance: acme
    state: absent
"""

RETURN = r"""
integration:
  description: The integration as SmartTrace reports it after the task (predicted in check mode). Never holds the secret.
  returned: success
  type: dict
  contains:
    instance:
      description: The instance name.
      type: str
      sample: acme
    enabled:
      description: Whether single sign-on with Entra ID is on.
      type: bool
      sample: true
    application_id:
      description: The Application (client) ID SmartTrace holds; null when not configured.
      type: str
      sample: 6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f
    tenant_id:
      description: The Directory (tenant) ID SmartTrace holds; null when not configured.
      type: str
      sample: 0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9
    client_secret_set:
      description: Whether SmartTrace holds a client secret.
      type: bool
      sample: true
    client_secret_hint:
      description: The first 3 characters of the secret SmartTrace holds, as Entra ID shows them for its secrets.
      type: str
      sample: Qx7
    client_secret_id:
      description: The Secret ID (keyId) declared with the secret; null when none was.
      type: str
      sample: aa11bb22-cc33-4d44-8e55-ff6677889900
    client_secret_expires_at:
      description: The expiry declared with the secret; null when none was.
      type: str
      sample: "2027-01-31T12:00:00Z"
    redirect_uri:
      description: The redirect URI SmartTrace signs in with; the app registration must list it as a Web redirect URI.
      type: str
      sample: https://api.smarttrace.ai/v1/auth/callback/azure/acme
    logout_url:
      description:
        - The front-channel logout URL SmartTrace expects in the app registration (the
          O(smarttrace.sso.entra_app#module:logout_url) of the app).
      type: str
      sample: https://api.smarttrace.ai/v1/auth/callback/azure-logout/acme
    logout_uri:
      description:
        - Deprecated spelling of RV(integration.logout_url) (SmartTrace's API field), kept for existing playbooks; use
          RV(integration.logout_url).
      type: str
      sample: https://api.smarttrace.ai/v1/auth/callback/azure-logout/acme
    updated_at:
      description: When the values were last saved; V((known after the real run)) in check mode when they would change.
      type: str
      sample: "2026-05-04T10:00:00Z"
redirect_uri:
  description: The redirect URI SmartTrace expects in the app registration (same as RV(integration.redirect_uri)).
  returned: success
  type: str
  sample: https://api.smarttrace.ai/v1/auth/callback/azure/acme
logout_url:
  description: The front-channel logout URL SmartTrace expects in the app registration (same as RV(integration.logout_url)).
  returned: success
  type: str
  sample: https://api.smarttrace.ai/v1/auth/callback/azure-logout/acme
logout_uri:
  description: Deprecated spelling of RV(logout_url), kept for existing playbooks; use RV(logout_url).
  returned: success
  type: str
  sample: https://api.smarttrace.ai/v1/auth/callback/azure-logout/acme
verification:
  description:
    - The outcome of SmartTrace's test after a change (O(verify)); null when it did not run.
    - Also returned when the task fails because the test failed.
  returned: success
  type: dict
  contains:
    ok:
      description: Whether Entra ID accepted the stored values.
      type: bool
    error:
      description: Entra ID's error as SmartTrace relays it, such as C(AADSTS7000215 Invalid client secret provided...); null when ok.
      type: str
    attempts:
      description: How many times the test ran (more than once while a new secret was replicating).
      type: int
    waited:
      description: Seconds spent repeating the test.
      type: float
  sample: {ok: true, error: null, attempts: 1, waited: 0.0}
smarttrace_error:
  description: What SmartTrace answered when a request failed (status, code, field, message, hint, method, path).
  returned: failure
  type: dict
"""

from ansible_collections.smarttrace.sso.plugins.module_utils._common.identifiers import KNOWN_AFTER_RUN, is_known_after_run
from ansible_collections.smarttrace.sso.plugins.module_utils._smarttrace.client import check_instance
from ansible_collections.smarttrace.sso.plugins.module_utils._smarttrace.integration import (
    NeedsSecretError,
    desired_integration,
    diff_view,
    given_integration,
    plan_absent,
    plan_present,
)
from ansible_collections.smarttrace.sso.plugins.module_utils._smarttrace.module import SmartTraceModule, check_verify_timeout, verification_failure

# The integration's properties and how they are compared (see _smarttrace_integration.plan_present):
#   application_id, tenant_id, client_secret_id   GUIDs, case-insensitive; an id not given is not compared
#   client_secret                                  never read back: compared by its hint (first 3 characters) and client_secret_id
#   client_secret_expires_at                       as a moment in time; not given = not compared
#   enabled                                        true with state=present
ARGUMENT_SPEC = dict(
    instance=dict(type="str", required=True),
    state=dict(type="str", default="present", choices=["present", "absent"]),
    application_id=dict(type="str"),
    tenant_id=dict(type="str"),
    client_secret=dict(type="str", no_log=True),
    client_secret_id=dict(type="str", no_log=False),
    client_secret_expires_at=dict(type="str", no_log=False),
    verify=dict(type="bool", default=True),
    verify_timeout=dict(type="int", default=60),
    current_integration=dict(type="dict"),
)


def main():
    module = SmartTraceModule(argument_spec=ARGUMENT_SPEC, required_if=[("state", "present", ("application_id", "tenant_id"))])
    params = module.params
    if is_known_after_run(params["client_secret"]):
        module.no_log_values.discard(KNOWN_AFTER_RUN)  # check mode's placeholder is public text, not a secret: shown where it stands
    instance, desired, _timeout = module.check_input(lambda: check_instance(params["instance"]),
                                                     lambda: desired_integration(params, module.check_mode),
                                                     lambda: check_verify_timeout(params["verify_timeout"]))
    given = module.check_input(lambda: given_integration(params["current_integration"], instance))[0]
    try:
        current, plan, integration, verification = run(module, instance, desired, given)
    except Exception as exc:  # noqa: BLE001 - reported through fail_from, secret-free
        module.fail_from(exc)
    result = dict(integration=integration, redirect_uri=integration["redirect_uri"], logout_url=integration["logout_url"],
                  logout_uri=integration["logout_uri"], verification=verification)
    if verification and not verification["ok"]:
        module.fail_json(msg=verification_failure(instance, verification), changed=True, **result)
    module.exit_with(plan.method is not None, before=diff_view(current), after=diff_view(integration), **result)


def run(module, instance, desired, given=None):
    """Read (unless the caller ``given`` it), decide, write (not in check mode), test after a change:
    (before, plan, integration after, test outcome or None)."""
    present = module.params["state"] == "present"
    current = given if given is not None else module.client.get_integration(instance)
    try:
        plan = plan_present(current, desired) if present else plan_absent(current)
    except NeedsSecretError as exc:
        module.fail_json(msg=str(exc), integration=current)
    if module.check_mode:
        return current, plan, plan.after, None
    integration = module.client.apply(instance, plan)
    verification = None
    if plan.method and present and module.params["verify"]:
        if module.client.budget is None:  # the task's time budget bounds the test's retries too, when the base class has one
            module.client.budget = getattr(module, "deadline", None)
        verification = module.client.verify(instance, module.params["verify_timeout"])
    return current, plan, integration, verification


if __name__ == "__main__":
    main()
