#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: smarttrace_integration_info
short_description: Read the Azure Active Directory (Entra ID) single sign-on integration of a SmartTrace instance, and test it
version_added: 0.1.0
description:
  - Reads what SmartTrace holds in Integrations > Azure Active Directory for one instance (never the secret, only its hint),
    and the redirect and logout URIs SmartTrace expects in the app registration.
  - With O(verify=true), runs SmartTrace's test of the stored values, which redeems them at Entra ID, and reports the outcome
    without failing.
author:
  - smarttrace.sso contributors (@smarttrace)
options:
  instance:
    description:
      - The SmartTrace instance, the first label of its address C(<instance>.smarttrace.ai), for example V(acme) for C(https://acme.smarttrace.ai).
    type: str
    required: true
  verify:
    description:
      - Run SmartTrace's test of the stored values and return its outcome in RV(verification). Not run when nothing is configured.
      - The test changes nothing, so it also runs in check mode. It needs a token that may change integrations.
    type: bool
    default: false
  verify_timeout:
    description:
      - How long, in seconds, to repeat the test while Entra ID refuses a just-created secret (C(AADSTS7000215)) because it has not
        replicated yet. V(0) tests once.
    type: int
    default: 0
extends_documentation_fragment:
  - smarttrace.sso.smarttrace
  - smarttrace.sso.attributes.info_module
  - smarttrace.sso.attributes.actiongroup_smarttrace
notes:
  - "Requests: one read; one test with O(verify=true); plus one login with O(username) and O(password)."
seealso:
  - module: smarttrace.sso.smarttrace_integration
"""

EXAMPLES = r"""
- name: Read the integration of acme.smarttrace.ai and test it
  smarttrace.sso.smarttrace_integration_info:
    instance: acme
    verify: true
    api_token: "{{ vault_smarttrace_api_token }}"
  register: sso

- name: Fail when single sign-on would not work
  ansible.builtin.assert:
    that:
      - sso.integration.enabled
      - sso.verification.ok
    fail_msg: "{{ sso.verification.error | default('not configured', true) }}"
"""

RETURN = r"""
configured:
  description: Whether SmartTrace holds a client secret for the instance (the integration was saved).
  returned: success
  type: bool
  sample: true
integration:
  description: The integration as SmartTrace reports it. Never holds the secret.
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
      description: When the values were last saved; null when never.
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
  description: The outcome of SmartTrace's test (O(verify)); null when it did not run.
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
      description: How many times the test ran.
      type: int
    waited:
      description: Seconds spent repeating the test.
      type: float
  sample: {ok: false, error: "AADSTS7000215: Invalid client secret provided.", attempts: 1, waited: 0.0}
smarttrace_error:
  description: What SmartTrace answered when a request failed (status, code, field, message, hint, method, path).
  returned: failure
  type: dict
"""

from ansible_collections.smarttrace.sso.plugins.module_utils._smarttrace.client import check_instance
from ansible_collections.smarttrace.sso.plugins.module_utils._smarttrace.module import SmartTraceModule, check_verify_timeout

ARGUMENT_SPEC = dict(
    instance=dict(type="str", required=True),
    verify=dict(type="bool", default=False),
    verify_timeout=dict(type="int", default=0),
)


def main():
    module = SmartTraceModule(argument_spec=ARGUMENT_SPEC)
    params = module.params
    instance, _timeout = module.check_input(lambda: check_instance(params["instance"]), lambda: check_verify_timeout(params["verify_timeout"]))
    verification = None
    try:
        integration = module.client.get_integration(instance)
        if params["verify"] and integration["client_secret_set"]:
            verification = module.client.verify(instance, params["verify_timeout"])
    except Exception as exc:  # noqa: BLE001 - reported through fail_from, secret-free
        module.fail_from(exc)
    module.exit_with(False, configured=integration["client_secret_set"], integration=integration, redirect_uri=integration["redirect_uri"],
                     logout_url=integration["logout_url"], logout_uri=integration["logout_uri"], verification=verification)


if __name__ == "__main__":
    main()
