# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test helper of tests/docs/run_examples.py: every task result (name, status, changed) to the file DOCS_RESULTS names."""
from __future__ import annotations

import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: docs_results
type: aggregate
short_description: task outcomes as JSON lines, for the documentation examples test
description: [Writes one JSON line per task result to the file in the environment variable DOCS_RESULTS.]
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "docs_results"
    CALLBACK_NEEDS_ENABLED = True

    def _record(self, result, status):
        path = os.environ.get("DOCS_RESULTS")
        if not path:
            return
        outcome = result._result  # pylint: disable=protected-access
        line = {"task": result.task_name or result._task.get_name(), "status": status,  # pylint: disable=protected-access
                "changed": bool(outcome.get("changed")), "msg": str(outcome.get("msg", ""))[:2000]}
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(line) + "\n")

    def v2_runner_on_ok(self, result):
        self._record(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, "ignored" if ignore_errors else "failed")

    def v2_runner_on_skipped(self, result):
        self._record(result, "skipped")

    def v2_runner_item_on_ok(self, result):
        pass

    def v2_runner_on_unreachable(self, result):
        self._record(result, "unreachable")
