# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
name: secret_lifetime_problem
short_description: Refuse a client secret lifetime beyond 24 months, as smarttrace.sso.entra_secret does
version_added: 0.1.0
description:
  - Takes a lifetime in days and returns the text that refuses it when it is more than 730 days (24 months, the longest the
    Entra admin center offers and Microsoft recommends) and O(allowed) is false; an empty string when it is fine.
  - The same rule, from the same code, as the O(smarttrace.sso.entra_secret#module:allow_long_lifetime) option of
    M(smarttrace.sso.entra_secret), so a role can refuse the lifetime before its first write.
positional: allowed, option, allow_option
options:
  _input:
    description: The lifetime in days.
    type: int
    required: true
  allowed:
    description: Whether a longer lifetime is allowed (the caller's allow_long_lifetime).
    type: bool
    default: false
  option:
    description: The name of the caller's lifetime option, for the message.
    type: str
    default: expires_in_days
  allow_option:
    description: The name of the caller's option that allows a longer lifetime, for the message.
    type: str
    default: allow_long_lifetime
author:
  - smarttrace.sso contributors (@smarttrace)
"""

EXAMPLES = r"""
- name: Refuse a lifetime beyond 24 months before anything is written
  ansible.builtin.assert:
    that: lifetime_problem == ''
    fail_msg: "{{ lifetime_problem }}"
  vars:
    lifetime_problem: "{{ my_secret_days | smarttrace.sso.secret_lifetime_problem(my_allow_long, 'my_secret_days', 'my_allow_long') }}"
"""

RETURN = r"""
_value:
  description: The refusal naming O(option) and O(allow_option), or an empty string.
  type: str
"""

from ansible_collections.smarttrace.sso.plugins.module_utils._entra.secret_expiry import lifetime_problem


def secret_lifetime_problem(days, allowed=False, option="expires_in_days", allow_option="allow_long_lifetime"):
    try:
        days = int(days)
    except (TypeError, ValueError):
        from ansible.errors import AnsibleFilterError
        raise AnsibleFilterError("secret_lifetime_problem: %s must be a whole number of days, not %r" % (option, days))
    return lifetime_problem(days, bool(allowed), option, allow_option) or ""


class FilterModule:
    """smarttrace.sso filters."""

    def filters(self):
        return {"secret_lifetime_problem": secret_lifetime_problem}
