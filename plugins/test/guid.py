# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
name: guid
short_description: Whether a value is a GUID, as the modules of smarttrace.sso decide
version_added: 0.1.0
description:
  - True when the value is a GUID (an object id, an application id, the key id of a client secret), in the one definition the
    modules use; false for anything else, including check mode's placeholder C((known after the real run)) and non-strings.
options:
  _input:
    description: The value to test.
    type: raw
    required: true
author:
  - smarttrace.sso contributors (@smarttrace)
"""

EXAMPLES = r"""
- name: Retire older secrets only when the secret to keep is known
  ansible.builtin.debug:
    msg: "keep {{ keep_key_id }}"
  when: keep_key_id is smarttrace.sso.guid
"""

RETURN = r"""
_value:
  description: Whether the value is a GUID.
  type: bool
"""

from ansible_collections.smarttrace.sso.plugins.module_utils._common.identifiers import is_guid


def guid(value):
    return is_guid(value)


class TestModule:
    """smarttrace.sso tests."""

    def tests(self):
        return {"guid": guid}
