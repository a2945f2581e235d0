# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
name: unknown_variables
short_description: Name the variables that are not known, each with the closest known name
version_added: 0.1.0
description:
  - Takes variable names (such as the result of C(query('ansible.builtin.varnames', '^smarttrace_sso_'))) and returns one message
    for each name that is not in O(known), with the closest known name when one is close enough (C(difflib)).
  - A misspelt variable is otherwise ignored without a word; the role C(smarttrace.sso.entra_sso) warns with these messages.
  - Names are compared without the prefix they share with the known names, so the common prefix does not make every name look close.
positional: known, owner
options:
  _input:
    description: The variable names to check.
    type: list
    elements: str
    required: true
  known:
    description: The names that are known (options, documented outputs, playbook variables).
    type: list
    elements: str
    required: true
  owner:
    description: What the variables belong to, for the message.
    type: str
    default: smarttrace.sso.entra_sso
  warn:
    description: Also show each message as an Ansible warning.
    type: bool
    default: false
author:
  - smarttrace.sso contributors (@smarttrace)
"""

EXAMPLES = r"""
- name: Warn about misspelt variables of the role
  ansible.builtin.set_fact:
    unknown: >-
      {{ query('ansible.builtin.varnames', '^smarttrace_sso_')
         | smarttrace.sso.unknown_variables(['smarttrace_sso_instance', 'smarttrace_sso_assign_groups'], warn=true) }}
# With smarttrace_sso_assign_group defined:
# unknown == ['smarttrace_sso_assign_group is not a variable of smarttrace.sso.entra_sso; did you mean smarttrace_sso_assign_groups?']
"""

RETURN = r"""
_value:
  description:
    - One message per unknown name, in sorted order; empty when every name is known.
    - "V(<name> is not a variable of <owner>; did you mean <closest>?), or, when no known name is close,
      V(<name> is not a variable of <owner> and is ignored)."
  type: list
  elements: str
"""

from ansible.module_utils.common.collections import is_sequence
from ansible.module_utils.six import string_types

# ansible.errors and ansible.utils.display are imported where they are used: they are controller code, and importing them
# at load time would make the unit tests' in-process modules report warnings as the controller does.

CUTOFF = 0.6  # difflib's ratio for "close enough"


def _shared_prefix(names):
    """The prefix all ``names`` share, up to and including its last ``_`` (``smarttrace_sso_``), or ''."""
    prefix = names[0] if len(names) == 1 else ""
    if len(names) > 1:
        first, last = min(names), max(names)
        size = 0
        while size < min(len(first), len(last)) and first[size] == last[size]:
            size += 1
        prefix = first[:size]
    return prefix[:prefix.rfind("_") + 1]


def closest(name, known):
    """The known name closest to ``name`` (compared without the prefix they all share), or None when none is close enough."""
    candidates = sorted(set(known))
    if not candidates:
        return None
    prefix = _shared_prefix(candidates + [name])
    by_rest = dict((candidate[len(prefix):], candidate) for candidate in candidates)
    import difflib  # imported here: only an unknown name needs it (tests/unit/plugins/filter/test_plugins_load_light.py)

    matches = difflib.get_close_matches(name[len(prefix):], list(by_rest), n=1, cutoff=CUTOFF)
    return by_rest[matches[0]] if matches else None


def unknown_messages(names, known, owner="smarttrace.sso.entra_sso"):
    """One message per name of ``names`` not in ``known``, naming the closest known name when there is one."""
    known = set(known)
    messages = []
    for name in sorted(set(names) - known):
        suggestion = closest(name, known)
        if suggestion:
            messages.append("%s is not a variable of %s; did you mean %s?" % (name, owner, suggestion))
        else:
            messages.append("%s is not a variable of %s and is ignored" % (name, owner))
    return messages


def _names(value, what):
    if isinstance(value, string_types) or not is_sequence(value) or not all(isinstance(item, string_types) for item in value):
        from ansible.errors import AnsibleFilterError
        raise AnsibleFilterError("unknown_variables: %s must be a list of variable names, not %r" % (what, value))
    return [str(item) for item in value]


def unknown_variables(names, known, owner="smarttrace.sso.entra_sso", warn=False):
    messages = unknown_messages(_names(names, "the input"), _names(known, "known"), owner)
    for message in messages if warn else []:
        _warn(message)
    return messages


def _warn(message):
    from ansible.utils.display import Display
    Display().warning(message)


class FilterModule:
    """smarttrace.sso filters."""

    def filters(self):
        return {"unknown_variables": unknown_variables}
