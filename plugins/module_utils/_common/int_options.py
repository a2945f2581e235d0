# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bounds of the integer options of every module, checked in one place before the first request.

Ansible converts an ``int`` option to a Python int of any size; without bounds a huge value fails deep inside
(``datetime.timedelta``: "Python int too large to convert to C int", naming no option) or makes a task wait
for ever. The base classes (``EntraModule``, ``SmartTraceModule``) call ``int_option_problems`` with their
parameters, so each module's options are covered by the option name.

The bounds are hard limits that cannot overflow anything, not policy: ``expires_in_days`` may be up to ten
years here although the Entra admin center offers at most 24 months and a tenant's app management policy may
allow less (Graph then refuses the secret, and the module says so); a lower limit of its own is the module's or
the role's choice (the role allows 1 to 730 days).
"""

from ansible_collections.smarttrace.sso.plugins.module_utils._common.time_budget import BOUNDS as TIME_BUDGET_BOUNDS

INT_OPTION_BOUNDS = {
    # option: (lowest, highest, unit)
    "timeout": (1, 3600, "seconds"),
    "expires_in_days": (1, 3650, "days"),
    "rotate_before_days": (0, 3650, "days"),
    "wait_timeout": (0, 3600, "seconds"),
    "replication_timeout": (0, 3600, "seconds"),
    "verify_timeout": (0, 3600, "seconds"),
    "time_budget": TIME_BUDGET_BOUNDS + ("seconds",),
}

_SHOWN_LIMIT = 10 ** 15  # larger values are described, not printed (a 5000-digit number cannot even be turned into text)


def _shown(value):
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= _SHOWN_LIMIT:
        return "a number of about %d digits" % max(1, int(value.bit_length() * 0.30103))
    return repr(value)


def int_option_problems(params, bounds=None):
    """One text per integer option of ``params`` outside its bounds, naming the option and the allowed range; [] when none."""
    problems = []
    for name, (lowest, highest, unit) in sorted((bounds or INT_OPTION_BOUNDS).items()):
        value = params.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not lowest <= value <= highest:
            problems.append("%s must be %d or more and at most %d %s, got %s" % (name, lowest, highest, unit, _shown(value)))
    return problems
