# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module attributes (check mode, diff mode, action groups, platform) of the collection's modules.

Use ``smarttrace.sso.attributes`` with one of ``smarttrace.sso.attributes.actiongroup_entra`` or
``smarttrace.sso.attributes.actiongroup_smarttrace``; info modules use ``smarttrace.sso.attributes.info_module``.
"""


class ModuleDocFragment:

    # Modules that change something.
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in C(check_mode) and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in C(check_mode)), when in diff mode.
    support: full
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
    platforms: posix
    details: The module calls remote HTTP APIs; run it on the controller (C(localhost)).
"""

    # Modules that only read.
    INFO_MODULE = r"""
options: {}
attributes:
  check_mode:
    description: Can run in C(check_mode) and return changed status prediction without modifying target.
    support: full
    details: This action does not modify state.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in C(check_mode)), when in diff mode.
    support: N/A
    details: This action does not modify state.
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
    platforms: posix
    details: The module calls remote HTTP APIs; run it on the controller (C(localhost)).
"""

    ACTIONGROUP_ENTRA = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/smarttrace.sso.entra) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - smarttrace.sso.entra
"""

    ACTIONGROUP_SMARTTRACE = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/smarttrace.sso.smarttrace) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - smarttrace.sso.smarttrace
"""
