# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``time_budget`` option of every module: the seconds the whole task may take (docs/architecture.md, "Retry and wait policy").

The base classes (``EntraModule``, ``SmartTraceModule``) add the option to their argument spec, make ``module.deadline``
(a ``_retry_policy.Deadline`` naming the option) when the module starts, and give it as ``budget`` to the Graph client,
the token acquisition and the SmartTrace client; a module's own wait combines its option with it
(``Deadline.earliest(Deadline(wait_timeout), getattr(module, "deadline", None))``). When a task fails after the budget
refused a wait, ``ran_out_text`` is added to its message.

Why 900 s by default: the longest default waits of any module added up (M(entra_secret): ``wait_timeout`` 120 s and
``verify_timeout`` 120 s) and one Graph call throttled up to its own limit (``max_wait``, 300 s) stay below it, so no
task that ends today is cut short; a task that would wait longer than a quarter of an hour is stopped and says why.
"""

import time

from ansible_collections.smarttrace.sso.plugins.module_utils._common.retry_policy import Deadline

OPTION = "time_budget"
DEFAULT_SECONDS = 900
#: (lowest, highest) seconds, checked with the other integer options (``_int_options``).
BOUNDS = (1, 86400)


def time_budget_argument_spec():
    """The option, for a base class's argument spec (documented in the ``entra`` and ``smarttrace`` doc fragments)."""
    return {OPTION: dict(type="int", default=DEFAULT_SECONDS)}


def task_deadline(params, clock=time.monotonic):
    """The task's ``Deadline``: ``time_budget`` seconds from now (the default when the option is missing or out of bounds:
    ``_int_options`` then fails the task, naming the option, before any request)."""
    seconds = params.get(OPTION)
    if isinstance(seconds, bool) or not isinstance(seconds, int) or not BOUNDS[0] <= seconds <= BOUNDS[1]:
        seconds = DEFAULT_SECONDS
    return Deadline(seconds, clock, option=OPTION)


def ran_out_text(deadline):
    """What a failure adds when ``deadline`` refused a wait (else ""): the budget ran out, and which option raises it."""
    if deadline is None or not deadline.ran_out:
        return ""
    return "The task stopped waiting because %s ran out: raise %s (default %d s) if the service needs longer." % (
        deadline.describe(), OPTION, DEFAULT_SECONDS)
