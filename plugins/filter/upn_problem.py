# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
name: upn_problem
short_description: Why a user principal name cannot be one, as smarttrace.sso.entra_user decides
version_added: 0.1.0
description:
  - Takes a user principal name and returns why Entra ID would refuse it (the rule for the part before the @, the one @,
    the domain name), or an empty string when it is usable.
  - The same rule, from the same code, as M(smarttrace.sso.entra_user) and the O(smarttrace.sso.entra_app#module:owners) option
    of M(smarttrace.sso.entra_app), so a role can refuse a name before its first write. Whether the domain is verified in the
    tenant is not checked here (that needs the tenant).
options:
  _input:
    description: The user principal name.
    type: str
    required: true
author:
  - smarttrace.sso contributors (@smarttrace)
"""

EXAMPLES = r"""
- name: Refuse unusable user principal names before anything is written
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "Not usable: {{ problems | join('; ') }}"
  vars:
    problems: "{{ my_upns | map('smarttrace.sso.upn_problem') | zip(my_upns) | selectattr(0) | map('reverse') | map('join', ': ') | list }}"
"""

RETURN = r"""
_value:
  description: The reason, or an empty string.
  type: str
"""

from ansible_collections.smarttrace.sso.plugins.module_utils._entra.user_rules import upn_problem as _upn_problem


def upn_problem(upn):
    if not isinstance(upn, str):
        return "it must be a string (name@domain), not %s" % type(upn).__name__
    return _upn_problem(upn) or ""


class FilterModule:
    """smarttrace.sso filters."""

    def filters(self):
        return {"upn_problem": upn_problem}
