# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``ModuleResults``: how every module of the collection starts (shared options, the task's time budget) and ends, with a
result or a failure, without a secret.

Mixed into the base classes (``EntraModule``, ``SmartTraceModule``) before ``AnsibleModule``; each base class
gives its shared argument spec and supplies ``_debug_fields()`` (what it adds at ``-vvv``).
"""

import traceback

from ansible_collections.smarttrace.sso.plugins.module_utils._common.errors import mask_secrets, to_fail_kwargs
from ansible_collections.smarttrace.sso.plugins.module_utils._common.reconcile import make_diff
from ansible_collections.smarttrace.sso.plugins.module_utils._common.time_budget import OPTION as TIME_BUDGET, ran_out_text, task_deadline


class ModuleResults:
    """``fail_from`` and ``exit_with`` for an ``AnsibleModule`` subclass that defines ``_debug_fields()``."""

    def __init__(self, shared_spec, argument_spec=None, supports_check_mode=True, **kwargs):
        """``AnsibleModule`` with ``shared_spec`` (the base class's options) and the module's own ``argument_spec``;
        ``deadline``: the whole task's time budget (option ``time_budget``), which every retry and wait of the task ends by."""
        spec = dict(shared_spec)
        spec.update(argument_spec or {})
        super().__init__(argument_spec=spec, supports_check_mode=supports_check_mode, **kwargs)
        self.deadline = task_deadline(self.params)

    def fail_from(self, exc, msg=None, **result):
        """``fail_json`` for any exception: typed errors give ``graph_error``/``auth_error``/``smarttrace_error``; nothing secret is shown."""
        kwargs = to_fail_kwargs(exc)
        if msg:
            kwargs["msg"] = "%s: %s" % (msg, kwargs["msg"])
        budget_text = ran_out_text(getattr(self, "deadline", None))
        if budget_text and TIME_BUDGET not in kwargs["msg"]:  # a client that did not say the budget stopped it
            kwargs["msg"] = "%s. %s" % (kwargs["msg"].rstrip().rstrip("."), budget_text)
        kwargs.update(result)
        kwargs.update(self._debug_fields())
        if exc.__traceback__ is not None:  # masked here; fail_json also removes every no_log value
            kwargs["exception"] = mask_secrets("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
        self.fail_json(**kwargs)

    def exit_with(self, changed, before=None, after=None, **result):
        """``exit_json`` with ``changed``, and ``diff`` (secret-free) when running with ``--diff``."""
        result["changed"] = bool(changed)
        if self._diff and (before is not None or after is not None):
            result["diff"] = make_diff(before, after, self.no_log_values)
        result.update(self._debug_fields())
        self.exit_json(**result)

    def _debug_fields(self):
        """What the base class adds to results at ``-vvv``."""
        raise NotImplementedError
