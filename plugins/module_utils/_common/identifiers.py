# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Values the collection recognises by their form, written once: object ids and client ids (GUIDs), and the placeholder
check mode returns for a value only a real run can know. Modules, module_utils, filters and the role use these."""

import re

#: An object id, application (client) id, tenant id or key id: 8-4-4-4-12 hexadecimal digits, either case.
GUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
GUID_RE = re.compile(GUID_PATTERN.replace("$", r"\Z"))

#: What check mode returns (and modules accept, in check mode) for a value only known after the real run.
KNOWN_AFTER_RUN = "(known after the real run)"


def is_guid(value: object) -> bool:
    """True for a GUID (an object id, a client id, a tenant id, a key id)."""
    return isinstance(value, str) and bool(GUID_RE.match(value))


def is_known_after_run(value: object) -> bool:
    """True for check mode's placeholder of a value only a real run can know."""
    return value == KNOWN_AFTER_RUN
