# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test helper: write the names of the tasks that reported a change, in order, to the JSON file ``$CHANGED_TASKS_FILE``.

Used by the role_entra_sso integration target to compare a check-mode run with the real run.
A looped task counts once, however many of its items changed.
"""

import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: changed_tasks
type: aggregate
short_description: Writes the names of changed tasks to a JSON file (test helper)
description:
  - Writes the names of the tasks that reported a change to the file named by E(CHANGED_TASKS_FILE).
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "changed_tasks"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.changed = []
        self._last_task = {}

    def _record(self, result):
        task, host = result._task, result._host.get_name()  # pylint: disable=protected-access
        if result._result.get("changed") and self._last_task.get(host) != task._uuid:  # pylint: disable=protected-access
            self._last_task[host] = task._uuid  # pylint: disable=protected-access
            self.changed.append({"host": host, "task": task.get_name()})

    def v2_runner_on_ok(self, result):
        self._record(result)

    def v2_runner_item_on_ok(self, result):
        self._record(result)

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get("CHANGED_TASKS_FILE")
        if path:
            with open(path, "w", encoding="utf-8") as handle:
                json.dump(self.changed, handle, indent=1)
