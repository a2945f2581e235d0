# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
name: entra_sso_summary
short_description: The summary of one run of the role smarttrace.sso.entra_sso, from what its steps registered
version_added: 0.1.0
description:
  - Takes what the steps of the role C(smarttrace.sso.entra_sso) registered, gathered by the role's last step, and returns the
    fact C(smarttrace_sso_summary) (ids, URIs, the client secret in use, who is assigned, what the run changed, SmartTrace's
    test). The role uses it; it is a filter so that the decisions are Python, tested on their own.
  - A step's result counts only when the step belongs to this run's path (the plan's C(mint), the state, whether the role
    configures SmartTrace), since with C(include_role) in a loop a skipped step keeps an earlier instance's result.
  - Never holds a secret. Give the secret's C(key_id), C(end_date) and C(days_left) only, never the registered result of
    M(smarttrace.sso.entra_secret), which holds its value.
options:
  _input:
    description:
      - "Keys: C(instance), C(state), C(check_mode), C(configure_smarttrace), C(tenant_id), C(app_display_name), C(unique_name),
        C(redirect_uri), C(logout_url), C(secret_display_name), C(app_role), C(handover_file), C(mint) and C(plan) (the C(plan)
        returned by M(smarttrace.sso.entra_sso_plan)), and the registered results C(app), C(users), C(assignments),
        C(saved_integration), C(handover_written), C(retired) (each may be empty or skipped) and C(secret)."
    type: dict
    required: true
author:
  - smarttrace.sso contributors (@smarttrace)
"""

EXAMPLES = r"""
- name: Summarize the run (as roles/entra_sso/tasks/summary.yml does, with every key)
  ansible.builtin.set_fact:
    smarttrace_sso_summary: "{{ run | smarttrace.sso.entra_sso_summary }}"
"""

RETURN = r"""
_value:
  description:
    - The fact C(smarttrace_sso_summary), with keys C(instance), C(state), C(check_mode), C(tenant_id), C(application),
      C(client_secret), C(test_users), C(assigned), C(changed) and C(smarttrace), as the role's documentation describes them.
  type: dict
"""

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.collections import Mapping

from ansible_collections.smarttrace.sso.plugins.module_utils._plan.summary import run_summary

REQUIRED = ("instance", "state", "check_mode", "configure_smarttrace", "tenant_id", "app_display_name", "unique_name", "redirect_uri",
            "logout_url", "secret_display_name", "app_role", "handover_file", "mint", "plan")


def entra_sso_summary(run):
    if not isinstance(run, Mapping):
        raise AnsibleFilterError("entra_sso_summary: the input must be a dict, not %s" % type(run).__name__)
    missing = [key for key in REQUIRED if key not in run]
    if missing:
        # names only: the values are the run's results
        raise AnsibleFilterError("entra_sso_summary: the input lacks %s" % ", ".join(missing))
    return run_summary(dict(run))


class FilterModule:
    """smarttrace.sso filters."""

    def filters(self):
        return {"entra_sso_summary": entra_sso_summary}
