# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
name: sso_audit_findings
short_description: One SmartTrace instance's audit row (facts, findings, state) from what was read
version_added: 0.1.0
description:
  - Takes the instance name and returns its row of the audit report, decided from the registered results of
    M(smarttrace.sso.entra_sso_audit_info) and M(smarttrace.sso.smarttrace_integration_info) (with C(verify=true)) and what
    the role C(smarttrace.sso.entra_sso) would set.
  - "Findings are C(critical) (sign-in fails or will soon: app missing, Redirect URI missing, SmartTrace's test failed, SmartTrace
    holds no secret or one deleted in Entra ID, the secret in use expired or inside 7 days, a read failed) or C(warning) (drift
    from the role's variables, the secret in use inside C(rotate_before_days) of O(expected), SmartTrace not holding the newest secret)."
  - Secret metadata only (key ID, hint, end date); never a secret value.
positional: entra, smarttrace, expected
options:
  _input:
    description: The instance name.
    type: str
    required: true
  entra:
    description: The registered result of M(smarttrace.sso.entra_sso_audit_info) (a failed one is a critical finding).
    type: dict
    required: true
  smarttrace:
    description: The registered result of M(smarttrace.sso.smarttrace_integration_info) (a failed one is a critical finding).
    type: dict
    required: true
  expected:
    description:
      - What the role would set; keys C(display_name), C(redirect_uri), C(logout_url) (empty means as SmartTrace expects),
        C(id_token_issuance), C(assignment_required), C(assign_users), C(assign_groups), C(secret_display_name),
        C(rotate_before_days); missing keys take the role's defaults.
    type: dict
    default: {}
author:
  - smarttrace.sso contributors (@smarttrace)
"""

EXAMPLES = r"""
- name: Decide the instance's findings
  ansible.builtin.set_fact:
    audit_row: "{{ smarttrace_sso_instance | smarttrace.sso.sso_audit_findings(entra_read, smarttrace_read, {'rotate_before_days': 30}) }}"
"""

RETURN = r"""
_value:
  description:
    - The row, with keys C(instance), C(state) (V(ok), V(warning) or V(critical)), C(findings) (each with severity, check and
      message), C(app), C(owners), C(assigned), C(secrets) (key_id, hint, end, days_left, held_by_smarttrace, newest, severity),
      C(smarttrace) and C(test) (V(passed), V(failed) or V(not run)).
  type: dict
"""

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.collections import Mapping

from ansible_collections.smarttrace.sso.plugins.module_utils._audit.findings import instance_findings


def sso_audit_findings(instance, entra, smarttrace, expected=None):
    for name, value in (("entra", entra), ("smarttrace", smarttrace), ("expected", expected or {})):
        if not isinstance(value, Mapping):
            raise AnsibleFilterError("sso_audit_findings: %s must be a dict (a registered result), not %s" % (name, type(value).__name__))
    return instance_findings(str(instance), dict(entra), dict(smarttrace), dict(expected or {}))


class FilterModule:
    """smarttrace.sso audit filters."""

    def filters(self):
        return {"sso_audit_findings": sso_audit_findings}
